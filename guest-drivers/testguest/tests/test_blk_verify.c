/*
 * test_blk_verify.c: a verifying load on a virtio-blk disk, for restart
 * tests. Random writes of self-describing 4 KiB blocks (each carries its
 * block number, a generation and a checksum of its payload) and reads that
 * check them, qd requests in flight, never two on one block, for secs
 * seconds. The guest's record (the last generation written to each block)
 * ends as one digest the host recomputes from the image:
 *   digest = FNV-1a 64 over the little-endian u64 generation of every
 *   block in order (0 for a block never written, which reads as zeros).
 * Any status other than OK, and any read that does not verify, fails.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/blk.h"
#include "virtio/dma.h"

#define VERIFY_BS	  4096u
#define VERIFY_BLOCKS_MAX 65536u
#define VERIFY_MAGIC	  0x4b4c425643564f53ull /* "SOVCVBLK" */

/* The header at the start of every block the test writes. */
struct verify_hdr {
	uint64_t magic;
	uint64_t block;
	uint64_t gen;
	uint64_t sum; /* FNV-1a 64 of the bytes after the header */
};

struct verify_slot {
	uint8_t *buf;
	uint64_t block;
	uint64_t gen; /* written, or expected by a read */
	bool write;
};

static struct vblk verify_blk;
static uint32_t verify_gen[VERIFY_BLOCKS_MAX];
static uint8_t verify_busy[VERIFY_BLOCKS_MAX];

struct verify {
	struct verify_slot slot[VBLK_SLOTS_MAX];
	unsigned qd;
	uint64_t blocks, rng;
	uint64_t writes, reads, bad_status, bad_data;
};

static void verify_fill(uint8_t *buf, uint64_t block, uint64_t gen)
{
	struct verify_hdr *h = (struct verify_hdr *)buf;
	uint64_t x = tu_splitmix64(block << 32 ^ gen), *p;

	for (p = (uint64_t *)(buf + sizeof(*h));
	     p < (uint64_t *)(buf + VERIFY_BS); p++) {
		x = tu_xorshift64(x);
		*p = x;
	}
	h->magic = VERIFY_MAGIC;
	h->block = block;
	h->gen = gen;
	h->sum = tu_fnv1a64(FNV1A64_INIT, buf + sizeof(*h),
			    VERIFY_BS - sizeof(*h));
}

/* A block as read holds what generation gen of it must hold. */
static bool verify_check(const uint8_t *buf, uint64_t block, uint64_t gen)
{
	const struct verify_hdr *h = (const struct verify_hdr *)buf;

	if (!gen) {
		for (unsigned i = 0; i < VERIFY_BS; i++)
			if (buf[i])
				return false;
		return true;
	}
	return h->magic == VERIFY_MAGIC && h->block == block &&
	       h->gen == gen &&
	       h->sum == tu_fnv1a64(FNV1A64_INIT, buf + sizeof(*h),
				    VERIFY_BS - sizeof(*h));
}

static uint64_t verify_rand(struct verify *v)
{
	v->rng = tu_xorshift64(v->rng);
	return v->rng;
}

/* Start a request in slot i on a random block no other request holds. */
static int verify_submit(struct verify *v, unsigned i)
{
	struct verify_slot *s = &v->slot[i];
	int ret;

	do
		s->block = verify_rand(v) % v->blocks;
	while (verify_busy[s->block]);
	verify_busy[s->block] = 1;
	s->write = verify_rand(v) % 10 < 6;
	if (s->write) {
		s->gen = verify_gen[s->block] + 1u;
		verify_fill(s->buf, s->block, s->gen);
	} else {
		s->gen = verify_gen[s->block];
		memset(s->buf, 0xa5, VERIFY_BS);
	}
	ret = vblk_submit(&verify_blk, s->write ? VBLK_T_OUT : VBLK_T_IN,
			  s->block * (VERIFY_BS / VBLK_SECTOR), s->buf,
			  VERIFY_BS, (void *)(uintptr_t)i);
	return ret < 0 ? ret : 0;
}

/* One finished request: record or check it. */
static void verify_done(struct verify *v, unsigned i, uint8_t status)
{
	struct verify_slot *s = &v->slot[i];

	verify_busy[s->block] = 0;
	if (status != VBLK_S_OK) {
		v->bad_status++;
		return;
	}
	if (s->write) {
		verify_gen[s->block] = (uint32_t)s->gen;
		v->writes++;
		return;
	}
	v->reads++;
	if (!verify_check(s->buf, s->block, s->gen))
		v->bad_data++;
}

