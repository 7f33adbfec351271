/*
 * test_srv_escape.c: the real isovm-blk, isovm-console and isovm-net, set
 * up by a fake VMM, try every escape of sandbox/escape.h on request: each
 * one dies of SIGSYS or fails with an errno, none succeeds. Seccomp is on
 * after READY; debug mode names a refused call and keeps the server
 * running.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_vmm.h"
#include "ipc/ctl_channel.h"
#include "sandbox/escape.h"
#include "tap_fixture.h"

/* One of the servers under test, and what its SETUP needs. */
struct escape_srv {
	const char *bin;
	enum ctl_dev_type dev;
};

static const struct escape_srv srv_blk = {BLK_BIN, CTL_DEV_BLK};
static const struct escape_srv srv_console = {CONSOLE_BIN, CTL_DEV_CONSOLE};
static const struct escape_srv srv_net = {NET_BIN, CTL_DEV_NET};

static struct fake_vmm vmm;
static int backend = -1, peer = -1; /* the server's backend, our end */
static struct tap_fixture tap = {.fd = -1, .pkt = -1}; /* the net's */

/* The console's two pipes, as the VMM holds them: [0] read, [1] write. */
static int con_out[2] = {-1, -1}, con_in[2] = {-1, -1};

/* A console setup's fds: the backend, the OUT pipe's read end, the IN
 * pipe's write end. */
static unsigned console_fds(int be, int *fds, enum ctl_fd_role *roles)
{
	cr_assert_eq(pipe2(con_out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(con_in, O_CLOEXEC), 0);
	fds[0] = be;
	roles[0] = CTL_FD_BACKEND;
	fds[1] = con_out[0];
	roles[1] = CTL_FD_OUT_PIPE;
	fds[2] = con_in[1];
	roles[2] = CTL_FD_IN_PIPE;
	return 3;
}

/* Start @s with the words @args, hello, set up with a backend of its own. */
static void srv_up(const struct escape_srv *s, const char *const *args,
		   int err_fd)
{
	enum ctl_fd_role roles[3] = {CTL_FD_BACKEND};
	struct ctl_setup st = {.dev_type = s->dev};
	char path[] = "/tmp/isovm-escape-img-XXXXXX";
	int sp[2], fds[3];
	unsigned n = 1;

	signal(SIGPIPE, SIG_IGN);
	if (s->dev == CTL_DEV_BLK) {
		backend = mkstemp(path);
		cr_assert_geq(backend, 0);
		unlink(path);
		cr_assert_eq(ftruncate(backend, 8 * 512), 0);
		st.cfg.blk.capacity_sectors = 8;
		st.cfg.blk.block_size = 512;
		st.cfg.blk.cache = CTL_CACHE_WRITEBACK;
		fds[0] = backend;
	} else if (s->dev == CTL_DEV_NET) {
		cr_assert_eq(tap_fixture_open(&tap, 0), 0);
		st.cfg.net.mac[0] = 0x52;
		st.cfg.net.mtu = 1500;
		fds[0] = tap.fd;
	} else {
		cr_assert_eq(
			socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp),
			0);
		backend = sp[1];
		peer = sp[0];
		st.cfg.console.backend = CTL_CONSOLE_STDIO;
		n = console_fds(backend, fds, roles);
	}
	cr_assert_eq(fake_vmm_spawn_args(&vmm, s->bin, NULL, args, err_fd), 0);
	cr_assert_eq(fake_vmm_hello(&vmm, s->dev), 0);
	cr_assert_eq(fake_vmm_setup(&vmm, &st, fds, roles, n, NULL), 0);
}

static void srv_down(void)
{
	fake_vmm_free(&vmm);
	tap_fixture_close(&tap);
	if (backend >= 0)
		close(backend);
	if (peer >= 0)
		close(peer);
	backend = peer = -1;
}

/* The "Seccomp:" line of the server's /proc/PID/status, or "". */
static const char *seccomp_line(void)
{
	static char line[128];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)vmm.pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8))
			break;
	if (strncmp(line, "Seccomp:", 8))
		line[0] = '\0';
	fclose(f);
	return line;
}

static void send_escape(unsigned e)
{
	struct ctl_msg m = {.type = CTL_ESCAPE};

	m.u.escape.attempt = e;
	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
}

/* The server's answer to an attempt: its errno, or -1 if it died. */
static int escape_outcome(unsigned e, int *status)
{
	struct ctl_msg m;
	int ret = fake_vmm_recv(&vmm, &m, 5000);

	cr_assert_neq(ret, -ETIMEDOUT, "%s: no answer, still alive",
		      sandbox_escape_name(e));
	if (ret == 0) {
		cr_assert_eq(m.type, CTL_ESCAPE_RESULT, "%s: got %s",
			     sandbox_escape_name(e), ctl_type_name(m.type));
		cr_assert_eq(m.u.escape_result.attempt, e);
		return (int)m.u.escape_result.error;
	}
	*status = fake_vmm_wait(&vmm, 5000);
	return -1;
}

