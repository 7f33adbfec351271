/* server_log.c: copying the servers' log pipe to the VMM's stderr. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "vcpu/core/iothread.h"
#include "vcpu/supervisor/server_log.h"

int server_log_open(struct server_log *l)
{
	int p[2];

	l->rd = l->wr = -1;
	l->ev = NULL;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	l->rd = p[0];
	l->wr = p[1];
	return 0;
}

void server_log_drain(struct server_log *l)
{
	char buf[4096];
	ssize_t n;

	/* A bounded amount per call: a chatty server cannot hold us. */
	for (int i = 0; l->rd >= 0 && i < 16; i++) {
		n = read(l->rd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDERR_FILENO, buf + off,
					  (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += w;
		}
	}
}

static void server_log_event(int fd, void *arg)
{
	(void)fd;
	server_log_drain(arg);
}

int server_log_watch(struct server_log *l, struct iothread *io)
{
	l->ev = iothread_watch(io, l->rd, server_log_event, l);
	return l->ev ? 0 : -ENOMEM;
}

void server_log_close(struct server_log *l)
{
	if (l->ev)
		iothread_unwatch(l->ev);
	l->ev = NULL;
	server_log_drain(l);
	if (l->rd >= 0)
		close(l->rd);
	if (l->wr >= 0)
		close(l->wr);
	l->rd = l->wr = -1;
}
