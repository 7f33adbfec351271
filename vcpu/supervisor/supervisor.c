/* supervisor.c: launch, hand-shake, watch and stop one device server. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc/ctl_channel.h"
#include "proto/proto_version.h"
#include "vcpu/clock.h"
#include "vcpu/log.h"
#include "sandbox/escape.h"
#include "vcpu/supervisor/spawner.h"
#include "vcpu/supervisor/supervisor.h"

static const char *const supervisor_levels[] = {
	"error",
	"warn",
	"info",
	"debug",
};

static int supervisor_path(const struct supervisor_spec *spec, char *path,
			   size_t len)
{
	char exe[PATH_MAX];
	const char *dir = spec->bindir;
	ssize_t n;

	if (!dir) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return -errno;
		exe[n] = '\0';
		dir = dirname(exe);
	}
	if ((size_t)snprintf(path, len, "%s/isovm-%s", dir, spec->dev) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static const char *supervisor_seccomp_arg(const struct supervisor_policy *p)
{
	if (p->sandbox == SANDBOX_OFF)
		return "off";
	return p->seccomp_debug ? "debug" : "on";
}

/*
 * Start a server through the launcher: it gets its control socket at fd
 * 3, the log pipe as stdout and stderr, and nothing else.
 */
static int supervisor_spawn(struct supervisor *s,
			    const struct supervisor_spec *spec, char *err,
			    size_t errlen)
{
	char name[32], warn[SANDBOX_TEXT_MAX], why[SANDBOX_TEXT_MAX];
	int sv[2], ret, lvl = spec->log_level, pidfd;
	const char *argv[] = {name,	   "--ctl-fd",	"3",
			      "--log-level", NULL,	"--seccomp",
			      supervisor_seccomp_arg(&spec->policy), NULL};
	struct sandbox_spawn sp = {
		.path = s->path,
		.argv = argv,
		.log_fd = s->log.wr,
		.mode = spec->policy.sandbox,
		.limits = spec->limits,
	};
	pid_t pid;

	/* Once, at start: a restart (on a confined thread) reuses it. */
	if (!s->path[0]) {
		ret = supervisor_path(spec, s->path, sizeof(s->path));
		if (ret)
			return errf(err, errlen, ret,
				    "cannot find isovm-%s: %s", spec->dev,
				    strerror(-ret));
		if (access(s->path, X_OK)) {
			ret = -errno;
			errf(err, errlen, ret, "cannot run %s: %s", s->path,
			     strerror(-ret));
			s->path[0] = '\0';
			return ret;
		}
	}
	snprintf(name, sizeof(name), "isovm-%s", spec->dev);
	if (lvl < 0 || lvl > 3)
		lvl = 1;
	argv[4] = supervisor_levels[lvl];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return errf(err, errlen, -errno, "socketpair: %s",
			    strerror(errno));
	/*
	 * Our end alone is non-blocking (socketpair's ends are two file
	 * descriptions): a server that stops reading fills its queue, and a
	 * send must then fail, not stop the I/O thread until it reads.
	 */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		return errf(err, errlen, ret, "control socket: %s",
			    strerror(-ret));
	}
	sp.ctl_fd = sv[1];
	pid = spawner_spawn(&sp, &pidfd, warn, sizeof(warn), why, sizeof(why));
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return errf(err, errlen, pid, "%s server: %s", s->dev, why);
	}
	/* Relaxed: say once what the jail lacks, not at every restart. */
	if (warn[0] && !s->jail_warned) {
		log_warn("%s server: sandbox relaxed: %s", s->dev, warn);
		s->jail_warned = true;
	}
	s->pid = pid;
	s->ctl_fd = sv[0];
	s->pidfd = pidfd;
	atomic_store(&s->alive, true);
	return 0;
}

/* Milliseconds left until 'deadline' (CLOCK_MONOTONIC ns), at least 0. */
static int supervisor_left_ms(uint64_t deadline)
{
	uint64_t now = clock_now_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
}

/*
 * A console socket server took a client (its fd in fds[0], taken from
 * there) or dropped it: the one kept before is closed either way. False
 * when the device has no such client: a protocol error.
 */
static bool supervisor_on_client(struct supervisor *s, const struct ctl_msg *m,
				 int *fds)
{
	if (s->type != CTL_DEV_CONSOLE ||
	    s->spec.setup.cfg.console.backend != CTL_CONSOLE_SOCKET)
		return false;
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	if (m->u.client.present) {
		s->client_fd = fds[0];
		fds[0] = -1;
	}
	return true;
}

