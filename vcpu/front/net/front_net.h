/*
 * front_net.h: the virtio-net device front (device id 1), VMM side: one
 * RX/TX queue pair over an isovm-net server and its tap.
 *
 * TX: each guest chain is checked (front_net_hdr.h) against what the
 * driver negotiated, copied into the arena (the checked header first, so
 * a guest rewriting it afterwards changes nothing) and posted as a request
 * of its own; the chain goes back to the guest at once, so the guest never
 * waits on the server. A chain the rules refuse is given back unsent and
 * counted. When the ring or the arena is full the queue stalls until the
 * server completes frames: backpressure, never an unbounded queue.
 *
 * RX: the front keeps FRONT_NET_RX_POSTED receive buffers posted at the
 * server, independent of the guest's, so a frame from the tap is read at
 * once without a round trip. A filled buffer is handed to the guest's
 * receive chains (several with MRG_RXBUF: num_buffers says how many);
 * without a guest chain it is held, in its arena buffer, and no buffer is
 * posted in its place: the tap's own queue holds the frames behind it.
 *
 * Policy for bad frames (all dropped and counted, the device keeps
 * running): TX shorter than the header or the Ethernet header, longer
 * than the MTU (or 64 KiB with segmentation), a header with unknown flags
 * or a GSO type the driver did not negotiate, checksum offsets outside the
 * frame; RX (from a server, so also hostile) shorter than the header, a
 * GSO type or checksum request the driver did not negotiate, or longer
 * than the guest's buffers can take.
 */
#ifndef ISOVM_FRONT_NET_H
#define ISOVM_FRONT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/virtio_net_config.h"
#include "proto/ctl_msg.h"
#include "vcpu/config/net_cfg.h"
#include "vcpu/front/front.h"
#include "vcpu/front/net/tap_stats.h"
#include "vcpu/log.h"
#include "vcpu/supervisor/supervisor.h"
#include "vcpu/virtio/virtio_dev.h"

#define FRONT_NET_QUEUE_SIZE 256
/* Data plane: 256 requests in flight; 16 MiB of arena in 2 KiB slots, a
 * quarter of it the posted receive buffers (64 KiB each). */
#define FRONT_NET_RING	    256u
#define FRONT_NET_SLOT	    2048u
#define FRONT_NET_SLOTS	    8192u
#define FRONT_NET_RX_POSTED 64u
/* Guest receive chains one frame may take with MRG_RXBUF. */
#define FRONT_NET_RX_PART   64u

/* Why a frame was dropped. */
enum front_net_drop {
	FRONT_NET_TX_SHORT,    /* no header, or no Ethernet header */
	FRONT_NET_TX_OVERSIZE, /* beyond the MTU, or 64 KiB with GSO */
	FRONT_NET_TX_BAD_HDR,  /* flags, GSO type, offsets */
	FRONT_NET_TX_SERVER,   /* the tap refused it (the server says why) */
	FRONT_NET_RX_SHORT,    /* the server gave less than a header */
	FRONT_NET_RX_BAD_HDR,  /* an offload the driver did not negotiate */
	FRONT_NET_RX_OVERSIZE, /* larger than the guest's buffers */
	FRONT_NET_RX_NO_DRIVER, /* arrived while the driver was not running */
	FRONT_NET_RX_SERVER,   /* the server failed the buffer */
	FRONT_NET_RX_FAULT,    /* dropped by an injected fault */
	FRONT_NET_DROP_NR,
};

struct front_net_stats {
	uint64_t tx_frames, tx_bytes; /* posted to the server */
	uint64_t rx_frames, rx_bytes; /* given to the guest */
	uint64_t rx_buffers;	      /* guest receive chains used */
	uint64_t drops[FRONT_NET_DROP_NR];
};

/* A filled receive buffer waiting for guest chains (arena, kept). */
struct front_net_held {
	uint64_t off;	  /* arena offset */
	uint32_t cap;	  /* arena bytes allocated */
	uint32_t len;	  /* header + frame */
};

