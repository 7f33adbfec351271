/* launcher.c: the launcher process, and the VMM's calls to it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/fdpass.h"
#include "sandbox/jail.h"
#include "sandbox/launcher.h"

#define LAUNCHER_STRINGS_MAX 2048

/* One spawn request; ctl_fd and log_fd travel with it. */
struct launcher_req {
	uint32_t mode;
	uint32_t argc;
	struct sandbox_limits limits;
	/* path, then argv[0..argc-1], each NUL-terminated */
	char strings[LAUNCHER_STRINGS_MAX];
};

struct launcher_reply {
	int32_t pid; /* the server, or 0 */
	int32_t err; /* 0 or -errno */
	char text[SANDBOX_TEXT_MAX]; /* err: why; else warnings */
};

/* Launcher side: the fds it keeps for every spawn. */
struct launcher_ctx {
	int sock, null_fd, vmm_pidfd;
};

static void launcher_append(char *buf, size_t len, const char *text)
{
	size_t n = strlen(buf), t = strlen(text);

	if (n && n + 2 < len) {
		memcpy(buf + n, "; ", 2);
		n += 2;
	}
	if (t > len - 1 - n)
		t = len - 1 - n;
	memcpy(buf + n, text, t);
	buf[n + t] = '\0';
}

/* Read the child's records until its exec closes the pipe. */
static int launcher_collect(int fd, struct launcher_reply *r)
{
	char rec[SANDBOX_TEXT_MAX + 1];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return r->err;
		rec[n] = '\0';
		if (rec[0] == 'E') {
			r->err = -EPERM;
			snprintf(r->text, sizeof(r->text), "%s", rec + 1);
		} else if (!r->err) {
			launcher_append(r->text, sizeof(r->text), rec + 1);
		}
	}
}

/* Keep fd at or above JAIL_FD_LOW (close-on-exec); closes the old one. */
static int launcher_raise_fd(int fd)
{
	int hi;

	if (fd < 0 || fd >= JAIL_FD_LOW)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, JAIL_FD_LOW);
	close(fd);
	return hi;
}

static void launcher_spawn_one(const struct launcher_ctx *c,
			       const struct launcher_req *q, int ctl_fd,
			       int log_fd, struct launcher_reply *r)
{
	const char *argv[SANDBOX_ARGS_MAX + 1];
	const char *path = q->strings, *s;
	int go[2] = {-1, -1}, rep[2] = {-1, -1}, bin_fd;
	unsigned long ns = 0;
	struct jail_job job;
	pid_t pid;

	s = path + strlen(path) + 1;
	for (uint32_t i = 0; i < q->argc; i++) {
		argv[i] = s;
		s += strlen(s) + 1;
	}
	argv[q->argc] = NULL;
	bin_fd = launcher_raise_fd(open(path, O_RDONLY | O_CLOEXEC));
	if (bin_fd < 0) {
		r->err = -errno;
		snprintf(r->text, sizeof(r->text), "cannot open %.300s: %s", path,
			 strerror(errno));
		return;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
		r->err = -errno;
		snprintf(r->text, sizeof(r->text), "pipe: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		go[i] = launcher_raise_fd(go[i]);
		rep[i] = launcher_raise_fd(rep[i]);
	}
	job = (struct jail_job){
		.argv = argv,
		.mode = (enum sandbox_mode)q->mode,
		.limits = q->limits,
		.static_binary = jail_binary_is_static(bin_fd),
		.bin_fd = bin_fd,
		.go_fd = go[0],
		.report_fd = rep[1],
		.null_fd = c->null_fd,
		.ctl_fd = ctl_fd,
		.log_fd = log_fd,
		.vmm_pidfd = c->vmm_pidfd,
	};
	pid = jail_clone(job.mode, &ns, r->text, sizeof(r->text), r->text,
			 sizeof(r->text));
	if (pid == 0) {
		/* Only the launcher's ends: EOF must reach us if it dies. */
		close(go[1]);
		close(rep[0]);
		close(c->sock);
		job.ns = ns;
		jail_child(&job);
	}
	if (pid < 0) {
		r->err = pid;
		goto out;
	}
	r->pid = pid;
	close(rep[1]);
	rep[1] = -1;
	if ((ns & CLONE_NEWUSER) &&
	    (r->err = jail_map_ids(pid, r->text, sizeof(r->text)))) {
		/* The child sees go closed and exits. */
		goto out;
	}
	if (write(go[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid)) {
		r->err = -EPIPE;
		snprintf(r->text, sizeof(r->text), "the new server died");
		goto out;
	}
	close(go[1]);
	go[1] = -1;
	launcher_collect(rep[0], r);
out:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	close(bin_fd);
}

/* Checks a request from the VMM (trusted, but a bug must not overrun). */
static int launcher_check(const struct launcher_req *q, ssize_t n)
{
	const char *s = q->strings, *end = q->strings + sizeof(q->strings);

	if (n != (ssize_t)sizeof(*q) || q->mode > SANDBOX_OFF ||
	    q->argc == 0 || q->argc > SANDBOX_ARGS_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i <= q->argc; i++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));

		if (!nul)
			return -EINVAL;
		s = nul + 1;
	}
	return q->strings[0] == '/' ? 0 : -EINVAL;
}

