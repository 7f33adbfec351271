/*
 * test_fairness.c: a guest that keeps one device's queue busy must not
 * hold the VMM's shared I/O thread. The test guest's virtq-evil=spin has
 * one vCPU keep the first disk's queue full of requests the VMM refuses
 * itself (unknown type: no server trip, so nothing ever makes the VMM
 * wait), as fast as the VMM empties it, while the other vCPU reads the
 * second disk one 4 KiB block at a time and prints a UART tick every
 * 10 ms. Phases without and with the spinner alternate (3 of each, 500 ms).
 * The guest reports the second disk's rate and latencies per kind of
 * phase; this side times the ticks' arrival on stdout.
 *
 * The bound. The VMM: no pass over one queue takes more than FRONT_BUDGET
 * (64) chains, after which the I/O thread serves whatever else is ready;
 * a refused chain costs about 1 us here, so a pass is some 64 us plus any
 * preemption. The guest, with the spinner: the second disk keeps at least
 * 1/25 of its rate without it, its p99 read latency stays under 100 ms
 * (or 25 times its p99 without the spinner: in the KVM lab one emulated
 * CPU runs both vCPUs and the I/O thread, base p99 11 ms, spin 170 ms),
 * and the UART is never silent for 400 ms (a phase is 500 ms: an I/O
 * thread held for as long as the guest likes leaves the other disk
 * without a completion and the UART without output for the whole phase,
 * given a core each for the spinner and the I/O thread). The guest-side
 * bound is loose because on the 2-core build machine other jobs' load
 * moves these figures more than the budget does.
 *
 * Measured there (7 runs each, alternating, median [range], load 3-4 from
 * other jobs): without a budget the longest pass took 21288 [256-42248]
 * chains; with it 64 [64-64]. Second disk reads/s base 6889 / spin 2150
 * without, 6884 / 1427 with; spin-phase p99 8.2 ms / 11.8 ms, max 81 ms /
 * 62 ms; UART's longest silence in spin phases 92 [23-160] ms without,
 * 68 [24-233] ms with (base phases 32 / 36 ms). Worst with the budget:
 * 1/12.8 of the base rate, p99 28 ms, silence 233 ms.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/blk_image.h"
#include "tests/integration/harness.h"

#define FAIR_TIMEOUT_MS 120000
#define FAIR_TICKS_MAX	4096
#define MIB		(1024ull * 1024)

/* The bound (see above). */
#define FAIR_RATE_DIV	 25  /* spin_iops >= base_iops / this */
#define FAIR_P99_MS	 100 /* spin-phase p99 read latency, or... */
/* ... FAIR_RATE_DIV times the base phases' p99, where that is larger. */
#define FAIR_UART_GAP_MS 400 /* longest silence of the ticks, spin phases */
#define FAIR_PASS_MAX	 64  /* chains in one pass: FRONT_BUDGET */

struct fair_ticks {
	size_t seen;		    /* bytes of stdout looked at */
	double at[FAIR_TICKS_MAX];  /* arrival, CLOCK_MONOTONIC s */
	char phase[FAIR_TICKS_MAX]; /* 'b' or 's'; 0: never arrived */
	unsigned n;		    /* highest tick number seen + 1 */
	unsigned got;		    /* ticks that arrived */
};

static double fair_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each complete tick line new on stdout gets its arrival time. */
static void fair_hook(struct vmrun *r, void *arg)
{
	struct fair_ticks *t = arg;
	double now = fair_now();
	const char *p, *q, *nl;
	unsigned long k;

	while ((nl = memchr(r->out + t->seen, '\n', r->out_len - t->seen))) {
		p = strstr(r->out + t->seen, "virtq-spin: tick=");
		if (p && p < nl) {
			k = strtoul(p + strlen("virtq-spin: tick="), NULL, 10);
			q = strstr(p, " phase=");
			if (k < FAIR_TICKS_MAX && !t->phase[k] && q && q < nl) {
				t->at[k] = now;
				t->phase[k] = q[7] == 's' ? 's' : 'b';
				t->got++;
				if (k + 1 > t->n)
					t->n = (unsigned)k + 1;
			}
		}
		t->seen = (size_t)(nl - r->out) + 1;
	}
}

