/* test_console_srv.c: the real isovm-console and its core, driven by a fake
 * VMM. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fake_vmm.h"
#include "ipc/ctl_channel.h"
#include "ipc/devproto.h"

#define OUT    CONSOLE_OP_OUT
#define IN     CONSOLE_OP_IN
#define VIRTIO CONSOLE_STREAM_VIRTIO
#define UART   CONSOLE_STREAM_UART

static struct fake_vmm vmm;
static int peer = -1; /* test's end of the backend */

static void srv_start(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(fake_vmm_spawn(&vmm, CONSOLE_BIN, NULL, NULL), 0);
	cr_assert_eq(fake_vmm_hello(&vmm, CTL_DEV_CONSOLE), 0);
}

static void setup_with(enum ctl_console_backend kind, const int *be,
		       const enum ctl_fd_role *roles, unsigned n)
{
	struct ctl_setup s = {.dev_type = CTL_DEV_CONSOLE};
	struct ctl_ready r;

	s.cfg.console.backend = kind;
	cr_assert_eq(fake_vmm_setup(&vmm, &s, be, roles, n, &r), 0);
	cr_assert_eq(r.features, 0);
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
static void srv_stdio(void)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	int sp[2];

	srv_start();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	setup_with(CTL_CONSOLE_STDIO, &sp[1], &role, 1);
	close(sp[1]);
	peer = sp[0];
}

static void srv_stop(void)
{
	fake_vmm_free(&vmm);
	if (peer >= 0)
		close(peer);
	peer = -1;
}

static uint64_t post(uint32_t op, uint8_t stream, const void *p, uint32_t n)
{
	uint64_t id;

	cr_assert_eq(fake_vmm_post(&vmm, op, stream, p, n, &id), 0);
	return id;
}

static struct ipc_dp_done reap(void *data, size_t cap)
{
	struct ipc_dp_done d;

	cr_assert_eq(fake_vmm_reap(&vmm, &d, data, cap, 5000), 1,
		     "no completion in time");
	return d;
}

static void assert_nothing_completes(int ms)
{
	struct ipc_dp_done d;

	cr_assert_eq(fake_vmm_reap(&vmm, &d, NULL, 0, ms), 0);
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

static uint64_t extra(const struct ctl_stats *st, const char *key)
{
	for (unsigned i = 0; i < st->nextra; i++)
		if (!strcmp(st->extra[i].key, key))
			return st->extra[i].value;
	cr_assert_fail("no stats key %s", key);
	return 0;
}

static struct ctl_stats stats(void)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};

	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
	cr_assert_eq(m.type, CTL_STATS_REPLY);
	return m.u.stats;
}

static void send_msg(const struct ctl_msg *m)
{
	cr_assert_eq(ctl_send(vmm.ctl, m, NULL, 0), 0);
}

static void fault(enum ctl_fault_kind kind, uint32_t nth, uint32_t count,
		  uint32_t delay_us)
{
	struct ctl_msg m = {.type = CTL_FAULT};

	m.u.fault.op = CTL_OP_CONSOLE_OUT;
	m.u.fault.kind = kind;
	m.u.fault.trigger = CTL_TRIGGER_EVERY_NTH;
	m.u.fault.every_nth = nth;
	m.u.fault.count = count;
	m.u.fault.delay_us = delay_us;
	m.u.fault.error_code = kind == CTL_FAULT_ERROR ? EIO : 0;
	send_msg(&m);
}

/* The server reported CTL_ERROR and exited with status 1. */
static void assert_protocol_error(void)
{
	struct ctl_msg m;
	int st;

	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
	cr_assert_eq(m.type, CTL_ERROR);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		  "status %#x", st);
}

TestSuite(console_srv, .fini = srv_stop, .timeout = 60);

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

