/* test_notify.c: pipe wake-ups are sent only to a consumer that sleeps. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ipc/notify.h"
#include "ipc/ring.h"

struct chan {
	void *mem;
	struct ipc_ring prod, cons;
	struct ipc_notify kick, wait;
	int fds[2]; /* the wake-up pipe: [0] read end, [1] write end */
};

static void chan_new(struct chan *c, uint32_t cap)
{
	c->mem = aligned_alloc(IPC_CACHELINE, ipc_ring_bytes(cap));
	cr_assert_not_null(c->mem);
	ipc_ring_format(c->mem, 0);
	cr_assert_eq(ipc_ring_attach(&c->prod, c->mem, cap, true), 0);
	cr_assert_eq(ipc_ring_attach(&c->cons, c->mem, cap, false), 0);
	cr_assert_eq(ipc_notify_pipe(c->fds), 0);
	ipc_notify_init(&c->kick, &c->prod, c->fds[1]);
	ipc_notify_init(&c->wait, &c->cons, c->fds[0]);
}

static void chan_free(struct chan *c)
{
	close(c->fds[0]);
	close(c->fds[1]);
	free(c->mem);
}

/* Wake-ups written and not yet read. */
static int queued(const struct chan *c)
{
	int n = -1;

	cr_assert_eq(ioctl(c->fds[0], FIONREAD, &n), 0);
	return n;
}

Test(notify, busy_ring_costs_no_eventfd_writes)
{
	struct chan c;
	struct ipc_req e = { 0 };
	int i;

	chan_new(&c, 64);
	for (i = 0; i < 10000; i++) {
		e.id = (uint64_t)i;
		cr_assert_eq(ipc_ring_push(&c.prod, &e, 1), 1);
		cr_assert_eq(ipc_notify_kick(&c.kick), 0);
		/* The consumer is busy: it finds work without sleeping. */
		cr_assert_gt(ipc_notify_wait(&c.wait, 0), 0);
		cr_assert_eq(ipc_ring_pop(&c.cons, &e, 1), 1);
		cr_assert_eq(e.id, (uint64_t)i);
	}
	cr_assert_eq(c.kick.st.kicks, 0);
	cr_assert_eq(c.kick.st.suppressed, 10000);
	cr_assert_eq(c.wait.st.sleeps, 0);
	cr_assert_eq(queued(&c), 0, "nothing was written");
	chan_free(&c);
}

Test(notify, one_wakeup_for_many_pushes_to_a_sleeper)
{
	struct chan c;
	struct ipc_req e[8] = { 0 };
	int i;

	chan_new(&c, 64);
	cr_assert_eq(ipc_notify_arm(&c.wait), 0, "empty ring: may sleep");
	for (i = 0; i < 8; i++) {
		cr_assert_eq(ipc_ring_push(&c.prod, &e[i], 1), 1);
		cr_assert_eq(ipc_notify_kick(&c.kick), i == 0);
	}
	cr_assert_eq(c.kick.st.kicks, 1);
	cr_assert_eq(c.kick.st.suppressed, 7);
	cr_assert_eq(queued(&c), 1);
	ipc_notify_disarm(&c.wait);
	cr_assert_eq(ipc_ring_pop(&c.cons, e, 8), 8);
	chan_free(&c);
}

Test(notify, arming_with_entries_waiting_withdraws_the_flag)
{
	struct chan c;
	struct ipc_req e = { 0 };

	chan_new(&c, 8);
	cr_assert_eq(ipc_ring_push(&c.prod, &e, 1), 1);
	cr_assert_eq(ipc_notify_arm(&c.wait), 1);
	cr_assert_eq(atomic_load(&c.cons.hdr->need_wakeup), 0);
	cr_assert_eq(ipc_notify_kick(&c.kick), 0, "no one sleeps");
	chan_free(&c);
}

Test(notify, wait_times_out_on_an_idle_ring)
{
	struct chan c;

	chan_new(&c, 8);
	cr_assert_eq(ipc_notify_wait(&c.wait, 10), 0);
	cr_assert_eq(c.wait.st.sleeps, 1);
	cr_assert_eq(atomic_load(&c.cons.hdr->need_wakeup), 0,
		     "flag withdrawn after waking");
	chan_free(&c);
}

/*
 * Threaded: the producer pushes only once the consumer is blocked on the
 * eventfd (flag set and the thread sleeping), so every push needs exactly
 * one wake-up and every wake-up ends exactly one sleep.
 */
#define PING_N 2000

struct ping {
	struct chan c;
	_Atomic pid_t tid;
};

static void *ping_consumer(void *arg)
{
	struct ping *p = arg;
	struct ipc_req e;
	int got = 0, n;

	atomic_store(&p->tid, gettid());
	while (got < PING_N) {
		n = ipc_notify_wait(&p->c.wait, 5000);
		if (n <= 0)
			return (void *)1;
		n = ipc_ring_pop(&p->c.cons, &e, 1);
		if (n < 0 || (n == 1 && e.id != (uint64_t)got))
			return (void *)2;
		got += n;
	}
	return NULL;
}

/* True when thread @tid is in interruptible sleep ('S' in its stat). */
static bool ping_thread_sleeps(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool s = false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		s = p && p[1] == ' ' && p[2] == 'S';
	}
	fclose(f);
	return s;
}