/* One control message within the deadline; fds are not expected, but
 * for a client, kept on the way. */
static int supervisor_recv(struct supervisor *s, struct ctl_msg *m,
			   uint64_t deadline)
{
	struct pollfd p = {.fd = s->ctl_fd, .events = POLLIN};
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	int ret;

again:
	do
		ret = poll(&p, 1, supervisor_left_ms(deadline));
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	ret = ctl_recv(s->ctl_fd, m, fds, CTL_SETUP_MAX_FDS, &nfds);
	/* The socket is non-blocking: readable may still find nothing. */
	if (ret == -EAGAIN || ret == -EINTR)
		goto again;
	if (!ret && m->type == CTL_CLIENT && supervisor_on_client(s, m, fds))
		goto again;
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!ret && (nfds || m->type == CTL_CLIENT))
		return -EPROTO;
	return ret;
}

static int supervisor_setup(struct supervisor *s,
			    const struct supervisor_spec *spec, char *err,
			    size_t errlen)
{
	struct ctl_msg m = {.type = CTL_SETUP};
	struct ctl_setup *st = &m.u.setup;
	int fds[CTL_SETUP_MAX_FDS];
	unsigned n = 0;
	int ret;

	*st = spec->setup;
	st->dev_type = spec->type;
	ctl_geometry_from_ipc(&spec->geom, s->dp.reg.size, &st->geo);
	st->fds[n] = CTL_FD_MEMFD;
	fds[n++] = s->dp.reg.fd;
	st->fds[n] = CTL_FD_KICK;
	fds[n++] = s->dp.srv_kick_fd;
	st->fds[n] = CTL_FD_CALL;
	fds[n++] = s->dp.srv_call_fd;
	for (unsigned i = 0; i < spec->nfds && i < SUPERVISOR_MAX_FDS; i++) {
		st->fds[n] = spec->fds[i].role;
		fds[n++] = spec->fds[i].fd;
	}
	/* A client the last server had: the next one resumes with it. */
	if (s->client_fd >= 0 && n < CTL_SETUP_MAX_FDS) {
		st->fds[n] = CTL_FD_CLIENT;
		fds[n++] = s->client_fd;
	}
	st->nfds = n;
	ret = ctl_send(s->ctl_fd, &m, fds, n);
	if (ret)
		return errf(err, errlen, ret,
			    "%s server: cannot send SETUP: %s", s->dev,
			    strerror(-ret));
	return 0;
}

/*
 * One message of the hand-shake: the server's HELLO is answered with ours
 * and SETUP (0: more to come), its READY ends it (1). A CTL_ERROR or any
 * other message is an error, described in err.
 */
static int supervisor_hs_step(struct supervisor *s, const struct ctl_msg *m,
			      char *err, size_t errlen)
{
	enum ctl_type want = s->hs_hello ? CTL_READY : CTL_HELLO;
	struct ctl_msg r;
	int ret;

	if (m->type == CTL_ERROR)
		return errf(err, errlen, -(int)m->u.error.code,
			    "%s server failed: %s", s->dev, m->u.error.text);
	if (m->type != want)
		return errf(err, errlen, -EPROTO, "%s server: %s instead of %s",
			    s->dev, ctl_type_name(m->type),
			    ctl_type_name(want));
	if (want == CTL_READY)
		return 1;
	if (m->u.hello.role != CTL_ROLE_SERVER ||
	    m->u.hello.dev_type != s->spec.type)
		return errf(err, errlen, -EPROTO,
			    "%s server: HELLO of the wrong role or device",
			    s->dev);
	memset(&r, 0, sizeof(r));
	r.type = CTL_HELLO;
	r.u.hello.version = ISOVM_PROTO_VERSION;
	r.u.hello.role = CTL_ROLE_VMM;
	r.u.hello.pid = (uint32_t)getpid();
	ret = ctl_send(s->ctl_fd, &r, NULL, 0);
	if (ret)
		return errf(err, errlen, ret,
			    "%s server: cannot send HELLO: %s", s->dev,
			    strerror(-ret));
	s->hs_hello = true;
	return supervisor_setup(s, &s->spec, err, errlen);
}

/* The faults the policy asks for, into the server that just said READY
 * (a restarted one gets only those marked again). */
static void supervisor_send_faults(struct supervisor *s, bool restarted)
{
	const struct supervisor_policy *p = &s->spec.policy;
	struct ctl_msg m = {.type = CTL_FAULT};

	for (unsigned i = 0; i < p->nfaults && i < SUPERVISOR_FAULTS_MAX; i++) {
		if (restarted && !p->again[i])
			continue;
		m.u.fault = p->faults[i];
		if (ctl_send(s->ctl_fd, &m, NULL, 0))
			log_warn("%s server: cannot send a fault rule",
				 s->dev);
	}
}

