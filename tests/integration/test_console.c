/*
 * test_console.c: the console device server end to end with the test
 * guest: console-echo and console-bulk over the stdio, pty, socket and file
 * backends in polling and interrupt modes; every virtq-evil rule puts only
 * that device in NEEDS_RESET while the VMM and the UART go on; a killed
 * console server leaves the VMM and the guest running; bad --console values
 * are refused before any VM exists; a slow pty reader still gets every
 * byte the guest wrote before it powered off.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/con_stream.h"
#include "tests/integration/harness.h"

#define CON_TIMEOUT_MS 90000
#define CON_ECHO_LINE "hello-isovm-console-42"
#define CON_PAUSE_MS 1200

enum con_backend { CON_STDIO, CON_PTY, CON_SOCKET, CON_FILE };

struct con_run {
	enum con_backend backend;
	char path[108];       /* socket or file path */
	bool wait_ready;      /* echo: send the line after the guest is ready */
	bool sent;
	int fd;               /* our end of a pty or socket */
	const char *disk;     /* --disk value, or NULL */
	bool kill_server;     /* kill isovm-console once the guest is ready */
	bool killed;
	size_t slow;          /* pty: the hook reads at most this per call */
	size_t pause_at;      /* ...and stops for CON_PAUSE_MS once it has this */
	double resume;        /* when it reads again (CLOCK_MONOTONIC s) */
	char *got;            /* what that slow reader read */
	size_t got_len;
	struct harness_killer *killer; /* kills the server again and again */
};

static const char *con_output(const struct vmrun *r, const struct con_run *c)
{
	return c->backend == CON_STDIO ? r->out : r->extra;
}

static void con_open_pty(struct vmrun *r, struct con_run *c)
{
	const char *p = strstr(r->err, "console pty: ");
	char path[64];
	struct termios t;
	size_t n;

	if (!p || !strchr(p, '\n'))
		return;
	p += strlen("console pty: ");
	n = strcspn(p, " \r\n");
	if (n >= sizeof(path))
		return;
	memcpy(path, p, n);
	path[n] = '\0';
	c->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC |
			   (c->slow ? O_NONBLOCK : 0));
	if (c->fd < 0)
		return;
	if (tcgetattr(c->fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->fd, TCSANOW, &t);
	}
	if (!c->slow)
		r->extra_fd = c->fd; /* the harness reads it as fast as it can */
}

static double con_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A slow reader: at most c->slow bytes per call of the hook (~50 ms),
 * with one pause once it has c->pause_at bytes. A read of a pty returns at
 * most its 4 KiB input queue: read until the kernel has given c->slow or
 * nothing for 2 ms.
 */
static void con_read_slowly(struct con_run *c)
{
	static char buf[4 << 20];
	size_t want = c->slow;
	ssize_t n;

	if (c->pause_at && c->got_len >= c->pause_at) {
		c->pause_at = 0;
		c->resume = con_now() + CON_PAUSE_MS / 1000.0;
	}
	if (con_now() < c->resume)
		return;
	while (want && c->got_len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		size_t room = sizeof(buf) - 1 - c->got_len;

		if (poll(&p, 1, 2) != 1)
			break;
		n = read(c->fd, buf + c->got_len, room < want ? room : want);
		if (n <= 0)
			break;
		c->got_len += (size_t)n;
		want -= (size_t)n;
	}
	buf[c->got_len] = '\0';
	c->got = buf;
}

static void con_open_socket(struct vmrun *r, struct con_run *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	c->fd = fd;
	r->extra_fd = fd;
}