struct front_net {
	char name[16]; /* "net0" */
	const struct net_cfg *net;
	uint64_t features; /* device feature bits shown to the guest */
	uint8_t config[VIRTIO_NET_CFG_LEN];
	struct virtio_dev_ops ops;
	struct front front;
	struct virtio_dev vdev;
	struct supervisor sup;
	bool vdev_up, front_up, sup_up;
	/* Under the transport lock (vdev.lock). */
	bool rx_on;	      /* posting receive buffers (driver ran) */
	bool offload_due;     /* NET_OP_OFFLOAD to post */
	uint64_t offload;     /* the driver's features to send */
	uint32_t rx_posted;   /* receive buffers at the server */
	struct front_net_held held[FRONT_NET_RX_POSTED];
	unsigned held_head, held_n;
	/* Guest receive chains popped and not yet filled (MRG_RXBUF). */
	struct virtq_chain *part; /* FRONT_NET_RX_PART, made at start */
	unsigned npart;
	struct front_net_stats st;
	struct log_ratelimit rl;
	/*
	 * Frames taken from the tap: the tap's count when the device
	 * started, and those the servers reported (completions, records)
	 * since. A dead server that read one more frame than it reported
	 * left it, unrecorded, in its oldest buffer still in flight.
	 */
	struct tap_stats ts;
	uint64_t tap_frames0, tap_bytes0;
	uint64_t taken_frames, taken_bytes;
	uint32_t unrecorded; /* its bytes (header included) while salvaging */
};

/*
 * Sets the front's own fields of n (n->sup may already hold the running
 * server). Checks the server's READY: features the front can serve, a
 * config of VIRTIO_NET_CFG_LEN bytes with the MAC and MTU the VMM asked
 * for. Returns 0 or -EPROTO with one line in err.
 */
int front_net_init(struct front_net *n, const char *name,
		   const struct net_cfg *net, const struct ctl_ready *ready,
		   char *err, size_t errlen);

/* The generic front's operations for virtio-net (f->opaque is n). */
extern const struct front_ops front_net_front_ops;

/*
 * Between vm_init() and vm_run(), tap already open (net_set_open()):
 * start isovm-net with the tap fd, check its READY, put the device in
 * virtio-mmio slot 'slot' and watch the server on 'io'. n must stay put
 * until front_net_stop(). Returns 0, or -errno with one line in err.
 */
int front_net_start(struct front_net *n, unsigned index,
		    const struct net_cfg *net, struct vm *vm,
		    struct iothread *io, unsigned slot, int log_level,
		    const struct supervisor_policy *policy, char *err,
		    size_t errlen);

/* After the I/O thread stopped and the VM ended: logs the counters,
 * stops the server, frees the front. Idempotent. */
void front_net_stop(struct front_net *n);

/*
 * Lock held: one frame for the trace's listeners, when there are any:
 * "tx" (queue 1, the chain's head, written to the tap) or "rx" (queue 0,
 * the first chain's head, read from the tap), its bytes without the
 * virtio-net header, and 'why' it was dropped, or NULL.
 */
void front_net_trace(const struct front_net *n, bool tx, uint16_t head,
		     uint32_t bytes, const char *why);

/* A consistent copy of the VMM-side counters (takes the transport lock). */
void front_net_stats(struct front_net *n, struct front_net_stats *out);

/*
 * The counters as one log line (no newline), the format integration tests
 * read with --log-level debug:
 *   "net0 stats: tx=F/B rx=F/B rx_buffers=N drops: tx_short=N
 *    tx_oversize=N tx_bad_hdr=N tx_server=N rx_short=N rx_bad_hdr=N
 *    rx_oversize=N rx_no_driver=N rx_server=N rx_fault=N"
 */
void front_net_stats_line(const struct front_net_stats *st, const char *name,
			  char *out, size_t cap);

#endif