/* Every attempt, each on a fresh server: refused, one way or the other. */
static void assert_every_escape_refused(const struct escape_srv *s)
{
	for (unsigned e = 1; e < SANDBOX_ESCAPE_END; e++) {
		const char *name = sandbox_escape_name(e);
		int st = 0, err;

		srv_up(s, NULL, -1);
		/* Never ask an unconfined server (we may be root). */
		cr_assert_str_eq(seccomp_line(), "Seccomp:\t2\n",
				 "%s: not filtered", name);
		send_escape(e);
		err = escape_outcome(e, &st);
		if (err < 0)
			cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
				  "%s: server ended with status %#x", name, st);
		else
			cr_assert_neq(err, 0, "%s SUCCEEDED", name);
		cr_log_info("%s: %s", name,
			    err < 0 ? "killed by SIGSYS" : strerror(err));
		srv_down();
	}
}

TestSuite(srv_escape, .fini = srv_down, .timeout = 120);

Test(srv_escape, blk_refuses_every_escape)
{
	assert_every_escape_refused(&srv_blk);
}

Test(srv_escape, console_refuses_every_escape)
{
	assert_every_escape_refused(&srv_console);
}

Test(srv_escape, net_refuses_every_escape)
{
	assert_every_escape_refused(&srv_net);
}

Test(srv_escape, every_server_runs_filtered_from_ready_on)
{
	srv_up(&srv_blk, NULL, -1);
	cr_assert_str_eq(seccomp_line(), "Seccomp:\t2\n");
	srv_down();
	srv_up(&srv_console, NULL, -1);
	cr_assert_str_eq(seccomp_line(), "Seccomp:\t2\n");
	srv_down();
	srv_up(&srv_net, NULL, -1);
	cr_assert_str_eq(seccomp_line(), "Seccomp:\t2\n");
}

/* The server's stderr so far, after a stats round trip. */
static const char *log_of(int fd)
{
	static char log[16384];
	struct ctl_msg m = {.type = CTL_STATS_REQUEST, .seq = 1};
	ssize_t n;

	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0, "server gone");
	cr_assert_eq(m.type, CTL_STATS_REPLY);
	n = pread(fd, log, sizeof(log) - 1, 0);
	cr_assert_geq(n, 0);
	log[n] = '\0';
	return log;
}

static int log_file(void)
{
	char path[] = "/tmp/isovm-escape-log-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

Test(srv_escape, debug_mode_names_each_refused_call_and_runs_on)
{
	static const char *const args[] = {"--seccomp", "debug", NULL};
	int fd = log_file(), st = 0;

	srv_up(&srv_console, args, fd);
	cr_assert_str_eq(seccomp_line(), "Seccomp:\t2\n");
	send_escape(SANDBOX_ESCAPE_SOCKET_INET);
	cr_assert_eq(escape_outcome(SANDBOX_ESCAPE_SOCKET_INET, &st), ENOSYS,
		     "status %#x", st);
	/* The next refused call shows up too. */
	send_escape(SANDBOX_ESCAPE_OPEN_PASSWD);
	cr_assert_eq(escape_outcome(SANDBOX_ESCAPE_OPEN_PASSWD, &st), ENOSYS,
		     "status %#x", st);
	cr_assert_not_null(
		strstr(log_of(fd),
		       "seccomp: isovm-console refused socket (nr 41)\n"),
		"log: %s", log_of(fd));
	cr_assert_not_null(
		strstr(log_of(fd),
		       "seccomp: isovm-console refused openat (nr 257)\n"),
		"log: %s", log_of(fd));
	close(fd);
}

/*
 * Debug mode: every attempt comes back ENOSYS from one server that keeps
 * running: it was the filter that refused each, not a missing privilege.
 */
static void assert_filter_refuses_every_escape(const struct escape_srv *s)
{
	static const char *const args[] = {"--seccomp", "debug", NULL};
	int fd = log_file();

	srv_up(s, args, fd);
	cr_assert_str_eq(seccomp_line(), "Seccomp:\t2\n");
	for (unsigned e = 1; e < SANDBOX_ESCAPE_END; e++) {
		int st = 0;

		send_escape(e);
		cr_assert_eq(escape_outcome(e, &st), ENOSYS, "%s: status %#x",
			     sandbox_escape_name(e), st);
	}
	cr_assert_not_null(strstr(log_of(fd), " refused kill (nr 62)\n"));
	cr_assert_not_null(strstr(log_of(fd), " refused ptrace (nr 101)\n"));
	close(fd);
}

Test(srv_escape, blk_debug_mode_refuses_every_escape_by_the_filter)
{
	assert_filter_refuses_every_escape(&srv_blk);
}

Test(srv_escape, console_debug_mode_refuses_every_escape_by_the_filter)
{
	assert_filter_refuses_every_escape(&srv_console);
}

Test(srv_escape, net_debug_mode_refuses_every_escape_by_the_filter)
{
	assert_filter_refuses_every_escape(&srv_net);
}

/* The same attempt unconfined: the test sees a success when there is one. */
Test(srv_escape, without_seccomp_the_harmless_attempt_succeeds)
{
	static const char *const args[] = {"--seccomp", "off", NULL};
	int fd = log_file(), st = 0;

	srv_up(&srv_blk, args, fd);
	cr_assert_str_eq(seccomp_line(), "Seccomp:\t0\n");
	send_escape(SANDBOX_ESCAPE_OPEN_PASSWD);
	cr_assert_eq(escape_outcome(SANDBOX_ESCAPE_OPEN_PASSWD, &st), 0,
		     "status %#x", st);
	cr_assert_not_null(strstr(log_of(fd), "SUCCEEDED"), "log: %s",
			   log_of(fd));
	close(fd);
}

/*
 * This test's process (and so the server it starts) may not load a
 * seccomp filter: seccomp() and prctl(PR_SET_SECCOMP) fail with EPERM.
 */
static void forbid_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	cr_assert_not_null(ctx);
	cr_assert_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				      SCMP_SYS(seccomp), 0),
		     0);
	cr_assert_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				      SCMP_SYS(prctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP)),
		     0);
	cr_assert_eq(seccomp_load(ctx), 0);
	seccomp_release(ctx);
}