/* The pid of isovm's child running isovm-console, or -1. */
static void con_hook(struct vmrun *r, void *arg)
{
	struct con_run *c = arg;
	const char *out;

	if (c->fd < 0 && c->backend == CON_PTY)
		con_open_pty(r, c);
	if (c->fd < 0 && c->backend == CON_SOCKET)
		con_open_socket(r, c);
	if (c->slow && c->fd >= 0)
		con_read_slowly(c);
	if (c->killer)
		harness_kill_tick(r, c->killer);
	out = con_output(r, c);
	if (c->kill_server && !c->killed && strstr(out, "console-echo ready")) {
		pid_t pid = harness_child_pid(r->pid, "isovm-console");

		if (pid > 0) {
			kill(pid, SIGKILL);
			c->killed = true;
		}
	}
	if (!c->wait_ready || c->sent || !strstr(out, "console-echo ready"))
		return;
	if (c->backend == CON_STDIO && r->in_fd >= 0)
		c->sent = write(r->in_fd, CON_ECHO_LINE "\n",
				sizeof(CON_ECHO_LINE)) > 0;
	else if (c->fd >= 0)
		c->sent = write(c->fd, CON_ECHO_LINE "\n",
				sizeof(CON_ECHO_LINE)) > 0;
}

static const char *con_spec(struct con_run *c, char *buf, size_t cap)
{
	switch (c->backend) {
	case CON_STDIO:
		return "stdio";
	case CON_PTY:
		return "pty";
	case CON_SOCKET:
		snprintf(buf, cap, "socket:%s", c->path);
		return buf;
	case CON_FILE:
		snprintf(buf, cap, "file:%s", c->path);
		return buf;
	}
	return "?";
}

static void con_boot(struct vmrun *r, struct con_run *c, const char *cmdline)
{
	char spec[160];
	char *argv[16] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			   HARNESS_TESTGUEST, "--console",
			   (char *)con_spec(c, spec, sizeof(spec)), "--cmdline",
			   (char *)cmdline };
	struct vmrun_opts o = { .stdin_pipe = true, .hook = con_hook,
				.arg = c };
	unsigned n = 8;

	if (c->disk) {
		argv[n++] = "--disk";
		argv[n++] = (char *)c->disk;
	}
	/* Killed again and again: restarts without limit, each logged. */
	if (c->killer) {
		argv[n++] = "--restart-limit";
		argv[n++] = "1000/10";
		argv[n++] = "--log-level";
		argv[n++] = "info";
	}
	argv[n] = NULL;
	c->fd = -1;
	cr_assert_eq(vmrun_opts(r, CON_TIMEOUT_MS, &o, argv), 0);
	if (c->fd >= 0)
		close(c->fd);
	if (r->status != 0 || r->timed_out)
		vmrun_dump(r, cmdline);
}

static void con_tmp_path(struct con_run *c, const char *what)
{
	snprintf(c->path, sizeof(c->path), "/tmp/isovm-con-%d-%s", getpid(),
		 what);
	unlink(c->path);
}

static void con_echo(enum con_backend b, const char *mode)
{
	struct con_run c = { .backend = b, .wait_ready = true };
	char cmdline[128], want[64];
	struct vmrun r;

	harness_need_kvm();
	if (b == CON_SOCKET)
		con_tmp_path(&c, "echo.sock");
	snprintf(cmdline, sizeof(cmdline), "test=console-echo virtio-mode=%s",
		 mode);
	con_boot(&r, &c, cmdline);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert(c.sent, "the guest never said it was ready");
	snprintf(want, sizeof(want), "echo:%s\n", CON_ECHO_LINE);
	cr_assert_not_null(strstr(con_output(&r, &c), want),
			   "the echo did not come back");
	cr_assert_not_null(strstr(con_output(&r, &c),
				  "name=console-echo status=pass"));
	if (b == CON_SOCKET)
		cr_assert_neq(access(c.path, F_OK), 0,
			      "the socket path was left behind");
	vmrun_free(&r);
}

