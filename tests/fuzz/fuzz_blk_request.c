/*
 * fuzz_blk_request.c: hostile block request entries run through blk_dev on
 * a small image (a memfd: guard | 64-sector slice | guard). Whatever the
 * entries say: no crash, a status of the documented set, a completion
 * length within the buffer, the guards untouched, and a refused request
 * leaves the whole image as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devsrv/blk/blk_dev.h"
#include "ipc/devproto.h"

#define FZ_GUARD      8192u
#define FZ_CAP	      64u
#define FZ_IMG	      (FZ_GUARD + FZ_CAP * 512u + FZ_GUARD)
#define FZ_ARENA      65536u
#define FZ_GUARD_BYTE 0x5a

static int fz_fd = -1;
static unsigned char *fz_img; /* the memfd mapped, to check it cheaply */
static unsigned char fz_before[FZ_IMG];
static unsigned char fz_arena[FZ_ARENA] __attribute__((aligned(4096)));
static struct blk_backend fz_be;
static struct blk_dev fz_dev[2]; /* read-write, read-only */

static void fz_init(void)
{
	struct ctl_blk_config c = {
		.capacity_sectors = FZ_CAP,
		.block_size = 512,
		.id = "fuzz",
		.cache = CTL_CACHE_WRITEBACK,
		.slice_offset = FZ_GUARD,
	};

	fz_fd = memfd_create("fuzz-blk", MFD_CLOEXEC);
	if (fz_fd < 0 || ftruncate(fz_fd, FZ_IMG))
		abort();
	fz_img = mmap(NULL, FZ_IMG, PROT_READ | PROT_WRITE, MAP_SHARED, fz_fd,
		      0);
	if (fz_img == MAP_FAILED)
		abort();
	memset(fz_img, FZ_GUARD_BYTE, FZ_IMG);
	if (blk_backend_init(&fz_be, fz_fd, FZ_GUARD) ||
	    blk_dev_init(&fz_dev[0], &fz_be, &c, NULL))
		abort();
	c.read_only = true;
	if (blk_dev_init(&fz_dev[1], &fz_be, &c, NULL))
		abort();
}

/* The arena buffer as ipc_dp_srv_buf() would give it: NULL if outside. */
static void *fz_buf(const struct ipc_req *r)
{
	if (r->arena_off > FZ_ARENA || r->arena_len > FZ_ARENA - r->arena_off)
		return NULL;
	return fz_arena + r->arena_off;
}

static bool fz_status_ok(int st)
{
	return st == 0 || st == -EOPNOTSUPP || st == -EROFS || st == -EINVAL ||
	       st == -ERANGE;
}

static void fz_check_guards(void)
{
	for (unsigned i = 0; i < FZ_GUARD; i++)
		if (fz_img[i] != FZ_GUARD_BYTE ||
		    fz_img[FZ_IMG - FZ_GUARD + i] != FZ_GUARD_BYTE)
			abort();
}

static void fz_one(struct blk_dev *d, const struct ipc_req *r)
{
	uint32_t len = UINT32_MAX;
	void *buf = fz_buf(r);
	int st;

	memcpy(fz_before, fz_img, FZ_IMG);
	st = blk_dev_exec(d, r, buf, NULL, &len);
	if (!fz_status_ok(st) || len > r->arena_len || (st && len))
		abort();
	/* Refused: nothing may have changed anywhere in the image. */
	if (st && memcmp(fz_before, fz_img, FZ_IMG))
		abort();
	fz_check_guards();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_req r;
	struct blk_dev *d;

	if (fz_fd < 0)
		fz_init();
	if (size < 1)
		return 0;
	d = &fz_dev[data[0] & 1];
	data++;
	size--;
	while (size >= sizeof(r)) {
		memcpy(&r, data, sizeof(r));
		/* Keep most requests near the disk so some do real I/O. */
		if (r.flags & 0x80000000u) {
			r.args.blk.sector %= FZ_CAP + 2;
			r.args.blk.count %= FZ_CAP + 2;
			r.op %= BLK_OP_WRITE_ZEROES + 2;
		}
		fz_one(d, &r);
		data += sizeof(r);
		size -= sizeof(r);
	}
	return 0;
}

/* A write, a read, a discard, a write-zeroes, a flush and a GET_ID. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	static const struct {
		uint32_t op;
		uint64_t sector;
		uint32_t count;
		uint64_t off;
		uint32_t len;
	} s[] = {
		{IPC_OP_WRITE, 3, 4, 0, 2048},
		{IPC_OP_READ, 0, 8, 4096, 4096},
		{BLK_OP_DISCARD, 8, 16, 0, 0},
		{BLK_OP_WRITE_ZEROES, 60, 4, 0, 0},
		{IPC_OP_FLUSH, 0, 0, 0, 0},
		{BLK_OP_GET_ID, 0, 0, 512, 20},
	};
	size_t n = 1;

	if (cap < 1 + sizeof(s) / sizeof(s[0]) * sizeof(struct ipc_req))
		return 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct ipc_req r = {.id = i,
				    .op = s[i].op,
				    .arena_off = s[i].off,
				    .arena_len = s[i].len,
				    .flags = 0x80000000u};

		r.args.blk.sector = s[i].sector;
		r.args.blk.count = s[i].count;
		memcpy(buf + n, &r, sizeof(r));
		n += sizeof(r);
	}
	return n;
}
