/*
 * test_supervisor_ctl.c: the supervisor against a server that misbehaves on
 * its control socket (isovm-ctlpeer, ctl_peer.c): a flood of unasked errors
 * gets it killed with few lines logged; a statistics reply that comes after
 * its requester gave up is dropped, never taken for the next one's reply
 * and no reason to kill; a reply nobody asked for still is.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/ctl_peer.h"
#include "vcpu/supervisor/supervisor.h"

static char logpath[] = "/tmp/isovm-supctl-XXXXXX";
static int saved_stderr = -1;
static atomic_int died;

static void on_died(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&died, 1);
}

static const struct supervisor_ops t_ops = {
	.died = on_died,
};

/* stderr (the VMM's log and the peer's) goes to a file the test reads. */
static void setup(void)
{
	int fd = mkstemp(logpath);

	cr_assert_geq(fd, 0);
	saved_stderr = dup(STDERR_FILENO);
	cr_assert_geq(saved_stderr, 0);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	atomic_store(&died, 0);
}

static void teardown(void)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unlink(logpath);
}

TestSuite(supervisor_ctl, .init = setup, .fini = teardown, .timeout = 30);

/* Lines of the log so far that contain 'what'. */
static int log_lines_with(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(logpath, "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/* Start isovm-ctlpeer misbehaving as 'evil'. */
static void start(struct supervisor *s, const char *evil, unsigned restarts)
{
	struct supervisor_spec sp;
	char err[256];

	cr_assert_eq(setenv(CTL_PEER_EVIL, evil, 1), 0);
	memset(&sp, 0, sizeof(sp));
	sp.dev = "ctlpeer";
	sp.bindir = CTL_PEER_BINDIR;
	sp.type = CTL_DEV_CONSOLE;
	sp.setup.cfg.console.backend = CTL_CONSOLE_STDIO;
	sp.geom = (struct ipc_geom){8, 8, 4096, 4};
	sp.ready_timeout_ms = 5000;
	sp.policy.restart_limit = restarts;
	sp.policy.restart_window_ms = 60000;
	/* A dynamic test program that reads its part from the environment. */
	sp.policy.sandbox = SANDBOX_OFF;
	cr_assert_eq(supervisor_start(s, &sp, err, sizeof(err)), 0, "%s", err);
}

static void watch(struct supervisor *s, struct iothread *io)
{
	cr_assert_eq(iothread_init(io), 0);
	cr_assert_eq(supervisor_watch(s, io, &t_ops, NULL, NULL), 0);
	cr_assert_eq(iothread_start(io), 0);
}

/* Wait up to ms for the death report; true when it came. */
static bool died_within(int ms)
{
	for (int i = 0; i < ms && !atomic_load(&died); i++)
		usleep(1000);
	return atomic_load(&died) > 0;
}

static void end(struct supervisor *s, struct iothread *io)
{
	iothread_stop(io);
	supervisor_stop(s, 0);
	iothread_fini(io);
}

/* The "asked" counter of a ctl_peer reply. */
static uint64_t asked(const struct ctl_stats *st)
{
	cr_assert_eq(st->nextra, 1);
	cr_assert_str_eq(st->extra[0].key, "asked");
	return st->extra[0].value;
}

Test(supervisor_ctl, an_error_flood_gets_the_server_killed_and_few_lines)
{
	struct supervisor s;
	struct iothread io;

	start(&s, "error-flood", 0);
	watch(&s, &io);
	cr_assert(died_within(5000), "a flooding server keeps running");
	cr_assert_eq(s.exit_status & 0x7f, SIGKILL);
	end(&s, &io);
	cr_assert_eq(log_lines_with("reports: error"), SUPERVISOR_ERROR_BURST,
		     "%d lines", log_lines_with("reports: error"));
	cr_assert_eq(log_lines_with("flood of errors (limit 5, then one per "
				    "1000 ms): killing it"),
		     1);
	cr_assert_eq(log_lines_with("died: killed: flood of errors"), 1);
}

Test(supervisor_ctl, a_few_errors_are_all_logged_and_no_reason_to_kill)
{
	struct supervisor s;
	struct iothread io;

	start(&s, "error-burst", 0);
	watch(&s, &io);
	cr_assert_not(died_within(500));
	cr_assert(atomic_load(&s.alive));
	end(&s, &io);
	cr_assert_eq(log_lines_with("reports: error"), CTL_PEER_BURST);
	cr_assert_eq(s.exit_status, 0, "stopped by SHUTDOWN");
}

Test(supervisor_ctl, a_late_stats_reply_is_dropped_and_the_server_lives)
{
	struct supervisor s;
	struct ctl_stats st;
	struct iothread io;

	start(&s, "late-stats", 0);
	cr_assert_eq(supervisor_stats(&s, &st, false, 20), -ETIMEDOUT);
	/* The reply comes while the I/O thread watches the socket. */
	watch(&s, &io);
	cr_assert_not(died_within(CTL_PEER_LATE_MS + 500),
		      "killed for a late reply");
	iothread_stop(&io);
	cr_assert_eq(supervisor_stats(&s, &st, false, 5000), 0);
	cr_assert_eq(asked(&st), 2, "the reply to the second request");
	supervisor_stop(&s, 0);
	iothread_fini(&io);
	cr_assert_eq(s.exit_status, 0, "stopped by SHUTDOWN");
}

Test(supervisor_ctl, the_next_request_skips_a_late_reply)
{
	struct supervisor s;
	struct ctl_stats st;

	start(&s, "late-stats", 0);
	cr_assert_eq(supervisor_stats(&s, &st, false, 20), -ETIMEDOUT);
	/* Reply 1 arrives first, while this call waits for reply 2. */
	cr_assert_eq(supervisor_stats(&s, &st, false, 5000), 0);
	cr_assert_eq(asked(&st), 2, "got the reply to an earlier request");
	supervisor_stop(&s, 0);
	cr_assert_eq(s.exit_status, 0);
}

Test(supervisor_ctl, a_stats_reply_nobody_asked_for_gets_the_server_killed)
{
	struct supervisor s;
	struct iothread io;

	start(&s, "unasked-stats", 0);
	watch(&s, &io);
	cr_assert(died_within(5000));
	cr_assert_eq(s.exit_status & 0x7f, SIGKILL);
	end(&s, &io);
}

/*
 * A server that stops reading its control socket fills it: the VMM's
 * sends must fail at once then, not wait for room (the I/O thread would
 * stop). A socket queues a few hundred requests: 10000 fill it.
 */
Test(supervisor_ctl, a_server_that_stops_reading_blocks_no_request)
{
	struct supervisor s;
	struct ctl_stats st;
	int refused = 0;

	start(&s, "deaf", 0);
	for (int i = 0; i < 10000 && !refused; i++) {
		int ret = supervisor_stats(&s, &st, false, 0);

		cr_assert(ret == -ETIMEDOUT || ret == -EPROTO, "%d", ret);
		refused += ret == -EPROTO;
	}
	cr_assert_gt(refused, 0, "the socket never filled");
	supervisor_stop(&s, 0);
	cr_assert_eq(s.exit_status & 0x7f, SIGKILL, "a deaf server is killed");
}

static atomic_int pokes;

static void on_poke(int fd, void *arg)
{
	char c;

	(void)arg;
	if (read(fd, &c, 1) == 1)
		atomic_fetch_add(&pokes, 1);
}

/* Wait up to ms for 'died' to reach n. */
static bool deaths_within(int n, int ms)
{
	for (int i = 0; i < ms && atomic_load(&died) < n; i++)
		usleep(1000);
	return atomic_load(&died) >= n;
}

/* A restarted server that misbehaves as 'evil' in its hand-shake. */
static void restart_evil(const char *evil, const char *why)
{
	char seen[] = "/tmp/isovm-supctl-seen-XXXXXX";
	struct supervisor s;
	struct iothread io;
	struct event *ev;
	int fd = mkstemp(seen), p[2];

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(seen); /* the first server makes it */
	cr_assert_eq(setenv(CTL_PEER_SEEN, seen, 1), 0);
	atomic_store(&pokes, 0);
	start(&s, evil, 1);
	watch(&s, &io);
	cr_assert_eq(pipe(p), 0);
	ev = iothread_watch(&io, p[0], on_poke, NULL);
	cr_assert_not_null(ev);
	cr_assert_eq(kill(s.pid, SIGKILL), 0);
	cr_assert(deaths_within(1, 2000));
	/* The restart hand-shakes without holding the I/O thread. */
	usleep(100000);
	cr_assert_eq(write(p[1], "x", 1), 1);
	for (int i = 0; i < 500 && !atomic_load(&pokes); i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&pokes), 1, "the I/O thread was held");
	cr_assert(deaths_within(2, 5000), "the bad restart is killed");
	for (int i = 0; i < 500 && s.state != SUPERVISOR_FAILED; i++)
		usleep(1000);
	iothread_unwatch(ev);
	iothread_stop(&io);
	cr_assert_eq(s.state, SUPERVISOR_FAILED, "limit 1: the second death");
	cr_assert_eq(s.rec.restarts, 0, "it never counted as restarted");
	supervisor_stop(&s, 0);
	iothread_fini(&io);
	close(p[0]);
	close(p[1]);
	unlink(seen);
	unsetenv(CTL_PEER_SEEN);
	cr_assert_eq(log_lines_with(why), 1, "no '%s' line", why);
	cr_assert_eq(log_lines_with("no more restarts"), 1);
}

Test(supervisor_ctl, a_restarted_server_that_never_says_ready_is_killed)
{
	restart_evil("mute-restart", "no READY in time after a restart: "
				     "killing it");
}

Test(supervisor_ctl, a_restarted_server_that_is_another_device_is_killed)
{
	restart_evil("other-restart", "READY differs from the first "
				      "server's: killing it");
}
