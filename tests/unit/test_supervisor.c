/*
 * test_supervisor.c: launching the real isovm-console through the
 * supervisor: handshake to READY, fd hygiene of the child, death reported
 * from the I/O thread, shutdown that leaves no zombie.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/devproto.h"
#include "vcpu/supervisor/supervisor.h"

static char logpath[] = "/tmp/isovm-sup-XXXXXX";
static int backend = -1;
static int con_out[2] = {-1, -1}, con_in[2] = {-1, -1}; /* console pipes */
static atomic_int died, completions;

static void spec_init(struct supervisor_spec *sp, const char *bindir)
{
	memset(sp, 0, sizeof(*sp));
	sp->dev = "console";
	sp->bindir = bindir;
	sp->type = CTL_DEV_CONSOLE;
	sp->setup.cfg.console.backend = CTL_CONSOLE_FILE;
	/* The Setup wants a page-multiple region: a page-sized arena. */
	sp->geom = (struct ipc_geom){8, 8, 4096, 4};
	supervisor_spec_fd(sp, CTL_FD_BACKEND, backend);
	supervisor_spec_fd(sp, CTL_FD_OUT_PIPE, con_out[0]);
	supervisor_spec_fd(sp, CTL_FD_IN_PIPE, con_in[1]);
	sp->log_level = 0;
	sp->ready_timeout_ms = 5000;
#ifdef ISOVM_SANITIZE
	/* The sanitizers' servers are dynamic: no empty root for them. */
	sp->policy.sandbox = SANDBOX_RELAXED;
#endif
}

static void setup(void)
{
	backend = mkstemp(logpath);
	cr_assert_geq(backend, 0);
	cr_assert_eq(pipe2(con_out, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(pipe2(con_in, O_CLOEXEC | O_NONBLOCK), 0);
	atomic_store(&died, 0);
	atomic_store(&completions, 0);
}

static void teardown(void)
{
	close(backend);
	unlink(logpath);
	for (int i = 0; i < 2; i++) {
		close(con_out[i]);
		close(con_in[i]);
	}
}

TestSuite(supervisor, .init = setup, .fini = teardown);

/* Whether process pid holds an fd open on the file with inode ino. */
static bool holds_inode(pid_t pid, ino_t ino)
{
	char dir[64], path[400];
	struct dirent *e;
	struct stat st;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && stat(path, &st) == 0 &&
		    st.st_ino == ino)
			found = true;
	}
	closedir(d);
	return found;
}

Test(supervisor, server_reaches_ready_and_inherits_no_stray_fd)
{
	struct supervisor_spec sp;
	struct supervisor s;
	char err[256];
	struct stat st;
	int stray = open("/dev/zero", O_RDONLY); /* no O_CLOEXEC on purpose */

	cr_assert_geq(stray, 0);
	cr_assert_eq(fstat(stray, &st), 0);
	spec_init(&sp, SUPERVISOR_BINDIR);
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(s.pid, 0);
	cr_assert_eq(s.ready.config_len, 8, "console config bytes");
	cr_assert(!holds_inode(s.pid, st.st_ino), "a VMM fd leaked");
	supervisor_stop(&s, 0);
	cr_assert_eq(s.pid, 0);
	cr_assert_eq(s.exit_status, 0, "SHUTDOWN is a clean exit");
	close(stray);
}

Test(supervisor, a_missing_server_binary_is_a_clear_error)
{
	struct supervisor_spec sp;
	struct supervisor s;
	char err[256] = "";

	spec_init(&sp, "/nonexistent-isovm-dir");
	cr_assert_lt(supervisor_start(&s, &sp, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "isovm-console"), "%s", err);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "no child was left");
}

static void on_died(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&died, 1);
}

static void on_cpl(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&completions, 1);
}

static const struct supervisor_ops t_ops = {
	.completions = on_cpl,
	.died = on_died,
};

Test(supervisor, a_killed_server_is_reported_once_and_reaped)
{
	struct supervisor_spec sp;
	struct supervisor s;
	struct iothread io;
	char err[256];
	pid_t pid;

	spec_init(&sp, SUPERVISOR_BINDIR);
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(supervisor_watch(&s, &io, &t_ops, NULL, NULL), 0);
	cr_assert_eq(iothread_start(&io), 0);
	pid = s.pid;
	cr_assert_eq(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 2000 && !atomic_load(&died); i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&died), 1, "death reported");
	cr_assert_eq(s.exit_status & 0x7f, SIGKILL);
	cr_assert(!atomic_load(&s.alive));
	iothread_stop(&io);
	supervisor_stop(&s, 0);
	iothread_fini(&io);
	cr_assert_eq(waitpid(pid, NULL, WNOHANG), -1, "already reaped");
	cr_assert_eq(errno, ECHILD);
}

