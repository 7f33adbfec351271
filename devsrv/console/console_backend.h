/*
 * console_backend.h: the console's host side: stdio, pty, file or a unix
 * socket, all non-blocking on the server's event loop. POSIX only, no ipc.
 *
 * Fds come from SETUP (the server opens no path) and stay owned by the core:
 *   stdio   CTL_FD_BACKEND = input, CTL_FD_BACKEND_OUT = output (when
 *           absent, BACKEND is used both ways). The VMM, not the server,
 *           puts a terminal in raw mode and restores it: the VMM outlives
 *           any server (a killed server could restore nothing).
 *   pty     CTL_FD_BACKEND = the master, both ways.
 *   file    CTL_FD_BACKEND = opened O_APPEND, output only.
 *   socket  CTL_FD_BACKEND = a listening unix stream socket. One client at
 *           a time; a second one is accepted and closed at once (counted).
 *           Output without a client is kept up to CONSOLE_OUTQ_BYTES, then
 *           dropped oldest-first (counted); a new client first gets what
 *           was kept.
 * The output fd is switched to O_NONBLOCK (that flag is shared with every
 * holder of the same open file description: the VMM should hand over a
 * description of its own, not its stdout). The input fd is read only when
 * the loop reports it readable, one read per wake-up, so its flags are left
 * alone. Input epoll cannot watch: a regular file is read on demand while
 * the input buffer has room, until EOF; anything else (/dev/null) is taken
 * as input already at its end.
 */
#ifndef ISOVM_CONSOLE_BACKEND_H
#define ISOVM_CONSOLE_BACKEND_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>

#include "devsrv/common/srv.h"
#include "devsrv/console/console_bytes.h"

#define CONSOLE_OUTQ_BYTES (64u * 1024u)
/* At exit, how long queued output may wait for a slow reader. */
#define CONSOLE_CLOSE_DRAIN_MS 2000

struct console_backend_cb {
	void (*on_input)(void *ctx); /* new bytes in the input buffer */
	void (*on_space)(void *ctx); /* the output queue has room again */
};

struct console_backend_stats {
	uint64_t dropped; /* output bytes dropped */
	uint64_t clients_accepted;
	uint64_t clients_refused;
	uint64_t write_errors;
};

struct console_backend {
	enum ctl_console_backend kind;
	struct event_base *base;
	int in_fd, out_fd; /* -1 when absent */
	int listen_fd;	   /* socket: borrowed */
	int client_fd;	   /* socket: owned, -1 without a client */
	struct console_bytes outq;
	struct console_bytes *inbuf; /* the device's, bounded */
	struct event ev_in, ev_out, ev_listen, ev_flush, ev_retry;
	bool in_armed, in_paused, out_armed;
	bool out_dead;	/* output failed for good */
	bool in_nopoll; /* input is a regular file: read on demand */
	const struct console_backend_cb *cb;
	void *ctx;
	struct console_backend_stats st;
};

/*
 * Start the backend @kind on @fds. Input bytes are appended to @inbuf and
 * reported with cb->on_input. Returns 0, -EBADF (a needed fd missing),
 * -EINVAL (unknown kind) or -ENOMEM.
 */
int console_backend_open(struct console_backend *b, struct event_base *base,
			 enum ctl_console_backend kind,
			 const struct srv_fds *fds, struct console_bytes *inbuf,
			 const struct console_backend_cb *cb, void *ctx);

/*
 * Write what is queued, and what held OUTs still offer through
 * cb->on_space, waiting for the output fd up to CONSOLE_CLOSE_DRAIN_MS
 * (not at all once it reports a hang-up or an error); drop and count what
 * is left then. Then stop. Called at exit, outside the event loop.
 */
void console_backend_close(struct console_backend *b);

/*
 * Offer @n output bytes. Returns how many were taken (queued, or counted as
 * dropped by a socket without client); fewer than @n means the queue is
 * full: offer the rest after cb->on_space.
 */
size_t console_backend_write(struct console_backend *b, const void *p,
			     size_t n);

/* The device took bytes out of the input buffer: read again if paused. */
void console_backend_input_resume(struct console_backend *b);

#endif
