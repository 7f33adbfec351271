/* test_iothread.c: the I/O thread runs watch callbacks off the caller's thread.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vcpu/core/iothread.h"

struct seen {
	atomic_int calls;
	pthread_t thread;
	uint64_t total;
};

static void on_kick(int fd, void *arg)
{
	struct seen *s = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		s->total += v;
	s->thread = pthread_self();
	atomic_fetch_add(&s->calls, 1);
}

static void kick(int fd, uint64_t v)
{
	cr_assert_eq(write(fd, &v, sizeof(v)), sizeof(v));
}

static void wait_calls(struct seen *s, int n)
{
	for (int i = 0; i < 2000 && atomic_load(&s->calls) < n; i++)
		usleep(1000);
}

Test(iothread, an_eventfd_kick_runs_the_callback_on_the_io_thread)
{
	struct iothread io;
	struct seen s = {0};
	struct event *ev;
	int efd = eventfd(0, EFD_NONBLOCK);

	cr_assert_geq(efd, 0);
	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(iothread_start(&io), 0);
	/* Added while the loop already runs, from this thread. */
	ev = iothread_watch(&io, efd, on_kick, &s);
	cr_assert_not_null(ev);
	kick(efd, 3);
	wait_calls(&s, 1);
	cr_assert_geq(atomic_load(&s.calls), 1);
	cr_assert_eq(s.total, 3);
	cr_assert(!pthread_equal(s.thread, pthread_self()));
	kick(efd, 4);
	wait_calls(&s, 2);
	cr_assert_eq(s.total, 7, "the watch persists");
	iothread_unwatch(ev);
	iothread_stop(&io);
	iothread_fini(&io);
	close(efd);
}

Test(iothread, stop_returns_promptly_with_nothing_to_do)
{
	struct iothread io;
	struct timespec a, b;

	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(iothread_start(&io), 0);
	usleep(20000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	iothread_stop(&io);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_lt((b.tv_sec - a.tv_sec) * 1000 +
			     (b.tv_nsec - a.tv_nsec) / 1000000,
		     500);
	iothread_fini(&io);
}