static void con_bulk(enum con_backend b, const char *mode)
{
	struct con_run c = { .backend = b };
	char cmdline[160];
	struct vmrun r;

	harness_need_kvm();
	if (b == CON_SOCKET)
		con_tmp_path(&c, "bulk.sock");
	if (b == CON_FILE)
		con_tmp_path(&c, "bulk.log");
	/*
	 * A socket drops what it cannot keep while no client is connected:
	 * an echo first holds the guest until the test's client is there.
	 */
	c.wait_ready = b == CON_SOCKET;
	snprintf(cmdline, sizeof(cmdline),
		 "test=%sconsole-bulk console-bulk.mib=1 console-bulk.seed=77 virtio-mode=%s",
		 c.wait_ready ? "console-echo," : "", mode);
	con_boot(&r, &c, cmdline);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	if (b == CON_FILE) {
		FILE *f = fopen(c.path, "r");
		static char buf[4 << 20];
		size_t n;

		cr_assert_not_null(f, "no console file");
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		unlink(c.path);
		con_bulk_check(buf, n, 1 << 20);
	} else {
		con_bulk_check(con_output(&r, &c),
			       b == CON_STDIO ? r.out_len : r.extra_len,
			       1 << 20);
	}
	vmrun_free(&r);
}

Test(console, echo_stdio_poll) { con_echo(CON_STDIO, "poll"); }
Test(console, echo_stdio_irq) { con_echo(CON_STDIO, "irq"); }
Test(console, echo_pty_poll) { con_echo(CON_PTY, "poll"); }
Test(console, echo_pty_irq) { con_echo(CON_PTY, "irq"); }
Test(console, echo_socket_poll) { con_echo(CON_SOCKET, "poll"); }
Test(console, echo_socket_irq) { con_echo(CON_SOCKET, "irq"); }
Test(console, bulk_stdio_poll) { con_bulk(CON_STDIO, "poll"); }
Test(console, bulk_stdio_irq) { con_bulk(CON_STDIO, "irq"); }
Test(console, bulk_pty_poll) { con_bulk(CON_PTY, "poll"); }
Test(console, bulk_pty_irq) { con_bulk(CON_PTY, "irq"); }
Test(console, bulk_socket_poll) { con_bulk(CON_SOCKET, "poll"); }
Test(console, bulk_socket_irq) { con_bulk(CON_SOCKET, "irq"); }
Test(console, bulk_file_poll) { con_bulk(CON_FILE, "poll"); }
Test(console, bulk_file_irq) { con_bulk(CON_FILE, "irq"); }

/*
 * The reader of the pty is slower than the guest, so when the guest powers
 * off right after its last write, the server still queues output and the
 * pty holds more: neither the server nor isovm may exit (the master's last
 * close discards what the slave's reader has not read) before the reader
 * has it all. The reader takes 32 KiB per ~50 ms, nothing after isovm
 * exited. It pauses for CON_PAUSE_MS with 40 KiB still to come, less than
 * the server queues: the guest powers off during the pause, and isovm is
 * told to stop with output in the server and in the pty. The pause is
 * longer than a server is given to stop by default (1 s).
 */
Test(console, bulk_pty_slow_reader_gets_every_byte)
{
	struct con_run c = { .backend = CON_PTY, .slow = 32 << 10,
			     .pause_at = (1 << 20) - (40 << 10) };
	struct vmrun r;

	harness_need_kvm();
	con_boot(&r, &c,
		 "test=console-bulk console-bulk.mib=1 console-bulk.seed=77 virtio-mode=irq");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(c.got, "the pty was never opened");
	con_bulk_check(c.got, c.got_len, 1 << 20);
	cr_assert_null(strstr(r.err, "not written at exit"), "%s", r.err);
	vmrun_free(&r);
}

/*
 * The server killed 20 times while the guest's output is held back by a
 * pty reader slower than the guest (10 KiB a call of the hook, some 200
 * KiB/s: 3 MiB take about 15 s), so that every kill finds bytes queued
 * between the guest and the reader. Those bytes wait in the VMM's pipe,
 * never in the server: the reader gets the stream byte for byte.
 */
