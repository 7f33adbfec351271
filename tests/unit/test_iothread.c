/* test_iothread.c: the I/O thread runs watch callbacks off the caller's thread.
 */
#include <criterion/criterion.h>
#include <event2/event.h>
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

/* What ran, in order: 'f' the fd watch, 's' the soon call. */
struct order {
	char log[16];
	unsigned n, rearm;
	struct event *soon;
};

static void order_fd(int fd, void *arg)
{
	struct order *o = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v) && o->n < sizeof(o->log))
		o->log[o->n++] = 'f';
}

static void order_soon(void *arg)
{
	struct order *o = arg;

	if (o->n < sizeof(o->log))
		o->log[o->n++] = 's';
	if (o->rearm) {
		o->rearm--;
		cr_assert_eq(iothread_soon(o->soon), 0);
	}
}

/* The loop turned by hand: one poll, then what became ready. */
static void turn(struct iothread *io)
{
	cr_assert_geq(event_base_loop(io->base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		      0);
}

Test(iothread, a_soon_call_runs_once_a_turn_behind_ready_fds)
{
	struct iothread io;
	struct order o = {0};
	struct event *w;
	int efd = eventfd(0, EFD_NONBLOCK);

	cr_assert_geq(efd, 0);
	cr_assert_eq(iothread_init(&io), 0);
	w = iothread_watch(&io, efd, order_fd, &o);
	o.soon = iothread_soon_new(&io, order_soon, &o);
	cr_assert(w && o.soon);
	o.rearm = 2; /* it asks for two more turns from its own call */
	cr_assert_eq(iothread_soon(o.soon), 0);
	kick(efd, 1);
	turn(&io);
	cr_assert_str_eq(o.log, "fs", "the fd first, the call once");
	kick(efd, 1);
	turn(&io);
	cr_assert_str_eq(o.log, "fsfs", "re-armed from itself: next turn");
	turn(&io);
	cr_assert_str_eq(o.log, "fsfss");
	turn(&io);
	cr_assert_str_eq(o.log, "fsfss", "not armed any more");
	iothread_soon_free(o.soon);
	iothread_unwatch(w);
	iothread_fini(&io);
	close(efd);
}
