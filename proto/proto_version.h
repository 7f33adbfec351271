/* proto_version.h: version of the VMM <-> device-server control protocol. */
#ifndef ISOVM_PROTO_VERSION_H
#define ISOVM_PROTO_VERSION_H

/* 2: STATS_REPLY echoes the seq of its STATS_REQUEST. */
#define ISOVM_PROTO_VERSION 2u

extern const unsigned proto_version;

#endif
