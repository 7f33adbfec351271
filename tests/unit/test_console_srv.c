/*
 * test_console_srv.c: the real isovm-console driven by a fake VMM that
 * holds the console's two pipes as the VMM does: guest output written
 * into the OUT pipe reaches each backend in order, backend input reaches
 * the IN pipe in order, each waits where it is while the other side is
 * full, faults and statistics see each transfer, the control protocol's
 * errors end the server, and servers killed again and again while bytes
 * flow both ways lose and double nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fake_vmm.h"
#include "ipc/ctl_channel.h"

#define OUT_PIPE_SIZE (256 << 10) /* as the VMM makes it */

static struct fake_vmm vmm;
static int peer = -1; /* test's end of the backend */
/* The pipes, both ends held here as the VMM holds them: the test writes
 * gout[1] (the guest's output) and reads gin[0] (the guest's input). */
static int gout[2] = {-1, -1}, gin[2] = {-1, -1};

static void pipes_open(void)
{
	cr_assert_eq(pipe2(gout, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(pipe2(gin, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(fcntl(gout[1], F_SETPIPE_SZ, OUT_PIPE_SIZE),
		     OUT_PIPE_SIZE);
}

static void srv_spawn(const char *level)
{
	cr_assert_eq(fake_vmm_spawn(&vmm, CONSOLE_BIN, NULL, level), 0);
	cr_assert_eq(fake_vmm_hello(&vmm, CTL_DEV_CONSOLE), 0);
}

static void srv_start(void)
{
	signal(SIGPIPE, SIG_IGN);
	pipes_open();
	srv_spawn(NULL);
}

/* SETUP with the backend fds be[] of roles[] and the two pipes. */
static int setup_raw(enum ctl_console_backend kind, const int *be,
		     const enum ctl_fd_role *roles, unsigned n)
{
	struct ctl_setup s = {.dev_type = CTL_DEV_CONSOLE};
	enum ctl_fd_role r[6];
	struct ctl_ready ready;
	int fds[6];

	cr_assert_leq(n, 2);
	for (unsigned i = 0; i < n; i++) {
		fds[i] = be[i];
		r[i] = roles[i];
	}
	fds[n] = gout[0];
	r[n++] = CTL_FD_OUT_PIPE;
	fds[n] = gin[1];
	r[n++] = CTL_FD_IN_PIPE;
	s.cfg.console.backend = kind;
	return fake_vmm_setup(&vmm, &s, fds, r, n, &ready);
}

static void setup_with(enum ctl_console_backend kind, const int *be,
		       const enum ctl_fd_role *roles, unsigned n)
{
	cr_assert_eq(setup_raw(kind, be, roles, n), 0);
}

/*
 * Server on stdio with input from in (the caller still owns it) and output
 * into a new pipe, whose read end is left in out[0].
 */
static void setup_stdio_from(int in, int out[2])
{
	static const enum ctl_fd_role roles[2] = {CTL_FD_BACKEND,
						  CTL_FD_BACKEND_OUT};
	int be[2];

	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	be[0] = in;
	be[1] = out[1];
	setup_with(CTL_CONSOLE_STDIO, be, roles, 2);
	close(out[1]);
}

/* Server on a stdio backend that is one end of a socketpair, both ways. */
static void setup_socketpair(void)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	int sp[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	setup_with(CTL_CONSOLE_STDIO, &sp[1], &role, 1);
	close(sp[1]);
	peer = sp[0];
}

static void srv_stdio(void)
{
	srv_start();
	setup_socketpair();
}

static void srv_stop(void)
{
	fake_vmm_free(&vmm);
	if (peer >= 0)
		close(peer);
	peer = -1;
	for (int i = 0; i < 2; i++) {
		if (gout[i] >= 0)
			close(gout[i]);
		if (gin[i] >= 0)
			close(gin[i]);
		gout[i] = gin[i] = -1;
	}
}

TestSuite(console_srv, .fini = srv_stop, .timeout = 60);

/* The guest writes: all of p into the OUT pipe, as room comes. */
static void guest_out(const void *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		struct pollfd pf = {.fd = gout[1], .events = POLLOUT};
		ssize_t w = write(gout[1], (const char *)p + done, n - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		cr_assert(w < 0 && errno == EAGAIN, "write: %s",
			  strerror(errno));
		cr_assert_eq(poll(&pf, 1, 5000), 1, "the OUT pipe stays full");
	}
}

static size_t read_exact(int fd, void *p, size_t n, int ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pf, 1, ms) <= 0)
			break;
		r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* The guest reads: what the server moved into the IN pipe. */
static size_t guest_in(void *p, size_t n, int ms)
{
	return read_exact(gin[0], p, n, ms);
}

static int queued(int fd)
{
	int n = -1;

	cr_assert_eq(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static uint64_t extra(const struct ctl_stats *st, const char *key)
{
	for (unsigned i = 0; i < st->nextra; i++)
		if (!strcmp(st->extra[i].key, key))
			return st->extra[i].value;
	cr_assert_fail("no stats key %s", key);
	return 0;
}

static const struct ctl_op_stats *op_stats(const struct ctl_stats *st,
					   enum ctl_op op)
{
	for (unsigned i = 0; i < st->nops; i++)
		if (st->ops[i].op == op)
			return &st->ops[i];
	return NULL;
}

/* CTL_CLIENT messages the server sent: clients taken, clients dropped. */
static unsigned told_taken, told_dropped;

static struct ctl_stats stats(void)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};

	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
	do {
		cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
		if (m.type == CTL_CLIENT && m.u.client.present)
			told_taken++;
		else if (m.type == CTL_CLIENT)
			told_dropped++;
	} while (m.type == CTL_CLIENT);
	cr_assert_eq(m.type, CTL_STATS_REPLY);
	return m.u.stats;
}

static void send_msg(const struct ctl_msg *m)
{
	cr_assert_eq(ctl_send(vmm.ctl, m, NULL, 0), 0);
}

/* A fault rule for op; in place once a stats round trip came back. */
static void fault(enum ctl_op op, enum ctl_fault_kind kind, uint32_t nth,
		  uint32_t count, uint32_t delay_us)
{
	struct ctl_msg m = {.type = CTL_FAULT};

	m.u.fault.op = op;
	m.u.fault.kind = kind;
	m.u.fault.trigger = CTL_TRIGGER_EVERY_NTH;
	m.u.fault.every_nth = nth;
	m.u.fault.count = count;
	m.u.fault.delay_us = delay_us;
	m.u.fault.error_code = kind == CTL_FAULT_ERROR ? EIO : 0;
	send_msg(&m);
	stats();
}

/* The server reported CTL_ERROR and exited with status 1. */
static void assert_protocol_error(void)
{
	int ret = fake_vmm_protocol_error(&vmm, 5000);

	cr_assert_eq(ret, 0, "no protocol error: %d (%#x)", ret, ret);
}

static void assert_exit_zero(void)
{
	int st = fake_vmm_wait(&vmm, 5000);

	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* A pty whose slave (*slave, raw) this test holds; returns the master. */
static int open_raw_pty(int *slave)
{
	int mfd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios t;

	cr_assert_geq(mfd, 0);
	cr_assert_eq(grantpt(mfd), 0);
	cr_assert_eq(unlockpt(mfd), 0);
	*slave = open(ptsname(mfd), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(*slave, 0);
	cr_assert_eq(tcgetattr(*slave, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(*slave, TCSANOW, &t), 0);
	return mfd;
}

static void fill(char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)(seed * 31 + i * 7 + (i >> 10));
}

Test(console_srv, output_reaches_the_backend_in_order, .init = srv_stdio)
{
	char buf[32] = {0};

	guest_out("boot ", 5);
	guest_out("done\n", 5);
	cr_assert_eq(read_exact(peer, buf, 10, 3000), 10);
	cr_assert_str_eq(buf, "boot done\n");
	cr_assert_eq(queued(gout[0]), 0, "bytes left in the OUT pipe");
}

Test(console_srv, input_reaches_the_in_pipe_in_order, .init = srv_stdio)
{
	char buf[16] = {0};

	cr_assert_eq(write(peer, "ls", 2), 2);
	cr_assert_eq(write(peer, " -l\r", 4), 4);
	cr_assert_eq(guest_in(buf, 6, 3000), 6);
	cr_assert_str_eq(buf, "ls -l\r");
}

/*
 * The guest takes no input: the IN pipe fills and the rest stays in the
 * backend (here the input pipe), not in the server; then all of it comes,
 * in order, as the guest reads.
 */
Test(console_srv, input_waits_in_the_backend_while_the_guest_takes_none,
     .init = srv_start)
{
	static char text[200 << 10], got[200 << 10];
	int in[2], out[2], cap = fcntl(gin[0], F_GETPIPE_SZ);

	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(fcntl(in[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
	fill(text, sizeof(text), 1);
	cr_assert_eq(write(in[1], text, sizeof(text)), (ssize_t)sizeof(text));
	setup_stdio_from(in[0], out);
	for (int i = 0; i < 100 && queued(gin[0]) < cap; i++)
		usleep(10000);
	usleep(100000);
	cr_assert_eq(queued(gin[0]), cap, "the IN pipe is not full");
	cr_assert_eq(queued(in[0]), (int)sizeof(text) - cap,
		     "the server took more than the pipe holds");
	cr_assert_eq(guest_in(got, sizeof(got), 3000), sizeof(got));
	cr_assert_arr_eq(got, text, sizeof(text));
	close(in[0]);
	close(in[1]);
	close(out[0]);
}

/*
 * A stdio backend of two pipes, the output one shrunk to 4 KiB so that the
 * server meets a slow reader: the test writes in[1], reads out[0].
 */
static void setup_slow_stdio(int in[2], int out[2])
{
	enum ctl_fd_role roles[2] = {CTL_FD_BACKEND, CTL_FD_BACKEND_OUT};
	int be[2];

	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert(fcntl(out[1], F_SETPIPE_SZ, 4096) > 0);
	be[0] = in[0];
	be[1] = out[1];
	setup_with(CTL_CONSOLE_STDIO, be, roles, 2);
	close(in[0]);
	close(out[1]);
}

/* A slow reader: the output waits in the OUT pipe, none is lost. */
Test(console_srv, output_waits_in_the_pipe_for_a_slow_reader,
     .init = srv_start)
{
	static char text[200 << 10], got[200 << 10];
	int in[2], out[2];

	setup_slow_stdio(in, out);
	fill(text, sizeof(text), 2);
	guest_out(text, sizeof(text));
	usleep(100000);
	cr_assert_gt(queued(gout[0]), (int)sizeof(text) - 8192,
		     "the server took more than the reader did");
	cr_assert_eq(read_exact(out[0], got, sizeof(got), 3000), sizeof(got));
	cr_assert_arr_eq(got, text, sizeof(text));
	close(in[1]);
	close(out[0]);
}

Test(console_srv, stats_count_the_bytes_each_way, .init = srv_stdio)
{
	char buf[16];
	struct ctl_stats st;
	const struct ctl_op_stats *o, *i;

	guest_out("0123456789", 10);
	cr_assert_eq(read_exact(peer, buf, 10, 3000), 10);
	cr_assert_eq(write(peer, "abc", 3), 3);
	cr_assert_eq(guest_in(buf, 3, 3000), 3);
	st = stats();
	cr_assert_eq(ctl_stats_validate(&st), 0);
	cr_assert_eq(extra(&st, "out_bytes"), 10);
	cr_assert_eq(extra(&st, "in_bytes"), 3);
	cr_assert_eq(extra(&st, "dropped_bytes"), 0);
	cr_assert_eq(extra(&st, "out_read_write"), 0, "splice in use");
	o = op_stats(&st, CTL_OP_CONSOLE_OUT);
	i = op_stats(&st, CTL_OP_CONSOLE_IN);
	cr_assert_not_null(o);
	cr_assert_not_null(i);
	cr_assert_eq(o->bytes, 10);
	cr_assert_eq(i->bytes, 3);
	cr_assert_geq(o->requests, 1);
	cr_assert_eq(o->errors, 0);
}

Test(console_srv, a_stats_reply_echoes_the_requests_seq, .init = srv_stdio)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST, .seq = 41};

	send_msg(&m);
	m.seq = 42;
	send_msg(&m);
	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
	cr_assert_eq(m.type, CTL_STATS_REPLY);
	cr_assert_eq(m.seq, 41);
	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
	cr_assert_eq(m.seq, 42);
}

/* No request carries console bytes: one that comes anyway is refused. */
Test(console_srv, a_ring_request_is_refused, .init = srv_stdio)
{
	struct ipc_dp_done d;
	uint64_t id;

	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_DEV, 1, "x", 1, &id), 0);
	cr_assert_eq(fake_vmm_reap(&vmm, &d, NULL, 0, 5000), 1);
	cr_assert_eq(d.req.id, id);
	cr_assert_eq(d.status, -EOPNOTSUPP);
}

Test(console_srv, a_setup_without_the_pipes_is_refused, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	struct ctl_setup s = {.dev_type = CTL_DEV_CONSOLE};
	int sp[2], st;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	s.cfg.console.backend = CTL_CONSOLE_STDIO;
	cr_assert_eq(fake_vmm_setup(&vmm, &s, &sp[1], &role, 1, NULL),
		     -EREMOTEIO);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		  "status %#x", st);
	close(sp[0]);
	close(sp[1]);
}

Test(console_srv, setup_twice_is_a_protocol_error, .init = srv_stdio)
{
	struct ctl_msg m = {.type = CTL_SETUP};
	int fd = vmm.dp.reg.fd;

	m.u.setup.dev_type = CTL_DEV_CONSOLE;
	m.u.setup.cfg.console.backend = CTL_CONSOLE_FILE;
	ctl_geometry_from_ipc(&vmm.dp.reg.geom, vmm.dp.reg.size,
			      &m.u.setup.geo);
	m.u.setup.nfds = 1;
	m.u.setup.fds[0] = CTL_FD_MEMFD;
	cr_assert_eq(ctl_send(vmm.ctl, &m, &fd, 1), 0);
	assert_protocol_error();
}

Test(console_srv, stats_before_setup_is_a_protocol_error, .init = srv_start)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};

	send_msg(&m);
	assert_protocol_error();
}

Test(console_srv, garbage_datagram_is_a_protocol_error, .init = srv_start)
{
	static const char junk[] = "\xff\xfe this is no protobuf";

	cr_assert_eq(send(vmm.ctl, junk, sizeof(junk), 0),
		     (ssize_t)sizeof(junk));
	assert_protocol_error();
}

Test(console_srv, setup_of_another_device_is_a_protocol_error,
     .init = srv_start)
{
	struct ctl_setup s = {.dev_type = CTL_DEV_BLK};
	int st;

	s.cfg.blk.capacity_sectors = 8;
	s.cfg.blk.block_size = 512;
	s.cfg.blk.cache = CTL_CACHE_WRITEBACK;
	cr_assert_eq(fake_vmm_setup(&vmm, &s, NULL, NULL, 0, NULL), -EREMOTEIO);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		  "status %#x", st);
}

