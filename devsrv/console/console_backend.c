/* console_backend.c: stdio, pty, file and socket console backends. */
#include "devsrv/console/console_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* A pty master reads EIO while no one holds the slave: look again later. */
#define CONSOLE_PTY_RETRY_MS 500

static bool console_backend_no_client(const struct console_backend *b)
{
	return b->kind == CTL_CONSOLE_SOCKET && b->client_fd < 0;
}

static void console_backend_arm_in(struct console_backend *b, bool on)
{
	if (b->in_fd < 0 || on == b->in_armed)
		return;
	b->in_armed = on;
	if (!on) {
		event_del(&b->ev_in); /* also takes it off the active list */
		return;
	}
	/*
	 * A regular file is always readable and epoll refuses it: read it on
	 * demand, one read per loop pass, until EOF or a full buffer.
	 */
	if (b->in_nopoll) {
		event_active(&b->ev_in, EV_READ, 0);
		return;
	}
	if (event_add(&b->ev_in, NULL)) {
		/* Rereading an fd we cannot watch would spin: input ends. */
		srv_warn("console input: the loop cannot watch it; no input");
		b->in_armed = false;
		b->in_fd = -1;
	}
}

static void console_backend_drop_client(struct console_backend *b)
{
	console_backend_arm_in(b, false);
	event_del(&b->ev_out);
	b->out_armed = false;
	close(b->client_fd);
	b->client_fd = b->in_fd = b->out_fd = -1;
	/* Output is now kept or dropped: whatever waited can go. */
	if (b->cb->on_space)
		b->cb->on_space(b->ctx);
}

/* The output fd failed for good: stop the guest stalling on it. */
static void console_backend_out_failed(struct console_backend *b, int err)
{
	if (b->kind == CTL_CONSOLE_SOCKET) {
		console_backend_drop_client(b);
		return;
	}
	b->st.write_errors++;
	/* A pty master fails while no one holds the slave: drop and go on. */
	if (b->kind != CTL_CONSOLE_PTY && !b->out_dead) {
		srv_warn("console output: %s; output is dropped from now on",
			 strerror(err));
		b->out_dead = true;
	}
	b->st.dropped += b->outq.len;
	console_bytes_consume(&b->outq, b->outq.len);
	if (b->cb->on_space)
		b->cb->on_space(b->ctx);
}

static void console_backend_flush(struct console_backend *b)
{
	struct iovec iov[2];
	size_t before = b->outq.len;
	ssize_t n;
	int k;

	while (b->out_fd >= 0 && (k = console_bytes_peek(&b->outq, iov))) {
		n = writev(b->out_fd, iov, k);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!b->out_armed)
				event_add(&b->ev_out, NULL);
			b->out_armed = true;
			break;
		}
		if (n <= 0) {
			console_backend_out_failed(b, n < 0 ? errno : EIO);
			return;
		}
		console_bytes_consume(&b->outq, (size_t)n);
	}
	if (!b->outq.len && b->out_armed) {
		event_del(&b->ev_out);
		b->out_armed = false;
	}
	if (b->outq.len < before && b->cb->on_space)
		b->cb->on_space(b->ctx);
}

static void console_backend_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_backend *b = arg;

	(void)fd;
	(void)what;
	if (what & EV_WRITE)
		b->out_armed = false; /* not persistent: it fired */
	console_backend_flush(b);
}

static void console_backend_in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_backend *b = arg;
	uint8_t tmp[4096];
	size_t room = console_bytes_space(b->inbuf);
	ssize_t n;

	(void)what;
	if (!room) {
		/* Bounded buffer full: leave the rest in the backend. */
		console_backend_arm_in(b, false);
		b->in_paused = true;
		return;
	}
	n = read(fd, tmp, room < sizeof(tmp) ? room : sizeof(tmp));
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		/* Nothing wakes a file's reader but itself: go again. */
		if (b->in_nopoll && errno == EINTR)
			event_active(&b->ev_in, EV_READ, 0);
		return;
	}
	if (n <= 0) {
		if (b->kind == CTL_CONSOLE_SOCKET) {
			console_backend_drop_client(b);
		} else if (b->kind == CTL_CONSOLE_PTY) {
			struct timeval tv = {0, CONSOLE_PTY_RETRY_MS * 1000};

			console_backend_arm_in(b, false);
			evtimer_add(&b->ev_retry, &tv);
		} else {
			console_backend_arm_in(b, false); /* EOF */
		}
		return;
	}
	console_bytes_put(b->inbuf, tmp, (size_t)n);
	if (b->in_nopoll)
		event_active(&b->ev_in, EV_READ, 0);
	if (b->cb->on_input)
		b->cb->on_input(b->ctx);
}

