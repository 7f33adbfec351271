/*
 * net_peer.h: the host's side of the test guest's net tests: raw Ethernet
 * frames on one interface (a tap) of the calling thread's network
 * namespace, through an AF_PACKET socket. Frames follow
 * guest-drivers/abi/net_test.h. Not thread-safe: one peer per thread.
 */
#ifndef ISOVM_TEST_NET_PEER_H
#define ISOVM_TEST_NET_PEER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_PEER_MSG 192

struct net_peer {
	int fd; /* AF_PACKET raw socket bound to the interface; owned */
	int ifindex;
	unsigned mtu;
	uint8_t mac[6]; /* the interface's own address: frames come from it */
	char ifname[IF_NAMESIZE];
};

/*
 * Opens a raw socket on interface ifname (which must exist in the
 * current network namespace; root or CAP_NET_RAW). Frames the socket
 * itself sends are not received back. 0 or -errno.
 */
int net_peer_open(struct net_peer *p, const char *ifname);

/* Closes the socket; p may be opened again. */
void net_peer_close(struct net_peer *p);

/* Parses "aa:bb:cc:dd:ee:ff"; 0 or -EINVAL. */
int net_peer_parse_mac(const char *s, uint8_t mac[6]);

/* Sends one frame (len bytes, Ethernet header included). 0 or -errno. */
int net_peer_send(struct net_peer *p, const void *frame, size_t len);

/*
 * Receives one frame sent to the interface from outside into buf (cap
 * bytes, longer frames are cut), waiting at most timeout_ms. Returns its
 * full length, -ETIMEDOUT, or -errno.
 */
int net_peer_recv(struct net_peer *p, void *buf, size_t cap, int timeout_ms);

/* The length of echo frame seq, and its byte i (i >= the pattern start). */
size_t net_peer_echo_size(uint64_t seq, unsigned min, unsigned max);
uint8_t net_peer_echo_byte(uint64_t seq, size_t i);

struct net_peer_echo_opts {
	uint64_t count;	     /* numbered frames to send */
	unsigned window;     /* frames outstanding at most; 0: 64 */
	unsigned min_size;   /* frame sizes, Ethernet header included; */
	unsigned max_size;   /*  0: 60 and the interface's MTU + 14 */
	unsigned timeout_ms; /* for the next reply; 0: 2000 */
	bool allow_dups;     /* an intact second copy of an earlier frame is
			      * counted in dups, not a failure */
	/* When not NULL: count is a maximum, and no frame is sent once
	 * *until is true (the exchange ends when all sent came back). */
	const bool *until;
};

struct net_peer_echo_result {
	uint64_t sent, received, bytes; /* numbered frames; bytes received */
	uint64_t ignored; /* other frames meanwhile (not ours, not echo) */
	uint64_t dups;	  /* second copies (allow_dups) */
	uint64_t ns;	  /* first send to last reply */
	bool stop_sent, stop_echoed;
	char msg[NET_PEER_MSG]; /* the first failure; "" when none */
};

/*
 * Runs the net-echo exchange with the guest at dst: numbered frames of
 * mixed sizes, window of them outstanding; each must come back intact,
 * in order, from dst to this interface. Then the stop frame (sent even
 * after a failure, so the guest ends), whose echo is waited for briefly.
 * 0 when every frame came back; -EPROTO (wrong frame) or -ETIMEDOUT
 * (missing) with r->msg; other -errno from the socket.
 */
int net_peer_echo(struct net_peer *p, const uint8_t dst[6],
		  const struct net_peer_echo_opts *o,
		  struct net_peer_echo_result *r);

/* Sends the stop frame of net-echo to dst. 0 or -errno. */
int net_peer_send_stop(struct net_peer *p, const uint8_t dst[6]);

struct net_peer_blast_result {
	uint64_t frames, bytes; /* accepted by the kernel */
	uint64_t refused;	/* sends that failed (a full queue: ENOBUFS) */
	uint64_t ns;
};

/*
 * Floods blast frames of size bytes (60..MTU + 14) to dst for secs
 * seconds, as fast as sendmmsg() takes them. 0 or -errno.
 */
int net_peer_blast(struct net_peer *p, const uint8_t dst[6], unsigned size,
		   unsigned secs, struct net_peer_blast_result *r);

struct net_peer_count_result {
	uint64_t frames, bytes;		       /* blast frames the socket saw */
	uint64_t seq_first, seq_max, seq_back; /* seq_back: not increasing */
	uint64_t sock_drops;	/* frames the socket's buffer had no room for */
	uint64_t if_rx_packets; /* the interface's rx_packets over the count */
	uint64_t ns;		/* first blast frame to the end */
};

/*
 * Counts incoming blast frames (net-blast dir=tx): waits first_ms for the
 * first, then counts for secs seconds after it, or until idle_ms pass
 * without one. 0, -ETIMEDOUT (none came), or -errno.
 */
int net_peer_count(struct net_peer *p, unsigned secs, unsigned first_ms,
		   unsigned idle_ms, struct net_peer_count_result *r);

/*
 * Waits up to timeout_ms for an incoming frame of EtherType type whose
 * payload starts with the len bytes at payload (net-evil's last frame).
 * 0, -ETIMEDOUT, or -errno.
 */
int net_peer_wait(struct net_peer *p, uint16_t type, const void *payload,
		  size_t len, int timeout_ms);

/*
 * The interface's counter (rx_packets, rx_bytes, tx_packets, tx_bytes,
 * rx_dropped, tx_dropped) from /proc/net/dev, which shows the caller's
 * network namespace. 0 or -errno.
 */
int net_peer_if_counter(const char *ifname, const char *counter, uint64_t *v);

#endif
