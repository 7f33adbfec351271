/*
 * test_smp.c: every vCPU runs ring-3 work at the same time: all meet at a
 * barrier, then each adds to a shared counter with lock xadd.
 */
#include "boot/layout.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/runtime.h"
#include "rt/smp.h"
#include "rt/string.h"
#include "tests/tests.h"

#define SMP_ITERS 100000u
#define SMP_TIMEOUT_US 5000000u

struct smp_test {
	uint32_t n;                 /* CPUs taking part */
	uint64_t deadline;          /* TSC; every wait ends here */
	volatile uint32_t arrived;  /* barrier */
	volatile uint32_t done;
	volatile uint32_t late;     /* CPUs that gave up at the barrier */
	volatile uint64_t counter;
	volatile uint64_t last[MAX_CPUS]; /* keeps the xadd results alive */
};

static void smp_test_work(unsigned cpu, void *arg)
{
	struct smp_test *t = arg;
	uint64_t v = 0;
	unsigned i;

	__atomic_add_fetch(&t->arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&t->arrived, __ATOMIC_ACQUIRE) < t->n) {
		if (clock_expired(t->deadline)) {
			__atomic_add_fetch(&t->late, 1, __ATOMIC_ACQ_REL);
			goto out;
		}
		cpu_relax();
	}
	for (i = 0; i < SMP_ITERS; i++)
		v = __atomic_fetch_add(&t->counter, 1, __ATOMIC_SEQ_CST);
	if (cpu < MAX_CPUS)
		t->last[cpu] = v;
out:
	__atomic_add_fetch(&t->done, 1, __ATOMIC_RELEASE);
}

void test_smp(const char *name)
{
	static struct smp_test t;
	uint64_t t0 = rdtsc(), us;
	unsigned online = smp_start();
	bool pass;

	/* The test may run twice in one boot: start from a clean slate. */
	memset(&t, 0, sizeof(t));
	t.n = online;
	t.deadline = clock_deadline_us(SMP_TIMEOUT_US);
	smp_run(smp_test_work, &t);
	while (__atomic_load_n(&t.done, __ATOMIC_ACQUIRE) < t.n &&
	       !clock_expired(t.deadline + clock.tsc_khz * 1000))
		cpu_relax();
	us = clock_ns(rdtsc() - t0) / 1000;
	pass = online == runtime.cpus && t.done == t.n && !t.late &&
	       t.counter == (uint64_t)t.n * SMP_ITERS;
	report_result(name, pass,
		      "cpus=%u online=%u done=%u late=%u counter=%lu "
		      "expected=%lu us=%lu%s%s",
		      runtime.cpus, online, t.done, t.late, t.counter,
		      (uint64_t)t.n * SMP_ITERS, us,
		      smp.error ? " reason=" : "",
		      smp.error ? smp.error : "");
}