static void console_backend_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	console_backend_arm_in(arg, true);
}

/*
 * How to read input from @fd. epoll refuses fds whose reads never block
 * (regular files, /dev/null and other devices without poll): ask it here,
 * once, instead of letting libevent's add fail and log.
 */
enum console_in_mode { CONSOLE_IN_POLL, CONSOLE_IN_FILE, CONSOLE_IN_NONE };

static enum console_in_mode console_backend_in_mode(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct stat st;
	int ep, err;

	if (fstat(fd, &st))
		return CONSOLE_IN_POLL; /* let the loop find out */
	if (S_ISREG(st.st_mode))
		return CONSOLE_IN_FILE;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return CONSOLE_IN_POLL;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return CONSOLE_IN_POLL;
	err = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
	close(ep);
	/* /dev/null and the like: no input, as if at end of file. */
	return err == EPERM ? CONSOLE_IN_NONE : CONSOLE_IN_POLL;
}

/*
 * Events on @in (read as @mode says) and on @out, which is non-blocking
 * already. No system call but the loop's: a socket client comes after
 * the seccomp filter is in place.
 */
static void console_backend_watch(struct console_backend *b, int in,
				  enum console_in_mode mode, int out)
{
	b->in_fd = mode == CONSOLE_IN_NONE ? -1 : in;
	b->in_nopoll = mode == CONSOLE_IN_FILE;
	b->out_fd = out;
	if (out >= 0)
		event_assign(&b->ev_out, b->base, out, EV_WRITE,
			     console_backend_flush_cb, b);
	if (b->in_fd >= 0) {
		event_assign(&b->ev_in, b->base, in, EV_READ | EV_PERSIST,
			     console_backend_in_cb, b);
		console_backend_arm_in(b, true);
	}
}

/* At setup: the VMM's fds probed (how to read @in), @out made
 * non-blocking, then watched. */
static int console_backend_attach(struct console_backend *b, int in, int out)
{
	enum console_in_mode mode =
		in >= 0 ? console_backend_in_mode(in) : CONSOLE_IN_NONE;

	if (out >= 0) {
		int fl = fcntl(out, F_GETFL);

		if (fl < 0 || fcntl(out, F_SETFL, fl | O_NONBLOCK) < 0)
			return -errno;
	}
	console_backend_watch(b, in, mode, out);
	return 0;
}

static void console_backend_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_backend *b = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)what;
	if (c < 0)
		return;
	if (b->client_fd >= 0) {
		b->st.clients_refused++; /* one client at a time */
		close(c);
		return;
	}
	b->client_fd = c;
	b->st.clients_accepted++;
	/* A socket: epoll watches it; accept4 made it non-blocking. */
	console_backend_watch(b, c, CONSOLE_IN_POLL, c);
	/* The new client first gets what was kept for it. */
	event_active(&b->ev_flush, EV_TIMEOUT, 0);
}

static int console_backend_fds(struct console_backend *b,
			       const struct srv_fds *fds)
{
	int fl;

	switch (b->kind) {
	case CTL_CONSOLE_STDIO:
		if (fds->backend < 0)
			return -EBADF;
		return console_backend_attach(b, fds->backend,
					      fds->backend_out >= 0
						      ? fds->backend_out
						      : fds->backend);
	case CTL_CONSOLE_PTY:
		if (fds->backend < 0)
			return -EBADF;
		return console_backend_attach(b, fds->backend, fds->backend);
	case CTL_CONSOLE_FILE:
		if (fds->backend < 0)
			return -EBADF;
		return console_backend_attach(b, -1, fds->backend);
	case CTL_CONSOLE_SOCKET:
		if (fds->backend < 0)
			return -EBADF;
		b->listen_fd = fds->backend;
		/* A client that left before accept() must not block us. */
		fl = fcntl(b->listen_fd, F_GETFL);
		if (fl < 0 || fcntl(b->listen_fd, F_SETFL, fl | O_NONBLOCK))
			return -errno;
		event_assign(&b->ev_listen, b->base, b->listen_fd,
			     EV_READ | EV_PERSIST, console_backend_accept_cb,
			     b);
		return event_add(&b->ev_listen, NULL) ? -ENOMEM : 0;
	default:
		return -EINVAL;
	}
}