static int verify_loop(struct verify *v, uint64_t end_tsc)
{
	/* Requests get 30 s past the end to complete: restarts are slow in
	 * an emulated lab. */
	uint64_t deadline = end_tsc + (clock_deadline_us(30000000) - rdtsc());
	unsigned i, inflight = 0;
	uint8_t status;
	uint64_t t0;
	void *c;
	int ret;

	for (i = 0; i < v->qd; i++, inflight++)
		if ((ret = verify_submit(v, i)))
			return ret;
	vblk_kick(&verify_blk);
	while (inflight) {
		ret = vblk_reap(&verify_blk, &c, &status, &t0);
		if (ret < 0)
			return ret;
		if (!ret) {
			vblk_kick(&verify_blk);
			if ((ret = vblk_wait(&verify_blk, deadline)))
				return ret;
			continue;
		}
		i = (unsigned)(uintptr_t)c;
		verify_done(v, i, status);
		inflight--;
		if (v->bad_status || v->bad_data)
			continue; /* drain, then report */
		if (rdtsc() < end_tsc) {
			if ((ret = verify_submit(v, i)))
				return ret;
			inflight++;
		}
	}
	return 0;
}

static uint64_t verify_digest(const struct verify *v)
{
	uint64_t h = FNV1A64_INIT, g;

	for (uint64_t b = 0; b < v->blocks; b++) {
		g = verify_gen[b];
		h = tu_fnv1a64(h, &g, sizeof(g));
	}
	return h;
}

void test_blk_verify(const char *name)
{
	static struct verify v;
	uint64_t secs, disk, mark = dma_mark(), deadline;
	int bad = 0, ret;
	uint8_t status;

	memset(&v, 0, sizeof(v));
	memset(verify_gen, 0, sizeof(verify_gen));
	memset(verify_busy, 0, sizeof(verify_busy));
	v.qd = (unsigned)tu_key_u64("blk-verify.qd", 16, &bad);
	secs = tu_key_u64("blk-verify.secs", 30, &bad);
	disk = tu_key_u64("blk-verify.disk", 0, &bad);
	v.rng = tu_key_u64("blk-verify.seed", 0x9e3779b97f4a7c15ull, &bad);
	if (bad || !v.qd || v.qd > VBLK_SLOTS_MAX || secs > 3600 ||
	    disk > 64 || !v.rng) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	ret = vblk_open(&verify_blk, (unsigned)disk, v.qd);
	if (ret) {
		report_result(name, false, "reason=no-disk err=%d", ret);
		goto out_release;
	}
	v.qd = verify_blk.nslots;
	v.blocks = verify_blk.capacity / (VERIFY_BS / VBLK_SECTOR);
	if (v.blocks > VERIFY_BLOCKS_MAX)
		v.blocks = VERIFY_BLOCKS_MAX;
	for (unsigned i = 0; i < v.qd; i++)
		if (!(v.slot[i].buf = dma_alloc(VERIFY_BS, 4096)))
			v.blocks = 0;
	/* Fewer blocks than twice the queue would make picking slow. */
	if (v.blocks < 2u * v.qd || verify_blk.ro) {
		report_result(name, false, "reason=%s",
			      verify_blk.ro ? "read-only" : "disk-too-small");
		goto out_close;
	}
	ret = verify_loop(&v, clock_deadline_us(secs * 1000000));
	deadline = clock_deadline_us(30000000);
	if (!ret && !v.bad_status && !v.bad_data)
		ret = vblk_sync(&verify_blk, VBLK_T_FLUSH, 0, NULL, 0,
				deadline);
	status = ret > 0 ? (uint8_t)ret : 0;
	if (ret < 0 || status != VBLK_S_OK || v.bad_status || v.bad_data)
		report_result(name, false,
			      "reason=%s err=%d writes=%lu reads=%lu "
			      "bad_status=%lu bad_data=%lu",
			      ret < 0	    ? "io"
			      : status	    ? "flush"
			      : v.bad_data ? "data"
					    : "status",
			      ret, v.writes, v.reads, v.bad_status,
			      v.bad_data);
	else
		report_result(name, true,
			      "writes=%lu reads=%lu blocks=%lu qd=%u "
			      "digest=%016lx",
			      v.writes, v.reads, v.blocks, v.qd,
			      verify_digest(&v));
out_close:
	vblk_close(&verify_blk);
out_release:
	dma_release(mark);
}