/*
 * The console's rings carry nothing of its own: it refuses any request
 * (-EOPNOTSUPP), which is all these tests need of a request. A request
 * stays in flight through a kill when a drop rule makes the first server
 * keep it (a restarted server gets the rule only if 'again').
 */
#define T_OP IPC_OP_DEV

static void spec_drop_first(struct supervisor_spec *sp)
{
	sp->policy.faults[0] = (struct ctl_fault){
		.op = CTL_OP_ANY,
		.kind = CTL_FAULT_DROP,
		.trigger = CTL_TRIGGER_EVERY_NTH,
		.every_nth = 1,
		.count = 1,
	};
	sp->policy.nfaults = 1;
}

/* The rule is in place once a stats round trip came back (the ring could
 * overtake the control socket). */
static void fault_in_place(struct supervisor *s)
{
	struct ctl_stats st;

	cr_assert_eq(supervisor_stats(s, &st, false, 5000), 0);
}

/* Post one request as the VMM would; returns its id. */
static uint64_t post(struct supervisor *s, uint32_t op, uint32_t len)
{
	struct ipc_req r;
	uint64_t off = 0;

	memset(&r, 0, sizeof(r));
	r.op = op;
	if (len)
		cr_assert_eq(ipc_arena_alloc(&s->dp.arena, len, &off), 0);
	r.arena_off = off;
	r.arena_len = len;
	cr_assert_eq(ipc_dp_vmm_submit(&s->dp, &r, NULL), 0);
	ipc_dp_vmm_kick(&s->dp);
	return r.id;
}

static atomic_int restarted, failed;

static void on_restarted(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&restarted, 1);
}

static void on_failed(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&failed, 1);
}

static const struct supervisor_ops restart_ops = {
	.completions = on_cpl,
	.died = on_died,
	.restarted = on_restarted,
	.failed = on_failed,
};

/* Wait up to 3 s for *v to reach want. */
static bool wait_count(atomic_int *v, int want)
{
	for (int i = 0; i < 3000 && atomic_load(v) < want; i++)
		usleep(1000);
	return atomic_load(v) >= want;
}

/*
 * A restart asked for (the API's) kills the server and starts another at
 * once, which gets the request in flight again; it is not counted against
 * the policy's limit (here 0: no restart after a crash). The new server,
 * forked for the I/O thread, outlives that thread: it still answers after
 * the thread was joined, as it must at shutdown.
 */
Test(supervisor, an_asked_restart_replays_what_was_in_flight)
{
	struct supervisor_spec sp;
	struct supervisor s;
	struct iothread io;
	struct ipc_dp_done done[8];
	char err[256];
	uint64_t in_id;
	pid_t old;
	int n = 0, got_in = 0;

	atomic_store(&restarted, 0);
	atomic_store(&failed, 0);
	spec_init(&sp, SUPERVISOR_BINDIR);
	spec_drop_first(&sp);
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	fault_in_place(&s);
	in_id = post(&s, T_OP, 64); /* dropped: kept in flight */
	old = s.pid;
	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(supervisor_watch(&s, &io, &restart_ops, NULL, NULL), 0);
	cr_assert_eq(iothread_start(&io), 0);
	cr_assert_eq(supervisor_restart_asked(&s), 0);
	cr_assert(wait_count(&restarted, 1), "no restart");
	iothread_stop(&io);
	cr_assert_eq(atomic_load(&failed), 0);
	cr_assert_eq(s.state, SUPERVISOR_RUNNING);
	cr_assert_neq(s.pid, old);
	cr_assert_gt(s.pid, 0);
	cr_assert_eq(waitpid(old, NULL, WNOHANG), -1, "old one reaped");
	cr_assert_eq(s.rec.restarts, 1);
	cr_assert_eq(s.rec.replayed, 1, "one request replayed");
	cr_assert_str_eq(s.rec.last_cause, "killed: restart asked for");
	/* The new server has no drop rule: it answers the replayed one,
	 * also after the I/O thread was joined. */
	for (int i = 0; i < 200 && n < 1; i++) {
		int k;

		ipc_notify_wait(&s.dp.cq_wait, 10);
		k = ipc_dp_vmm_reap(&s.dp, done + n, 8 - (unsigned)n);
		cr_assert_geq(k, 0);
		n += k;
	}
	cr_assert_eq(n, 1, "the restarted server died with the I/O thread");
	for (int i = 0; i < n; i++)
		if (done[i].req.id == in_id) {
			got_in = 1;
			cr_assert_eq(done[i].status, -EOPNOTSUPP);
		}
	cr_assert(got_in, "the replayed request was answered by the new "
			  "server");
	supervisor_stop(&s, 0);
	cr_assert_eq(s.exit_status, 0, "it stopped on SHUTDOWN, not killed");
	iothread_fini(&io);
}