Test(notify, sleeping_consumer_gets_exactly_the_wakeups_it_needs,
     .timeout = 60)
{
	static struct ping p;
	struct ipc_req e = { 0 };
	struct timespec ts = { 0, 20000 };
	pthread_t th;
	void *res;
	int i;

	chan_new(&p.c, 8);
	atomic_store(&p.tid, 0);
	cr_assert_eq(pthread_create(&th, NULL, ping_consumer, &p), 0);
	for (i = 0; i < PING_N; i++) {
		while (!atomic_load(&p.c.cons.hdr->need_wakeup) ||
		       !ping_thread_sleeps(atomic_load(&p.tid)))
			nanosleep(&ts, NULL);
		e.id = (uint64_t)i;
		cr_assert_eq(ipc_ring_push(&p.c.prod, &e, 1), 1);
		cr_assert_eq(ipc_notify_kick(&p.c.kick), 1, "push %d", i);
	}
	cr_assert_eq(pthread_join(th, &res), 0);
	cr_assert_null(res, "consumer failed: %p", res);
	cr_assert_eq(p.c.kick.st.kicks, PING_N);
	cr_assert_eq(p.c.kick.st.suppressed, 0);
	cr_assert_eq(p.c.wait.st.sleeps, PING_N,
		     "each wake-up ended exactly one sleep");
	cr_assert_eq(p.c.wait.st.no_sleep, 0);
	chan_free(&p.c);
}

/* Racing producer and consumer: no entry may be stranded by a lost wake-up. */
static void *race_consumer(void *arg)
{
	struct chan *c = arg;
	struct ipc_req e[16];
	long got = 0;
	int n;

	while (got < 200000) {
		n = ipc_notify_wait(&c->wait, 5000);
		if (n <= 0)
			return (void *)1;
		n = ipc_ring_pop(&c->cons, e, 16);
		if (n < 0)
			return (void *)2;
		got += n;
	}
	return NULL;
}

Test(notify, no_wakeup_is_lost_under_a_race, .timeout = 60)
{
	struct chan c;
	struct ipc_req e = { 0 };
	pthread_t th;
	void *res;
	long i;

	chan_new(&c, 16);
	cr_assert_eq(pthread_create(&th, NULL, race_consumer, &c), 0);
	for (i = 0; i < 200000; i++) {
		while (ipc_ring_push(&c.prod, &e, 1) == 0)
			;
		cr_assert_geq(ipc_notify_kick(&c.kick), 0);
	}
	cr_assert_eq(pthread_join(th, &res), 0);
	cr_assert_null(res, "consumer stalled: lost wake-up");
	chan_free(&c);
}

/* Kick with the flag set each time until the pipe is full; returns kicks. */
static int fill(struct chan *c)
{
	int cap = fcntl(c->fds[1], F_GETPIPE_SZ), i;

	cr_assert_gt(cap, 0);
	for (i = 0; i < cap + 10 && !c->kick.st.full; i++) {
		atomic_store(&c->cons.hdr->need_wakeup, 1);
		cr_assert_eq(ipc_notify_kick(&c->kick), 1, "kick %d", i);
	}
	cr_assert_eq(c->kick.st.full, 1, "the pipe filled up");
	return i;
}

Test(notify, a_full_pipe_counts_as_a_kick_and_never_waits, .timeout = 20)
{
	struct chan c;
	int n;

	chan_new(&c, 8);
	n = fill(&c);
	cr_assert_eq(queued(&c), n - 1, "every kick but the last wrote");
	atomic_store(&c.cons.hdr->need_wakeup, 1);
	cr_assert_eq(ipc_notify_kick(&c.kick), 1, "still a kick");
	cr_assert_eq(c.kick.st.full, 2);
	cr_assert_eq(c.kick.st.kicks, (uint64_t)n + 1);
	chan_free(&c);
}

Test(notify, a_drain_reads_a_bounded_amount_and_never_waits, .timeout = 20)
{
	struct chan c;
	int left, calls = 0;

	chan_new(&c, 8);
	fill(&c);
	while ((left = queued(&c)) > 0) {
		cr_assert_eq(ipc_notify_drain(&c.wait), 1);
		cr_assert_lt(queued(&c), left, "each drain reads something");
		cr_assert_leq(left - queued(&c), 256, "and at most 256 bytes");
		calls++;
	}
	cr_assert_gt(calls, 1);
	cr_assert_eq(ipc_notify_drain(&c.wait), 0, "empty: returns at once");
	chan_free(&c);
}

Test(notify, a_wait_after_a_full_pipe_wakes_and_drains)
{
	struct chan c;

	chan_new(&c, 8);
	fill(&c);
	cr_assert_eq(ipc_notify_wait(&c.wait, 0), 1, "a stale wake-up");
	cr_assert_eq(c.wait.st.sleeps, 1);
	chan_free(&c);
}

/* What one end does to its file description stays there. */
Test(notify, the_two_ends_keep_their_own_flags, .timeout = 20)
{
	struct chan c;
	int fl;

	chan_new(&c, 8);
	fl = fcntl(c.fds[1], F_GETFL);
	cr_assert_eq(fcntl(c.fds[1], F_SETFL, fl & ~O_NONBLOCK), 0);
	cr_assert_eq(fcntl(c.fds[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	cr_assert_eq(ipc_notify_drain(&c.wait), 0, "the reader never waits");
	cr_assert_eq(fcntl(c.fds[1], F_SETFL, fl), 0);
	fl = fcntl(c.fds[0], F_GETFL);
	cr_assert_eq(fcntl(c.fds[0], F_SETFL, fl & ~O_NONBLOCK), 0);
	cr_assert_eq(fcntl(c.fds[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	fill(&c); /* the writer never waits */
	chan_free(&c);
}

Test(notify, a_drain_without_any_writer_left_is_an_error)
{
	struct chan c;

	chan_new(&c, 8);
	close(c.fds[1]);
	c.fds[1] = -1;
	cr_assert_eq(ipc_notify_drain(&c.wait), -EPIPE);
	cr_assert_eq(ipc_notify_wait(&c.wait, 1000), -EPIPE);
	close(c.fds[0]);
	free(c.mem);
}