Test(console_srv, exits_zero_when_the_vmm_closes_the_socket, .init = srv_stdio)
{
	close(vmm.ctl);
	vmm.ctl = -1;
	assert_exit_zero();
}

Test(console_srv, exits_zero_on_shutdown, .init = srv_stdio)
{
	struct ctl_msg m = {.type = CTL_SHUTDOWN};

	send_msg(&m);
	assert_exit_zero();
}

/* An error fault fails a transfer, counted; its bytes wait, not lost. */
Test(console_srv, an_error_fault_fails_a_transfer_and_its_bytes_follow,
     .init = srv_stdio)
{
	const struct ctl_op_stats *o;
	struct ctl_stats st;
	char buf[8] = {0};

	fault(CTL_OP_CONSOLE_OUT, CTL_FAULT_ERROR, 1, 3, 0);
	guest_out("abc", 3);
	cr_assert_eq(read_exact(peer, buf, 3, 3000), 3);
	cr_assert_str_eq(buf, "abc");
	st = stats();
	o = op_stats(&st, CTL_OP_CONSOLE_OUT);
	cr_assert_not_null(o);
	cr_assert_eq(o->errors, 3);
	cr_assert_eq(o->bytes, 3);
	cr_assert_eq(extra(&st, "faults_fired"), 3);
}

