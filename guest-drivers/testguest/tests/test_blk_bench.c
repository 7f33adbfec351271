/*
 * test_blk_bench.c: a fio-like load on a virtio-blk disk: qd requests of
 * bs bytes kept in flight for secs seconds (random or sequential, reads or
 * writes); IOPS, MB/s and latencies from a fixed histogram on the guest
 * clock.
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

/* 1 us buckets below BENCH_FINE_US, then 64 us buckets, then overflow. */
#define BENCH_FINE_US	4096u
#define BENCH_COARSE_US 64u
#define BENCH_BUCKETS	(BENCH_FINE_US + 2048u + 1u)
#define BENCH_BS_MAX	(1u << 20)

static struct vblk bench_blk;
static uint64_t bench_hist[BENCH_BUCKETS];

struct bench {
	bool write, random;
	uint32_t bs;
	unsigned qd;
	uint64_t blocks, next, rng;
	uint64_t done, lat_ns_sum;
	uint8_t *buf[VBLK_SLOTS_MAX];
};

static void bench_record(struct bench *b, uint64_t ns)
{
	uint64_t us = ns / 1000, i;

	i = us < BENCH_FINE_US
		    ? us
		    : BENCH_FINE_US + (us - BENCH_FINE_US) / BENCH_COARSE_US;
	if (i >= BENCH_BUCKETS)
		i = BENCH_BUCKETS - 1;
	bench_hist[i]++;
	b->lat_ns_sum += ns;
	b->done++;
}

/* Lower bound in us of the bucket holding the pct-th percentile. */
static uint64_t bench_percentile(const struct bench *b, unsigned pct)
{
	uint64_t want = (b->done * pct + 99) / 100, seen = 0, i;

	for (i = 0; i < BENCH_BUCKETS; i++) {
		seen += bench_hist[i];
		if (seen >= want && seen)
			break;
	}
	if (i < BENCH_FINE_US)
		return i;
	return BENCH_FINE_US + (i - BENCH_FINE_US) * BENCH_COARSE_US;
}

static uint64_t bench_next_block(struct bench *b)
{
	if (b->random) {
		b->rng = tu_xorshift64(b->rng);
		return b->rng % b->blocks;
	}
	if (b->next >= b->blocks)
		b->next = 0;
	return b->next++;
}

static int bench_submit(struct vblk *v, struct bench *b, unsigned i)
{
	uint64_t sector = bench_next_block(b) * (b->bs / VBLK_SECTOR);
	int ret = vblk_submit(v, b->write ? VBLK_T_OUT : VBLK_T_IN, sector,
			      b->buf[i], b->bs, (void *)(uintptr_t)i);

	return ret < 0 ? ret : 0;
}

/* Keeps qd requests in flight until the end; 0 or -errno. */
static int bench_loop(struct vblk *v, struct bench *b, uint64_t end_tsc)
{
	/* The last requests get 10 s past the end to complete. */
	uint64_t deadline = end_tsc + (clock_deadline_us(10000000) - rdtsc());
	unsigned i, inflight = 0;
	uint8_t status;
	uint64_t t0;
	void *c;
	int ret;

	for (i = 0; i < b->qd; i++, inflight++)
		if ((ret = bench_submit(v, b, i)))
			return ret;
	vblk_kick(v);
	while (inflight) {
		ret = vblk_reap(v, &c, &status, &t0);
		if (ret < 0)
			return ret;
		if (!ret) {
			vblk_kick(v);
			if ((ret = vblk_wait(v, deadline)))
				return ret;
			continue;
		}
		if (status != VBLK_S_OK)
			return -TG_EIO;
		bench_record(b, clock_ns(rdtsc() - t0));
		inflight--;
		if (rdtsc() < end_tsc) {
			if ((ret = bench_submit(v, b, (unsigned)(uintptr_t)c)))
				return ret;
			inflight++;
		}
	}
	return 0;
}

static int bench_parse(struct bench *b, uint64_t *secs, uint64_t *disk)
{
	const char *rw = cmdline_value(&cmdline, "blk-bench.rw");
	int bad = 0;

	if (!rw)
		rw = "randread";
	if (!strcmp(rw, "randread") || !strcmp(rw, "randwrite"))
		b->random = true;
	else if (strcmp(rw, "read") && strcmp(rw, "write"))
		return -TG_EINVAL;
	b->write = !strcmp(rw, "write") || !strcmp(rw, "randwrite");
	b->bs = (uint32_t)tu_key_u64("blk-bench.bs", 4096, &bad);
	b->qd = (unsigned)tu_key_u64("blk-bench.qd", 1, &bad);
	*secs = tu_key_u64("blk-bench.secs", 5, &bad);
	*disk = tu_key_u64("blk-bench.disk", 0, &bad);
	if (bad || !b->bs || b->bs % VBLK_SECTOR || b->bs > BENCH_BS_MAX ||
	    !b->qd || b->qd > VBLK_SLOTS_MAX || *secs > 3600 || *disk > 64)
		return -TG_EINVAL;
	b->rng = 0x2545f4914f6cdd1dull;
	return 0;
}

static void bench_report(const char *name, const struct bench *b,
			 const char *rw, uint64_t ns)
{
	uint64_t iops = ns ? b->done * 1000000000ull / ns : 0;
	uint64_t mb = tu_rate_tenths(b->done * b->bs, ns);
	uint64_t mean = b->done ? b->lat_ns_sum / b->done / 100 : 0;

	report_result(name, true,
		      "rw=%s bs=%u qd=%u iops=%lu mbps=%lu.%lu "
		      "lat_us_mean=%lu.%lu lat_us_p50=%lu lat_us_p99=%lu "
		      "ios=%lu kicks=%lu irq_waits=%lu mode=%s",
		      rw, b->bs, b->qd, iops, mb / 10, mb % 10, mean / 10,
		      mean % 10, bench_percentile(b, 50),
		      bench_percentile(b, 99), b->done, bench_blk.q.kicks,
		      bench_blk.q.irq_waits,
		      bench_blk.dev->poll ? "poll" : "irq");
}

void test_blk_bench(const char *name)
{
	static struct bench b;
	uint64_t secs, disk, mark = dma_mark(), t0, ns;
	const char *rw = cmdline_value(&cmdline, "blk-bench.rw");
	unsigned i;
	int ret;

	memset(&b, 0, sizeof(b));
	memset(bench_hist, 0, sizeof(bench_hist));
	if (bench_parse(&b, &secs, &disk)) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	ret = vblk_open(&bench_blk, (unsigned)disk, b.qd);
	if (ret) {
		report_result(name, false, "reason=no-disk err=%d", ret);
		goto out_release;
	}
	b.qd = bench_blk.nslots;
	b.blocks = bench_blk.capacity / (b.bs / VBLK_SECTOR);
	for (i = 0; i < b.qd; i++)
		if (!(b.buf[i] = dma_alloc(b.bs, 4096)))
			b.blocks = 0;
	if (!b.blocks) {
		report_result(name, false, "reason=%s",
			      b.buf[b.qd - 1] ? "disk-too-small" : "no-memory");
		goto out_close;
	}
	t0 = rdtsc();
	ret = bench_loop(&bench_blk, &b, clock_deadline_us(secs * 1000000));
	ns = clock_ns(rdtsc() - t0);
	if (ret)
		report_result(name, false, "reason=io err=%d done=%lu", ret,
			      b.done);
	else
		bench_report(name, &b, rw ? rw : "randread", ns);
out_close:
	vblk_close(&bench_blk);
out_release:
	dma_release(mark);
}
