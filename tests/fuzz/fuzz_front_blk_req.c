/*
 * fuzz_front_blk_req.c: hostile virtio-blk chains (any segment layout and
 * guest bytes, any disk limits) through front_blk_req_parse(). Whatever
 * the guest wrote: no crash, a verdict of the documented set, and a posted
 * request that stays inside the disk, the chain and the size limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/devproto.h"
#include "ipc/virtio_blk_config.h"
#include "vcpu/front/blk/front_blk_req.h"

#define FZ_RAM_GPA 0x10000ull
#define FZ_RAM	   65536u
#define FZ_SEGS	   8u

static uint8_t fz_ram[FZ_RAM];

static void fz_check(int ok)
{
	if (!ok)
		abort();
}

/* Limits from the first bytes: capacity, flags, maximum sizes. */
static size_t fz_limits(const uint8_t *d, size_t n, struct front_blk_limits *l)
{
	memset(l, 0, sizeof(*l));
	if (n < 6)
		return n;
	l->capacity = (uint64_t)d[0] << 8 | d[1];
	if (d[2] & 0x80)
		l->capacity = ~0ull >> (d[2] & 0x3f); /* near 2^64 */
	l->read_only = d[3] & 1;
	l->flush = d[3] & 2;
	l->discard = d[3] & 4;
	l->write_zeroes = d[3] & 8;
	l->max_rw_bytes = ((uint32_t)d[4] + 1) * 512;
	l->max_discard_sectors = d[5];
	l->max_zeroes_sectors = (uint32_t)d[5] << 4;
	return 6;
}

/* A chain: readable segments first, as the virtqueue walker returns. */
static size_t fz_chain(const uint8_t *d, size_t n, struct virtq_chain *c)
{
	size_t used = 0;
	uint32_t at = 0;
	unsigned nseg;

	memset(c, 0, sizeof(*c));
	if (n < 1)
		return 0;
	nseg = d[used++] % (FZ_SEGS + 1);
	for (unsigned i = 0; i < nseg && used + 2 <= n; i++) {
		/* Mostly lengths a driver would use, sometimes any. */
		static const uint32_t fz_len[8] = {1,  16,  512, 4096,
						   20, 528, 32,	 0};
		uint32_t len =
			d[used + 1] & 1
				? ((uint32_t)d[used] << 8 | d[used + 1]) % 8192
				: fz_len[(d[used + 1] >> 1) & 7];
		bool write = d[used] & 0x80;

		used += 2;
		if (at + len > FZ_RAM)
			break;
		if (c->writable_len && !write)
			write = true; /* keep readable before writable */
		c->seg[c->nr_segs++] =
			(struct virtq_seg){FZ_RAM_GPA + at, len, write};
		if (write)
			c->writable_len += len;
		else
			c->readable_len += len;
		at += len;
	}
	return used;
}

static void fz_verify(const struct virtq_chain *c,
		      const struct front_blk_limits *l,
		      enum front_blk_verdict v, const struct front_blk_req *r)
{
	const struct ipc_req *q = &r->req;

	fz_check((v == FRONT_BLK_BROKEN) == (c->writable_len == 0));
	if (v == FRONT_BLK_BROKEN)
		return;
	fz_check(r->status_off == c->writable_len - 1);
	if (v == FRONT_BLK_STATUS) {
		fz_check(r->status == VIRTIO_BLK_S_IOERR ||
			 r->status == VIRTIO_BLK_S_UNSUPP);
		fz_check(r->why != NULL);
		return;
	}
	fz_check(v == FRONT_BLK_POST);
	fz_check(r->copy_off + (uint64_t)r->copy_len <= c->readable_len);
	switch (q->op) {
	case IPC_OP_READ:
	case IPC_OP_WRITE:
		fz_check(q->args.blk.count &&
			 r->arena_len == q->args.blk.count * 512u);
		fz_check(r->arena_len <= l->max_rw_bytes);
		fz_check(q->op == IPC_OP_READ
				 ? r->arena_len + 1u == c->writable_len
				 : r->copy_len == r->arena_len);
		fz_check(q->op == IPC_OP_READ || !l->read_only);
		/* fall through */
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		fz_check(q->args.blk.sector <= l->capacity &&
			 q->args.blk.count <= l->capacity - q->args.blk.sector);
		fz_check(q->op == IPC_OP_READ || !l->read_only);
		break;
	case IPC_OP_FLUSH:
		fz_check(l->flush && r->arena_len == 0);
		break;
	case BLK_OP_GET_ID:
		fz_check(r->arena_len >= 1 &&
			 r->arena_len <= VIRTIO_BLK_ID_BYTES &&
			 r->arena_len < c->writable_len);
		break;
	default:
		fz_check(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap);

/* A good read (header | 512 bytes | status) on a 256-sector disk, for the
 * stand-alone driver to mutate into every other type and layout. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	static const uint8_t seed[] = {
		0x01, 0x00, 0x00, 0x1e, 0x07, 0x40,	  /* limits */
		3,    0x00, 0x02, 0x80, 0x04, 0x80, 0x00, /* 16 r, 512 w, 1 w */
		0,    0,    0,	  0,	0,    0,    0,	  0,
		8,    0,    0,	  0,	0,    0,    0,	  0, /* IN, 8 */
	};

	if (cap < sizeof(seed))
		return 0;
	memcpy(buf, seed, sizeof(seed));
	return sizeof(seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = {
		.nr_regions = 1, .ram_size = FZ_RAM, .memfd = -1};
	struct front_blk_limits lim;
	struct virtq_chain chain;
	struct front_blk_req req;
	enum front_blk_verdict v;
	size_t off;

	mem.region[0] =
		(struct guest_mem_region){FZ_RAM_GPA, FZ_RAM, fz_ram, 0};
	off = fz_limits(data, size, &lim);
	off += fz_chain(data + off, size - off, &chain);
	/* The rest is what the guest wrote into its buffers. */
	memset(fz_ram, 0, sizeof(fz_ram));
	memcpy(fz_ram, data + off,
	       size - off < sizeof(fz_ram) ? size - off : sizeof(fz_ram));
	/* Often enough, a known type and a small sector (random bytes
	 * would almost never name one). */
	if (size > 3 && (data[3] & 0x10)) {
		fz_ram[0] %= 16;
		memset(fz_ram + 1, 0, 3);
		memset(fz_ram + 10, 0, 6);
	}
	v = front_blk_req_parse(&mem, &chain, &lim, &req);
	fz_verify(&chain, &lim, v, &req);
	return 0;
}
