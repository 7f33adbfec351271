/* proto_version.h: version of the VMM <-> device-server control protocol. */
#ifndef ISOVM_PROTO_VERSION_H
#define ISOVM_PROTO_VERSION_H

/*
 * 2: STATS_REPLY echoes the seq of its STATS_REQUEST.
 * 3: the console's bytes go through two pipes (fd roles OUT_PIPE,
 *    IN_PIPE), not its rings.
 */
#define ISOVM_PROTO_VERSION 3u

extern const unsigned proto_version;

#endif
