/*
 * virtq_evil.h: a driver that breaks one virtqueue or transport rule on
 * purpose, so the VMM's validation (NEEDS_RESET, never a crash) can be
 * tested from inside a guest.
 */
#ifndef TG_VIRTQ_EVIL_H
#define TG_VIRTQ_EVIL_H

#include "virtio/virtio_mmio.h"

/*
 * Rules: "loop" (a chain whose NEXT points back), "index" (an avail head
 * >= queue size), "addr" (a buffer outside guest RAM), "overflow" (addr +
 * len wraps past 2^64), "nested-indirect" (an INDIRECT descriptor inside
 * an indirect table), "qsize" (QueueNum not a power of two, then
 * QueueReady), "early-notify" (QueueNotify before DRIVER_OK).
 *
 * Sets d up (polling, no interrupt), breaks the rule and returns 0;
 * -TG_EINVAL for an unknown rule (d untouched), -TG_ENOSYS when the device
 * lacks what the rule needs (INDIRECT_DESC), other -errno when set-up
 * failed. Allocates dma memory: take a dma_mark() first; call vmmio_stop()
 * afterwards.
 */
int virtq_evil_break(struct vmmio_dev *d, const char *rule);

/* True when rule is one of the above. */
int virtq_evil_known(const char *rule);

/*
 * "spin" breaks no rule: it keeps a virtio-blk device busy. Every request
 * is well formed but of an unknown type, which the VMM answers (UNSUPP)
 * without any server trip, and the queue is refilled as fast as the device
 * empties it, so the device never finds it empty. No descriptor is made
 * available again before the device used it; kicks follow the device's
 * avail_event like any driver's.
 */
struct virtq_evil_spin {
	struct vmmio_dev *dev;
	uint64_t served; /* requests the device completed */
	uint64_t unsupp; /* ... with VIRTIO_BLK_S_UNSUPP */
	uint64_t kicks;
	int error;		  /* -TG_EIO: the device broke a ring rule */
	volatile uint32_t stop;	  /* another CPU sets it */
	volatile uint32_t active; /* the spinning CPU's phase: 1 spinning */
};

/*
 * Sets d (a virtio-blk device) up for spinning: polling, the whole queue,
 * each request with 'segs' readable data segments between its header and
 * status (0..VIRTQ_INDIRECT_MAX - 2; the device walks them all before it
 * refuses the type). Allocates dma memory (take a dma_mark() first; call
 * vmmio_stop() after). 0 or -errno.
 */
int virtq_evil_spin_init(struct virtq_evil_spin *s, struct vmmio_dev *d,
			 unsigned segs);

/* On the spinning CPU: refill and reap until s->stop, then wait for what
 * is in flight (bounded). Counts in s. */
void virtq_evil_spin_run(struct virtq_evil_spin *s);

#endif
