/* blk_dev.h: what a block request means: validated, then run on the backend. */
#ifndef ISOVM_DEVSRV_BLK_DEV_H
#define ISOVM_DEVSRV_BLK_DEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devsrv/blk/blk_backend.h"
#include "ipc/ipc_entry.h"
#include "ipc/virtio_blk_config.h"
#include "proto/ctl_msg.h"

/*
 * One disk: capacity and flags from the VMM's Setup, on one backend (not
 * owned). blk_dev_run() may run on several threads at once; nothing in
 * here changes after blk_dev_init() except the atomic counters.
 */
struct blk_dev {
	struct blk_backend *be;
	uint64_t capacity; /* 512-byte sectors */
	bool read_only;
	uint8_t id[VIRTIO_BLK_ID_BYTES];     /* NUL-padded serial */
	atomic_uint_fast64_t rejected;	     /* requests failing checks */
	atomic_uint_fast64_t backend_errors; /* I/O that failed */
};

/*
 * Take the config (already validated by ctl_msg_decode). An empty cfg->id
 * gets @default_id (may be NULL: stays empty); longer ids are cut at 20
 * bytes. Returns 0 or -EINVAL (capacity 0).
 */
int blk_dev_init(struct blk_dev *d, struct blk_backend *be,
		 const struct ctl_blk_config *cfg, const char *default_id);

/*
 * Check @req (a private copy) before any I/O. @buf is the request's arena
 * buffer (from ipc_dp_srv_buf(); NULL when it lies outside the arena).
 * Returns 0, or the completion status:
 *   -EOPNOTSUPP  unknown op
 *   -EROFS       WRITE, DISCARD or WRITE_ZEROES on a read-only disk
 *   -EINVAL      READ/WRITE of 0 sectors or whose arena_len is not
 *                count * 512, a buffer outside the arena, a count over
 *                the announced limit (ipc/virtio_blk_config.h), a GET_ID
 *                buffer of 0 or more than 20 bytes
 *   -ERANGE      sector + count beyond the capacity (overflow-safe)
 * FLUSH, DISCARD and WRITE_ZEROES ignore the arena; FLUSH and GET_ID
 * ignore sector and count. A refusal counts in d->rejected.
 */
int blk_dev_check(struct blk_dev *d, const struct ipc_req *req,
		  const void *buf);

/*
 * Runs @req, which blk_dev_check() passed. READ and GET_ID fill @buf;
 * *len is set to the bytes written there (0 otherwise). @bb is the calling
 * thread's bounce buffer (for O_DIRECT images). Returns the completion
 * status: 0 or the backend's -errno (-EIO, -ENOSPC...), counted in
 * d->backend_errors. Never exits; a backend error leaves the device usable.
 */
int blk_dev_run(struct blk_dev *d, const struct ipc_req *req, void *buf,
		const struct blk_bounce *bb, uint32_t *len);

/* blk_dev_check(), then blk_dev_run() if it passed (*len 0 if not). */
int blk_dev_exec(struct blk_dev *d, const struct ipc_req *req, void *buf,
		 const struct blk_bounce *bb, uint32_t *len);

/* The ctl_op a request's statistics go under (CTL_OP_ANY for the rest). */
int blk_dev_stat_op(uint32_t op);

#endif
