/*
 * server_log.h: a device's servers write their log into a pipe, never
 * into the VMM's stderr itself (often the user's terminal, which a jailed
 * server must not be able to read); the VMM copies it to its stderr.
 *
 * The server's end is non-blocking: a server that logs faster than we copy
 * loses lines, it never stalls. One pipe serves every server a device
 * has, so the last words of a dead one are still read after its death.
 */
#ifndef ISOVM_SERVER_LOG_H
#define ISOVM_SERVER_LOG_H

struct iothread;
struct event;

struct server_log {
	int rd, wr; /* -1 when closed */
	struct event *ev;
};

/* 0 or -errno. */
int server_log_open(struct server_log *l);

/* Copy what is in the pipe to stderr now (any thread that owns it). */
void server_log_drain(struct server_log *l);

/* Copy it on the I/O thread as it comes. 0 or -ENOMEM. */
int server_log_watch(struct server_log *l, struct iothread *io);

/* Stop watching, copy what is left, close. */
void server_log_close(struct server_log *l);

#endif
