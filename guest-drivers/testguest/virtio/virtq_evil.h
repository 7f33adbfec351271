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

#endif
