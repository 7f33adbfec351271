/*
 * virtq.h: the driver side of a split virtqueue (virtio 1.x, section 2.7):
 * a descriptor free list, chains added direct or through a per-slot
 * indirect table, kicks suppressed by EVENT_IDX (avail_event) or the
 * NO_NOTIFY flag, used-ring reaping, and waiting by polling or by the
 * device's interrupt. One CPU drives a queue; the device runs elsewhere.
 */
#ifndef TG_VIRTQ_H
#define TG_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_mmio.h"

#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

#define VIRTQ_SIZE_MAX 256 /* entries per queue this driver uses */
/* Descriptors per indirect table: room for a 1 MiB request cut in 16 KiB
 * segments (64), its header and its status; the VMM walks up to 128. */
#define VIRTQ_INDIRECT_MAX 128

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail { /* driver writes */
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used { /* device writes */
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* then avail_event */
};

/* One buffer of a request: the device reads it, or writes it (write). */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

struct virtq {
	struct vmmio_dev *dev;
	unsigned index; /* queue number on the device */
	uint16_t size;	/* power of two */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	volatile uint16_t *used_event;	/* in avail: driver writes */
	volatile uint16_t *avail_event; /* in used: device writes */
	struct virtq_desc *indirect; /* size tables of indirect_max entries */
	unsigned indirect_max;	     /* 0: no indirect descriptors */
	bool event_idx;
	uint16_t free_head; /* free descriptors, linked by next */
	uint16_t nfree;
	uint16_t avail_idx;  /* next avail slot (published at kick) */
	uint16_t kicked_idx; /* avail idx the device was last told */
	uint16_t last_used;  /* next used entry to reap */
	uint16_t inflight;
	/* Driver-private (the device never sees these): */
	void *cookie[VIRTQ_SIZE_MAX];
	uint16_t ndesc[VIRTQ_SIZE_MAX]; /* descriptors of the chain at head */
	uint16_t link[VIRTQ_SIZE_MAX];	/* free list and chain links */
	bool busy[VIRTQ_SIZE_MAX];	/* a head in flight */
	uint64_t kicks, irq_waits;	/* statistics */
};

/*
 * Allocates the rings (dma memory) for queue index of d with at most
 * size_wanted entries (rounded down to a power of two, bounded by
 * QueueNumMax and VIRTQ_SIZE_MAX) and programs the device. indirect_max
 * > 0 asks for indirect tables of that many entries, at most
 * VIRTQ_INDIRECT_MAX and the queue size (used only when INDIRECT_DESC was
 * negotiated). Call between vmmio_negotiate() and vmmio_driver_ok().
 */
int virtq_init(struct virtq *q, struct vmmio_dev *d, unsigned index,
	       unsigned size_wanted, unsigned indirect_max);

/*
 * Adds a request of n buffers (device-read ones first) with cookie
 * (returned by virtq_get). Not visible to the device until virtq_kick().
 * Returns the head descriptor, or -TG_EINVAL (n == 0 or longer than the
 * queue, which the spec forbids even through an indirect table) or
 * -TG_ENOSPC (no room now: reap first).
 */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n,
	      void *cookie);

/* Publishes added requests; notifies unless the device asked not to be. */
void virtq_kick(struct virtq *q);

/*
 * Takes one completed request: returns 1 and its cookie and written
 * length, or 0 when none is ready, or -TG_EINVAL when the device named a
 * descriptor that is not a head in flight.
 */
int virtq_get(struct virtq *q, void **cookie, uint32_t *len);

/* True when the used ring holds unreaped entries. */
bool virtq_pending(const struct virtq *q);

/*
 * Waits until virtq_pending() or the deadline (a TSC value): polls, or
 * with interrupts sleeps until the device's IRQ (acknowledged here).
 * 0, -TG_ETIMEDOUT, or -TG_EIO once the device shows NEEDS_RESET or
 * FAILED (looked at every few ms, not on every spin).
 */
int virtq_wait(struct virtq *q, uint64_t deadline);

/* Waits on several queues of one device; 0 or -TG_ETIMEDOUT. */
int virtq_wait_any(struct virtq **qs, unsigned n, uint64_t deadline);

static inline uint16_t virtq_room(const struct virtq *q)
{
	return q->nfree;
}

/* Error codes of the drivers, beside those of boot/kernel.h. */
#define TG_EIO	  5
#define TG_ENODEV 19
#define TG_ENOSPC 28

#endif