Test(console, bulk_pty_slow_reader_server_killed_20_times_loses_nothing)
{
	struct harness_killer k = { .comm = "isovm-console", .after = "",
				    .want = 20, .gap_ms = 300,
				    .jitter_ms = 200, .seed = 2468 };
	struct con_run c = { .backend = CON_PTY, .slow = 10 << 10,
			     .killer = &k };
	char line[512];
	struct vmrun r;

	harness_need_kvm();
	con_boot(&r, &c,
		 "test=console-bulk console-bulk.mib=3 console-bulk.seed=77 virtio-mode=irq");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(c.got, "the pty was never opened");
	con_bulk_check(c.got, c.got_len, 3 << 20);
	cr_assert_geq(k.kills, 20u, "only %u kills in the run", k.kills);
	cr_assert_geq(vmrun_count(&r, "console server restarted"), 20u);
	cr_assert_not_null(vmrun_line(&r, "console server: deaths=", line,
				      sizeof(line)));
	cr_assert_geq(vmrun_key(line, "deaths"), 20, "%s", line);
	vmrun_free(&r);
}

/*
 * The rule is broken on the first virtio device, the console (slot 0); a
 * disk beside it must go on working, and so must the UART.
 */
static void con_evil(const char *rule)
{
	struct con_run c = { .backend = CON_STDIO };
	char cmdline[128], line[256], disk[160];
	struct vmrun r;
	FILE *f;

	harness_need_kvm();
	con_tmp_path(&c, "evil.img");
	f = fopen(c.path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), 1 << 20), 0);
	fclose(f);
	snprintf(disk, sizeof(disk), "path=%s", c.path);
	c.disk = disk;
	snprintf(cmdline, sizeof(cmdline),
		 "test=virtq-evil,blk-pattern,info virtq-evil=%s", rule);
	con_boot(&r, &c, cmdline);
	unlink(c.path);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF, "the VMM did not go on");
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=virtq-evil", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_eq(vmrun_key(line, "needs_reset"), 1, "%s", line);
	cr_assert_not_null(strstr(r.out, "uart still works"));
	/* The disk, another device of the same VM, still works. */
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=blk-pattern status=pass"),
			   "the other device stopped working");
	/* A later test of the same boot still runs: the guest goes on. */
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=info status=pass"));
	/* One line names the broken rule. */
	cr_assert_eq(vmrun_count(&r, "needs reset"), 1,
		     "want one log line naming the broken rule");
	cr_assert_not_null(strstr(r.err, "console0: needs reset"),
			   "the rule was not charged to the console alone");
	vmrun_free(&r);
}

Test(virtq_evil, descriptor_loop) { con_evil("loop"); }
Test(virtq_evil, index_out_of_range) { con_evil("index"); }
Test(virtq_evil, address_outside_ram) { con_evil("addr"); }
Test(virtq_evil, length_overflow) { con_evil("overflow"); }
Test(virtq_evil, nested_indirect) { con_evil("nested-indirect"); }
Test(virtq_evil, queue_size_not_power_of_two) { con_evil("qsize"); }
Test(virtq_evil, notify_before_driver_ok) { con_evil("early-notify"); }

Test(console, killed_server_leaves_vmm_and_guest_running)
{
	struct con_run c = { .backend = CON_STDIO, .kill_server = true };
	struct vmrun r;

	harness_need_kvm();
	/*
	 * The guest waits 5 s for a line that never comes, then powers off:
	 * time enough for the kill even in a slow emulated lab.
	 */
	con_boot(&r, &c,
		 "test=console-echo,info console-echo.timeout_ms=5000");
	cr_assert(c.killed, "found no console server to kill");
	cr_assert(!r.timed_out);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF,
		     "the guest did not run on to its power-off");
	cr_assert_not_null(strstr(r.err, "died"), "the death was not logged");
	cr_assert(!r.strays);
	vmrun_free(&r);
}

static void con_bad(const char *value, const char *needle)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_TESTGUEST, "--console", (char *)value, NULL };
	struct vmrun r;

	cr_assert_eq(vmrun(&r, 20000, argv), 0);
	if (r.status != ISOVM_EXIT_USAGE)
		vmrun_dump(&r, value);
	cr_assert_eq(r.status, ISOVM_EXIT_USAGE);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s': %s",
			   needle, r.err);
	cr_assert_eq(r.out_len, 0, "a VM ran");
	cr_assert(!r.strays);
	vmrun_free(&r);
}

