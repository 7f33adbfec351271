/* proto_version.h: version of the VMM <-> device-server control protocol. */
#ifndef ISOVM_PROTO_VERSION_H
#define ISOVM_PROTO_VERSION_H

#define ISOVM_PROTO_VERSION 1u

extern const unsigned proto_version;

#endif