/* The whole hand-shake, blocking, within ms. */
static int supervisor_handshake(struct supervisor *s, unsigned ms, char *err,
				size_t errlen)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)ms * 1000000u;
	struct ctl_msg m;
	int ret;

	s->hs_hello = false;
	do {
		ret = supervisor_recv(s, &m, deadline);
		if (ret == -ETIMEDOUT)
			return errf(err, errlen, ret, "%s server: no %s in time",
				    s->dev, s->hs_hello ? "READY" : "HELLO");
		if (ret)
			return errf(err, errlen, ret,
				    "%s server: control channel: %s", s->dev,
				    strerror(-ret));
		ret = supervisor_hs_step(s, &m, err, errlen);
	} while (ret == 0);
	if (ret < 0)
		return ret;
	s->ready = m.u.ready;
	return 0;
}

/* Wait up to ms for the server to end and reap it; true when it did. */
static bool supervisor_reap(struct supervisor *s, int ms)
{
	struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
	siginfo_t si;
	int ret;

	do
		ret = poll(&p, 1, ms);
	while (ret < 0 && errno == EINTR);
	if (ret <= 0)
		return false;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG) < 0 ||
	    !si.si_pid)
		return false;
	s->exit_status = si.si_code == CLD_EXITED ? si.si_status << 8
						  : si.si_status & 0x7f;
	s->pid = 0;
	atomic_store(&s->alive, false);
	return true;
}

static void supervisor_kill_reap(struct supervisor *s)
{
	if (!s->pid)
		return;
	pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
	supervisor_reap(s, -1);
}

int supervisor_spec_fd(struct supervisor_spec *spec, enum ctl_fd_role role,
		       int fd)
{
	if (fd < 0)
		return 0;
	if (spec->nfds >= SUPERVISOR_MAX_FDS)
		return -E2BIG;
	spec->fds[spec->nfds].role = role;
	spec->fds[spec->nfds++].fd = fd;
	return 0;
}

int supervisor_start(struct supervisor *s, const struct supervisor_spec *spec,
		     char *err, size_t errlen)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->pidfd = -1;
	s->ctl_fd = -1;
	s->client_fd = -1;
	s->type = spec->type;
	s->generation = 1;
	s->spec = *spec;
	s->state = SUPERVISOR_RUNNING;
	s->await_from = UINT64_MAX;
	snprintf(s->dev, sizeof(s->dev), "%s",
		 spec->name ? spec->name : spec->dev);
	ret = server_log_open(&s->log);
	if (ret)
		return errf(err, errlen, ret, "%s server log: %s", s->dev,
			    strerror(-ret));
	ret = ipc_dp_vmm_open(&s->dp, &spec->geom, s->generation);
	if (ret) {
		server_log_close(&s->log);
		return errf(err, errlen, ret, "%s data plane: %s", s->dev,
			    strerror(-ret));
	}
	s->dp_open = true;
	ret = supervisor_spawn(s, spec, err, errlen);
	if (ret)
		goto err_close_dp;
	ret = supervisor_handshake(s,
				   spec->ready_timeout_ms
					   ? spec->ready_timeout_ms
					   : SUPERVISOR_READY_TIMEOUT_MS,
				   err, errlen);
	if (ret)
		goto err_kill;
	supervisor_send_faults(s, false);
	s->ready_ms = clock_now_ms();
	log_info("%s server (pid %d) ready", s->dev, (int)s->pid);
	return 0;

err_kill:
	supervisor_kill_reap(s);
	close(s->pidfd);
	close(s->ctl_fd);
	s->pidfd = s->ctl_fd = -1;
err_close_dp:
	ipc_dp_vmm_close(&s->dp);
	s->dp_open = false;
	/* The server's last words come before ours. */
	server_log_close(&s->log);
	return ret;
}

/* Why the server ended, in words, into s->rec.last_cause. */
static void supervisor_note_cause(struct supervisor *s)
{
	int st = s->exit_status;
	char *c = s->rec.last_cause;
	size_t len = sizeof(s->rec.last_cause);

	if (s->kill_why[0])
		snprintf(c, len, "killed: %s", s->kill_why);
	else if ((st & 0x7f) == SIGSYS)
		/* What seccomp's kill looks like from here. */
		snprintf(c, len, "killed by signal %d (SIGSYS: a call its "
				 "seccomp filter refuses)",
			 SIGSYS);
	else if (st & 0x7f)
		snprintf(c, len, "killed by signal %d (%s)", st & 0x7f,
			 strsignal(st & 0x7f));
	else
		snprintf(c, len, "exit status %d", st >> 8);
	s->kill_why[0] = '\0';
}

