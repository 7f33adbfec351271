/*
 * test_virtq_spin.c: virtq-evil=spin, fairness under a hostile queue. An
 * AP keeps the first disk's queue full of requests the VMM refuses itself
 * (virtq_evil_spin_run), as fast as the device takes them; meanwhile the
 * BSP reads 4 KiB blocks of the second disk one at a time and prints a
 * UART tick every tick_ms. Phases without ("base") and with ("spin") the
 * spinner alternate; the result line gives the second disk's reads per
 * second and latencies for each kind, and what the spinner was served.
 * The host times the ticks' arrival and checks the bound. Passes when the
 * spinner was served (every request refused with UNSUPP), every read of
 * the second disk succeeded and none was lost.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/smp.h"
#include "rt/string.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/blk.h"
#include "virtio/dma.h"
#include "virtio/virtq_evil.h"

#define SPIN_BS		 4096u
#define SPIN_GRACE_US	 5000000ull /* a read still out after its phase */
#define SPIN_START_US	 2000000ull /* for the AP to take up the work */
#define SPIN_LAT_FINE	 2048u	    /* 1 us buckets below this */
#define SPIN_LAT_STEP	 256u	    /* then buckets of 256 us */
#define SPIN_LAT_BUCKETS (SPIN_LAT_FINE + 16384u) /* about 4 s, then one */

enum { SPIN_BASE, SPIN_SPIN };

/* The second disk's reads in one kind of phase. */
struct spin_side {
	uint64_t reads, ns, max_us, ticks;
	uint32_t hist[SPIN_LAT_BUCKETS + 1];
};

struct spin_test {
	struct vblk disk;
	struct virtq_evil_spin spin;
	struct spin_side side[2];
	uint64_t tick_tsc, next_tick, tick_no;
	uint64_t rng, blocks;
	uint8_t *buf;
	bool pending;		   /* a read is out */
	volatile uint32_t claimed; /* an AP took the spinning */
};

static const char *const spin_kind[] = {"base", "spin"};

static void spin_record(struct spin_side *sd, uint64_t ns)
{
	uint64_t us = ns / 1000, i;

	i = us < SPIN_LAT_FINE
		    ? us
		    : SPIN_LAT_FINE + (us - SPIN_LAT_FINE) / SPIN_LAT_STEP;
	if (i > SPIN_LAT_BUCKETS)
		i = SPIN_LAT_BUCKETS;
	sd->hist[i]++;
	sd->reads++;
	if (us > sd->max_us)
		sd->max_us = us;
}

/* Lower bound in us of the bucket holding the pct-th percentile. */
static uint64_t spin_percentile(const struct spin_side *sd, unsigned pct)
{
	uint64_t want = (sd->reads * pct + 99) / 100, seen = 0, i;

	for (i = 0; i < SPIN_LAT_BUCKETS; i++) {
		seen += sd->hist[i];
		if (seen >= want && seen)
			break;
	}
	if (i < SPIN_LAT_FINE)
		return i;
	return SPIN_LAT_FINE + (i - SPIN_LAT_FINE) * SPIN_LAT_STEP;
}

/* Prints the ticks that are due; the host times their arrival. */
static void spin_ticks(struct spin_test *t, unsigned kind)
{
	while (rdtsc() >= t->next_tick) {
		con_printf("virtq-spin: tick=%lu phase=%s\n", t->tick_no++,
			   spin_kind[kind]);
		t->side[kind].ticks++;
		t->next_tick += t->tick_tsc;
	}
}

static int spin_submit(struct spin_test *t)
{
	uint64_t sector;
	int ret;

	t->rng = tu_xorshift64(t->rng);
	sector = (t->rng % t->blocks) * (SPIN_BS / VBLK_SECTOR);
	ret = vblk_submit(&t->disk, VBLK_T_IN, sector, t->buf, SPIN_BS, NULL);
	if (ret < 0)
		return ret;
	vblk_kick(&t->disk);
	t->pending = true;
	return 0;
}

/*
 * Waits for the read that is out until 'until' (a TSC value), printing
 * ticks meanwhile. 0 when it is still out then, 1 when it completed (its
 * latency goes to kind), -errno on an error or a bad status.
 */
static int spin_wait(struct spin_test *t, unsigned kind, uint64_t until)
{
	uint64_t t0, wake;
	uint8_t status;
	void *c;
	int ret;

	for (;;) {
		spin_ticks(t, kind);
		ret = vblk_reap(&t->disk, &c, &status, &t0);
		if (ret < 0)
			return ret;
		if (ret) {
			t->pending = false;
			spin_record(&t->side[kind], clock_ns(rdtsc() - t0));
			return status == VBLK_S_OK ? 1 : -TG_EIO;
		}
		if (clock_expired(until))
			return 0;
		wake = t->next_tick < until ? t->next_tick : until;
		ret = vblk_wait(&t->disk, wake);
		if (ret && ret != -TG_ETIMEDOUT)
			return ret;
	}
}

/* On every CPU: one AP spins until told to stop, the others return. */
static void spin_work(unsigned cpu, void *arg)
{
	struct spin_test *t = arg;

	if (!cpu || __atomic_exchange_n(&t->claimed, 1, __ATOMIC_ACQ_REL))
		return;
	virtq_evil_spin_run(&t->spin);
}

/* Waits until the spinning CPU's phase is 'v'; false after the deadline. */
static bool spin_wait_active(struct spin_test *t, uint32_t v)
{
	uint64_t deadline = clock_deadline_us(SPIN_START_US);

	while (__atomic_load_n(&t->spin.active, __ATOMIC_ACQUIRE) != v)
		if (clock_expired(deadline))
			return false;
	return true;
}

