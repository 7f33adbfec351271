/* front_blk_req.c: guest virtio-blk request -> checked block-server request. */
#include <errno.h>
#include <string.h>

#include "ipc/devproto.h"
#include "ipc/virtio_blk_config.h"
#include "vcpu/front/blk/front_blk_req.h"
#include "vcpu/le.h"

static enum front_blk_verdict front_blk_refuse(struct front_blk_req *r,
					       uint8_t status, const char *why)
{
	r->status = status;
	r->why = why;
	return FRONT_BLK_STATUS;
}

/* [sector, sector + count) inside the disk, without overflow. */
static bool front_blk_in_range(const struct front_blk_limits *lim,
			       uint64_t sector, uint64_t count)
{
	return sector <= lim->capacity && count <= lim->capacity - sector;
}

/* IN and OUT: one payload in the direction of the type. */
static enum front_blk_verdict
front_blk_parse_rw(const struct virtq_chain *c,
		   const struct front_blk_limits *lim, uint64_t sector,
		   struct front_blk_req *r)
{
	bool in = r->type == VIRTIO_BLK_T_IN;
	/* IN: readable is the header alone, writable data + status; OUT:
	 * readable header + data, writable the status alone. */
	uint32_t data =
		in ? c->writable_len - 1 : c->readable_len - FRONT_BLK_HDR_LEN;
	uint32_t wrong =
		in ? c->readable_len - FRONT_BLK_HDR_LEN : c->writable_len - 1;

	if (wrong)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"data in the wrong direction");
	if (!in && lim->read_only)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"write to a read-only disk");
	if (data == 0 || data % VIRTIO_BLK_SECTOR)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"data not a non-zero multiple of 512");
	if (data > lim->max_rw_bytes)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"data above seg_max * size_max");
	if (!front_blk_in_range(lim, sector, data / VIRTIO_BLK_SECTOR))
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"sectors beyond the capacity");
	r->req.op = in ? IPC_OP_READ : IPC_OP_WRITE;
	r->req.args.blk.sector = sector;
	r->req.args.blk.count = data / VIRTIO_BLK_SECTOR;
	r->data_len = data;
	r->arena_len = data;
	if (!in) {
		r->copy_off = FRONT_BLK_HDR_LEN;
		r->copy_len = data;
	}
	return FRONT_BLK_POST;
}

/* DISCARD and WRITE_ZEROES: exactly one 16-byte range (max_*_seg is 1). */
static enum front_blk_verdict
front_blk_parse_dwz(const struct guest_mem *mem, const struct virtq_chain *c,
		    const struct front_blk_limits *lim, struct front_blk_req *r)
{
	bool zero = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint8_t seg[FRONT_BLK_DWZ_LEN];
	uint64_t sector;
	uint32_t count, flags;

	if (!(zero ? lim->write_zeroes : lim->discard))
		return front_blk_refuse(r, VIRTIO_BLK_S_UNSUPP,
					"discard/write-zeroes not offered");
	if (lim->read_only)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"write to a read-only disk");
	if (c->writable_len != 1)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"data in the wrong direction");
	if (c->readable_len != FRONT_BLK_HDR_LEN + FRONT_BLK_DWZ_LEN)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"not exactly one range segment");
	if (virtq_chain_read(mem, c, FRONT_BLK_HDR_LEN, seg, sizeof(seg)) !=
	    sizeof(seg))
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"range segment unreadable");
	sector = le64_get(seg);
	count = le32_get(seg + 8);
	flags = le32_get(seg + 12);
	/* Reserved flags, and unmap on a discard, are for UNSUPP (5.2.6.2). */
	if (flags & ~(zero ? FRONT_BLK_DWZ_F_UNMAP : 0u))
		return front_blk_refuse(r, VIRTIO_BLK_S_UNSUPP,
					"unsupported range flags");
	if (!count ||
	    count > (zero ? lim->max_zeroes_sectors : lim->max_discard_sectors))
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"range size zero or above the maximum");
	if (!front_blk_in_range(lim, sector, count))
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"sectors beyond the capacity");
	r->req.op = zero ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD;
	r->req.args.blk.sector = sector;
	r->req.args.blk.count = count;
	return FRONT_BLK_POST;
}

/* FLUSH and GET_ID: header only readable; GET_ID has a writable buffer. */
static enum front_blk_verdict
front_blk_parse_misc(const struct virtq_chain *c,
		     const struct front_blk_limits *lim,
		     struct front_blk_req *r)
{
	if (c->readable_len != FRONT_BLK_HDR_LEN)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"data in the wrong direction");
	if (r->type == VIRTIO_BLK_T_FLUSH) {
		if (!lim->flush)
			return front_blk_refuse(r, VIRTIO_BLK_S_UNSUPP,
						"flush not offered");
		if (c->writable_len != 1)
			return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
						"data on a flush");
		r->req.op = IPC_OP_FLUSH;
		return FRONT_BLK_POST;
	}
	r->data_len = c->writable_len - 1;
	if (!r->data_len)
		return front_blk_refuse(r, VIRTIO_BLK_S_IOERR,
					"no buffer for the id");
	/* A longer buffer gets the 20 id bytes; the rest stays untouched. */
	r->arena_len = r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len
							 : VIRTIO_BLK_ID_BYTES;
	r->req.op = BLK_OP_GET_ID;
	return FRONT_BLK_POST;
}

enum front_blk_verdict front_blk_req_parse(const struct guest_mem *mem,
					   const struct virtq_chain *c,
					   const struct front_blk_limits *lim,
					   struct front_blk_req *out)
{
	uint8_t hdr[FRONT_BLK_HDR_LEN];
	uint64_t sector;

	memset(out, 0, sizeof(*out));
	if (c->writable_len == 0) {
		out->why = "no device-writable status byte";
		return FRONT_BLK_BROKEN;
	}
	out->status_off = c->writable_len - 1;
	if (c->readable_len < FRONT_BLK_HDR_LEN ||
	    virtq_chain_read(mem, c, 0, hdr, sizeof(hdr)) != sizeof(hdr))
		return front_blk_refuse(out, VIRTIO_BLK_S_IOERR,
					"header shorter than 16 bytes");
	out->type = le32_get(hdr);
	sector = le64_get(hdr + 8);
	switch (out->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return front_blk_parse_rw(c, lim, sector, out);
	case VIRTIO_BLK_T_FLUSH:
	case VIRTIO_BLK_T_GET_ID:
		return front_blk_parse_misc(c, lim, out);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return front_blk_parse_dwz(mem, c, lim, out);
	default:
		return front_blk_refuse(out, VIRTIO_BLK_S_UNSUPP,
					"unknown request type");
	}
}

uint8_t front_blk_req_status(int32_t cpl_status)
{
	if (cpl_status == 0)
		return VIRTIO_BLK_S_OK;
	if (cpl_status == -EOPNOTSUPP)
		return VIRTIO_BLK_S_UNSUPP;
	return VIRTIO_BLK_S_IOERR;
}
