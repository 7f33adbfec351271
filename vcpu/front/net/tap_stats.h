/*
 * tap_stats.h: a tap's own counters of the frames it handed to user space
 * (the interface's tx_packets and tx_bytes, read over rtnetlink), so the
 * VMM can tell whether a net server that died had just read a frame it
 * never recorded. The socket is made before the VMM confines itself;
 * reading then takes only sendmsg and recvmsg, which the I/O thread has.
 */
#ifndef ISOVM_TAP_STATS_H
#define ISOVM_TAP_STATS_H

#include <stddef.h>
#include <stdint.h>

struct tap_stats {
	int fd;	     /* NETLINK_ROUTE socket, or -1 */
	int ifindex; /* the tap's, in the VMM's network namespace */
	uint32_t seq;
};

/* Opens the socket for interface ifname. 0 or -errno (one line in err). */
int tap_stats_open(struct tap_stats *t, const char *ifname, char *err,
		   size_t errlen);

/* The tap's frames and bytes (Ethernet, no vnet header) read from it by
 * user space so far. 0, or -errno (no answer, no IFLA_STATS64). */
int tap_stats_read(struct tap_stats *t, uint64_t *frames, uint64_t *bytes);

void tap_stats_close(struct tap_stats *t);

#endif