Test(console_srv, out_bytes_reach_the_backend_in_order, .init = srv_stdio)
{
	char want[8192], got[8192];
	size_t off = 0;

	for (int i = 0; i < 40; i++) {
		uint32_t n = 1 + (uint32_t)(i * 37 % 200);

		for (uint32_t j = 0; j < n; j++)
			want[off + j] = (char)('a' + (off + j) % 26);
		post(OUT, i & 1, want + off, n);
		off += n;
	}
	for (int i = 0; i < 40; i++) {
		struct ipc_dp_done d = reap(NULL, 0);

		cr_assert_eq(d.status, 0);
		cr_assert_eq(d.len, 0);
	}
	cr_assert_eq(read_exact(peer, got, off, 3000), off);
	cr_assert_arr_eq(got, want, off);
}

Test(console_srv, in_completes_when_the_backend_produces_input,
     .init = srv_stdio)
{
	char buf[64] = {0};
	uint64_t id = post(IN, VIRTIO, NULL, 64);
	struct ipc_dp_done d;

	assert_nothing_completes(200);
	cr_assert_eq(write(peer, "hello", 5), 5);
	d = reap(buf, sizeof(buf));
	cr_assert_eq(d.req.id, id);
	cr_assert_eq(d.status, 0);
	cr_assert_eq(d.len, 5);
	cr_assert_arr_eq(buf, "hello", 5);
}

Test(console_srv, input_goes_to_virtio_before_uart, .init = srv_stdio)
{
	uint64_t uart = post(IN, UART, NULL, 16);
	uint64_t virtio = post(IN, VIRTIO, NULL, 16);
	struct ipc_dp_done d;

	assert_nothing_completes(100);
	cr_assert_eq(write(peer, "x", 1), 1);
	d = reap(NULL, 0);
	cr_assert_eq(d.req.id, virtio);
	cr_assert_eq(write(peer, "y", 1), 1);
	d = reap(NULL, 0);
	cr_assert_eq(d.req.id, uart);
}

Test(console_srv, input_without_a_buffer_waits_in_the_server, .init = srv_stdio)
{
	char buf[16] = {0};
	struct ipc_dp_done d;

	cr_assert_eq(write(peer, "abc", 3), 3);
	usleep(100000);
	post(IN, UART, NULL, 2);
	d = reap(buf, sizeof(buf));
	cr_assert_eq(d.len, 2);
	cr_assert_arr_eq(buf, "ab", 2);
	post(IN, VIRTIO, NULL, 16);
	d = reap(buf, sizeof(buf));
	cr_assert_eq(d.len, 1);
	cr_assert_eq(buf[0], 'c');
}

Test(console_srv, cancel_in_completes_pending_ins_empty, .init = srv_stdio)
{
	uint64_t a = post(IN, UART, NULL, 16), b = post(IN, VIRTIO, NULL, 16);
	bool seen_a = false, seen_b = false;

	assert_nothing_completes(100);
	post(CONSOLE_OP_CANCEL_IN, 0, NULL, 0);
	for (int i = 0; i < 3; i++) {
		struct ipc_dp_done d = reap(NULL, 0);

		cr_assert_eq(d.status, 0);
		cr_assert_eq(d.len, 0);
		seen_a |= d.req.id == a;
		seen_b |= d.req.id == b;
	}
	cr_assert(seen_a && seen_b);
}

Test(console_srv, bad_stream_and_unknown_op_are_refused, .init = srv_stdio)
{
	post(OUT, 7, "z", 1);
	cr_assert_eq(reap(NULL, 0).status, -EINVAL);
	post(99, 0, NULL, 0);
	cr_assert_eq(reap(NULL, 0).status, -EOPNOTSUPP);
	post(IN, VIRTIO, NULL, 0);
	cr_assert_eq(reap(NULL, 0).status, -EINVAL);
}