/* A delay fault: the transfer waits that long (a latency fault). */
Test(console_srv, a_delay_fault_holds_a_transfer_back_that_long,
     .init = srv_stdio)
{
	const struct ctl_op_stats *o;
	struct timespec t0;
	struct ctl_stats st;
	char buf[8] = {0};

	fault(CTL_OP_CONSOLE_IN, CTL_FAULT_DELAY, 1, 1, 300000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(write(peer, "late", 4), 4);
	cr_assert_eq(guest_in(buf, 4, 3000), 4);
	cr_assert_geq(ms_since(&t0), 290, "the delay was not applied");
	cr_assert_str_eq(buf, "late");
	/* The next one is on time. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(write(peer, "now", 3), 3);
	cr_assert_eq(guest_in(buf, 3, 3000), 3);
	cr_assert_lt(ms_since(&t0), 250);
	st = stats();
	o = op_stats(&st, CTL_OP_CONSOLE_IN);
	cr_assert_not_null(o);
	cr_assert_geq(o->latency_max_ns, 290000000ull);
}

/*
 * A drop fault hangs the output for good; the bytes stay in the OUT pipe,
 * and the next server (the VMM's restart) writes every one of them.
 */
Test(console_srv, a_drop_fault_hangs_output_and_a_new_server_writes_it,
     .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	char buf[16] = {0};
	int sp[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	peer = sp[0];
	setup_with(CTL_CONSOLE_STDIO, &sp[1], &role, 1);
	fault(CTL_OP_CONSOLE_OUT, CTL_FAULT_DROP, 1, 1, 0);
	guest_out("held back", 9);
	cr_assert_eq(read_exact(peer, buf, 1, 300), 0, "the hang let bytes by");
	cr_assert_eq(queued(gout[0]), 9);
	fake_vmm_free(&vmm);
	srv_spawn(NULL);
	setup_with(CTL_CONSOLE_STDIO, &sp[1], &role, 1);
	close(sp[1]);
	cr_assert_eq(read_exact(peer, buf, 9, 3000), 9);
	cr_assert_str_eq(buf, "held back");
}

/* A corrupt fault: a completion no request asked for, which the VMM takes
 * as a broken data plane (it replaces the server). */
Test(console_srv, a_corrupt_fault_pushes_a_completion_never_asked_for,
     .init = srv_stdio)
{
	struct ipc_dp_done d;
	char buf[4];

	fault(CTL_OP_CONSOLE_OUT, CTL_FAULT_CORRUPT, 1, 1, 0);
	guest_out("x", 1);
	cr_assert_eq(read_exact(peer, buf, 1, 3000), 1, "output stopped");
	cr_assert_lt(fake_vmm_reap(&vmm, &d, NULL, 0, 3000), 0);
}

Test(console_srv, a_crash_fault_ends_the_server_by_a_trap, .init = srv_stdio)
{
	char buf[4];
	int st;

	fault(CTL_OP_CONSOLE_OUT, CTL_FAULT_CRASH, 2, 0, 0);
	guest_out("ok", 2);
	cr_assert_eq(read_exact(peer, buf, 2, 3000), 2);
	guest_out("boom", 4);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGILL,
		  "status %#x", st);
	/* Its bytes were not taken: they wait for the next server. */
	cr_assert_eq(queued(gout[0]), 4);
}

/*
 * Output still in the OUT pipe reaches a reader slower than the guest
 * even when the shutdown comes first: the guest may power off right after
 * its last write.
 */
Test(console_srv, shutdown_writes_what_the_pipe_holds_to_a_slow_reader,
     .init = srv_start)
{
	struct ctl_msg m = {.type = CTL_SHUTDOWN};
	static char text[80 << 10], got[80 << 10];
	int in[2], out[2];
	size_t n = 0;

	setup_slow_stdio(in, out);
	fill(text, sizeof(text), 3);
	guest_out(text, sizeof(text));
	usleep(100000);
	cr_assert_gt(queued(gout[0]), 0, "nothing was held back");
	send_msg(&m);
	while (n < sizeof(got)) {
		size_t k;

		usleep(20000);
		k = read_exact(out[0], got + n,
			       sizeof(got) - n < 4096 ? sizeof(got) - n : 4096,
			       3000);
		cr_assert_gt(k, 0, "output lost after %zu bytes", n);
		n += k;
	}
	cr_assert_arr_eq(got, text, sizeof(text));
	assert_exit_zero();
	cr_assert_eq(read(out[0], got, 1), 0, "more than was sent");
	close(in[1]);
	close(out[0]);
}

/* No one holds the pty's slave any more: the exit does not wait for it. */
Test(console_srv, shutdown_does_not_wait_for_a_hung_up_pty, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	int sl, mfd = open_raw_pty(&sl);
	struct ctl_msg m = {.type = CTL_SHUTDOWN};
	static char chunk[32 << 10];
	struct timespec t0;

	setup_with(CTL_CONSOLE_PTY, &mfd, &role, 1);
	close(mfd);
	memset(chunk, 'x', sizeof(chunk));
	guest_out(chunk, sizeof(chunk));
	usleep(100000);
	close(sl);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_msg(&m);
	assert_exit_zero();
	cr_assert_lt(ms_since(&t0), 1000, "the exit waited for no reader");
}

/* Linux splices into no O_APPEND file: read and write, said in stats. */
Test(console_srv, file_backend_appends_output, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	char path[] = "/tmp/isovm-console-XXXXXX", got[16] = {0};
	int fd = mkstemp(path), afd;
	struct ctl_stats st;

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, "pre:", 4), 4);
	afd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	cr_assert_eq(fcntl(afd, F_SETFL, O_APPEND), 0);
	setup_with(CTL_CONSOLE_FILE, &afd, &role, 1);
	guest_out("log", 3);
	for (int i = 0; i < 300 && queued(gout[0]); i++)
		usleep(10000);
	st = stats();
	cr_assert_eq(pread(fd, got, sizeof(got), 0), 7);
	cr_assert_str_eq(got, "pre:log");
	cr_assert_eq(extra(&st, "out_read_write"), 1);
	cr_assert_eq(extra(&st, "out_bytes"), 3);
	close(afd);
	close(fd);
}