Test(console_bad, unknown_kind) { con_bad("telnet", "--console"); }
Test(console_bad, empty_file_path) { con_bad("file:", "--console"); }
Test(console_bad, empty_socket_path) { con_bad("socket:", "--console"); }
Test(console_bad, file_in_missing_directory)
{
	con_bad("file:/nonexistent-isovm-dir/log", "/nonexistent-isovm-dir/log");
}
Test(console_bad, socket_path_exists)
{
	char spec[64];

	snprintf(spec, sizeof(spec), "socket:/tmp/isovm-con-exists-%d", getpid());
	FILE *f = fopen(spec + 7, "w");

	cr_assert_not_null(f);
	fclose(f);
	con_bad(spec, spec + 7);
	cr_assert_eq(access(spec + 7, F_OK), 0, "isovm removed a file it did not make");
	unlink(spec + 7);
}

Test(console, stdout_to_a_file_continues_after_what_is_there)
{
	char path[64], script[512], buf[4096];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct vmrun r;
	FILE *f;
	size_t n;

	harness_need_kvm();
	snprintf(path, sizeof(path), "/tmp/isovm-con-%d-out.txt", getpid());
	snprintf(script, sizeof(script),
		 "{ echo BEFORE-LINE; exec %s run --kernel %s --cmdline test=info; } > %s",
		 HARNESS_ISOVM, HARNESS_TESTGUEST, path);
	cr_assert_eq(vmrun(&r, CON_TIMEOUT_MS, argv), 0);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	cr_assert_eq(strncmp(buf, "BEFORE-LINE\n", 12), 0,
		     "guest output overwrote the file: %.40s", buf);
	cr_assert_not_null(strstr(buf, "ISOVM-TEST name=info status=pass"));
	vmrun_free(&r);
}

/*
 * stdin epoll cannot watch. Debug level: libevent's complaint about such
 * an fd, once logged, shows there.
 */
static void con_no_libevent(const struct vmrun *r)
{
	cr_assert_null(strstr(r->err, "libevent"), "stderr: %s", r->err);
	cr_assert_null(strstr(r->err, "Epoll"), "stderr: %s", r->err);
}

/* The harness gives the VMM /dev/null as stdin: input is at its end. */
Test(console, stdin_from_dev_null_is_no_input)
{
	struct vmrun r;

	harness_need_kvm();
	cr_assert_eq(vmrun_isovm(&r, CON_TIMEOUT_MS, "run", "--kernel",
				 HARNESS_TESTGUEST, "--log-level", "debug",
				 "--cmdline", "test=info", NULL),
		     0);
	if (r.status != ISOVM_EXIT_POWEROFF)
		vmrun_dump(&r, "stdin /dev/null");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=info status=pass"));
	con_no_libevent(&r);
	vmrun_free(&r);
}

/*
 * A file as stdin: its line waits in the server until the guest posts its
 * virtio console buffers (the UART asks only while the guest reads it).
 */
Test(console, stdin_from_a_file_is_echoed)
{
	char path[64], script[512], want[64];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct vmrun r;
	FILE *f;

	harness_need_kvm();
	snprintf(path, sizeof(path), "/tmp/isovm-con-%d-in.txt", getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(CON_ECHO_LINE "\n", f);
	fclose(f);
	snprintf(script, sizeof(script),
		 "exec %s run --kernel %s --log-level debug --cmdline "
		 "'test=console-echo console-echo.timeout_ms=10000' < %s",
		 HARNESS_ISOVM, HARNESS_TESTGUEST, path);
	cr_assert_eq(vmrun(&r, CON_TIMEOUT_MS, argv), 0);
	unlink(path);
	if (r.status != ISOVM_EXIT_POWEROFF)
		vmrun_dump(&r, "stdin from a file");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	snprintf(want, sizeof(want), "echo:%s\n", CON_ECHO_LINE);
	cr_assert_not_null(strstr(r.out, want), "the echo did not come back");
	cr_assert_not_null(strstr(r.out, "name=console-echo status=pass"));
	con_no_libevent(&r);
	vmrun_free(&r);
}