static void supervisor_unwatch_server(struct supervisor *s)
{
	if (s->ev_pid)
		iothread_unwatch(s->ev_pid);
	if (s->ev_ctl)
		iothread_unwatch(s->ev_ctl);
	s->ev_pid = s->ev_ctl = NULL;
}

static void supervisor_unwatch(struct supervisor *s)
{
	supervisor_unwatch_server(s);
	if (s->ev_cq)
		iothread_unwatch(s->ev_cq);
	s->ev_cq = NULL;
	if (s->log.ev)
		iothread_unwatch(s->log.ev);
	s->log.ev = NULL;
}

/* Forget the old server: watches, pidfd, control socket. */
static void supervisor_drop_server(struct supervisor *s)
{
	supervisor_kill_reap(s);
	supervisor_unwatch_server(s);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	s->pidfd = s->ctl_fd = -1;
}

static void supervisor_pid_event(int fd, void *arg);
static void supervisor_ctl_event(int fd, void *arg);
static void supervisor_on_escape_result(struct supervisor *s,
					const struct ctl_msg *m);

static int supervisor_watch_server(struct supervisor *s)
{
	if (!s->io)
		return 0;
	s->ev_pid = iothread_watch(s->io, s->pidfd, supervisor_pid_event, s);
	s->ev_ctl = iothread_watch(s->io, s->ctl_fd, supervisor_ctl_event, s);
	if (!s->ev_pid || !s->ev_ctl) {
		supervisor_unwatch_server(s);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The old server is gone (reaped): reap what it completed, reset the data
 * plane with every request still in flight posted again, and start a new
 * server (not yet hand-shaken). Returns the number replayed or -errno,
 * with one line in err.
 */
static int supervisor_relaunch(struct supervisor *s, char *err, size_t errlen)
{
	int replayed, ret;

	/* Completions in an intact ring are real: served, not replayed. */
	if (s->ops && s->ops->completions)
		s->ops->completions(s->opaque);
	if (s->ops && s->ops->salvage)
		s->ops->salvage(s->opaque);
	if (s->dp_lock)
		pthread_mutex_lock(s->dp_lock);
	replayed = ipc_dp_vmm_restart(&s->dp, ++s->generation);
	if (s->dp_lock)
		pthread_mutex_unlock(s->dp_lock);
	if (replayed < 0)
		return errf(err, errlen, replayed,
			    "%s data plane: restart failed: %s", s->dev,
			    strerror(-replayed));
	ret = supervisor_spawn(s, &s->spec, err, errlen);
	if (ret)
		return ret;
	s->hs_hello = false;
	return replayed;
}

/*
 * After completions were reaped: the first one a restarted server made
 * ends its recovery (logged at debug with the monotonic clock, for
 * bench/restart to match against its kill times).
 */
static void supervisor_note_progress(struct supervisor *s)
{
	uint64_t now;

	if (s->await_from == UINT64_MAX || s->dp.completed <= s->await_from)
		return;
	now = clock_now_ns();
	s->await_from = UINT64_MAX;
	s->rec.last_recover_us = (now - s->down_ns) / 1000u;
	log_debug("%s server: first completion after the restart at "
		  "monotonic %llu ns, %llu us after its death was seen",
		  s->dev, (unsigned long long)now,
		  (unsigned long long)s->rec.last_recover_us);
}

/* The new server is READY: it serves from now on. */
static void supervisor_ready_again(struct supervisor *s, int replayed)
{
	uint64_t us = (clock_now_ns() - s->down_ns) / 1000u;

	supervisor_send_faults(s, true);
	s->state = SUPERVISOR_RUNNING;
	s->ready_ms = clock_now_ms();
	s->wd_since_ms = s->ready_ms;
	s->rec.restarts++;
	s->rec.replayed += (uint64_t)replayed;
	s->rec.last_restart_us = us;
	if (us > s->rec.max_restart_us)
		s->rec.max_restart_us = us;
	log_warn("%s server restarted (pid %d) in %llu.%03llu ms after: %s; "
		 "%d requests replayed",
		 s->dev, (int)s->pid, (unsigned long long)(us / 1000),
		 (unsigned long long)(us % 1000), s->rec.last_cause, replayed);
	s->await_from = s->dp.completed;
	if (s->ops && s->ops->restarted)
		s->ops->restarted(s->opaque);
	supervisor_note_progress(s);
}

/* Too many deaths: the device is failed for good, the VM runs on. */
static void supervisor_give_up(struct supervisor *s)
{
	s->state = SUPERVISOR_FAILED;
	s->rec.failed = true;
	if (!s->spec.policy.restart_limit)
		log_error("%s server: restarts are off: the device is marked "
			  "NEEDS_RESET and the VM runs on",
			  s->dev);
	else
		log_error("%s server failed %u times within %u s: no more "
			  "restarts; the device is marked NEEDS_RESET and the "
			  "VM runs on",
			  s->dev, s->window_deaths,
			  s->spec.policy.restart_window_ms / 1000u);
	if (s->ops && s->ops->failed)
		s->ops->failed(s->opaque);
}

/* I/O thread: a server (running or starting) ended and was reaped. */
/*
 * I/O thread: no server runs (it died, or a restart could not start one):
 * schedule the next start as the policy says, or give up. was_stable: the
 * one that died had served SUPERVISOR_STABLE_MS, so no back-off.
 */
static void supervisor_reschedule(struct supervisor *s, bool was_stable)
{
	const struct supervisor_policy *p = &s->spec.policy;
	uint64_t now = clock_now_ms();

	if (s->state == SUPERVISOR_STOPPED || !s->ev_restart)
		return;
	if (s->asked) {
		/* Asked for: at once, and no failure of the server's. */
		s->asked = false;
		s->backoff_ms = 0;
		goto schedule;
	}
	if (!s->window_deaths || now - s->window_ms > p->restart_window_ms) {
		s->window_ms = now;
		s->window_deaths = 0;
	}
	if (++s->window_deaths > p->restart_limit) {
		supervisor_give_up(s);
		return;
	}
	if (was_stable || !s->backoff_ms)
		s->backoff_ms = was_stable ? 0 : SUPERVISOR_BACKOFF_MIN_MS;
	else if (s->backoff_ms < SUPERVISOR_BACKOFF_MAX_MS)
		s->backoff_ms = s->backoff_ms * 2 < SUPERVISOR_BACKOFF_MAX_MS
					? s->backoff_ms * 2
					: SUPERVISOR_BACKOFF_MAX_MS;
schedule:
	s->state = SUPERVISOR_DOWN;
	s->down_ns = clock_now_ns();
	if (iothread_later(s->ev_restart, s->backoff_ms)) {
		snprintf(s->rec.last_cause, sizeof(s->rec.last_cause),
			 "cannot schedule a restart: out of memory");
		supervisor_give_up(s);
	}
}

/* I/O thread: a server (running or starting) ended and was reaped. */
static void supervisor_on_death(struct supervisor *s, pid_t pid)
{
	bool was_stable = s->state == SUPERVISOR_RUNNING &&
			  clock_now_ms() - s->ready_ms >= SUPERVISOR_STABLE_MS;

	supervisor_note_cause(s);
	log_error("%s server (pid %d) died: %s", s->dev, (int)pid,
		  s->rec.last_cause);
	s->rec.deaths++;
	supervisor_drop_server(s);
	if (s->ops && s->ops->died)
		s->ops->died(s->opaque);
	supervisor_reschedule(s, was_stable);
}

/* I/O thread: the back-off ended (restart now), or a restarted server
 * ran out of time for its hand-shake (kill it: that is a death too). */
static void supervisor_restart_event(void *arg)
{
	struct supervisor *s = arg;
	char err[256];
	int ret;

	if (s->state == SUPERVISOR_STARTING) {
		supervisor_kill(s, "no READY in time after a restart");
		return;
	}
	if (s->state != SUPERVISOR_DOWN)
		return;
	ret = supervisor_relaunch(s, err, sizeof(err));
	if (ret >= 0) {
		s->hs_replayed = ret;
		ret = supervisor_watch_server(s);
		if (ret)
			snprintf(err, sizeof(err), "%s: watch: %s", s->dev,
				 strerror(-ret));
	}
	if (ret < 0) {
		/* Counted like a death: tried again after a back-off, up to
		 * the policy's limit (a fork that failed may work later). */
		log_error("%s", err);
		snprintf(s->rec.last_cause, sizeof(s->rec.last_cause),
			 "restart failed: %s", strerror(-ret));
		supervisor_drop_server(s);
		supervisor_reschedule(s, false);
		return;
	}
	s->state = SUPERVISOR_STARTING;
	iothread_later(s->ev_restart, SUPERVISOR_RESTART_READY_MS);
}

/* I/O thread: a hand-shake message from a restarted server. */
static void supervisor_hs_event(struct supervisor *s)
{
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	struct ctl_msg m;
	char err[256];
	int ret = ctl_recv(s->ctl_fd, &m, fds, CTL_SETUP_MAX_FDS, &nfds);

	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (ret == -EAGAIN || ret == -EINTR)
		return;
	if (ret == -EPIPE || ret == -ECONNRESET)
		goto unwatch; /* it died: the pidfd says how */
	if (ret || nfds) {
		supervisor_kill(s, "unreadable hand-shake message");
		goto unwatch;
	}
	ret = supervisor_hs_step(s, &m, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		supervisor_kill(s, "hand-shake failed");
		goto unwatch;
	}
	if (ret == 0)
		return;
	/* The guest negotiated with the first server: the same device. */
	if (m.u.ready.features != s->ready.features ||
	    m.u.ready.config_len != s->ready.config_len ||
	    memcmp(m.u.ready.config, s->ready.config, s->ready.config_len)) {
		supervisor_kill(s, "READY differs from the first server's");
		return;
	}
	iothread_cancel(s->ev_restart);
	supervisor_ready_again(s, s->hs_replayed);
	return;

unwatch:
	/* A closed or broken socket stays readable: stop listening. */
	iothread_unwatch(s->ev_ctl);
	s->ev_ctl = NULL;
}

/* I/O thread: the pidfd is readable, the server ended. */
static void supervisor_pid_event(int fd, void *arg)
{
	struct supervisor *s = arg;
	pid_t pid = s->pid;

	(void)fd;
	if (!pid || !supervisor_reap(s, 0))
		return;
	server_log_drain(&s->log);
	supervisor_on_death(s, pid);
}

/* I/O thread: the server pushed completions and woke us. */
static void supervisor_cq_event(int fd, void *arg)
{
	struct supervisor *s = arg;

	(void)fd;
	/* Our own non-blocking end: returns at once, even if empty. */
	if (ipc_notify_drain(&s->dp.cq_wait) < 0)
		return;
	if (s->ops && s->ops->completions)
		s->ops->completions(s->opaque);
	supervisor_note_progress(s);
}

/* I/O thread, every quarter of the watchdog's time: a server with
 * requests pending that completes none for that long is hung. */
static void supervisor_watchdog_event(void *arg)
{
	struct supervisor *s = arg;
	unsigned ms = s->spec.policy.watchdog_ms;
	uint64_t now = clock_now_ms(), done;
	uint32_t pending;
	char why[64];

	if (s->dp_lock)
		pthread_mutex_lock(s->dp_lock);
	pending = ipc_inflight_count(&s->dp.inf);
	done = s->dp.completed;
	if (s->dp_lock)
		pthread_mutex_unlock(s->dp_lock);
	if (s->state != SUPERVISOR_RUNNING || !pending ||
	    done != s->wd_completed) {
		s->wd_completed = done;
		s->wd_since_ms = now;
	} else if (now - s->wd_since_ms >= ms) {
		snprintf(why, sizeof(why),
			 "watchdog: %u requests pending, none done in %u ms",
			 pending, ms);
		supervisor_kill(s, why);
		s->wd_since_ms = now;
	}
	if (s->state != SUPERVISOR_FAILED && s->state != SUPERVISOR_STOPPED)
		iothread_later(s->ev_watchdog, ms / 4 ? ms / 4 : 1);
}

/* Take a token from the CTL_ERROR bucket; false when it is empty. */
static bool supervisor_error_token(struct supervisor *s)
{
	uint64_t now = clock_now_ms(), back;

	if (!s->err_spent)
		s->err_since_ms = now;
	back = (now - s->err_since_ms) / SUPERVISOR_ERROR_REFILL_MS;
	if (back >= s->err_spent) {
		s->err_spent = 0;
		s->err_since_ms = now;
	} else {
		s->err_spent -= (unsigned)back;
		s->err_since_ms += back * SUPERVISOR_ERROR_REFILL_MS;
	}
	if (s->err_spent >= SUPERVISOR_ERROR_BURST)
		return false;
	s->err_spent++;
	return true;
}

/*
 * A CTL_ERROR the server sent, asked for or not: one line while the
 * bucket holds a token, else the server is killed. False after a kill.
 */
static bool supervisor_on_error(struct supervisor *s, const struct ctl_msg *m)
{
	char why[96];

	if (!supervisor_error_token(s)) {
		snprintf(why, sizeof(why),
			 "flood of errors (limit %d, then one per %d ms)",
			 SUPERVISOR_ERROR_BURST, SUPERVISOR_ERROR_REFILL_MS);
		supervisor_kill(s, why);
		return false;
	}
	log_error("%s server (pid %d) reports: %s (%s)", s->dev, (int)s->pid,
		  m->u.error.text, strerror((int)m->u.error.code));
	return true;
}

/*
 * A STATS_REPLY numbered 'seq' that answers a request whose caller timed
 * out: newer than the last reply, not newer than the last request (servers
 * answer in order). Such a reply is dropped; true when it was one.
 */
static bool supervisor_stats_late(struct supervisor *s, uint64_t seq)
{
	if (seq <= s->stats_answered || seq > s->stats_sent)
		return false;
	s->stats_answered = seq;
	log_debug("%s server (pid %d): late statistics reply %llu dropped",
		  s->dev, (int)s->pid, (unsigned long long)seq);
	return true;
}

/*
 * I/O thread: the server spoke on its control socket. A restarted server
 * hand-shakes here. While running it sends nothing unasked but CTL_ERROR
 * before it exits, late statistics replies, and a console socket server's
 * clients (CTL_CLIENT); anything else, or a flood
 * of errors, is a protocol error. EOF, an error or a kill ends the watch
 * (the pidfd reports the death): a killed server's queued messages are
 * not read.
 */
static void supervisor_ctl_event(int fd, void *arg)
{
	struct supervisor *s = arg;
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	struct ctl_msg m;
	int ret;

	if (s->state == SUPERVISOR_STARTING) {
		supervisor_hs_event(s);
		return;
	}
	ret = ctl_recv(fd, &m, fds, CTL_SETUP_MAX_FDS, &nfds);
	if (ret == 0 && m.type == CTL_CLIENT &&
	    supervisor_on_client(s, &m, fds))
		return;
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (ret == -EAGAIN || ret == -EINTR)
		return;
	if (ret == 0 && m.type == CTL_STATS_REPLY &&
	    supervisor_stats_late(s, m.seq))
		return;
	if (ret == 0 && m.type == CTL_ESCAPE_RESULT) {
		supervisor_on_escape_result(s, &m);
		return;
	}
	if (ret == 0 && m.type == CTL_ERROR) {
		if (supervisor_on_error(s, &m))
			return;
	} else if (ret == 0 || (ret != -EPIPE && ret != -ECONNRESET)) {
		supervisor_kill(s, ret ? "unreadable control message"
				       : "unexpected control message");
	}
	iothread_unwatch(s->ev_ctl);
	s->ev_ctl = NULL;
}

int supervisor_watch(struct supervisor *s, struct iothread *io,
		     const struct supervisor_ops *ops, void *opaque,
		     pthread_mutex_t *dp_lock)
{
	unsigned wd = s->spec.policy.watchdog_ms;

	s->io = io;
	s->ops = ops;
	s->opaque = opaque;
	s->dp_lock = dp_lock;
	s->ev_restart = iothread_soon_new(io, supervisor_restart_event, s);
	s->ev_watchdog = iothread_soon_new(io, supervisor_watchdog_event, s);
	s->ev_cq = iothread_watch(io, s->dp.call_fd, supervisor_cq_event, s);
	if (!s->ev_restart || !s->ev_watchdog || !s->ev_cq ||
	    supervisor_watch_server(s) || server_log_watch(&s->log, io))
		goto err;
	if (wd && iothread_later(s->ev_watchdog, wd / 4 ? wd / 4 : 1))
		goto err;
	return 0;

err:
	supervisor_unwatch(s);
	iothread_soon_free(s->ev_restart);
	iothread_soon_free(s->ev_watchdog);
	s->ev_restart = s->ev_watchdog = NULL;
	return -ENOMEM;
}

void supervisor_kill(struct supervisor *s, const char *why)
{
	if (!atomic_load(&s->alive))
		return;
	log_error("%s server (pid %d): %s: killing it", s->dev, (int)s->pid,
		  why);
	snprintf(s->kill_why, sizeof(s->kill_why), "%s", why);
	pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
}

int supervisor_stats(struct supervisor *s, struct ctl_stats *st, bool reset,
		     unsigned timeout_ms)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};
	uint64_t deadline;
	int ret;

	/* A restarted server still hand-shaking has no statistics yet. */
	if (s->ctl_fd < 0 || !atomic_load(&s->alive) ||
	    s->state != SUPERVISOR_RUNNING)
		return -ESRCH;
	m.u.stats_request.reset = reset;
	m.seq = ++s->stats_sent;
	if (ctl_send(s->ctl_fd, &m, NULL, 0))
		return -EPROTO;
	deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
	/* Replies to earlier requests that timed out may come first. */
	do
		ret = supervisor_recv(s, &m, deadline);
	while (ret == 0 && m.type == CTL_STATS_REPLY &&
	       m.seq != s->stats_sent && supervisor_stats_late(s, m.seq));
	if (ret == -ETIMEDOUT)
		return ret;
	if (ret == 0 && m.type == CTL_ERROR)
		supervisor_on_error(s, &m);
	if (ret || m.type != CTL_STATS_REPLY || m.seq != s->stats_sent)
		return -EPROTO;
	s->stats_answered = m.seq;
	*st = m.u.stats;
	return 0;
}