/* A listening unix socket in the abstract namespace, unique per test. */
static int listen_abstract(struct sockaddr_un *a, socklen_t *len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
		 "isovm-console-test-%d", (int)getpid());
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(a->sun_path + 1));
	cr_assert_eq(bind(fd, (struct sockaddr *)a, *len), 0);
	cr_assert_eq(listen(fd, 4), 0);
	return fd;
}

static int connect_to(const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(connect(fd, (const struct sockaddr *)a, len), 0);
	return fd;
}

/* Without a client the newest 64 KiB wait in the OUT pipe, the rest go. */
Test(console_srv, socket_keeps_newest_output_and_counts_the_rest,
     .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	static char big[4000], got[70000];
	struct sockaddr_un a;
	socklen_t alen;
	int lfd = listen_abstract(&a, &alen), c;
	struct ctl_stats st;
	size_t total = 0;

	setup_with(CTL_CONSOLE_SOCKET, &lfd, &role, 1);
	close(lfd);
	/* 25 x 4000 = 100000 bytes with no client: the guest never waits. */
	for (int i = 0; i < 25; i++) {
		for (size_t j = 0; j < sizeof(big); j++)
			big[j] = (char)((total + j) % 251);
		guest_out(big, sizeof(big));
		total += sizeof(big);
	}
	for (int i = 0; i < 300 && queued(gout[0]) > 65536; i++)
		usleep(10000);
	cr_assert_eq(queued(gout[0]), 65536);
	st = stats();
	cr_assert_eq(extra(&st, "dropped_bytes"), total - 65536);
	c = connect_to(&a, alen);
	cr_assert_eq(read_exact(c, got, 65536, 3000), 65536);
	for (size_t j = 0; j < 65536; j++)
		cr_assert_eq((unsigned char)got[j], (total - 65536 + j) % 251,
			     "byte %zu", j);
	cr_assert_eq(read_exact(c, got, 1, 100), 0, "more than was kept");
	close(c);
}

