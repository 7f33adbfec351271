/*
 * console_backend.h: the console server's two flows between the VMM's
 * pipes and the backend (stdio, pty, file or a unix socket), on the
 * server's event loop. POSIX only, no ipc.
 *
 *   output: CTL_FD_OUT_PIPE -> the backend's output fd
 *   input:  the backend's input fd -> CTL_FD_IN_PIPE
 *
 * Each flow is a console_pump (console_pump.h): it runs while its source
 * is readable and pauses while its destination is full, so bytes wait in
 * the VMM's pipe or in the backend, never in the server (but for the
 * few a read/write fallback holds). The VMM holds both ends of both pipes:
 * a server killed at any instant leaves every byte where its successor
 * finds it.
 *
 * Fds come from SETUP (the server opens no path) and stay owned by the core:
 *   stdio   CTL_FD_BACKEND = input, CTL_FD_BACKEND_OUT = output (when
 *           absent, BACKEND is used both ways). The VMM, not the server,
 *           puts a terminal in raw mode and restores it: the VMM outlives
 *           any server (a killed server could restore nothing).
 *   pty     CTL_FD_BACKEND = the master, both ways. A master reads EIO
 *           while no one holds the slave: input is looked at again every
 *           CONSOLE_PTY_RETRY_MS; output it refuses is dropped (counted).
 *   file    CTL_FD_BACKEND = opened at its end (not O_APPEND, which
 *           Linux would not splice into), output only.
 *   socket  CTL_FD_BACKEND = a listening unix stream socket. One client at
 *           a time; a second one is accepted and closed at once (counted).
 *           Each client taken and dropped is told to the device (cb
 *           client), which tells the VMM: the VMM holds the connection
 *           too, so a killed server drops no client and loses none of its
 *           unread input; the next server resumes with it
 *           (CTL_FD_CLIENT, owned by the backend from open on).
 *           Output without a client stays in the OUT pipe, up to
 *           CONSOLE_KEEP_BYTES (a quarter of the pipe's size if that is
 *           less: a full pipe would stop the guest); older bytes are
 *           dropped, counted. A new client gets it first; what a client
 *           did not take when it went stays in the pipe for the next one.
 * The output fd is switched to O_NONBLOCK (that flag is shared with every
 * holder of the same open file description: the VMM hands over a
 * description of its own). The input fd's flags are left alone: it is
 * read only when the loop reports it readable, one move per wake-up.
 * Input epoll cannot watch: a regular file is read on demand, as the IN
 * pipe has room, until EOF; anything else (/dev/null) is taken as input
 * already at its end.
 */
#ifndef ISOVM_CONSOLE_BACKEND_H
#define ISOVM_CONSOLE_BACKEND_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <sys/types.h>

#include "devsrv/common/srv.h"
#include "devsrv/console/console_pump.h"

/* Output kept for a client to come; the oldest beyond it is dropped. */
#define CONSOLE_KEEP_BYTES (64u * 1024u)
/* At exit, how long output may wait for a slow reader. */
#define CONSOLE_CLOSE_DRAIN_MS 2000
/* A pty master with no one on the slave side: look again this much later. */
#define CONSOLE_PTY_RETRY_MS 500
/* An injected error: the transfer is tried again this much later. */
#define CONSOLE_FAULT_RETRY_MS 10
/* Moves per wake-up of the output flow (and of input read from a regular
 * file) before other events get a turn; other input moves once. */
#define CONSOLE_FLOW_ROUNDS 16

enum console_dir { CONSOLE_DIR_OUT, CONSOLE_DIR_IN };

/* What the device (console.c) says about each transfer; ctx is its own. */
struct console_backend_cb {
	/* One is about to start: the fault rule to apply to it, or NULL. */
	const struct ctl_fault *(*fault)(void *ctx, enum console_dir dir);
	/* One ended, begun at t0_ns: ret bytes moved, or -errno. */
	void (*done)(void *ctx, enum console_dir dir, uint64_t t0_ns,
		     ssize_t ret);
	/* Socket: a client was accepted (fd, still the backend's), or the
	 * current one was dropped (-1). May be NULL. */
	void (*client)(void *ctx, int fd);
};

struct console_backend_stats {
	uint64_t out_bytes, in_bytes; /* moved to the backend, from it */
	uint64_t dropped;	      /* output bytes dropped */
	uint64_t clients_accepted;
	uint64_t clients_refused;
	uint64_t write_errors;
};

enum console_flow_state {
	CONSOLE_FLOW_OFF,   /* no source or no destination (or input ended) */
	CONSOLE_FLOW_SRC,   /* waiting for bytes in the source */
	CONSOLE_FLOW_DST,   /* waiting for room in the destination */
	CONSOLE_FLOW_TIMER, /* a delay or error fault, a pty retry */
	CONSOLE_FLOW_KEEP,  /* output, no client: kept in the pipe */
	CONSOLE_FLOW_DROP,  /* output failed for good: dropped as it comes */
	CONSOLE_FLOW_HUNG,  /* a drop fault: never moves again */
};

struct console_backend;

struct console_flow {
	enum console_dir dir;
	struct console_backend *b;
	struct console_pump pump;
	enum console_flow_state state;
	bool src_nopoll;    /* input from a regular file: read on demand */
	bool decided;	    /* the faults were asked for the next transfer */
	bool told_fallback; /* the read/write fallback was logged */
	uint64_t t0_ns;	    /* when that transfer began */
	struct event ev_src, ev_dst, ev_timer;
};

struct console_backend {
	enum ctl_console_backend kind;
	struct event_base *base;
	int out_pipe, in_pipe; /* borrowed: the VMM's pipes */
	int in_fd, out_fd;     /* the backend's; -1 when absent */
	int listen_fd;	       /* socket: borrowed */
	int client_fd;	       /* socket: owned, -1 without a client */
	bool out_dead;	       /* output failed for good */
	size_t keep;	       /* output kept without a client, at most */
	struct console_flow out, in;
	struct event ev_listen;
	bool listening;
	const struct console_backend_cb *cb;
	void *ctx;
	struct console_backend_stats st;
};

/*
 * Start the backend @kind on @fds (the pipes included) and both flows;
 * a socket backend resumes with fds->client when it is set (closed by
 * the backend in every case). Returns 0, -EBADF (a needed fd missing),
 * -EINVAL (unknown kind) or -errno of the set-up.
 */
int console_backend_open(struct console_backend *b, struct event_base *base,
			 enum ctl_console_backend kind,
			 const struct srv_fds *fds,
			 const struct console_backend_cb *cb, void *ctx);

/*
 * Write what the OUT pipe still holds to the backend, waiting for the
 * output fd up to CONSOLE_CLOSE_DRAIN_MS (not at all once it reports a
 * hang-up or an error, or while no client is connected), then stop both
 * flows. Bytes left are logged and counted as dropped. Called at exit,
 * outside the event loop.
 */
void console_backend_close(struct console_backend *b);

#endif