/* The reply, with the server's pidfd when there is a server. */
static void launcher_reply(const struct launcher_ctx *c,
			   const struct launcher_reply *r)
{
	int pidfd = r->pid > 0 ? (int)syscall(SYS_pidfd_open, r->pid, 0) : -1;
	int ret;

	ret = fdpass_send(c->sock, r, sizeof(*r), &pidfd, pidfd >= 0 ? 1 : 0);
	if (pidfd >= 0)
		close(pidfd);
	if (ret)
		_exit(0);
}

static _Noreturn void launcher_main(struct launcher_ctx *c)
{
	static struct launcher_req q;

	for (;;) {
		struct launcher_reply r;
		int fds[2] = {-1, -1};
		unsigned nfds = 0;
		ssize_t n;

		n = fdpass_recv(c->sock, &q, sizeof(q), fds, 2, &nfds);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		memset(&r, 0, sizeof(r));
		if (nfds != 2 || launcher_check(&q, n)) {
			r.err = -EINVAL;
			snprintf(r.text, sizeof(r.text),
				 "launcher: malformed request");
		} else {
			fds[0] = launcher_raise_fd(fds[0]);
			fds[1] = launcher_raise_fd(fds[1]);
			launcher_spawn_one(c, &q, fds[0], fds[1], &r);
		}
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		launcher_reply(c, &r);
	}
}

int sandbox_launcher_start(struct sandbox_launcher *l, char *err,
			   size_t errlen)
{
	struct launcher_ctx c;
	pid_t parent = getpid();
	int sv[2], ret;

	l->sock = -1;
	l->pid = 0;
	l->pidfd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		snprintf(err, errlen, "launcher: socketpair: %s",
			 strerror(errno));
		return ret;
	}
	l->pid = fork();
	if (l->pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "launcher: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (l->pid == 0) {
		sigset_t none;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		/* Out of the terminal's process group: ^C is the VMM's. */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		c.sock = launcher_raise_fd(sv[1]);
		c.null_fd = launcher_raise_fd(open("/dev/null",
						   O_RDWR | O_CLOEXEC));
		c.vmm_pidfd = launcher_raise_fd(
			(int)syscall(SYS_pidfd_open, parent, 0));
		if (c.sock < 0 || c.null_fd < 0 || c.vmm_pidfd < 0)
			_exit(127);
		/* Nothing of the VMM's but these three. */
		for (int fd = 0; fd < JAIL_FD_LOW; fd++)
			close(fd);
		for (int fd = JAIL_FD_LOW; fd < 1024; fd++)
			if (fd != c.sock && fd != c.null_fd &&
			    fd != c.vmm_pidfd)
				close(fd);
		close_range(1024, ~0u, 0);
		launcher_main(&c);
	}
	close(sv[1]);
	l->sock = sv[0];
	l->pidfd = (int)syscall(SYS_pidfd_open, l->pid, 0);
	pthread_mutex_init(&l->lock, NULL);
	return 0;
}

