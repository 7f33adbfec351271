/*
 * test_console_pump.c: the console server's pump moves bytes between a pipe
 * and each kind of backend fd exactly (by splice where the kernel can, by
 * read and write where it refuses: O_APPEND files), waits on the right
 * side, drops only what it is told to, and a pump killed at any instant
 * over and over loses and doubles no byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devsrv/console/console_pump.h"

static char tmp_path[64];

static void pump_fini(void)
{
	if (tmp_path[0])
		unlink(tmp_path);
	tmp_path[0] = '\0';
}

TestSuite(console_pump, .fini = pump_fini, .timeout = 60);

static void make_pipe(int p[2])
{
	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

static void make_socketpair(int sp[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp),
		     0);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Move until @want bytes went or nothing moves; returns the total. */
static size_t move_all(struct console_pump *p, size_t want)
{
	size_t total = 0;
	int idle = 0;

	while (total < want && idle < 100) {
		ssize_t n = console_pump_move(p, want - total);

		if (n > 0) {
			total += (size_t)n;
			idle = 0;
			continue;
		}
		cr_assert(n == -EAGAIN, "move: %zd", n);
		idle++;
		usleep(1000);
	}
	return total;
}

static size_t read_all(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pf, 1, 1000) != 1)
			break;
		r = read(fd, b + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

Test(console_pump, pipe_to_pipe_moves_bytes_in_order_by_splice)
{
	uint8_t in[3000], out[3000];
	struct console_pump p;
	int a[2], b[2];

	make_pipe(a);
	make_pipe(b);
	fill(in, sizeof(in), 1);
	cr_assert_eq(write(a[1], in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&p, a[0], b[1]);
	cr_assert_eq(move_all(&p, sizeof(in)), sizeof(in));
	cr_assert_not(p.fallback, "splice should serve pipe to pipe");
	cr_assert_eq(read_all(b[0], out, sizeof(out)), sizeof(out));
	cr_assert_arr_eq(in, out, sizeof(in));
}

Test(console_pump, an_empty_source_is_waited_for_not_read)
{
	struct console_pump p;
	int a[2], b[2];

	make_pipe(a);
	make_pipe(b);
	console_pump_init(&p, a[0], b[1]);
	cr_assert_eq(console_pump_move(&p, 100), -EAGAIN);
	cr_assert_eq(p.wait, CONSOLE_PUMP_WAIT_SRC);
}

/* A full destination: the bytes stay in the source pipe, none is lost. */
Test(console_pump, a_full_destination_is_waited_for_and_keeps_the_rest)
{
	static uint8_t in[256 << 10], out[256 << 10];
	struct console_pump p;
	size_t moved = 0, got;
	int a[2], sp[2], small = 4096;
	ssize_t n;

	make_pipe(a);
	cr_assert_eq(fcntl(a[0], F_SETPIPE_SZ, (int)sizeof(in)),
		     (int)sizeof(in));
	make_socketpair(sp);
	cr_assert_eq(setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &small,
				sizeof(small)),
		     0);
	fill(in, sizeof(in), 2);
	cr_assert_eq(write(a[1], in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&p, a[0], sp[0]);
	while ((n = console_pump_move(&p, sizeof(in))) > 0)
		moved += (size_t)n;
	cr_assert_eq(n, -EAGAIN);
	cr_assert_eq(p.wait, CONSOLE_PUMP_WAIT_DST);
	cr_assert_lt(moved, sizeof(in), "the socket took everything");
	cr_assert_eq((size_t)console_pump_queued(&p), sizeof(in) - moved,
		     "what did not move must still be in the pipe");
	/* The reader catches up; the rest follows, once. */
	got = 0;
	while (got < sizeof(in)) {
		n = read(sp[1], out + got, sizeof(out) - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		n = console_pump_move(&p, sizeof(in));
		cr_assert(n > 0 || n == -EAGAIN, "move: %zd", n);
	}
	cr_assert_arr_eq(in, out, sizeof(in));
	cr_assert_eq(console_pump_queued(&p), 0);
}

Test(console_pump, socket_both_ways_by_splice)
{
	uint8_t in[5000], out[5000];
	struct console_pump to, from;
	int a[2], b[2], sp[2];

	make_pipe(a);
	make_pipe(b);
	make_socketpair(sp);
	fill(in, sizeof(in), 3);
	cr_assert_eq(write(a[1], in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&to, a[0], sp[0]);   /* guest output to a client */
	console_pump_init(&from, sp[1], b[1]); /* client input to the guest */
	cr_assert_eq(move_all(&to, sizeof(in)), sizeof(in));
	cr_assert_eq(move_all(&from, sizeof(in)), sizeof(in));
	cr_assert_not(to.fallback);
	cr_assert_not(from.fallback);
	cr_assert_eq(read_all(b[0], out, sizeof(out)), sizeof(out));
	cr_assert_arr_eq(in, out, sizeof(in));
}

Test(console_pump, pty_master_both_ways_by_splice)
{
	uint8_t in[2000], out[2000];
	struct console_pump to, from;
	int a[2], b[2], m, s;
	struct termios t;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	cr_assert_geq(m, 0);
	cr_assert_eq(grantpt(m), 0);
	cr_assert_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(s, 0);
	cr_assert_eq(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(s, TCSANOW, &t), 0);
	make_pipe(a);
	make_pipe(b);
	fill(in, sizeof(in), 4);
	cr_assert_eq(write(a[1], in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&to, a[0], m);
	cr_assert_eq(move_all(&to, sizeof(in)), sizeof(in));
	cr_assert_not(to.fallback, "splice to a pty master");
	cr_assert_eq(read_all(s, out, sizeof(out)), sizeof(out));
	cr_assert_arr_eq(in, out, sizeof(in));
	cr_assert_eq(write(s, in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&from, m, b[1]);
	cr_assert_eq(move_all(&from, sizeof(in)), sizeof(in));
	cr_assert_not(from.fallback, "splice from a pty master");
	cr_assert_eq(read_all(b[0], out, sizeof(out)), sizeof(out));
	cr_assert_arr_eq(in, out, sizeof(in));
	close(s);
	close(m);
}

/* Linux refuses to splice into an O_APPEND file: read and write it is. */
Test(console_pump, an_append_file_falls_back_to_read_and_write)
{
	uint8_t in[10000], out[10000 + 6];
	struct console_pump p;
	int a[2], fd;
	FILE *f;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/isovm-pump-%d", getpid());
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		  0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "FIRST\n", 6), 6);
	make_pipe(a);
	fill(in, sizeof(in), 5);
	cr_assert_eq(write(a[1], in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&p, a[0], fd);
	cr_assert_eq(move_all(&p, sizeof(in)), sizeof(in));
	cr_assert(p.fallback, "splice into O_APPEND was expected to fail");
	cr_assert_eq(console_pump_held(&p), 0);
	close(fd);
	f = fopen(tmp_path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fread(out, 1, sizeof(out), f), sizeof(out));
	fclose(f);
	cr_assert_arr_eq(out, "FIRST\n", 6);
	cr_assert_arr_eq(out + 6, in, sizeof(in));
}

/* A regular file as input is read to its end, which the pump reports. */
Test(console_pump, a_regular_file_source_ends_with_zero)
{
	uint8_t in[6000], out[6000];
	struct console_pump p;
	int b[2], fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/isovm-pump-%d", getpid());
	fd = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	fill(in, sizeof(in), 6);
	cr_assert_eq(write(fd, in, sizeof(in)), (ssize_t)sizeof(in));
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	make_pipe(b);
	console_pump_init(&p, fd, b[1]);
	cr_assert_eq(move_all(&p, sizeof(in)), sizeof(in));
	cr_assert_eq(console_pump_move(&p, 100), 0, "no end of file");
	cr_assert_eq(read_all(b[0], out, sizeof(out)), sizeof(out));
	cr_assert_arr_eq(in, out, sizeof(in));
	close(fd);
}

/* The fallback reads nothing for a full pipe: no byte in its hands. */
Test(console_pump, the_fallback_reads_only_when_the_pipe_has_room)
{
	static uint8_t junk[1 << 20];
	struct console_pump p;
	int b[2], sp[2];
	ssize_t n;

	make_pipe(b);
	while (write(b[1], junk, sizeof(junk)) > 0)
		;
	make_socketpair(sp);
	cr_assert_eq(write(sp[1], "abc", 3), 3);
	console_pump_init(&p, sp[0], b[1]);
	p.fallback = true;
	n = console_pump_move(&p, 100);
	cr_assert_eq(n, -EAGAIN);
	cr_assert_eq(p.wait, CONSOLE_PUMP_WAIT_DST);
	cr_assert_eq(console_pump_held(&p), 0);
	cr_assert_eq(read(sp[0], junk, 10), 3, "the input was taken");
}

Test(console_pump, discard_drops_the_oldest_bytes_only)
{
	uint8_t in[1000], out[1000];
	struct console_pump p;
	int a[2], b[2];

	make_pipe(a);
	make_pipe(b);
	fill(in, sizeof(in), 7);
	cr_assert_eq(write(a[1], in, sizeof(in)), (ssize_t)sizeof(in));
	console_pump_init(&p, a[0], b[1]);
	cr_assert_eq(console_pump_queued(&p), 1000);
	cr_assert_eq(console_pump_discard(&p, 300), 300);
	cr_assert_eq(console_pump_queued(&p), 700);
	cr_assert_eq(move_all(&p, 700), 700);
	cr_assert_eq(read_all(b[0], out, 700), 700);
	cr_assert_arr_eq(out, in + 300, 700);
	cr_assert_eq(console_pump_discard(&p, 300), 0, "nothing left to drop");
}

/*
 * The property the console's restarts rest on. A child runs a pump from
 * a source to a destination and is SIGKILLed at random instants, over and
 * over, then replaced by a new child on the same fds; the parent feeds
 * the source and reads the destination. What comes out must be exactly
 * what went in: no byte lost, none doubled.
 */
#define KILL_BYTES  (4u << 20)
#define KILL_ROUNDS 150

static uint8_t kill_in[KILL_BYTES], kill_out[KILL_BYTES];

static void kill_child_loop(int src, int dst)
{
	struct console_pump p;

	console_pump_init(&p, src, dst);
	for (;;) {
		struct pollfd pf;
		ssize_t n = console_pump_move(&p, 64 << 10);

		if (n > 0)
			continue;
		if (n != -EAGAIN)
			_exit(n == 0 ? 0 : 3);
		pf.fd = p.wait == CONSOLE_PUMP_WAIT_SRC ? src : dst;
		pf.events = p.wait == CONSOLE_PUMP_WAIT_SRC ? POLLIN : POLLOUT;
		poll(&pf, 1, 100);
	}
}

struct kill_feed {
	int fd;
	size_t sent;
};

/* Feeds kill_in into fd, non-blocking, as the room comes. */
static void *kill_feeder(void *arg)
{
	struct kill_feed *f = arg;

	while (f->sent < KILL_BYTES) {
		struct pollfd pf = {.fd = f->fd, .events = POLLOUT};
		ssize_t n = write(f->fd, kill_in + f->sent,
				  KILL_BYTES - f->sent < 7000
					  ? KILL_BYTES - f->sent
					  : 7000);

		if (n > 0)
			f->sent += (size_t)n;
		else
			poll(&pf, 1, 100);
	}
	return NULL;
}

static void kill_run(int feed_fd, int src, int dst, int sink_fd)
{
	struct kill_feed feed = {.fd = feed_fd};
	unsigned seed = 42, kills = 0;
	size_t got = 0;
	pthread_t th;
	pid_t child = -1;

	fill(kill_in, sizeof(kill_in), 8);
	cr_assert_eq(pthread_create(&th, NULL, kill_feeder, &feed), 0);
	while (got < KILL_BYTES) {
		struct pollfd pf = {.fd = sink_fd, .events = POLLIN};
		ssize_t n;

		if (child < 0) {
			child = fork();
			cr_assert_geq(child, 0);
			if (child == 0)
				kill_child_loop(src, dst);
		}
		if (poll(&pf, 1, 1) == 1) {
			/* A slow reader: the run outlasts many kills. */
			n = read(sink_fd, kill_out + got,
				 KILL_BYTES - got < 8192 ? KILL_BYTES - got
							 : 8192);
			if (n > 0)
				got += (size_t)n;
		}
		if (kills < KILL_ROUNDS && rand_r(&seed) % 4 == 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			child = -1;
			kills++;
		}
	}
	pthread_join(th, NULL);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	cr_assert_geq(kills, KILL_ROUNDS / 2, "only %u kills", kills);
	for (size_t i = 0; i < KILL_BYTES; i++)
		if (kill_in[i] != kill_out[i])
			cr_assert_fail("byte %zu differs after %u kills", i,
				       kills);
	/* And nothing more than was sent: no doubled tail. */
	usleep(20000);
	cr_assert_eq(read(sink_fd, kill_out, 1), -1, "an extra byte came");
}

Test(console_pump, pipe_to_socket_killed_at_random_loses_and_doubles_nothing,
     .timeout = 120)
{
	int a[2], sp[2];

	make_pipe(a);
	make_socketpair(sp);
	kill_run(a[1], a[0], sp[0], sp[1]);
}

Test(console_pump, socket_to_pipe_killed_at_random_loses_and_doubles_nothing,
     .timeout = 120)
{
	int b[2], sp[2];

	make_pipe(b);
	make_socketpair(sp);
	kill_run(sp[1], sp[0], b[1], b[0]);
}

Test(console_pump, pipe_to_pipe_killed_at_random_loses_and_doubles_nothing,
     .timeout = 120)
{
	int a[2], b[2];

	make_pipe(a);
	make_pipe(b);
	kill_run(a[1], a[0], b[1], b[0]);
}