int supervisor_restart_asked(struct supervisor *s)
{
	if (s->state != SUPERVISOR_RUNNING || !atomic_load(&s->alive) ||
	    !s->ev_restart)
		return -ESRCH;
	s->asked = true;
	supervisor_kill(s, "restart asked for");
	return 0;
}

int supervisor_sigkill(struct supervisor *s)
{
	if (!atomic_load(&s->alive))
		return -ESRCH;
	return pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0) ? -errno : 0;
}

int supervisor_fault(struct supervisor *s, const struct ctl_fault *f)
{
	struct ctl_msg m = {.type = CTL_FAULT};

	if (s->state != SUPERVISOR_RUNNING || !atomic_load(&s->alive))
		return -ESRCH;
	m.u.fault = *f;
	return ctl_send(s->ctl_fd, &m, NULL, 0);
}

int supervisor_escape(struct supervisor *s, unsigned n)
{
	struct ctl_msg m = {.type = CTL_ESCAPE};

	if (s->state != SUPERVISOR_RUNNING || !atomic_load(&s->alive))
		return -ESRCH;
	m.u.escape.attempt = n;
	return ctl_send(s->ctl_fd, &m, NULL, 0);
}

/* The server lived through an escape attempt: say how it was stopped. */
static void supervisor_on_escape_result(struct supervisor *s,
					const struct ctl_msg *m)
{
	const struct ctl_escape_result *r = &m->u.escape_result;
	const char *name = sandbox_escape_name(r->attempt);

	if (!r->error)
		log_error("%s server (pid %d): escape attempt %s SUCCEEDED: "
			  "its sandbox is broken",
			  s->dev, (int)s->pid, name ? name : "?");
	else
		log_warn("%s server (pid %d): escape attempt %s denied: %s",
			 s->dev, (int)s->pid, name ? name : "?",
			 strerror((int)r->error));
}

