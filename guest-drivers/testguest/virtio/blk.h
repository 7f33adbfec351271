/*
 * blk.h: a virtio-blk driver (device id 2): geometry from the config
 * space, IN/OUT/FLUSH/GET_ID (DISCARD/WRITE_ZEROES when offered), many
 * requests in flight through per-slot headers, polling or interrupts.
 */
#ifndef TG_VIRTIO_BLK_H
#define TG_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"

#define VBLK_SECTOR 512

/* Feature bits. */
#define VBLK_F_SIZE_MAX	    1
#define VBLK_F_SEG_MAX	    2
#define VBLK_F_RO	    5
#define VBLK_F_BLK_SIZE	    6
#define VBLK_F_FLUSH	    9
#define VBLK_F_DISCARD	    13
#define VBLK_F_WRITE_ZEROES 14

/* Request types and status values. */
#define VBLK_T_IN	    0
#define VBLK_T_OUT	    1
#define VBLK_T_FLUSH	    4
#define VBLK_T_GET_ID	    8
#define VBLK_T_DISCARD	    11
#define VBLK_T_WRITE_ZEROES 13
#define VBLK_S_OK	    0
#define VBLK_S_IOERR	    1
#define VBLK_S_UNSUPP	    2

#define VBLK_ID_BYTES  20
#define VBLK_SLOTS_MAX VIRTQ_SIZE_MAX

/* One request's header, status and discard range (dma; device reads hdr). */
struct vblk_slot {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	uint64_t range_sector; /* DISCARD / WRITE_ZEROES segment */
	uint32_t range_sectors;
	uint32_t range_flags;
	uint8_t status; /* device writes */
	uint8_t pad[31];
};

struct vblk {
	struct vmmio_dev *dev;
	struct virtq q;
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max; /* bytes per segment; 0: no limit */
	uint32_t seg_max;  /* data segments per request; 0: no limit */
	uint32_t blk_size;
	bool ro;
	struct vblk_slot *slots; /* nslots, dma */
	void *cookie[VBLK_SLOTS_MAX];
	uint64_t submit_tsc[VBLK_SLOTS_MAX];
	uint16_t slot_free[VBLK_SLOTS_MAX];
	unsigned nslots, nfree;
	unsigned unkicked;
};

/*
 * Sets up the nth blk device (0-based, command-line order) for up to qd
 * requests in flight (bounded by the queue size, and by a third of it
 * without indirect descriptors); nslots says how many were granted. Allocates
 * dma memory: take a dma_mark() first. 0, -TG_ENODEV, or -errno.
 */
int vblk_open(struct vblk *b, unsigned nth, unsigned qd);

/* Resets the device; its dma memory may then be released. */
void vblk_close(struct vblk *b);

/*
 * Queues one request (not kicked): type, first sector, a dma buffer of len
 * bytes (len a multiple of 512 for IN/OUT, VBLK_ID_BYTES for GET_ID, 0 for
 * FLUSH; for DISCARD/WRITE_ZEROES len is the byte count at sector and buf
 * is unused). Returns the slot, -TG_ENOSPC when qd are in flight, or
 * -TG_EINVAL for a request the device's limits cannot carry.
 */
int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
		uint32_t len, void *cookie);

static inline void vblk_kick(struct vblk *b)
{
	virtq_kick(&b->q);
	b->unkicked = 0;
}

/*
 * Takes one finished request: 1 with its cookie, status and submit TSC,
 * 0 when none, -TG_EIO when the device broke a ring rule.
 */
int vblk_reap(struct vblk *b, void **cookie, uint8_t *status,
	      uint64_t *submit_tsc);

static inline int vblk_wait(struct vblk *b, uint64_t deadline)
{
	return virtq_wait(&b->q, deadline);
}

/* One request, nothing else in flight: its status (>= 0) or -errno. */
int vblk_sync(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
	      uint32_t len, uint64_t deadline);

#endif