Test(console_srv, stats_count_requests_bytes_and_streams, .init = srv_stdio)
{
	struct ctl_stats st;
	char sink[64];
	bool found = false;

	post(OUT, VIRTIO, "0123456789", 10);
	post(OUT, UART, "abc", 3);
	post(OUT, 5, "bad", 3);
	for (int i = 0; i < 3; i++)
		reap(NULL, 0);
	cr_assert_eq(read_exact(peer, sink, 13, 3000), 13);
	st = stats();
	for (unsigned i = 0; i < st.nops; i++) {
		if (st.ops[i].op != CTL_OP_CONSOLE_OUT)
			continue;
		found = true;
		cr_assert_eq(st.ops[i].requests, 3);
		cr_assert_eq(st.ops[i].errors, 1);
		cr_assert_eq(st.ops[i].bytes, 13);
		cr_assert(st.ops[i].latency_max_ns > 0);
	}
	cr_assert(found);
	cr_assert_eq(extra(&st, "out_virtio_bytes"), 10);
	cr_assert_eq(extra(&st, "out_uart_bytes"), 3);
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

	s.cfg.blk.capacity_sectors = 8;
	s.cfg.blk.block_size = 512;
	s.cfg.blk.cache = CTL_CACHE_WRITEBACK;
	int st;

	cr_assert_eq(fake_vmm_setup(&vmm, &s, NULL, NULL, 0, NULL), -EREMOTEIO);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		  "status %#x", st);
}

Test(console_srv, exits_zero_when_the_vmm_closes_the_socket, .init = srv_stdio)
{
	int st;

	close(vmm.ctl);
	vmm.ctl = -1;
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
}

Test(console_srv, exits_zero_on_shutdown, .init = srv_stdio)
{
	struct ctl_msg m = {.type = CTL_SHUTDOWN};
	int st;

	send_msg(&m);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
}

Test(console_srv, fault_error_every_second_request, .init = srv_stdio)
{
	uint64_t id[4];

	fault(CTL_FAULT_ERROR, 2, 0, 0);
	stats(); /* the fault is installed once this is answered */
	for (int i = 0; i < 4; i++)
		id[i] = post(OUT, VIRTIO, "q", 1);
	for (int i = 0; i < 4; i++) {
		struct ipc_dp_done d = reap(NULL, 0);

		cr_assert_eq(d.req.id, id[i]);
		cr_assert_eq(d.status, i % 2 ? -EIO : 0);
	}
	cr_assert_eq(extra(&(struct ctl_stats[]){stats()}[0], "faults_fired"),
		     2);
}

Test(console_srv, fault_drop_never_completes_that_request, .init = srv_stdio)
{
	uint64_t kept;
	struct ipc_dp_done d;
	struct ctl_stats st;

	fault(CTL_FAULT_DROP, 1, 1, 0);
	stats();
	post(OUT, VIRTIO, "dropped", 7);
	kept = post(OUT, VIRTIO, "kept", 4);
	d = reap(NULL, 0);
	cr_assert_eq(d.req.id, kept);
	cr_assert_eq(d.status, 0);
	assert_nothing_completes(200);
	st = stats();
	cr_assert_eq(extra(&st, "faults_dropped"), 1);
}

