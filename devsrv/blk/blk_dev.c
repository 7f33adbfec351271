/* blk_dev.c: block request semantics: every check before any I/O. */
#include <errno.h>
#include <string.h>

#include "ipc/devproto.h"
#include "devsrv/blk/blk_dev.h"

int blk_dev_init(struct blk_dev *d, struct blk_backend *be,
		 const struct ctl_blk_config *cfg, const char *default_id)
{
	const char *id = cfg->id[0] ? cfg->id : default_id;

	if (!cfg->capacity_sectors)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->be = be;
	d->capacity = cfg->capacity_sectors;
	d->read_only = cfg->read_only;
	/* NUL-padded, not NUL-terminated: a 20-byte id fills the field. */
	if (id)
		memcpy(d->id, id, strnlen(id, sizeof(d->id)));
	atomic_init(&d->rejected, 0);
	atomic_init(&d->backend_errors, 0);
	return 0;
}

/* [sector, sector + count) inside the disk, without overflowing. */
static bool blk_dev_in_range(const struct blk_dev *d, uint64_t sector,
			     uint32_t count)
{
	return sector <= d->capacity && count <= d->capacity - sector;
}

static int blk_dev_check_rw(const struct blk_dev *d, const struct ipc_req *req,
			    const void *buf)
{
	uint32_t count = req->args.blk.count;

	if (!count || count > VIRTIO_BLK_MAX_RW_SECTORS)
		return -EINVAL;
	/* count is bounded above, so the product fits in 32 bits. */
	if (req->arena_len != count * VIRTIO_BLK_SECTOR || !buf)
		return -EINVAL;
	if (!blk_dev_in_range(d, req->args.blk.sector, count))
		return -ERANGE;
	return 0;
}

static int blk_dev_check_range(const struct blk_dev *d,
			       const struct ipc_req *req, uint32_t max)
{
	if (req->args.blk.count > max)
		return -EINVAL;
	if (!blk_dev_in_range(d, req->args.blk.sector, req->args.blk.count))
		return -ERANGE;
	return 0;
}

static int blk_dev_verdict(const struct blk_dev *d, const struct ipc_req *req,
			   const void *buf)
{
	switch (req->op) {
	case IPC_OP_READ:
		return blk_dev_check_rw(d, req, buf);
	case IPC_OP_WRITE:
		if (d->read_only)
			return -EROFS;
		return blk_dev_check_rw(d, req, buf);
	case IPC_OP_FLUSH:
		return 0;
	case BLK_OP_GET_ID:
		if (!req->arena_len || req->arena_len > VIRTIO_BLK_ID_BYTES ||
		    !buf)
			return -EINVAL;
		return 0;
	case BLK_OP_DISCARD:
		if (d->read_only)
			return -EROFS;
		return blk_dev_check_range(d, req,
					   VIRTIO_BLK_MAX_DISCARD_SECTORS);
	case BLK_OP_WRITE_ZEROES:
		if (d->read_only)
			return -EROFS;
		return blk_dev_check_range(d, req, VIRTIO_BLK_MAX_ZERO_SECTORS);
	default:
		return -EOPNOTSUPP;
	}
}

int blk_dev_check(struct blk_dev *d, const struct ipc_req *req,
		  const void *buf)
{
	int ret = blk_dev_verdict(d, req, buf);

	if (ret)
		atomic_fetch_add_explicit(&d->rejected, 1,
					  memory_order_relaxed);
	return ret;
}

static int blk_dev_io(struct blk_dev *d, const struct ipc_req *req, void *buf,
		      const struct blk_bounce *bb, uint32_t *len)
{
	uint64_t off = req->args.blk.sector * VIRTIO_BLK_SECTOR;
	uint64_t bytes = (uint64_t)req->args.blk.count * VIRTIO_BLK_SECTOR;
	int ret;

	switch (req->op) {
	case IPC_OP_READ:
		ret = blk_backend_read(d->be, off, buf, bytes, bb);
		if (!ret)
			*len = req->arena_len;
		return ret;
	case IPC_OP_WRITE:
		return blk_backend_write(d->be, off, buf, bytes, bb);
	case IPC_OP_FLUSH:
		return blk_backend_flush(d->be);
	case BLK_OP_GET_ID:
		memcpy(buf, d->id, req->arena_len);
		*len = req->arena_len;
		return 0;
	case BLK_OP_DISCARD:
		return blk_backend_discard(d->be, off, bytes);
	case BLK_OP_WRITE_ZEROES:
		return blk_backend_write_zeroes(d->be, off, bytes);
	}
	return -EOPNOTSUPP; /* unreachable: checked before */
}

int blk_dev_run(struct blk_dev *d, const struct ipc_req *req, void *buf,
		const struct blk_bounce *bb, uint32_t *len)
{
	int ret;

	*len = 0;
	ret = blk_dev_io(d, req, buf, bb, len);
	if (ret) {
		/* A failed READ may have filled part of the buffer: report
		 * none of it. */
		*len = 0;
		atomic_fetch_add_explicit(&d->backend_errors, 1,
					  memory_order_relaxed);
	}
	return ret;
}

int blk_dev_exec(struct blk_dev *d, const struct ipc_req *req, void *buf,
		 const struct blk_bounce *bb, uint32_t *len)
{
	int ret = blk_dev_check(d, req, buf);

	if (ret) {
		*len = 0;
		return ret;
	}
	return blk_dev_run(d, req, buf, bb, len);
}

int blk_dev_stat_op(uint32_t op)
{
	switch (op) {
	case IPC_OP_READ:
		return CTL_OP_READ;
	case IPC_OP_WRITE:
		return CTL_OP_WRITE;
	case IPC_OP_FLUSH:
		return CTL_OP_FLUSH;
	case BLK_OP_GET_ID:
		return CTL_OP_GET_ID;
	default:
		return CTL_OP_ANY;
	}
}
