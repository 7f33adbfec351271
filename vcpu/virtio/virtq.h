/*
 * virtq.h: the VMM's walker of guest split virtqueues (device role). The one
 * audited parser of guest-controlled descriptors: every value the guest wrote
 * is copied once, then validated, never re-read. No dynamic allocation.
 */
#ifndef ISOVM_VIRTQ_H
#define ISOVM_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/core/guest_mem.h"
#include "vcpu/virtio/virtio_spec.h"

/*
 * Limits of one chain. 128 segments covers virtio-blk with seg_max 126 plus
 * header and status; 64 MiB is far above any request a front will accept
 * and keeps every sum far from 32-bit overflow.
 */
#define VIRTQ_CHAIN_MAX_SEGS 128
#define VIRTQ_CHAIN_MAX_BYTES (64u << 20)

/*
 * Broken rules. Functions return them negated. They are not errno values:
 * name them with virtq_err_str().
 */
enum virtq_err {
	VIRTQ_E_AVAIL_IDX = 1000, /* avail idx > size ahead, or > size in flight */
	VIRTQ_E_HEAD_RANGE,       /* head index >= queue size */
	VIRTQ_E_NEXT_RANGE,       /* next index >= table size */
	VIRTQ_E_LOOP,             /* chain longer than the queue size */
	VIRTQ_E_INDIRECT_FEATURE, /* INDIRECT without INDIRECT_DESC */
	VIRTQ_E_INDIRECT_LEN,     /* table len 0 or not a multiple of 16 */
	VIRTQ_E_INDIRECT_SIZE,    /* table larger than the queue size */
	VIRTQ_E_INDIRECT_NESTED,  /* INDIRECT inside an indirect table */
	VIRTQ_E_INDIRECT_NEXT,    /* INDIRECT and NEXT both set */
	VIRTQ_E_ADDR,             /* buffer not inside one RAM region */
	VIRTQ_E_ORDER,            /* device-readable after device-writable */
	VIRTQ_E_TOTAL_LEN,        /* chain bytes above VIRTQ_CHAIN_MAX_BYTES */
	VIRTQ_E_TOO_MANY_SEGS,    /* more than VIRTQ_CHAIN_MAX_SEGS buffers */
	VIRTQ_E_NOT_READY,        /* queue not set up */
	VIRTQ_E_SIZE,             /* size 0, above 32768 or not a power of 2 */
	VIRTQ_E_RING_ALIGN,       /* desc/avail/used misaligned */
	VIRTQ_E_RING_ADDR,        /* desc/avail/used not inside guest RAM */
	VIRTQ_E_USED_ID,          /* push of a head >= size or none in flight */
	VIRTQ_E_MAX_
};

struct virtq {
	gpa_t desc;  /* descriptor table, 16-byte aligned */
	gpa_t avail; /* driver area, 2-byte aligned */
	gpa_t used;  /* device area, 4-byte aligned */
	uint16_t size; /* power of two, 1..32768 */
	bool ready;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;  /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t last_avail_idx; /* next avail entry to consume */
	uint16_t used_idx;       /* next used entry; last published used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt decision */
	uint16_t inflight;       /* chains popped and not yet pushed */
};

/*
 * One buffer. Even a zero-length buffer must start inside guest RAM; a
 * buffer never straddles two RAM regions (guest_mem_ptr() refuses it).
 */
struct virtq_seg {
	gpa_t gpa;    /* checked: [gpa, gpa + len) lies in guest RAM */
	uint32_t len;
	bool write;   /* device-writable */
};

/*
 * A validated chain: all readable segments come first, then all writable
 * ones. The segments are copies; the guest cannot change them any more.
 */
struct virtq_chain {
	uint16_t head;          /* id to give back to virtq_push() */
	uint16_t nr_segs;
	uint32_t readable_len;  /* bytes in the device-readable segments */
	uint32_t writable_len;  /* bytes in the device-writable segments */
	struct virtq_seg seg[VIRTQ_CHAIN_MAX_SEGS];
};

/* Name of a broken rule (err positive or negative), never NULL. */
const char *virtq_err_str(int err);

/*
 * Check the geometry the driver gave and make the queue ready. Reads and
 * writes no guest memory. Returns 0, or -VIRTQ_E_SIZE, -VIRTQ_E_RING_ALIGN,
 * -VIRTQ_E_RING_ADDR (the queue stays not ready).
 */
int virtq_setup(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		gpa_t desc, gpa_t avail, gpa_t used, bool event_idx,
		bool indirect);

/* Forget everything: the queue is not ready. */
void virtq_reset(struct virtq *q);

/*
 * Take the next available chain. Returns 1 and fills *chain, 0 when the
 * avail ring is empty, or -VIRTQ_E_* naming the rule the guest broke (the
 * queue is then unusable until the device is reset). With EVENT_IDX, an
 * empty ring publishes avail_event = last_avail_idx and looks once more, so
 * that 0 also means "the guest will notify for the next buffer".
 */
int virtq_pop(struct virtq *q, const struct guest_mem *mem,
	      struct virtq_chain *chain);

/*
 * Give back a chain popped earlier: write the used element, then publish
 * used->idx with release ordering (pairs with the driver's read barrier
 * after reading used->idx). 'written' is the number of bytes the device
 * wrote; the caller keeps it <= chain->writable_len. Returns 0 or
 * -VIRTQ_E_NOT_READY, -VIRTQ_E_USED_ID, -VIRTQ_E_RING_ADDR.
 */
int virtq_push(struct virtq *q, const struct guest_mem *mem, uint16_t head,
	       uint32_t written);

/*
 * The same for n chains published at once (one used->idx store): the
 * buffers of one merged virtio-net frame must appear together. Nothing is
 * written unless all n are valid.
 */
int virtq_push_n(struct virtq *q, const struct guest_mem *mem,
		 const uint16_t *head, const uint32_t *written, unsigned n);

/*
 * Whether the driver wants an interrupt for what was pushed since the last
 * call: EVENT_IDX decides with used_event, otherwise the avail ring's
 * NO_INTERRUPT flag. False when nothing was pushed since the last call.
 */
bool virtq_needs_interrupt(struct virtq *q, const struct guest_mem *mem);

/* With EVENT_IDX: ask the driver to notify once avail idx passes 'idx'. */
void virtq_set_avail_event(struct virtq *q, const struct guest_mem *mem,
			   uint16_t idx);

/*
 * The virtio event-index test: true when 'event' lies in the window
 * (old, new] of a free-running 16-bit index.
 */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx,
				    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/*
 * Copy between a chain and a flat buffer. 'off' counts bytes from the start
 * of the chain's readable part (read) or writable part (write). Copies at
 * most 'len' bytes, never past the segments; returns the bytes copied.
 */
size_t virtq_chain_read(const struct guest_mem *mem,
			const struct virtq_chain *chain, size_t off, void *dst,
			size_t len);
size_t virtq_chain_write(const struct guest_mem *mem,
			 const struct virtq_chain *chain, size_t off,
			 const void *src, size_t len);

#endif