static int launcher_pack(struct launcher_req *q, const struct sandbox_spawn *sp)
{
	size_t off = 0, n;
	uint32_t argc = 0;

	memset(q, 0, sizeof(*q));
	q->mode = sp->mode;
	q->limits = sp->limits;
	n = strlen(sp->path) + 1;
	if (n > sizeof(q->strings))
		return -ENAMETOOLONG;
	memcpy(q->strings, sp->path, n);
	off = n;
	for (; sp->argv[argc]; argc++) {
		n = strlen(sp->argv[argc]) + 1;
		if (argc >= SANDBOX_ARGS_MAX || off + n > sizeof(q->strings))
			return -E2BIG;
		memcpy(q->strings + off, sp->argv[argc], n);
		off += n;
	}
	q->argc = argc;
	return argc ? 0 : -EINVAL;
}

/* Reap a child by its pidfd (waitid(P_PIDFD): what a confined thread may). */
static void launcher_reap(int pidfd)
{
	siginfo_t si;

	if (pidfd < 0)
		return;
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
}

pid_t sandbox_launcher_spawn(struct sandbox_launcher *l,
			     const struct sandbox_spawn *sp, int *pidfd,
			     char *warn, size_t warnlen, char *err,
			     size_t errlen)
{
	static struct launcher_req q; /* under l->lock */
	struct launcher_reply r;
	int fds[2] = {sp->ctl_fd, sp->log_fd}, rfd = -1;
	unsigned nrfd = 0;
	long n;
	int ret;

	*pidfd = -1;
	if (warnlen)
		warn[0] = '\0';
	if (l->sock < 0) {
		snprintf(err, errlen, "launcher: not running");
		return -ESRCH;
	}
	pthread_mutex_lock(&l->lock);
	ret = launcher_pack(&q, sp);
	if (ret) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "launcher: %s: %s", sp->path,
			 strerror(-ret));
		return ret;
	}
	ret = fdpass_send(l->sock, &q, sizeof(q), fds, 2);
	if (!ret) {
		do
			n = fdpass_recv(l->sock, &r, sizeof(r), &rfd, 1, &nrfd);
		while (n == -EINTR);
		ret = n == (long)sizeof(r) ? 0 : n < 0 ? (int)n : -EPIPE;
		if (ret && nrfd)
			close(rfd);
	}
	pthread_mutex_unlock(&l->lock);
	if (ret) {
		snprintf(err, errlen, "launcher: %s", strerror(-ret));
		return ret;
	}
	r.text[sizeof(r.text) - 1] = '\0';
	if (r.err) {
		/* A child that failed a step is ours to reap. */
		launcher_reap(nrfd ? rfd : -1);
		snprintf(err, errlen, "jail: %s", r.text);
		return r.err;
	}
	if (!nrfd) {
		snprintf(err, errlen, "launcher: no pidfd for the server");
		return -EPROTO;
	}
	snprintf(warn, warnlen, "%s", r.text);
	*pidfd = rfd;
	return r.pid;
}

void sandbox_launcher_stop(struct sandbox_launcher *l)
{
	if (l->sock < 0)
		return;
	close(l->sock);
	l->sock = -1;
	if (l->pidfd >= 0)
		launcher_reap(l->pidfd);
	else if (l->pid > 0)
		waitpid(l->pid, NULL, 0);
	l->pidfd = -1;
	l->pid = 0;
	pthread_mutex_destroy(&l->lock);
}
