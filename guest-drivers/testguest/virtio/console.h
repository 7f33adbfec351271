/*
 * console.h: a virtio-console driver (device id 3) without MULTIPORT: port
 * 0 only, receiveq 0 and transmitq 1. Receive buffers stay posted; writes
 * are copied into transmit slots and kicked in batches.
 */
#ifndef TG_VIRTIO_CONSOLE_H
#define TG_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/virtq.h"

#define VCON_RX_BUFS  8
#define VCON_RX_SIZE  4096
#define VCON_TX_SLOTS 32
#define VCON_TX_SIZE  32768
#define VCON_TX_BATCH 8 /* requests added per kick */

struct vcon {
	struct vmmio_dev *dev;
	struct virtq rx, tx;
	uint8_t *rxbuf;			/* VCON_RX_BUFS * VCON_RX_SIZE, dma */
	uint8_t *txbuf;			/* VCON_TX_SLOTS * VCON_TX_SIZE, dma */
	uint8_t tx_free[VCON_TX_SLOTS]; /* stack of free slot numbers */
	unsigned tx_nfree;
	unsigned tx_unkicked;
	int cur; /* rx buffer being read, -1: none */
	uint32_t cur_len, cur_off;
};

/*
 * Sets up the nth console device (dma memory: take a dma_mark() first).
 * 0, -TG_ENODEV when absent, or -errno.
 */
int vcon_open(struct vcon *c, unsigned nth);

/* Resets the device (its dma memory may then be released). */
void vcon_close(struct vcon *c);

/*
 * Copies up to max received bytes into buf; waits until some arrive or
 * the deadline (TSC). Returns the count, -TG_ETIMEDOUT, or -TG_EIO when
 * the device broke a ring rule.
 */
int vcon_read(struct vcon *c, void *buf, size_t max, uint64_t deadline);

/* Queues len bytes (several descriptors in flight). 0 or -errno. */
int vcon_write(struct vcon *c, const void *buf, size_t len, uint64_t deadline);

/* Kicks what is queued and waits until the device consumed all of it. */
int vcon_flush(struct vcon *c, uint64_t deadline);

#endif
