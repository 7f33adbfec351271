/* console_pump.c: bytes from one fd to another by splice, else read/write. */
#include "devsrv/console/console_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void console_pump_init(struct console_pump *p, int src, int dst)
{
	struct stat st;

	p->src = src;
	p->dst = dst;
	p->fallback = false;
	p->dst_fifo = dst >= 0 && fstat(dst, &st) == 0 && S_ISFIFO(st.st_mode);
	p->wait = CONSOLE_PUMP_WAIT_SRC;
	p->off = p->len = 0;
}

/* Ready now, without waiting: fd for events (POLLIN or POLLOUT). */
static bool console_pump_ready(int fd, short events)
{
	struct pollfd pf = {.fd = fd, .events = events};

	return poll(&pf, 1, 0) == 1 && (pf.revents & (events | POLLERR));
}

/*
 * splice answered EAGAIN: the source had nothing or the destination no
 * room, and it does not say which. A destination that cannot take bytes
 * now is the one to wait for; otherwise the source was empty.
 */
static void console_pump_blocked(struct console_pump *p)
{
	p->wait = console_pump_ready(p->dst, POLLOUT) ? CONSOLE_PUMP_WAIT_SRC
						      : CONSOLE_PUMP_WAIT_DST;
}

/* Write what the fallback holds; bytes written, -EAGAIN or -errno. */
static ssize_t console_pump_write_held(struct console_pump *p)
{
	ssize_t n;

	do
		n = write(p->dst, p->buf + p->off, p->len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			p->wait = CONSOLE_PUMP_WAIT_DST;
		return -errno;
	}
	p->off += (size_t)n;
	p->len -= (size_t)n;
	if (!p->len)
		p->off = 0;
	return n;
}

static ssize_t console_pump_read_write(struct console_pump *p, size_t max)
{
	ssize_t n;

	if (p->len)
		return console_pump_write_held(p);
	/* A pipe with any room takes CONSOLE_PUMP_BUF bytes whole. */
	if (p->dst_fifo && !console_pump_ready(p->dst, POLLOUT)) {
		p->wait = CONSOLE_PUMP_WAIT_DST;
		return -EAGAIN;
	}
	do
		n = read(p->src, p->buf,
			 max < sizeof(p->buf) ? max : sizeof(p->buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			p->wait = CONSOLE_PUMP_WAIT_SRC;
		return n < 0 ? -errno : 0;
	}
	p->off = 0;
	p->len = (size_t)n;
	return console_pump_write_held(p);
}

ssize_t console_pump_move(struct console_pump *p, size_t max)
{
	ssize_t n;

	if (p->fallback)
		return console_pump_read_write(p, max);
	if (max > CONSOLE_PUMP_CHUNK)
		max = CONSOLE_PUMP_CHUNK;
	do
		n = splice(p->src, NULL, p->dst, NULL, max, SPLICE_F_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN) {
		console_pump_blocked(p);
		return -EAGAIN;
	}
	if (errno != EINVAL)
		return -errno;
	p->fallback = true;
	return console_pump_read_write(p, max);
}

int console_pump_queued(const struct console_pump *p)
{
	int n = 0;

	if (ioctl(p->src, FIONREAD, &n) < 0)
		return -errno;
	return n;
}

size_t console_pump_discard(struct console_pump *p, size_t max)
{
	size_t done = 0;
	ssize_t n;

	if (p->len) {
		done = p->len < max ? p->len : max;
		p->off += done;
		p->len -= done;
		if (!p->len)
			p->off = 0;
	}
	while (done < max && !p->len) {
		size_t want = max - done;

		n = read(p->src, p->buf,
			 want < sizeof(p->buf) ? want : sizeof(p->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}