/*
 * Killed servers come back on their own, the request in flight replayed
 * to each, until the policy's limit: the next death fails the device.
 */
Test(supervisor, killed_servers_are_restarted_until_the_limit)
{
	struct supervisor_spec sp;
	struct supervisor s;
	struct iothread io;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	char err[256], line[256];
	pid_t pid;

	atomic_store(&restarted, 0);
	atomic_store(&failed, 0);
	spec_init(&sp, SUPERVISOR_BINDIR);
	sp.policy.restart_limit = 2;
	sp.policy.restart_window_ms = 60000;
	spec_drop_first(&sp);
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	fault_in_place(&s);
	/* Never reaped here: in flight through every restart. */
	post(&s, T_OP, 64);
	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(supervisor_watch(&s, &io, &restart_ops, NULL, &lock), 0);
	cr_assert_eq(iothread_start(&io), 0);
	for (int i = 1; i <= 3; i++) {
		pid = s.pid;
		cr_assert_gt(pid, 0);
		cr_assert_eq(kill(pid, SIGKILL), 0);
		cr_assert(wait_count(&died, i), "death %d reported", i);
		if (i < 3) {
			cr_assert(wait_count(&restarted, i), "restart %d", i);
			cr_assert_neq(s.pid, pid);
			cr_assert(atomic_load(&s.alive));
		}
	}
	cr_assert(wait_count(&failed, 1), "the third death fails it");
	cr_assert_eq(atomic_load(&restarted), 2);
	cr_assert(!atomic_load(&s.alive));
	iothread_stop(&io);
	cr_assert_eq(s.state, SUPERVISOR_FAILED);
	cr_assert_eq(s.rec.deaths, 3);
	cr_assert_eq(s.rec.restarts, 2);
	cr_assert_eq(s.rec.replayed, 2, "the request, once per restart");
	cr_assert(s.rec.failed);
	/* The second came back after a back-off: it died young. */
	cr_assert_geq(s.rec.max_restart_us, SUPERVISOR_BACKOFF_MIN_MS * 1000);
	supervisor_record_line(&s, "console", line, sizeof(line));
	cr_assert_not_null(strstr(line, "deaths=3 restarts=2 replayed=2 "),
			   "%s", line);
	cr_assert_not_null(strstr(line, "last_cause=killed by signal 9"),
			   "%s", line);
	cr_assert_not_null(strstr(line, " failed"), "%s", line);
	supervisor_stop(&s, 0);
	iothread_fini(&io);
}

/*
 * A restart that cannot start a server (its program is gone) counts like a
 * death: tried again after a back-off, then the device fails.
 */
Test(supervisor, a_restart_that_cannot_start_a_server_fails_the_device)
{
	char dir[] = "/tmp/isovm-supbin-XXXXXX", cmd[512], line[256];
	struct supervisor_spec sp;
	struct supervisor s;
	struct iothread io;
	char err[256];

	atomic_store(&restarted, 0);
	atomic_store(&failed, 0);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp %s/isovm-console %s/", SUPERVISOR_BINDIR,
		 dir);
	cr_assert_eq(system(cmd), 0);
	spec_init(&sp, dir);
	sp.policy.restart_limit = 3;
	sp.policy.restart_window_ms = 60000;
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(supervisor_watch(&s, &io, &restart_ops, NULL, NULL), 0);
	cr_assert_eq(iothread_start(&io), 0);
	cr_assert_eq(kill(s.pid, SIGKILL), 0);
	cr_assert(wait_count(&failed, 1), "the device never failed");
	iothread_stop(&io);
	cr_assert_eq(atomic_load(&restarted), 0);
	cr_assert_eq(s.rec.deaths, 1, "one server died; the rest never ran");
	supervisor_record_line(&s, "console", line, sizeof(line));
	cr_assert_not_null(strstr(line, "last_cause=restart failed: No such "
					"file or directory failed"),
			   "%s", line);
	supervisor_stop(&s, 0);
	iothread_fini(&io);
}

/*
 * A hostile server's tricks with the wake-up fds it was handed. The test
 * plays that server with the same fds (the supervisor keeps them for a
 * restart); the real server is stopped first so that it cannot undo the
 * trick. Every VMM thread must stay responsive: the I/O thread still
 * reports the server's death.
 */
struct trick {
	struct supervisor *s;
	int pipe[2];	  /* makes the I/O thread run trick_cb */
	atomic_int calls; /* trick_cb runs */
	void (*act)(struct trick *t);
};

static void trick_cb(int fd, void *arg)
{
	struct trick *t = arg;
	char c;

	if (read(fd, &c, 1) != 1)
		return;
	t->act(t);
	atomic_fetch_add(&t->calls, 1);
}