/* Longest wait for a tick of that phase after the tick before it, in ms. */
static double fair_gap_ms(const struct fair_ticks *t, char phase)
{
	double gap = 0;

	for (unsigned k = 1; k < t->n; k++)
		if (t->phase[k] == phase && t->phase[k - 1] &&
		    t->at[k] - t->at[k - 1] > gap)
			gap = t->at[k] - t->at[k - 1];
	return gap * 1e3;
}

static long long fair_key(const char *line, const char *key)
{
	long long v = vmrun_key(line, key);

	cr_assert_geq(v, 0, "no %s in: %s", key, line);
	return v;
}

Test(fairness, a_spinning_queue_leaves_the_other_disk_and_the_uart_their_share)
{
	static struct fair_ticks t;
	struct vmrun_opts o = {.hook = fair_hook, .arg = &t};
	char dir[] = "/tmp/isovm-fair-XXXXXX", a[64], b[64], da[80], db[80];
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			HARNESS_TESTGUEST,
			"--cpus",
			"2",
			"--disk",
			da,
			"--disk",
			db,
			"--log-level",
			"debug",
			"--cmdline",
			"test=virtq-evil,info virtq-evil=spin virtio-mode=poll",
			NULL};
	long long base_iops, spin_iops, spin_p99, base_p99, ticks, longest;
	double gap_base, gap_spin;
	struct vmrun r;
	char line[1024];

	harness_need_kvm();
	memset(&t, 0, sizeof(t));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/spin.img", dir);
	snprintf(b, sizeof(b), "%s/read.img", dir);
	blk_image_make(a, 1 * MIB, 0);
	blk_image_make(b, 16 * MIB, 0);
	snprintf(da, sizeof(da), "path=%s", a);
	snprintf(db, sizeof(db), "path=%s", b);
	cr_assert_eq(vmrun_opts(&r, FAIR_TIMEOUT_MS, &o, argv), 0);
	unlink(a);
	unlink(b);
	rmdir(dir);
	if (r.status != ISOVM_EXIT_POWEROFF)
		vmrun_dump(&r, "spin");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=virtq-evil", line,
				      sizeof(line)));
	printf("%s\n", line);
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=info status=pass"),
			   "the guest did not go on");
	/* The attack ran: the spinner was served all along. */
	cr_assert_geq(fair_key(line, "spun"), 10000, "%s", line);
	base_iops = fair_key(line, "base_iops");
	spin_iops = fair_key(line, "spin_iops");
	spin_p99 = fair_key(line, "spin_p99_us");
	base_p99 = fair_key(line, "base_p99_us");
	ticks = fair_key(line, "ticks");
	gap_base = fair_gap_ms(&t, 'b');
	gap_spin = fair_gap_ms(&t, 's');
	printf("uart: ticks %u of %lld, longest gap %.1f ms (base) %.1f ms "
	       "(spin)\n",
	       t.got, ticks, gap_base, gap_spin);
	/* The VMM's side: no pass over the spinning queue went past the
	 * budget, and the budget was reached (the yield path ran). */
	cr_assert_not_null(vmrun_line(&r, "blk0 front:", line, sizeof(line)),
			   "no front counters for blk0");
	printf("%s\n", line);
	longest = fair_key(line, "longest_pass");
	cr_assert_leq(longest, FAIR_PASS_MAX, "%s", line);
	cr_assert_geq(fair_key(line, "yields"), 1, "%s", line);
	cr_assert_eq(t.got, ticks, "UART ticks lost");
	cr_assert_geq(spin_iops * FAIR_RATE_DIV, base_iops,
		      "the second disk starved: %lld/s against %lld/s",
		      spin_iops, base_iops);
	cr_assert(spin_p99 <= FAIR_P99_MS * 1000 ||
		  spin_p99 <= FAIR_RATE_DIV * base_p99,
		  "second disk p99 %lld us with the spinner (%lld without)",
		  spin_p99, base_p99);
	cr_assert_leq(gap_spin, FAIR_UART_GAP_MS,
		      "the UART was silent %.0f ms with the spinner", gap_spin);
	vmrun_free(&r);
}