/*
 * The pipe is a quarter full at most without a client: a smaller pipe
 * keeps less, so that it never fills and stops the guest.
 */
Test(console_srv, a_small_pipe_keeps_a_quarter_of_its_size,
     .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	static char big[100000];
	struct sockaddr_un a;
	socklen_t alen;
	int lfd = listen_abstract(&a, &alen);

	cr_assert_eq(fcntl(gout[1], F_SETPIPE_SZ, 16384), 16384);
	setup_with(CTL_CONSOLE_SOCKET, &lfd, &role, 1);
	close(lfd);
	memset(big, 'k', sizeof(big));
	guest_out(big, sizeof(big));
	for (int i = 0; i < 300 && queued(gout[0]) > 4096; i++)
		usleep(10000);
	cr_assert_eq(queued(gout[0]), 4096);
}

Test(console_srv, socket_clients_come_and_go, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	struct sockaddr_un a;
	socklen_t alen;
	int lfd = listen_abstract(&a, &alen), c1, c2, c3;
	char buf[16] = {0};
	struct ctl_stats st;

	setup_with(CTL_CONSOLE_SOCKET, &lfd, &role, 1);
	close(lfd);
	c1 = connect_to(&a, alen);
	usleep(100000);
	guest_out("one", 3);
	cr_assert_eq(read_exact(c1, buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "one", 3);
	/* A second client while the first is there is turned away. */
	c2 = connect_to(&a, alen);
	cr_assert_eq(read_exact(c2, buf, 1, 2000), 0);
	close(c2);
	/* Input of the client reaches the guest. */
	cr_assert_eq(write(c1, "hi", 2), 2);
	cr_assert_eq(guest_in(buf, 2, 3000), 2);
	cr_assert_arr_eq(buf, "hi", 2);
	close(c1);
	usleep(100000);
	guest_out("two", 3);
	c3 = connect_to(&a, alen);
	cr_assert_eq(read_exact(c3, buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "two", 3);
	st = stats();
	cr_assert_eq(extra(&st, "clients_accepted"), 2);
	cr_assert_eq(extra(&st, "clients_refused"), 1);
	/* The VMM was given each client taken and told of each dropped. */
	cr_assert_eq(told_taken, 2);
	cr_assert_eq(told_dropped, 1);
	close(c3);
}

Test(console_srv, socket_resumes_with_the_client_the_vmm_kept,
     .init = srv_start)
{
	static const enum ctl_fd_role roles[] = {CTL_FD_BACKEND, CTL_FD_CLIENT};
	struct sockaddr_un a;
	socklen_t alen;
	int sp[2], fds[2];
	char buf[16] = {0};
	struct ctl_stats st;

	fds[0] = listen_abstract(&a, &alen);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp),
		     0);
	/* Input the client sent while no server ran waits in the socket. */
	cr_assert_eq(write(sp[0], "early", 5), 5);
	fds[1] = sp[1];
	setup_with(CTL_CONSOLE_SOCKET, fds, roles, 2);
	close(fds[0]);
	close(fds[1]);
	cr_assert_eq(guest_in(buf, 5, 3000), 5);
	cr_assert_arr_eq(buf, "early", 5);
	guest_out("back", 4);
	cr_assert_eq(read_exact(sp[0], buf, 4, 3000), 4);
	cr_assert_arr_eq(buf, "back", 4);
	st = stats();
	cr_assert_eq(extra(&st, "clients_accepted"), 0);
	cr_assert_eq(told_taken + told_dropped, 0);
	close(sp[0]);
}

