/* tap_fixture.h: a tap as the VMM opens it for isovm-net, in a network
 * namespace of the test's own, and a packet socket on its interface: the
 * host's side of the guest's link. */
#ifndef ISOVM_TEST_TAP_FIXTURE_H
#define ISOVM_TEST_TAP_FIXTURE_H

#include <net/if.h>
#include <stddef.h>
#include <sys/types.h>

/* The EtherType of the tests' frames (IEEE local experimental): the
 * packet socket sees no other. */
#define TAP_FIXTURE_ETHERTYPE 0x88b5

struct tap_fixture {
	int fd;	 /* the tap, as isovm-net gets it */
	int pkt; /* packet socket bound to the interface */
	int ifindex;
	char name[IFNAMSIZ];
};

/*
 * Move the calling process into a new network namespace (once; the
 * tests run as root) with IPv6 off, so an interface sends nothing of its
 * own; open a tap there as the VMM does (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, a 12-byte header, offloads off, non-blocking), set its
 * interface up with @mtu (0: the default), and bind a packet socket of
 * TAP_FIXTURE_ETHERTYPE to it. Returns 0 or -errno.
 */
int tap_fixture_open(struct tap_fixture *t, unsigned mtu);

/* Close both fds (the interface goes with the last one). */
void tap_fixture_close(struct tap_fixture *t);

/* The host sends @frame (an Ethernet frame) out of the interface: it
 * lands in the tap's queue. 0 or -errno. */
int tap_fixture_send(struct tap_fixture *t, const void *frame, size_t len);

/* The next frame written into the tap (the host receives it), within
 * @ms: its length, or -ETIMEDOUT, or -errno. */
ssize_t tap_fixture_recv(struct tap_fixture *t, void *buf, size_t cap, int ms);

/*
 * What the interface's ethtool features say of the tap's offloads (the
 * kernel's view of TUNSETOFFLOAD): *csum (checksum offload) and *tso.
 * 0 or -errno.
 */
int tap_fixture_offloads(struct tap_fixture *t, int *csum, int *tso);

#endif