/* SIGSTOP the server and wait until it is stopped. */
static void trick_freeze(pid_t pid)
{
	char path[64], buf[512], *p = NULL;
	FILE *f;

	cr_assert_eq(kill(pid, SIGSTOP), 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 2000; i++, usleep(1000)) {
		f = fopen(path, "r");
		cr_assert_not_null(f);
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p && p[1] == ' ' && p[2] == 'T')
			return;
	}
	cr_assert_fail("server %d did not stop", (int)pid);
}

/* Wait up to 3 s for *v to reach want. */
static bool trick_wait(atomic_int *v, int want)
{
	for (int i = 0; i < 3000 && atomic_load(v) < want; i++)
		usleep(1000);
	return atomic_load(v) >= want;
}

/* Start, freeze the server, watch t->pipe first and then the server. */
static void trick_start(struct trick *t, struct supervisor *s,
			struct iothread *io, struct event **ev)
{
	struct supervisor_spec sp;
	char err[256];

	spec_init(&sp, SUPERVISOR_BINDIR);
	cr_assert_eq(supervisor_start(s, &sp, err, sizeof(err)), 0, "%s", err);
	trick_freeze(s->pid);
	t->s = s;
	atomic_store(&t->calls, 0);
	cr_assert_eq(pipe(t->pipe), 0);
	cr_assert_eq(iothread_init(io), 0);
	*ev = iothread_watch(io, t->pipe[0], trick_cb, t);
	cr_assert_not_null(*ev);
}

static void trick_end(struct trick *t, struct supervisor *s,
		      struct iothread *io, struct event *ev)
{
	cr_assert_eq(kill(s->pid, SIGKILL), 0);
	cr_assert(trick_wait(&died, 1), "the I/O thread reported the death");
	iothread_stop(io);
	iothread_unwatch(ev);
	supervisor_stop(s, 0);
	iothread_fini(io);
	close(t->pipe[0]);
	close(t->pipe[1]);
}

/* The front kicks from the I/O thread (and vCPUs and main do too). */
static void trick_kick(struct trick *t)
{
	ipc_dp_vmm_kick(&t->s->dp);
}

Test(supervisor, a_server_filling_its_kick_fd_blocks_no_vmm_thread,
     .timeout = 30)
{
	uint64_t max = 0xfffffffffffffffeull;
	struct trick t = {.act = trick_kick};
	struct supervisor s;
	struct iothread io;
	struct event *ev;
	int fd;

	trick_start(&t, &s, &io, &ev);
	cr_assert_eq(supervisor_watch(&s, &io, &t_ops, NULL, NULL), 0);
	cr_assert_eq(iothread_start(&io), 0);
	/* The server's trick: its kick fd full, never read, a kick asked. */
	fd = s.dp.srv_kick_fd;
	if (write(fd, &max, sizeof(max)) < 0)
		cr_log_info("kick fd not writable by the server: %d", errno);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	atomic_store(&s.dp.sq.hdr->need_wakeup, 1);
	cr_assert_eq(write(t.pipe[1], "k", 1), 1);
	cr_assert(trick_wait(&t.calls, 1), "the I/O thread's kick returned");
	/* The main thread's kick (a reboot) returns too. */
	atomic_store(&s.dp.sq.hdr->need_wakeup, 1);
	cr_assert_geq(ipc_dp_vmm_kick(&s.dp), 0);
	trick_end(&t, &s, &io, ev);
}

/* The server's trick, run on the I/O thread between its wake-up and the
 * completion callback: the call fd made blocking, its wake-up taken back. */
static void trick_steal(struct trick *t)
{
	int fd = t->s->dp.srv_call_fd;
	uint64_t v;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (read(fd, &v, sizeof(v)) < 0) {
		/* Not readable by the server: nothing to take back. */
	}
}

Test(supervisor, a_server_taking_back_its_wakeup_blocks_no_vmm_thread,
     .timeout = 30)
{
	struct trick t = {.act = trick_steal};
	struct supervisor s;
	struct iothread io;
	struct event *ev;
	uint64_t one = 1;

	trick_start(&t, &s, &io, &ev);
	/*
	 * Both fds readable before the loop starts, the trick's first: one
	 * pass of the loop runs trick_cb, then the completion callback.
	 */
	cr_assert_eq(write(t.pipe[1], "s", 1), 1);
	cr_assert_eq(write(s.dp.srv_call_fd, &one, sizeof(one)),
		     (ssize_t)sizeof(one), "the server's wake-up");
	cr_assert_eq(supervisor_watch(&s, &io, &t_ops, NULL, NULL), 0);
	cr_assert_eq(iothread_start(&io), 0);
	cr_assert(trick_wait(&t.calls, 1), "the trick ran");
	trick_end(&t, &s, &io, ev);
}