/* One phase of ms milliseconds; the spinner runs through a spin phase. */
static int spin_phase(struct spin_test *t, unsigned kind, uint64_t ms,
		      const char **why)
{
	uint64_t t0, end;
	int ret = 0;

	if (kind == SPIN_SPIN) {
		t->claimed = 0;
		t->spin.stop = 0;
		smp_run(spin_work, t);
		if (!spin_wait_active(t, 1)) {
			/* Should it start late, it stops at once. */
			__atomic_store_n(&t->spin.stop, 1, __ATOMIC_RELEASE);
			*why = "spinner-did-not-start";
			return -TG_ETIMEDOUT;
		}
	}
	t0 = rdtsc();
	end = clock_deadline_us(ms * 1000);
	while (!clock_expired(end) && ret >= 0) {
		if (!t->pending && (ret = spin_submit(t)))
			break;
		ret = spin_wait(t, kind, end);
	}
	if (kind == SPIN_SPIN) {
		__atomic_store_n(&t->spin.stop, 1, __ATOMIC_RELEASE);
		if (!spin_wait_active(t, 0) && ret >= 0) {
			*why = "spinner-did-not-stop";
			ret = -TG_ETIMEDOUT;
		}
	}
	/* The read still out belongs to this phase, however long it takes. */
	if (ret >= 0 && t->pending &&
	    spin_wait(t, kind, clock_deadline_us(SPIN_GRACE_US)) == 0) {
		*why = "read-lost";
		ret = -TG_ETIMEDOUT;
	}
	t->side[kind].ns += clock_ns(rdtsc() - t0);
	if (ret < 0 && !*why)
		*why = "read-error";
	return ret < 0 ? ret : 0;
}

static uint64_t spin_rate(const struct spin_side *sd)
{
	return sd->ns ? sd->reads * 1000000000ull / sd->ns : 0;
}

static void spin_report(const char *name, struct spin_test *t, bool pass,
			const char *why, uint64_t rounds, uint64_t ms,
			uint64_t segs)
{
	const struct spin_side *b = &t->side[SPIN_BASE];
	const struct spin_side *s = &t->side[SPIN_SPIN];

	report_result(
		name, pass,
		"rule=spin rounds=%lu phase_ms=%lu segs=%lu base_iops=%lu "
		"spin_iops=%lu base_p50_us=%lu base_p99_us=%lu "
		"base_max_us=%lu spin_p50_us=%lu spin_p99_us=%lu "
		"spin_max_us=%lu base_reads=%lu spin_reads=%lu "
		"ticks=%lu spun=%lu unsupp=%lu spin_kicks=%lu "
		"mode=%s%s%s",
		rounds, ms, segs, spin_rate(b), spin_rate(s),
		spin_percentile(b, 50), spin_percentile(b, 99), b->max_us,
		spin_percentile(s, 50), spin_percentile(s, 99), s->max_us,
		b->reads, s->reads, t->tick_no, t->spin.served, t->spin.unsupp,
		t->spin.kicks, t->disk.dev->poll ? "poll" : "irq",
		why ? " reason=" : "", why ? why : "");
}

void test_virtq_spin(const char *name)
{
	static struct spin_test t;
	uint64_t mark = dma_mark(), ms, rounds, tick_ms, segs, r;
	struct vmmio_dev *d = vmmio_find(VIRTIO_ID_BLOCK, 0);
	const char *why = NULL;
	int bad = 0, ret;
	bool pass;

	memset(&t, 0, sizeof(t));
	ms = tu_key_u64("virtq-evil.ms", 500, &bad);
	rounds = tu_key_u64("virtq-evil.rounds", 3, &bad);
	tick_ms = tu_key_u64("virtq-evil.tick_ms", 10, &bad);
	segs = tu_key_u64("virtq-evil.segs", 0, &bad);
	if (bad || !ms || ms > 60000 || !rounds || rounds > 100 || !tick_ms ||
	    segs > VIRTQ_INDIRECT_MAX - 2) {
		report_result(name, false, "rule=spin reason=bad-keys");
		return;
	}
	if (smp_start() < 2 || !d) {
		report_result(name, false, "rule=spin reason=%s",
			      d ? "needs-two-cpus" : "needs-two-disks");
		return;
	}
	ret = virtq_evil_spin_init(&t.spin, d, (unsigned)segs);
	if (!ret)
		ret = vblk_open(&t.disk, 1, 1);
	t.buf = dma_alloc(SPIN_BS, 4096);
	if (ret || !t.buf || t.disk.capacity < SPIN_BS / VBLK_SECTOR) {
		report_result(name, false, "rule=spin reason=setup err=%d",
			      ret);
		goto out;
	}
	t.blocks = t.disk.capacity / (SPIN_BS / VBLK_SECTOR);
	t.rng = 0x9e3779b97f4a7c15ull;
	t.tick_tsc = clock.tsc_khz * tick_ms;
	t.next_tick = rdtsc();
	for (r = 0; r < rounds && !why; r++)
		if (spin_phase(&t, SPIN_BASE, ms, &why) == 0)
			spin_phase(&t, SPIN_SPIN, ms, &why);
	pass = !why && !t.spin.error && t.spin.served &&
	       t.spin.unsupp == t.spin.served;
	if (!why && !pass)
		why = t.spin.error ? "spinner-ring-error"
				   : "spinner-not-served";
	spin_report(name, &t, pass, why, rounds, ms, segs);
out:
	vblk_close(&t.disk);
	vmmio_stop(d);
	dma_release(mark);
}