void supervisor_record_line(const struct supervisor *s, const char *name,
			    char *buf, size_t len)
{
	const struct supervisor_record *r = &s->rec;

	snprintf(buf, len,
		 "%s server: deaths=%llu restarts=%llu replayed=%llu "
		 "restart_ms=%llu.%03llu/%llu.%03llu last_cause=%s%s",
		 name, (unsigned long long)r->deaths,
		 (unsigned long long)r->restarts,
		 (unsigned long long)r->replayed,
		 (unsigned long long)(r->last_restart_us / 1000),
		 (unsigned long long)(r->last_restart_us % 1000),
		 (unsigned long long)(r->max_restart_us / 1000),
		 (unsigned long long)(r->max_restart_us % 1000),
		 r->last_cause[0] ? r->last_cause : "none",
		 r->failed ? " failed" : "");
}

void supervisor_stop(struct supervisor *s, unsigned timeout_ms)
{
	struct ctl_msg m = {.type = CTL_SHUTDOWN};

	s->state = SUPERVISOR_STOPPED;
	supervisor_unwatch(s);
	iothread_soon_free(s->ev_restart);
	iothread_soon_free(s->ev_watchdog);
	s->ev_restart = s->ev_watchdog = NULL;
	if (s->pid) {
		if (!timeout_ms)
			timeout_ms = SUPERVISOR_STOP_TIMEOUT_MS;
		/* A dead peer refuses it: the wait below then ends at once. */
		ctl_send(s->ctl_fd, &m, NULL, 0);
		if (!supervisor_reap(s, (int)timeout_ms)) {
			log_warn("%s server (pid %d) did not stop: killing it",
				 s->dev, (int)s->pid);
			supervisor_kill_reap(s);
		}
	}
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->pidfd = s->ctl_fd = s->client_fd = -1;
	if (s->dp_open)
		ipc_dp_vmm_close(&s->dp);
	s->dp_open = false;
	server_log_close(&s->log);
}
