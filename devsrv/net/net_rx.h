/* net_rx.h: the RX buffers the VMM posted, oldest first, and the tap's
 * frames read straight into them. */
#ifndef ISOVM_DEVSRV_NET_RX_H
#define ISOVM_DEVSRV_NET_RX_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>

#include "devsrv/common/srv.h"

/* Frames read per loop pass at most, then the loop's other events (TX
 * requests, control messages) get a turn. */
#define NET_RX_BURST 64

/* A posted buffer: the request's id and its arena buffer (shared memory,
 * only ever written here). */
struct net_rx_buf {
	uint64_t id;
	void *buf;
	uint32_t len;
};

/* Frames received and dropped, and buffers refused. Loop thread only. */
struct net_rx_stats {
	uint64_t frames;	/* completed into a buffer */
	uint64_t bytes;		/* their Ethernet bytes, headers not counted */
	uint64_t drop_oversize; /* longer than the oldest buffer */
	uint64_t drop_error;	/* a read that failed (the frame is gone) */
	uint64_t buf_short;	/* buffers under NET_RX_BUF_MIN, refused */
};

/*
 * The tap is watched (a libevent event on the loop) only while a buffer
 * waits: with none, frames stay in the tap's own queue, where the kernel
 * bounds them (backpressure; beyond its txqueuelen the host drops).
 */
struct net_rx {
	struct srv *srv;
	int fd;		      /* the tap; the core's */
	struct event ev;      /* the tap is readable */
	bool ev_set;	      /* ev assigned (set-up got that far) */
	bool watching;	      /* ev added */
	bool dead;	      /* the tap's interface is gone: no more reads */
	struct net_rx_buf *q; /* [cap] FIFO of posted buffers */
	uint32_t cap, head, n;
	struct net_rx_stats st;
};

/*
 * Set-up: a FIFO for @cap buffers (the submission ring's entries: the VMM
 * cannot have more requests in flight), allocated here once; the ring
 * path never allocates. @fd is the checked, non-blocking tap. 0 or
 * -ENOMEM.
 */
int net_rx_init(struct net_rx *rx, struct srv *srv, int fd, uint32_t cap);

/* Shutdown: stop watching, free the FIFO. Safe after a failed init. */
void net_rx_fini(struct net_rx *rx);

/*
 * IPC_OP_READ: keep @buf (req->arena_len bytes) for a frame to come; it
 * is completed with srv_complete() once filled. Returns 0 (the request
 * is pending at the device), -EINVAL (a buffer under NET_RX_BUF_MIN,
 * counted) or -ENOBUFS (more buffers than the ring holds: a VMM bug).
 */
int net_rx_post(struct net_rx *rx, const struct ipc_req *req, void *buf);

/*
 * A corrupt fault: the last byte of the frame ending at buf + len flipped
 * (the Ethernet header stays, so the frame still reaches its peer, whose
 * checksum then fails).
 */
static inline void net_frame_damage(void *buf, size_t len)
{
	((unsigned char *)buf)[len - 1] ^= 0xff;
}

#endif
