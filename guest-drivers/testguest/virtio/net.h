/*
 * net.h: a virtio-net driver (device id 1), virtio 1.x only: one queue
 * pair (receiveq 0, transmitq 1), no control queue, no offloads. Receive
 * buffers stay posted and are copied out, whole frames at a time (merged
 * from several buffers with MRG_RXBUF); frames are sent from per-slot
 * transmit buffers, kicked in batches. Polling by default.
 */
#ifndef TG_VIRTIO_NET_H
#define TG_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"

/* Feature bits (section 5.1.3) this driver asks for. */
#define VNET_F_MTU	 3
#define VNET_F_MAC	 5
#define VNET_F_MRG_RXBUF 15
#define VNET_F_STATUS	 16

/* The header before every frame (struct virtio_net_hdr_v1), both ways. */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* receive with MRG_RXBUF: buffers of the frame */
};
#define VNET_HDR_LEN 12

#define VNET_HDR_F_NEEDS_CSUM 1
#define VNET_HDR_GSO_NONE     0

#define VNET_ETH_HLEN	 14
#define VNET_VLAN_HLEN	 4
#define VNET_MTU_MIN	 68
#define VNET_MTU_DEFAULT 1500

/* Receive buffer sizes with MRG_RXBUF (virtio-net.rxbuf=BYTES). */
#define VNET_RXBUF_MIN	   64
#define VNET_RXBUF_MAX	   65536
#define VNET_RXBUF_DEFAULT 1024 /* frames above 1012 bytes are merged */

#define VNET_TX_BATCH 16 /* frames queued per kick */
#define VNET_RX_BATCH 16 /* receive buffers given back per kick */

/* What vnet_wait() waits for. */
#define VNET_WAIT_RX 1
#define VNET_WAIT_TX 2

struct vnet_stats {
	uint64_t rx_frames, rx_bytes; /* handed to the caller */
	uint64_t rx_bufs;	      /* receive buffers used by the device */
	uint64_t rx_merged;	      /* frames that spanned several buffers */
	uint64_t rx_dropped;	      /* too long for the caller, or runts */
	uint64_t tx_frames, tx_bytes; /* queued by vnet_tx_queue() */
	uint64_t tx_raw;	      /* chains queued by vnet_tx_raw() */
	uint64_t tx_done;	      /* chains the device gave back */
};

struct vnet {
	struct vmmio_dev *dev;
	struct virtq rx, tx;
	uint8_t mac[6];
	uint16_t mtu;
	bool mrg;	    /* MRG_RXBUF negotiated */
	uint32_t frame_max; /* longest frame received: MTU + 14 + a VLAN tag */
	uint32_t tx_max;    /* longest frame sent: MTU + 14 */
	/* Receive: rx_bufs buffers of rxbuf_size bytes, all posted. */
	uint8_t *rxmem;
	uint32_t rxbuf_size;
	unsigned rx_bufs, rx_unkicked;
	bool live; /* DRIVER_OK set: notifies allowed */
	/* Transmit: tx_slots slots of a header and one frame each. */
	uint8_t *txmem;
	uint32_t tx_slot_size;
	unsigned tx_slots, tx_nfree, tx_unkicked;
	uint16_t tx_free[VIRTQ_SIZE_MAX];
	int tx_cur; /* slot handed out by vnet_tx_buf(), -1: none */
	unsigned raw_inflight;
	struct vnet_stats st;
};

/*
 * Sets up the nth net device (0-based, command-line order): MAC (a fixed
 * local one when the device has none) and MTU (1500 when not offered)
 * from the config space, every receive buffer posted. Polls unless
 * virtio-mode=irq; takes MRG_RXBUF when offered unless
 * virtio-net.mrg=0, with buffers of virtio-net.rxbuf bytes. Allocates dma
 * memory: take a dma_mark() first. 0, -TG_ENODEV, or -errno.
 */
int vnet_open(struct vnet *n, unsigned nth);

/* Resets the device; its dma memory may then be released. */
void vnet_close(struct vnet *n);

/* The link status bit (always up when the device has no STATUS). */
bool vnet_link_up(const struct vnet *n);

/*
 * Copies the next received frame (Ethernet header on, virtio header off)
 * into frame, which holds cap bytes (n->frame_max fits every frame), and
 * gives its buffers back to the device. Frames longer than cap or shorter
 * than an Ethernet header are dropped and counted. Returns the frame's
 * length, 0 when none is ready (the buffers given back are then
 * published), or -TG_EIO when the device broke a ring
 * rule (a buffer not in flight, a length beyond the buffer, or a merged
 * frame whose buffers were not all published together).
 */
int vnet_recv(struct vnet *n, void *frame, uint32_t cap);

/*
 * The frame area (n->frame_max bytes) of a free transmit slot, the same
 * one until vnet_tx_queue(); finished slots are reaped first. NULL when
 * every slot is in flight (vnet_wait() for VNET_WAIT_TX), or the device
 * broke a ring rule (then vnet_tx_reap() says -TG_EIO).
 */
uint8_t *vnet_tx_buf(struct vnet *n);

/*
 * Queues the frame of len bytes written in vnet_tx_buf()'s area, with a
 * plain header; kicks every VNET_TX_BATCH frames. 0, or -TG_EINVAL (no
 * area taken, len below an Ethernet header or above tx_max).
 */
int vnet_tx_queue(struct vnet *n, uint32_t len);

/* vnet_tx_buf(), a copy of frame, vnet_tx_queue(); -TG_ENOSPC when full. */
int vnet_send(struct vnet *n, const void *frame, uint32_t len);

/*
 * Queues a chain exactly as given (device-read buffers in dma memory the
 * caller keeps until it came back): for tests that break the device's
 * rules on purpose. Kicked at once. The head descriptor or -errno.
 */
int vnet_tx_raw(struct vnet *n, const struct virtq_buf *bufs, unsigned nbufs);

/* Returns finished transmit chains to the driver. 0 or -TG_EIO. */
int vnet_tx_reap(struct vnet *n);

/* Publishes queued frames and given-back receive buffers now. */
void vnet_kick(struct vnet *n);

/*
 * vnet_kick(), then waits until a frame arrived (VNET_WAIT_RX) or a
 * transmit chain finished (VNET_WAIT_TX), either when both are asked, or
 * the deadline (TSC). 0, -TG_ETIMEDOUT or -TG_EIO (device broken).
 */
int vnet_wait(struct vnet *n, unsigned what, uint64_t deadline);

/* Kicks and waits until every transmit chain came back. 0 or -errno. */
int vnet_tx_flush(struct vnet *n, uint64_t deadline);

#endif
