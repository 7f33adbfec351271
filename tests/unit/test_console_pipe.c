/*
 * test_console_pipe.c: the VMM's hold on the console's pipes. Writes and
 * reads never block: a full OUT pipe takes what fits and the wait calls
 * back once a server made room; an empty IN pipe reads nothing and the
 * wait calls back once input came. Bytes come out in order, once, and
 * stay in the pipe while no one takes them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vcpu/front/console/console_pipe.h"

static struct event_base *base;
static struct console_pipe pipe_;
static int called;

static void on_ready(void *arg)
{
	(void)arg;
	called++;
}

static void pipe_init(void)
{
	base = event_base_new();
	cr_assert_not_null(base);
	called = 0;
}

static void pipe_fini(void)
{
	console_pipe_close(&pipe_);
	event_base_free(base);
}

TestSuite(console_pipe, .init = pipe_init, .fini = pipe_fini, .timeout = 30);

static void loop_once(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

Test(console_pipe, out_takes_what_fits_then_calls_back_when_there_is_room)
{
	static uint8_t buf[1 << 20], got[1 << 20];
	size_t put = 0, read_back = 0;
	ssize_t n;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + (i >> 9));
	cr_assert_eq(console_pipe_open(&pipe_, CONSOLE_PIPE_OUT, 64 << 10, base,
				       on_ready, NULL),
		     0);
	n = console_pipe_put(&pipe_, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_lt(n, (ssize_t)sizeof(buf), "a 64 KiB pipe took 1 MiB");
	put = (size_t)n;
	cr_assert_eq(console_pipe_queued(&pipe_), (int)put);
	cr_assert_eq(console_pipe_put(&pipe_, buf + put, 10), 0, "full");
	cr_assert_eq(console_pipe_wait(&pipe_), 0);
	cr_assert_eq(console_pipe_wait(&pipe_), 0, "asking twice is fine");
	loop_once();
	cr_assert_eq(called, 0, "called back while still full");
	/* A server reads (the far end): room comes back, so does the call. */
	while (put < sizeof(buf) || read_back < put) {
		n = read(pipe_.srv_fd, got + read_back,
			 sizeof(got) - read_back);
		if (n > 0)
			read_back += (size_t)n;
		loop_once();
		if (called && put < sizeof(buf)) {
			called = 0;
			n = console_pipe_put(&pipe_, buf + put,
					     sizeof(buf) - put);
			cr_assert_geq(n, 0);
			put += (size_t)n;
			if (put < sizeof(buf))
				cr_assert_eq(console_pipe_wait(&pipe_), 0);
		}
	}
	cr_assert_arr_eq(buf, got, sizeof(buf));
	cr_assert_eq(console_pipe_queued(&pipe_), 0);
}

Test(console_pipe, in_reads_nothing_until_input_came_then_calls_back)
{
	char buf[64];

	cr_assert_eq(console_pipe_open(&pipe_, CONSOLE_PIPE_IN, 0, base,
				       on_ready, NULL),
		     0);
	cr_assert_eq(console_pipe_get(&pipe_, buf, sizeof(buf)), 0);
	cr_assert_eq(console_pipe_wait(&pipe_), 0);
	loop_once();
	cr_assert_eq(called, 0, "called back with nothing to read");
	cr_assert_eq(write(pipe_.srv_fd, "typed", 5), 5);
	loop_once();
	cr_assert_eq(called, 1);
	/* Unread input waits: the VMM takes what the guest has room for. */
	cr_assert_eq(console_pipe_get(&pipe_, buf, 2), 2);
	cr_assert_eq(console_pipe_queued(&pipe_), 3);
	cr_assert_eq(console_pipe_get(&pipe_, buf + 2, sizeof(buf) - 2), 3);
	cr_assert_arr_eq(buf, "typed", 5);
	loop_once();
	cr_assert_eq(called, 1, "a one-shot wait called back twice");
}

/* A wait asked when the end is ready already calls back at once. */
Test(console_pipe, a_wait_on_a_ready_end_calls_back_at_the_next_turn)
{
	cr_assert_eq(console_pipe_open(&pipe_, CONSOLE_PIPE_OUT, 0, base,
				       on_ready, NULL),
		     0);
	cr_assert_eq(console_pipe_wait(&pipe_), 0);
	loop_once();
	cr_assert_eq(called, 1);
}

Test(console_pipe, both_ends_are_non_blocking_and_the_wrong_way_is_refused)
{
	char c = 'x';

	cr_assert_eq(console_pipe_open(&pipe_, CONSOLE_PIPE_IN, 0, base,
				       on_ready, NULL),
		     0);
	cr_assert(fcntl(pipe_.vmm_fd, F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(pipe_.srv_fd, F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(pipe_.vmm_fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(pipe_.srv_fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(console_pipe_put(&pipe_, &c, 1), -EBADF);
	console_pipe_close(&pipe_);
	cr_assert_eq(pipe_.vmm_fd, -1);
	console_pipe_close(&pipe_); /* idempotent */
}

Test(console_pipe, the_out_pipe_gets_the_size_asked_for)
{
	cr_assert_eq(console_pipe_open(&pipe_, CONSOLE_PIPE_OUT, 256 << 10,
				       base, on_ready, NULL),
		     0);
	cr_assert_eq(fcntl(pipe_.vmm_fd, F_GETPIPE_SZ), 256 << 10);
}
