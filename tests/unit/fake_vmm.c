/* fake_vmm.c: a minimal VMM side that launches and drives a device server. */
#include "fake_vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ctl_channel.h"
#include "proto/proto_version.h"

static const struct ipc_geom fake_vmm_geom = {
	.sq_entries = 64,
	.cq_entries = 64,
	.arena_slot_size = 4096,
	.arena_slots = 64,
};

/* In the child: exec @bin --ctl-fd @fd args... (returns only on error). */
static void fake_vmm_exec(const char *bin, int fd, const char *const *args)
{
	const char *argv[FAKE_VMM_ARGS_MAX + 4];
	char fdarg[16];
	unsigned n = 0;

	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	argv[n++] = bin;
	argv[n++] = "--ctl-fd";
	argv[n++] = fdarg;
	for (unsigned i = 0; args && args[i] && i < FAKE_VMM_ARGS_MAX; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	execv(bin, (char *const *)argv);
}

int fake_vmm_spawn(struct fake_vmm *v, const char *bin,
		   const struct ipc_geom *g, const char *level)
{
	const char *args[] = {"--log-level", level, NULL};

	return fake_vmm_spawn_args(v, bin, g, level ? args : NULL, -1);
}

int fake_vmm_spawn_args(struct fake_vmm *v, const char *bin,
			const struct ipc_geom *g, const char *const *args,
			int err_fd)
{
	int sp[2], ret;

	memset(v, 0, sizeof(*v));
	v->ctl = -1;
	ret = ipc_dp_vmm_open(&v->dp, g ? g : &fake_vmm_geom, 1);
	if (ret)
		return ret;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return -errno;
	v->pid = fork();
	if (v->pid < 0)
		return -errno;
	if (v->pid == 0) {
		/* Only the control socket crosses exec (SETUP brings the rest).
		 */
		fcntl(sp[1], F_SETFD, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* A crash fault must not leave core files behind. */
		setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
		if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
			_exit(126);
		fake_vmm_exec(bin, sp[1], args);
		_exit(127);
	}
	close(sp[1]);
	v->ctl = sp[0];
	return 0;
}

int fake_vmm_recv(struct fake_vmm *v, struct ctl_msg *m, int ms)
{
	struct pollfd p = {.fd = v->ctl, .events = POLLIN};
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	int ret;

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	ret = ctl_recv(v->ctl, m, fds, CTL_SETUP_MAX_FDS, &nfds);
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	return ret;
}

int fake_vmm_hello(struct fake_vmm *v, enum ctl_dev_type dev)
{
	struct ctl_msg m, h = {.type = CTL_HELLO};
	int ret = fake_vmm_recv(v, &m, 5000);

	if (ret)
		return ret;
	if (m.type != CTL_HELLO || m.u.hello.role != CTL_ROLE_SERVER ||
	    m.u.hello.dev_type != dev || m.u.hello.pid != (uint32_t)v->pid)
		return -EPROTO;
	h.u.hello.version = ISOVM_PROTO_VERSION;
	h.u.hello.role = CTL_ROLE_VMM;
	return ctl_send(v->ctl, &h, NULL, 0);
}

int fake_vmm_setup(struct fake_vmm *v, const struct ctl_setup *setup,
		   const int *be, const enum ctl_fd_role *roles, unsigned nbe,
		   struct ctl_ready *ready)
{
	struct ctl_msg m = {.type = CTL_SETUP};
	int fds[CTL_SETUP_MAX_FDS];
	unsigned n = 0;
	int ret;

	m.u.setup = *setup;
	ctl_geometry_from_ipc(&v->dp.reg.geom, v->dp.reg.size, &m.u.setup.geo);
	fds[n] = v->dp.reg.fd;
	m.u.setup.fds[n++] = CTL_FD_MEMFD;
	fds[n] = v->dp.srv_kick_fd;
	m.u.setup.fds[n++] = CTL_FD_KICK;
	fds[n] = v->dp.srv_call_fd;
	m.u.setup.fds[n++] = CTL_FD_CALL;
	for (unsigned i = 0; i < nbe && n < CTL_SETUP_MAX_FDS; i++) {
		fds[n] = be[i];
		m.u.setup.fds[n++] = roles[i];
	}
	m.u.setup.nfds = n;
	ret = ctl_send(v->ctl, &m, fds, n);
	if (ret)
		return ret;
	ret = fake_vmm_recv(v, &m, 5000);
	if (ret)
		return ret;
	if (m.type == CTL_ERROR)
		return -EREMOTEIO; /* the server refused and reported it */
	if (m.type != CTL_READY)
		return -EPROTO;
	if (ready)
		*ready = m.u.ready;
	return 0;
}

int fake_vmm_post(struct fake_vmm *v, uint32_t op, uint8_t arg0,
		  const void *data, uint32_t len, uint64_t *id)
{
	struct ipc_req req = {.op = op};
	int ret;

	req.args.raw[0] = arg0;
	ret = fake_vmm_post_req(v, &req, data, len);
	if (!ret && id)
		*id = req.id;
	return ret;
}

int fake_vmm_post_req(struct fake_vmm *v, struct ipc_req *req, const void *data,
		      uint32_t len)
{
	int ret;

	req->arena_off = 0;
	req->arena_len = len;
	if (len) {
		ret = ipc_arena_alloc(&v->dp.arena, len, &req->arena_off);
		if (ret)
			return ret;
		if (data)
			memcpy(ipc_arena_span(&v->dp.arena, req->arena_off,
					      len),
			       data, len);
	}
	ret = ipc_dp_vmm_submit(&v->dp, req, NULL);
	if (ret)
		return ret;
	ret = ipc_dp_vmm_kick(&v->dp);
	return ret < 0 ? ret : 0;
}

static int fake_vmm_take(struct fake_vmm *v, struct ipc_dp_done *done,
			 void *data, size_t cap)
{
	const struct ipc_req *r = &done->req;

	if (data && done->len) {
		size_t n = done->len < cap ? done->len : cap;

		memcpy(data, ipc_arena_span(&v->dp.arena, r->arena_off, n), n);
	}
	if (r->arena_len)
		ipc_arena_free(&v->dp.arena, r->arena_off, r->arena_len);
	return 1;
}

static long fake_vmm_ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 +
	       (end->tv_nsec - now.tv_nsec) / 1000000;
}

int fake_vmm_reap(struct fake_vmm *v, struct ipc_dp_done *done, void *data,
		  size_t cap, int ms)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		struct pollfd p = {.fd = v->dp.call_fd, .events = POLLIN};
		int n = ipc_dp_vmm_reap(&v->dp, done, 1);
		long left;

		if (n)
			return n < 0 ? n : fake_vmm_take(v, done, data, cap);
		n = ipc_notify_arm(&v->dp.cq_wait);
		if (n < 0)
			return n;
		if (n > 0)
			continue;
		left = fake_vmm_ms_left(&end);
		if (left <= 0)
			return 0;
		poll(&p, 1, (int)left);
		n = ipc_notify_drain(&v->dp.cq_wait);
		if (n < 0)
			return n;
		ipc_notify_disarm(&v->dp.cq_wait);
	}
}

int fake_vmm_wait(struct fake_vmm *v, int ms)
{
	int st;

	for (int i = 0; i < ms; i += 10) {
		pid_t r = waitpid(v->pid, &st, WNOHANG);

		if (r == v->pid) {
			v->pid = 0;
			return st;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int fake_vmm_protocol_error(struct fake_vmm *v, int ms)
{
	struct ctl_msg m;
	int st;

	if (fake_vmm_recv(v, &m, ms) || m.type != CTL_ERROR)
		return -EPROTO;
	st = fake_vmm_wait(v, ms);
	if (st < 0)
		return st;
	return WIFEXITED(st) && WEXITSTATUS(st) == 1 ? 0 : (st ? st : -EPROTO);
}

void fake_vmm_free(struct fake_vmm *v)
{
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
		v->pid = 0;
	}
	if (v->ctl >= 0)
		close(v->ctl);
	v->ctl = -1;
	ipc_dp_vmm_close(&v->dp);
}
