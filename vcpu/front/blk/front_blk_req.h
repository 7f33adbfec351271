/*
 * front_blk_req.h: one guest virtio-blk request (a validated virtqueue
 * chain) checked against the disk and turned into a block-server request,
 * or into a status the VMM answers at once.
 */
#ifndef ISOVM_FRONT_BLK_REQ_H
#define ISOVM_FRONT_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc_entry.h"
#include "vcpu/core/guest_mem.h"
#include "vcpu/virtio/virtq.h"

#define FRONT_BLK_HDR_LEN     16 /* le32 type, le32 ioprio, le64 sector */
#define FRONT_BLK_DWZ_LEN     16 /* le64 sector, le32 num_sectors, le32 flags */
#define FRONT_BLK_DWZ_F_UNMAP 1u

/* What the disk is and offers (from the VMM's disk and the server's READY). */
struct front_blk_limits {
	uint64_t capacity; /* 512-byte sectors */
	bool read_only;
	bool flush;	       /* VIRTIO_BLK_F_FLUSH offered */
	bool discard;	       /* VIRTIO_BLK_F_DISCARD offered */
	bool write_zeroes;     /* VIRTIO_BLK_F_WRITE_ZEROES offered */
	uint32_t max_rw_bytes; /* seg_max * size_max, a multiple of 512 */
	uint32_t max_discard_sectors;
	uint32_t max_zeroes_sectors;
};

enum front_blk_verdict {
	FRONT_BLK_POST,	  /* send out.req to the server */
	FRONT_BLK_STATUS, /* answer out.status at once, no server trip */
	FRONT_BLK_BROKEN, /* no room for a status byte: NEEDS_RESET */
};

/*
 * The parsed request. Byte layout (any descriptor split is accepted, as
 * virtio 1.x requires): the readable part is the 16-byte header, then the
 * OUT payload or the DISCARD/WRITE_ZEROES segment; the writable part is
 * the IN/GET_ID buffer, then the status byte, which is always its last
 * byte.
 */
struct front_blk_req {
	uint32_t type;	     /* the guest's VIRTIO_BLK_T_* (0 if unread) */
	uint8_t status;	     /* VIRTIO_BLK_S_* for FRONT_BLK_STATUS */
	struct ipc_req req;  /* op and args for FRONT_BLK_POST */
	uint32_t arena_len;  /* arena bytes the request needs */
	uint32_t copy_off;   /* OUT: payload offset in the readable part */
	uint32_t copy_len;   /* OUT: payload bytes to copy into the arena */
	uint32_t data_len;   /* payload bytes of IN/OUT/GET_ID */
	uint32_t status_off; /* status byte offset in the writable part */
	const char *why;     /* the rule a refused request broke, or NULL */
};

/*
 * Parse chain c (its segments already checked to lie in guest RAM by the
 * virtqueue walker) with the limits of the disk. Reads the header and the
 * discard segment once, into private copies. Checks, all before any
 * server trip: header length, status byte present, data direction and
 * length (a multiple of 512, non-zero, at most max_rw_bytes), sector range
 * against the capacity (no overflow), writes to a read-only disk, features
 * not offered, discard/write-zeroes segment count, size and flags.
 * Unknown types get VIRTIO_BLK_S_UNSUPP, every other refusal IOERR.
 */
enum front_blk_verdict front_blk_req_parse(const struct guest_mem *mem,
					   const struct virtq_chain *c,
					   const struct front_blk_limits *lim,
					   struct front_blk_req *out);

/* The status byte for a server completion status (0 or -errno). */
uint8_t front_blk_req_status(int32_t cpl_status);

#endif