int console_backend_open(struct console_backend *b, struct event_base *base,
			 enum ctl_console_backend kind,
			 const struct srv_fds *fds, struct console_bytes *inbuf,
			 const struct console_backend_cb *cb, void *ctx)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->base = base;
	b->in_fd = b->out_fd = b->listen_fd = b->client_fd = -1;
	b->inbuf = inbuf;
	b->cb = cb;
	b->ctx = ctx;
	ret = console_bytes_init(&b->outq, CONSOLE_OUTQ_BYTES);
	if (ret)
		return ret;
	event_assign(&b->ev_flush, base, -1, 0, console_backend_flush_cb, b);
	evtimer_assign(&b->ev_retry, base, console_backend_retry_cb, b);
	ret = console_backend_fds(b, fds);
	if (ret) {
		console_backend_close(b);
		return ret;
	}
	return 0;
}

static int console_backend_ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int)((end->tv_sec - now.tv_sec) * 1000 +
		     (end->tv_nsec - now.tv_nsec) / 1000000);
}

/*
 * At exit the queue may still hold up to CONSOLE_OUTQ_BYTES the guest was
 * told are written (its OUTs completed when they were queued), and held
 * OUTs more: the guest may power off right after its last write, while the
 * reader is behind. One non-blocking try would lose what the fd cannot take
 * at once, so wait for room, up to CONSOLE_CLOSE_DRAIN_MS. A hang-up or an
 * error on the fd ends the wait at once: no one is reading.
 */
static void console_backend_drain(struct console_backend *b)
{
	struct timespec end;
	struct pollfd p;
	int left;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += CONSOLE_CLOSE_DRAIN_MS / 1000;
	end.tv_nsec += (CONSOLE_CLOSE_DRAIN_MS % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		/* Written bytes make room: cb->on_space moves held OUTs in. */
		console_backend_flush(b);
		if (b->out_fd < 0 || !b->outq.len)
			return;
		left = console_backend_ms_left(&end);
		if (left <= 0)
			break;
		p = (struct pollfd){.fd = b->out_fd, .events = POLLOUT};
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			break;
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
	}
	srv_warn("console output: %zu bytes not written at exit", b->outq.len);
	b->st.dropped += b->outq.len;
	console_bytes_consume(&b->outq, b->outq.len);
}

void console_backend_close(struct console_backend *b)
{
	if (b->out_fd >= 0 && b->outq.len)
		console_backend_drain(b);
	if (b->in_armed)
		event_del(&b->ev_in);
	if (event_initialized(&b->ev_out))
		event_del(&b->ev_out);
	if (event_initialized(&b->ev_listen))
		event_del(&b->ev_listen);
	if (event_initialized(&b->ev_flush))
		event_del(&b->ev_flush);
	if (event_initialized(&b->ev_retry))
		event_del(&b->ev_retry);
	if (b->client_fd >= 0)
		close(b->client_fd);
	b->client_fd = b->in_fd = b->out_fd = -1;
	b->in_armed = b->out_armed = false;
	console_bytes_fini(&b->outq);
}

size_t console_backend_write(struct console_backend *b, const void *p, size_t n)
{
	bool was_empty = !b->outq.len;
	size_t taken;

	if (console_backend_no_client(b)) {
		b->st.dropped += console_bytes_put_drop(&b->outq, p, n);
		return n;
	}
	if (b->out_fd < 0 || b->out_dead) {
		b->st.dropped += n; /* output is gone for good */
		return n;
	}
	taken = console_bytes_put(&b->outq, p, n);
	if (was_empty && taken && !b->out_armed)
		event_active(&b->ev_flush, EV_TIMEOUT, 0);
	return taken;
}

void console_backend_input_resume(struct console_backend *b)
{
	if (!b->in_paused || !console_bytes_space(b->inbuf))
		return;
	b->in_paused = false;
	console_backend_arm_in(b, true);
}
