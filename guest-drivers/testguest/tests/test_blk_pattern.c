/*
 * test_blk_pattern.c: writes a seeded splitmix64 pattern over a whole
 * virtio-blk disk, flushes, reads it all back and compares: every byte of
 * the disk goes through the guest driver both ways.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/blk.h"
#include "virtio/dma.h"

#define PAT_CHUNK      (64u * 1024) /* default blk-pattern.chunk */
#define PAT_CHUNK_MAX  (1u << 20)
#define PAT_QD	       8u
#define PAT_TIMEOUT_US 300000000ull

static struct vblk pat_blk;

struct pat_run {
	uint64_t seed, bytes, hash, bad_off;
	uint32_t chunk; /* bytes per request */
	uint8_t *buf[PAT_QD];
	uint64_t deadline;
	bool mismatch;
};

static void pat_fill(const struct pat_run *r, uint64_t off, uint8_t *p,
		     uint32_t len)
{
	uint64_t k;

	for (k = 0; k < len / 8; k++) {
		uint64_t v = tu_splitmix64(r->seed + off / 8 + k);

		memcpy(p + 8 * k, &v, 8); /* x86 is little-endian */
	}
}

static void pat_check(struct pat_run *r, uint64_t off, const uint8_t *p,
		      uint32_t len)
{
	uint64_t k, v;

	r->hash = tu_fnv1a64(r->hash, p, len);
	for (k = 0; k < len / 8 && !r->mismatch; k++) {
		memcpy(&v, p + 8 * k, 8);
		if (v != tu_splitmix64(r->seed + off / 8 + k)) {
			r->mismatch = true;
			r->bad_off = off + 8 * k;
		}
	}
}

/* Runs up to PAT_QD chunks from off in flight, then waits for all of them. */
static int pat_window(struct vblk *b, struct pat_run *r, uint32_t type,
		      uint64_t off, unsigned *n)
{
	unsigned i, done = 0;
	uint8_t status;
	uint64_t t;
	void *c;
	int ret;

	for (i = 0; i < PAT_QD && off + (uint64_t)i * r->chunk < r->bytes;
	     i++) {
		uint64_t o = off + (uint64_t)i * r->chunk;
		uint32_t len =
			r->bytes - o < r->chunk ? r->bytes - o : r->chunk;

		if (type == VBLK_T_OUT)
			pat_fill(r, o, r->buf[i], len);
		ret = vblk_submit(b, type, o / VBLK_SECTOR, r->buf[i], len,
				  (void *)(uintptr_t)i);
		if (ret < 0)
			return ret;
	}
	*n = i;
	vblk_kick(b);
	while (done < *n) {
		ret = vblk_reap(b, &c, &status, &t);
		if (ret < 0)
			return ret;
		if (!ret && (ret = vblk_wait(b, r->deadline)))
			return ret;
		if (ret == 1 && status != VBLK_S_OK)
			return -TG_EIO;
		done += ret == 1;
	}
	return 0;
}

static int pat_pass(struct vblk *b, struct pat_run *r, uint32_t type)
{
	uint64_t off = 0;
	unsigned n, i;
	int ret;

	while (off < r->bytes) {
		if ((ret = pat_window(b, r, type, off, &n)))
			return ret;
		for (i = 0; type == VBLK_T_IN && i < n; i++) {
			uint64_t o = off + (uint64_t)i * r->chunk;

			pat_check(r, o, r->buf[i],
				  r->bytes - o < r->chunk ? r->bytes - o
							  : r->chunk);
		}
		off += (uint64_t)n * r->chunk;
	}
	return 0;
}

static int pat_run_disk(struct vblk *b, struct pat_run *r, const char **what)
{
	unsigned i;
	int ret;

	for (i = 0; i < PAT_QD; i++)
		if (!(r->buf[i] = dma_alloc(r->chunk, 4096)))
			return -TG_ENOSPC;
	*what = "write";
	if ((ret = pat_pass(b, r, VBLK_T_OUT)))
		return ret;
	*what = "flush";
	if (vmmio_has(b->dev, VBLK_F_FLUSH)) {
		ret = vblk_sync(b, VBLK_T_FLUSH, 0, NULL, 0, r->deadline);
		if (ret)
			return ret < 0 ? ret : -TG_EIO;
	}
	*what = "read";
	return pat_pass(b, r, VBLK_T_IN);
}

void test_blk_pattern(const char *name)
{
	int bad = 0, ret;
	uint64_t disk = tu_key_u64("blk-pattern.disk", 0, &bad);
	struct pat_run r = {.hash = FNV1A64_INIT};
	uint64_t mark = dma_mark();
	const char *what = "open";

	r.seed = tu_key_u64("blk-pattern.seed", 1, &bad);
	/* Up to 1 MiB: one request as large as the driver can carry. */
	r.chunk = (uint32_t)tu_key_u64("blk-pattern.chunk", PAT_CHUNK, &bad);
	if (bad || disk > 64 || !r.chunk || r.chunk > PAT_CHUNK_MAX ||
	    r.chunk % VBLK_SECTOR) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	ret = vblk_open(&pat_blk, (unsigned)disk, PAT_QD);
	if (ret) {
		report_result(name, false, "reason=no-disk disk=%lu err=%d",
			      disk, ret);
		goto out_release;
	}
	r.bytes = pat_blk.capacity * VBLK_SECTOR;
	r.deadline = clock_deadline_us(PAT_TIMEOUT_US);
	ret = pat_run_disk(&pat_blk, &r, &what);
	if (ret)
		report_result(name, false, "reason=%s-failed disk=%lu err=%d",
			      what, disk, ret);
	else if (r.mismatch)
		report_result(name, false,
			      "reason=mismatch disk=%lu offset=%lu", disk,
			      r.bad_off);
	else
		report_result(name, true, "disk=%lu bytes=%lu hash=0x%016lx",
			      disk, r.bytes, r.hash);
	vblk_close(&pat_blk);
out_release:
	dma_release(mark);
}