Test(srv_escape, a_filter_that_cannot_be_loaded_fails_the_setup)
{
	enum ctl_fd_role roles[3];
	struct ctl_setup st = {.dev_type = CTL_DEV_CONSOLE};
	int fd = log_file(), sp[2], status, fds[3];
	unsigned nfds;
	char log[4096];
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	forbid_seccomp();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	backend = sp[1];
	peer = sp[0];
	st.cfg.console.backend = CTL_CONSOLE_STDIO;
	nfds = console_fds(backend, fds, roles);
	cr_assert_eq(fake_vmm_spawn_args(&vmm, CONSOLE_BIN, NULL, NULL, fd), 0);
	cr_assert_eq(fake_vmm_hello(&vmm, CTL_DEV_CONSOLE), 0);
	cr_assert_eq(fake_vmm_setup(&vmm, &st, fds, roles, nfds, NULL),
		     -EREMOTEIO, "READY without a filter");
	status = fake_vmm_wait(&vmm, 5000);
	cr_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 1,
		  "status %#x", status);
	n = pread(fd, log, sizeof(log) - 1, 0);
	cr_assert_gt(n, 0);
	log[n] = '\0';
	cr_assert_not_null(strstr(log, "fatal: seccomp: isovm-console: "),
			   "log: %s", log);
	close(fd);
}

/* The server reported CTL_ERROR and exited with status 1. */
static void assert_protocol_error(void)
{
	int ret = fake_vmm_protocol_error(&vmm, 5000);

	cr_assert_eq(ret, 0, "no protocol error: %d (%#x)", ret, ret);
}

Test(srv_escape, an_attempt_the_server_does_not_know_is_a_protocol_error)
{
	srv_up(&srv_console, NULL, -1);
	send_escape(CTL_ESCAPE_MAX);
	assert_protocol_error();
}

Test(srv_escape, an_attempt_before_setup_is_a_protocol_error)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(fake_vmm_spawn_args(&vmm, CONSOLE_BIN, NULL, NULL, -1), 0);
	cr_assert_eq(fake_vmm_hello(&vmm, CTL_DEV_CONSOLE), 0);
	send_escape(SANDBOX_ESCAPE_OPEN_PASSWD);
	assert_protocol_error();
}

Test(srv_escape, attempts_are_named_both_ways)
{
	for (unsigned e = 1; e < SANDBOX_ESCAPE_END; e++) {
		const char *name = sandbox_escape_name(e);

		cr_assert_not_null(name);
		cr_assert_eq(sandbox_escape_parse(name), e, "%s", name);
	}
	cr_assert_null(sandbox_escape_name(0));
	cr_assert_null(sandbox_escape_name(SANDBOX_ESCAPE_END));
	cr_assert_eq(sandbox_escape_parse("fly-away"), 0);
	cr_assert_str_eq(sandbox_escape_name(SANDBOX_ESCAPE_IO_URING),
			 "io-uring");
}