Test(console_srv, fault_delay_completes_later, .init = srv_stdio)
{
	struct timespec a, b;
	struct ipc_dp_done d;
	long ms;

	fault(CTL_FAULT_DELAY, 1, 1, 500000);
	stats();
	clock_gettime(CLOCK_MONOTONIC, &a);
	post(OUT, VIRTIO, "late", 4);
	d = reap(NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	cr_assert_eq(d.status, 0);
	cr_assert(ms >= 490, "completed after %ld ms", ms);
	/* count 1: the next one is on time */
	post(OUT, VIRTIO, "now", 3);
	clock_gettime(CLOCK_MONOTONIC, &a);
	reap(NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	cr_assert(ms < 400, "took %ld ms", ms);
}

/* stdio on two pipes: output held back by a full pipe completes later. */
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

Test(console_srv, full_output_holds_out_requests_back, .init = srv_start)
{
	int in[2], out[2];
	static char chunk[4096], got[4096];
	unsigned done = 0, posted = 0, total = 64;
	struct ipc_dp_done d;

	setup_slow_stdio(in, out);
	/* 64 x 4 KiB = 256 KiB: more than pipe and queue hold. */
	for (; posted < 48; posted++) {
		memset(chunk, 'A' + posted % 26, sizeof(chunk));
		post(OUT, VIRTIO, chunk, sizeof(chunk));
	}
	while (fake_vmm_reap(&vmm, &d, NULL, 0, 300) == 1)
		done++;
	cr_assert_lt(done, 48, "nothing was held back");
	for (unsigned i = 0; i < total; i++) {
		cr_assert_eq(read_exact(out[0], got, sizeof(got), 5000),
			     sizeof(got), "chunk %u", i);
		for (size_t j = 0; j < sizeof(got); j++)
			cr_assert_eq(got[j], 'A' + i % 26, "chunk %u", i);
		while (fake_vmm_reap(&vmm, &d, NULL, 0, 0) == 1)
			done++;
		while (posted < total && posted - done < 48) {
			memset(chunk, 'A' + posted % 26, sizeof(chunk));
			post(OUT, VIRTIO, chunk, sizeof(chunk));
			posted++;
		}
	}
	while (done < total && fake_vmm_reap(&vmm, &d, NULL, 0, 2000) == 1)
		done++;
	cr_assert_eq(done, total);
	close(in[1]);
	close(out[0]);
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

/*
 * Output the server took (and OUTs it still holds) reaches a reader slower
 * than the guest even when the shutdown comes first: the guest may power
 * off right after its last write.
 */
Test(console_srv, shutdown_writes_queued_output_to_a_slow_reader,
     .init = srv_start)
{
	struct ctl_msg m = {.type = CTL_SHUTDOWN};
	int in[2], out[2], st;
	static char chunk[4096], got[4096];
	unsigned total = 20, done = 0;
	struct ipc_dp_done d;

	setup_slow_stdio(in, out);
	/* 20 x 4 KiB: more than the pipe and the queue hold together. */
	for (unsigned i = 0; i < total; i++) {
		memset(chunk, 'A' + i % 26, sizeof(chunk));
		post(OUT, VIRTIO, chunk, sizeof(chunk));
	}
	while (fake_vmm_reap(&vmm, &d, NULL, 0, 300) == 1)
		done++;
	cr_assert_lt(done, total, "nothing was held back");
	send_msg(&m);
	for (unsigned i = 0; i < total; i++) {
		usleep(20000);
		cr_assert_eq(read_exact(out[0], got, sizeof(got), 3000),
			     sizeof(got), "chunk %u of %u lost", i, total);
		for (size_t j = 0; j < sizeof(got); j++)
			cr_assert_eq(got[j], 'A' + i % 26, "chunk %u", i);
	}
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
	cr_assert_eq(read(out[0], got, 1), 0, "more than was sent");
	close(in[1]);
	close(out[0]);
}

/* No one holds the pty's slave any more: the exit does not wait for it. */
Test(console_srv, shutdown_does_not_wait_for_a_hung_up_pty, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	int sl, st, mfd = open_raw_pty(&sl);
	struct ctl_msg m = {.type = CTL_SHUTDOWN};
	static char chunk[4096];
	struct ipc_dp_done d;
	struct timespec t0;

	setup_with(CTL_CONSOLE_PTY, &mfd, &role, 1);
	close(mfd);
	memset(chunk, 'x', sizeof(chunk));
	for (unsigned i = 0; i < 8; i++)
		post(OUT, VIRTIO, chunk, sizeof(chunk));
	while (fake_vmm_reap(&vmm, &d, NULL, 0, 300) == 1)
		;
	close(sl);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_msg(&m);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
	cr_assert_lt(ms_since(&t0), 1000, "the exit waited for no reader");
}

Test(console_srv, file_backend_appends_output, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	char path[] = "/tmp/isovm-console-XXXXXX", got[16] = {0};
	int fd = mkstemp(path), afd;

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, "pre:", 4), 4);
	afd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	cr_assert_eq(fcntl(afd, F_SETFL, O_APPEND), 0);
	setup_with(CTL_CONSOLE_FILE, &afd, &role, 1);
	post(OUT, UART, "log", 3);
	cr_assert_eq(reap(NULL, 0).status, 0);
	usleep(50000);
	cr_assert_eq(pread(fd, got, sizeof(got), 0), 7);
	cr_assert_str_eq(got, "pre:log");
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
	/* 25 x 4000 = 100000 bytes with no client: all complete at once. */
	for (int i = 0; i < 25; i++) {
		for (size_t j = 0; j < sizeof(big); j++)
			big[j] = (char)((total + j) % 251);
		post(OUT, VIRTIO, big, sizeof(big));
		total += sizeof(big);
		cr_assert_eq(reap(NULL, 0).status, 0);
	}
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

Test(console_srv, socket_clients_come_and_go, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	struct sockaddr_un a;
	socklen_t alen;
	int lfd = listen_abstract(&a, &alen), c1, c2, c3;
	char buf[16] = {0};
	struct ctl_stats st;
	struct ipc_dp_done d;

	setup_with(CTL_CONSOLE_SOCKET, &lfd, &role, 1);
	close(lfd);
	c1 = connect_to(&a, alen);
	usleep(100000);
	post(OUT, VIRTIO, "one", 3);
	reap(NULL, 0);
	cr_assert_eq(read_exact(c1, buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "one", 3);
	/* A second client while the first is there is turned away. */
	c2 = connect_to(&a, alen);
	cr_assert_eq(read_exact(c2, buf, 1, 2000), 0);
	close(c2);
	/* Input of the client reaches the guest. */
	post(IN, VIRTIO, NULL, 16);
	cr_assert_eq(write(c1, "hi", 2), 2);
	d = reap(buf, sizeof(buf));
	cr_assert_eq(d.len, 2);
	cr_assert_arr_eq(buf, "hi", 2);
	close(c1);
	usleep(100000);
	post(OUT, VIRTIO, "two", 3);
	cr_assert_eq(reap(NULL, 0).status, 0);
	c3 = connect_to(&a, alen);
	cr_assert_eq(read_exact(c3, buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "two", 3);
	st = stats();
	cr_assert_eq(extra(&st, "clients_accepted"), 2);
	cr_assert_eq(extra(&st, "clients_refused"), 1);
	close(c3);
}

Test(console_srv, pty_master_carries_both_directions, .init = srv_start)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	int sl, m = open_raw_pty(&sl);
	char buf[16] = {0};
	struct ipc_dp_done d;

	setup_with(CTL_CONSOLE_PTY, &m, &role, 1);
	close(m);
	post(OUT, UART, "boot\n", 5);
	cr_assert_eq(reap(NULL, 0).status, 0);
	cr_assert_eq(read_exact(sl, buf, 5, 3000), 5);
	cr_assert_arr_eq(buf, "boot\n", 5);
	post(IN, UART, NULL, 16);
	cr_assert_eq(write(sl, "ls\r", 3), 3);
	d = reap(buf, sizeof(buf));
	cr_assert_eq(d.len, 3);
	cr_assert_arr_eq(buf, "ls\r", 3);
	close(sl);
}

/* Regular files cannot be polled: they are read until EOF all the same. */
Test(console_srv, stdio_input_from_a_regular_file_reaches_the_guest,
     .init = srv_start)
{
	char path[] = "/tmp/isovm-console-in-XXXXXX", buf[8192];
	static char text[6000];
	int in = mkstemp(path), out[2];
	size_t got = 0;

	cr_assert_geq(in, 0);
	unlink(path);
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('0' + i % 10);
	cr_assert_eq(write(in, text, sizeof(text)), (ssize_t)sizeof(text));
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	setup_stdio_from(in, out);
	close(in);
	while (got < sizeof(text)) {
		struct ipc_dp_done d;

		post(IN, VIRTIO, NULL, 1000);
		d = reap(buf + got, sizeof(buf) - got);
		cr_assert_gt(d.len, 0);
		got += d.len;
	}
	cr_assert_eq(got, sizeof(text));
	cr_assert_arr_eq(buf, text, sizeof(text));
	close(out[0]);
}

Test(console_srv, fault_crash_ends_the_server_by_abort, .init = srv_stdio)
{
	int st;

	fault(CTL_FAULT_CRASH, 2, 0, 0);
	stats();
	post(OUT, VIRTIO, "ok", 2);
	cr_assert_eq(reap(NULL, 0).status, 0);
	post(OUT, VIRTIO, "boom", 4);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		  "status %#x", st);
}

Test(console_srv, reset_empties_pending_ins_and_buffered_input,
     .init = srv_stdio)
{
	struct ctl_msg m = {.type = CTL_RESET};
	char buf[8] = {0};
	struct ipc_dp_done d;
	uint64_t id = post(IN, UART, NULL, 8);

	assert_nothing_completes(100);
	send_msg(&m);
	d = reap(NULL, 0);
	cr_assert_eq(d.req.id, id);
	cr_assert_eq(d.len, 0);
	/* Input that waited for a buffer before the reset is gone. */
	cr_assert_eq(write(peer, "old", 3), 3);
	usleep(100000);
	send_msg(&m);
	stats();
	post(IN, UART, NULL, 8);
	assert_nothing_completes(100);
	cr_assert_eq(write(peer, "new", 3), 3);
	d = reap(buf, sizeof(buf));
	cr_assert_eq(d.len, 3);
	cr_assert_arr_eq(buf, "new", 3);
}

Test(console_srv, a_region_that_is_no_sealed_memfd_is_refused,
     .init = srv_start)
{
	struct ctl_msg m = {.type = CTL_SETUP};
	int p[2], fds[3], st;

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
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		  "status %#x", st);
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
	static const char *const args[] = {"--log-level", "debug", NULL};
	char path[] = "/tmp/isovm-console-log-XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	srv_log_fd = mkstemp(path);
	cr_assert_geq(srv_log_fd, 0);
	unlink(path);
	cr_assert_eq(
		fake_vmm_spawn_args(&vmm, CONSOLE_BIN, NULL, args, srv_log_fd),
		0);
	cr_assert_eq(fake_vmm_hello(&vmm, CTL_DEV_CONSOLE), 0);
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
	post(IN, VIRTIO, NULL, 16);
	assert_nothing_completes(200);
	post(OUT, UART, "up\n", 3);
	cr_assert_eq(reap(NULL, 0).status, 0);
	cr_assert_eq(read_exact(out[0], buf, 3, 3000), 3);
	cr_assert_arr_eq(buf, "up\n", 3);
	assert_no_libevent_lines();
	close(out[0]);
}

/*
 * A file is always readable: the server reads only what its input buffer
 * holds while the guest takes nothing (no spinning on it), then the rest
 * as the guest takes it, in order, then nothing more.
 */
Test(console_srv, stdio_file_input_is_read_as_the_guest_takes_it,
     .init = srv_start_logged)
{
	char path[] = "/tmp/isovm-console-in-XXXXXX";
	static char text[3 * 4096 + 123], buf[sizeof(text)];
	int in = mkstemp(path), out[2];
	unsigned long long ticks;
	struct ctl_stats st;
	size_t got = 0;

	cr_assert_geq(in, 0);
	unlink(path);
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i * 7 % 26);
	cr_assert_eq(write(in, text, sizeof(text)), (ssize_t)sizeof(text));
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	setup_stdio_from(in, out);
	usleep(100000);
	ticks = srv_cpu_ticks();
	usleep(500000);
	/* A loop rereading the file would have used most of 50 ticks. */
	cr_assert_leq(srv_cpu_ticks() - ticks, 5, "the server spins");
	/* The server shares our file offset: it read what it buffered. */
	st = stats();
	cr_assert_eq(extra(&st, "in_buffered"), 4096);
	cr_assert_eq(lseek(in, 0, SEEK_CUR), 4096);
	close(in);
	while (got < sizeof(text)) {
		struct ipc_dp_done d;

		post(IN, got & 1 ? UART : VIRTIO, NULL, 1500);
		d = reap(buf + got, sizeof(buf) - got);
		cr_assert_eq(d.status, 0);
		cr_assert_gt(d.len, 0);
		got += d.len;
	}
	cr_assert_eq(got, sizeof(text));
	cr_assert_arr_eq(buf, text, sizeof(text));
	/* End of file: no byte more, and the server goes on. */
	post(IN, VIRTIO, NULL, 16);
	assert_nothing_completes(200);
	post(OUT, VIRTIO, "ok", 2);
	cr_assert_eq(reap(NULL, 0).status, 0);
	assert_no_libevent_lines();
	close(out[0]);
}
