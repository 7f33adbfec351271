/* console_pipe.c: the VMM's hold on one console pipe: non-blocking I/O. */
#include "vcpu/front/console/console_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void console_pipe_event(evutil_socket_t fd, short what, void *arg)
{
	struct console_pipe *p = arg;

	(void)fd;
	(void)what;
	p->cb(p->arg);
}

static void console_pipe_arm(evutil_socket_t fd, short what, void *arg)
{
	struct console_pipe *p = arg;

	(void)fd;
	(void)what;
	/* Adding a pending event again leaves it as it is. */
	(void)event_add(p->ev, NULL);
}

int console_pipe_open(struct console_pipe *p, enum console_pipe_dir dir,
		      size_t size, struct event_base *base,
		      void (*cb)(void *arg), void *arg)
{
	int fds[2], ret;

	memset(p, 0, sizeof(*p));
	p->vmm_fd = p->srv_fd = -1;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	/*
	 * A user over its pipe quota keeps the default size (or less): the
	 * pipe works all the same, with less room before backpressure.
	 */
	if (size)
		(void)fcntl(fds[0], F_SETPIPE_SZ, (int)size);
	p->dir = dir;
	p->vmm_fd = dir == CONSOLE_PIPE_OUT ? fds[1] : fds[0];
	p->srv_fd = dir == CONSOLE_PIPE_OUT ? fds[0] : fds[1];
	p->cb = cb;
	p->arg = arg;
	p->ev = event_new(base, p->vmm_fd,
			  dir == CONSOLE_PIPE_OUT ? EV_WRITE : EV_READ,
			  console_pipe_event, p);
	p->arm = event_new(base, -1, 0, console_pipe_arm, p);
	if (!p->ev || !p->arm) {
		ret = -ENOMEM;
		console_pipe_close(p);
		return ret;
	}
	return 0;
}

void console_pipe_close(struct console_pipe *p)
{
	if (p->arm)
		event_free(p->arm);
	if (p->ev)
		event_free(p->ev);
	p->ev = p->arm = NULL;
	if (p->vmm_fd >= 0)
		close(p->vmm_fd);
	if (p->srv_fd >= 0)
		close(p->srv_fd);
	p->vmm_fd = p->srv_fd = -1;
}

ssize_t console_pipe_put(struct console_pipe *p, const void *buf, size_t n)
{
	ssize_t w;

	if (p->dir != CONSOLE_PIPE_OUT)
		return -EBADF;
	do
		w = write(p->vmm_fd, buf, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == EAGAIN ? 0 : -errno;
	return w;
}

ssize_t console_pipe_get(struct console_pipe *p, void *buf, size_t n)
{
	ssize_t r;

	if (p->dir != CONSOLE_PIPE_IN)
		return -EBADF;
	do
		r = read(p->vmm_fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	/* 0 would be the end of the pipe: the VMM holds the write end. */
	return r;
}

int console_pipe_wait(struct console_pipe *p)
{
	if (!p->arm)
		return -EBADF;
	/* Activating an active event again leaves it as it is. */
	event_active(p->arm, EV_TIMEOUT, 0);
	return 0;
}

int console_pipe_queued(const struct console_pipe *p)
{
	int n = 0;

	if (ioctl(p->vmm_fd, FIONREAD, &n) < 0)
		return -errno;
	return n;
}