Test(console_srv, pty_master_carries_both_directions, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	int sl, m = open_raw_pty(&sl);
	char buf[16] = {0};

	setup_with(CTL_CONSOLE_PTY, &m, &role, 1);
	close(m);
	guest_out("boot\n", 5);
	cr_assert_eq(read_exact(sl, buf, 5, 3000), 5);
	cr_assert_arr_eq(buf, "boot\n", 5);
	cr_assert_eq(write(sl, "ls\r", 3), 3);
	cr_assert_eq(guest_in(buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "ls\r", 3);
	close(sl);
}

Test(console_srv, a_region_that_is_no_sealed_memfd_is_refused,
     .init = srv_start)
{
	struct ctl_msg m = {.type = CTL_SETUP};
	int p[2], fds[3];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	m.u.setup.dev_type = CTL_DEV_CONSOLE;
	m.u.setup.cfg.console.backend = CTL_CONSOLE_FILE;
	ctl_geometry_from_ipc(&vmm.dp.reg.geom, vmm.dp.reg.size,
			      &m.u.setup.geo);
	fds[0] = p[0]; /* claims to be the region */
	fds[1] = vmm.dp.srv_kick_fd;
	fds[2] = vmm.dp.srv_call_fd;
	m.u.setup.nfds = 3;
	m.u.setup.fds[0] = CTL_FD_MEMFD;
	m.u.setup.fds[1] = CTL_FD_KICK;
	m.u.setup.fds[2] = CTL_FD_CALL;
	cr_assert_eq(ctl_send(vmm.ctl, &m, fds, 3), 0);
	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
	cr_assert_eq(m.type, CTL_ERROR);
	cr_assert_eq(m.u.error.code, EPERM, "code %u", m.u.error.code);
	cr_assert_eq(WEXITSTATUS(fake_vmm_wait(&vmm, 5000)), 1);
	close(p[0]);
	close(p[1]);
}

/*
 * Input epoll cannot watch (/dev/null, regular files): the server at debug
 * level, its stderr kept in a file of ours so a test can read it after.
 */
static int srv_log_fd = -1;

static void srv_start_logged(void)
{
	char path[] = "/tmp/isovm-console-log-XXXXXX";
	int saved;

	signal(SIGPIPE, SIG_IGN);
	pipes_open();
	srv_log_fd = mkstemp(path);
	cr_assert_geq(srv_log_fd, 0);
	unlink(path);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(saved, 0);
	cr_assert_geq(dup2(srv_log_fd, STDERR_FILENO), 0);
	srv_spawn("debug");
	cr_assert_geq(dup2(saved, STDERR_FILENO), 0);
	close(saved);
}

/* Stats round trip first: what the server logged so far is in the file. */
static void assert_no_libevent_lines(void)
{
	static char log[65536];
	ssize_t n;

	stats();
	n = pread(srv_log_fd, log, sizeof(log) - 1, 0);
	cr_assert_geq(n, 0);
	log[n] = '\0';
	cr_assert_null(strstr(log, "libevent"), "server said: %s", log);
	cr_assert_null(strstr(log, "Epoll"), "server said: %s", log);
}

/* CPU ticks (user + system) the server has used so far. */
static unsigned long long srv_cpu_ticks(void)
{
	char path[64], line[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)vmm.pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	p = strrchr(line, ')'); /* the name may hold spaces */
	cr_assert_not_null(p);
	/* Fields 3..13 skipped, then utime and stime (proc(5)). */
	cr_assert_eq(sscanf(p + 2,
			    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			    "%llu %llu",
			    &ut, &st),
		     2);
	return ut + st;
}

Test(console_srv, stdio_input_from_dev_null_is_at_its_end,
     .init = srv_start_logged)
{
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out[2];
	char buf[8];

	cr_assert_geq(in, 0);
	setup_stdio_from(in, out);
	close(in);
	/* No input ever comes; output goes on as usual. */
	cr_assert_eq(guest_in(buf, 1, 200), 0);
	guest_out("up\n", 3);
	cr_assert_eq(read_exact(out[0], buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "up\n", 3);
	assert_no_libevent_lines();
	close(out[0]);
}

/*
 * A file is always readable: the server reads only what the IN pipe has
 * room for while the guest takes nothing (no spinning on it), then the
 * rest as the guest takes it, in order, then nothing more.
 */
Test(console_srv, stdio_file_input_is_read_as_the_guest_takes_it,
     .init = srv_start_logged)
{
	char path[] = "/tmp/isovm-console-in-XXXXXX";
	static char text[200 << 10], buf[sizeof(text)];
	int in = mkstemp(path), out[2], cap = fcntl(gin[0], F_GETPIPE_SZ);
	unsigned long long ticks;

	cr_assert_geq(in, 0);
	unlink(path);
	fill(text, sizeof(text), 4);
	cr_assert_eq(write(in, text, sizeof(text)), (ssize_t)sizeof(text));
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	setup_stdio_from(in, out);
	usleep(100000);
	ticks = srv_cpu_ticks();
	usleep(500000);
	/* A loop rereading the file would have used most of 50 ticks. */
	cr_assert_leq(srv_cpu_ticks() - ticks, 5, "the server spins");
	/* The server shares our file offset: it read what the pipe holds. */
	cr_assert_eq(queued(gin[0]), cap);
	cr_assert_eq(lseek(in, 0, SEEK_CUR), cap);
	close(in);
	cr_assert_eq(guest_in(buf, sizeof(buf), 3000), sizeof(text));
	cr_assert_arr_eq(buf, text, sizeof(text));
	/* End of file: no byte more, and the server goes on. */
	cr_assert_eq(guest_in(buf, 1, 200), 0);
	guest_out("ok", 2);
	cr_assert_eq(read_exact(out[0], buf, 2, 3000), 2);
	assert_no_libevent_lines();
	close(out[0]);
}

/*
 * What restarts rest on: servers SIGKILLed at random instants while 4 MiB
 * flow each way (guest output to the backend, backend input to the guest),
 * each replaced by a new one on the same pipes and backend. Every byte
 * arrives once, in order.
 */
#define KILL_BYTES (4u << 20)

static char kill_out_sent[KILL_BYTES], kill_out_got[KILL_BYTES];
static char kill_in_sent[KILL_BYTES], kill_in_got[KILL_BYTES];

struct kill_flow {
	const char *src;
	char *dst;
	size_t sent, got;
	int wfd, rfd; /* the test writes wfd, reads rfd */
};

/* One step each way: write what fits, read what came. */
static void kill_step(struct kill_flow *f)
{
	ssize_t n;

	if (f->sent < KILL_BYTES) {
		n = write(f->wfd, f->src + f->sent,
			  KILL_BYTES - f->sent < 4096 ? KILL_BYTES - f->sent
						      : 4096);
		if (n > 0)
			f->sent += (size_t)n;
	}
	n = read(f->rfd, f->dst + f->got,
		 KILL_BYTES - f->got < 4096 ? KILL_BYTES - f->got : 4096);
	if (n > 0)
		f->got += (size_t)n;
}

Test(console_srv, servers_killed_at_random_lose_and_double_no_byte,
     .init = srv_start, .timeout = 180)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	struct kill_flow out = {.src = kill_out_sent, .dst = kill_out_got};
	struct kill_flow in = {.src = kill_in_sent, .dst = kill_in_got};
	unsigned seed = 7, kills = 0;
	struct timespec t0;
	int sp[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
					  SOCK_NONBLOCK,
				0, sp),
		     0);
	peer = sp[0];
	fill(kill_out_sent, KILL_BYTES, 5);
	fill(kill_in_sent, KILL_BYTES, 6);
	out.wfd = gout[1];
	out.rfd = peer;
	in.wfd = peer;
	in.rfd = gin[0];
	setup_with(CTL_CONSOLE_STDIO, &sp[1], &role, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (out.got < KILL_BYTES || in.got < KILL_BYTES) {
		struct pollfd pf[2] = {{.fd = peer, .events = POLLIN},
				       {.fd = gin[0], .events = POLLIN}};

		cr_assert_lt(ms_since(&t0), 150000, "out %zu in %zu bytes",
			     out.got, in.got);
		poll(pf, 2, 2);
		kill_step(&out);
		kill_step(&in);
		/* A kill every four steps or so (4 KiB each way a step). */
		if (rand_r(&seed) % 4)
			continue;
		fake_vmm_free(&vmm);
		kills++;
		srv_spawn(NULL);
		setup_with(CTL_CONSOLE_STDIO, &sp[1], &role, 1);
	}
	close(sp[1]);
	cr_log_info("%u servers killed", kills);
	cr_assert_geq(kills, 150, "only %u kills", kills);
	for (size_t i = 0; i < KILL_BYTES; i++) {
		if (kill_out_got[i] != kill_out_sent[i])
			cr_assert_fail("output byte %zu differs (%u kills)", i,
				       kills);
		if (kill_in_got[i] != kill_in_sent[i])
			cr_assert_fail("input byte %zu differs (%u kills)", i,
				       kills);
	}
	usleep(50000);
	cr_assert_lt(read(peer, kill_out_got, 1), 1, "an extra output byte");
	cr_assert_lt(read(gin[0], kill_in_got, 1), 1, "an extra input byte");
}
