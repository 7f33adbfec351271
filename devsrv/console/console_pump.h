/*
 * console_pump.h: one direction of the console's bytes, from a source fd to
 * a destination fd, one of them a pipe the VMM holds for the device's whole
 * life. splice(2) moves the bytes: one leaves the source only once it is in
 * the destination, so a server killed at any instant leaves every byte in
 * one of the two, never in both and never in neither. Where the kernel
 * refuses to splice the pair (EINVAL: an O_APPEND file, a device without
 * splice support), the pump falls back to read(2) and write(2) through a
 * buffer of its own; a byte in that buffer is lost if the server is killed
 * before it is written. POSIX/Linux only: no ipc, no event loop.
 */
#ifndef ISOVM_CONSOLE_PUMP_H
#define ISOVM_CONSOLE_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Most bytes one move asks splice for. */
#define CONSOLE_PUMP_CHUNK (1u << 20)
/*
 * The fallback buffer: PIPE_BUF bytes, so that a write to a pipe with any
 * room takes all of them at once (the pump reads for a pipe only when it
 * has room), and at most this much is in the server's hands at a time.
 */
#define CONSOLE_PUMP_BUF 4096u

/* After -EAGAIN: what the pump waits for. */
enum console_pump_wait {
	CONSOLE_PUMP_WAIT_SRC, /* the source has nothing */
	CONSOLE_PUMP_WAIT_DST, /* the destination has no room */
};

struct console_pump {
	int src, dst;  /* borrowed */
	bool fallback; /* splice refused the pair: read and write */
	bool dst_fifo; /* dst is a pipe: read only when it has room */
	enum console_pump_wait wait;
	uint8_t buf[CONSOLE_PUMP_BUF]; /* fallback: read, not yet written */
	size_t off, len;
};

/* A pump from src to dst, splicing until the kernel refuses. */
void console_pump_init(struct console_pump *p, int src, int dst);

/*
 * Move up to max (> 0) bytes once, never blocking on a pipe (the other fd
 * blocks only if it is a blocking fd that is not ready: call when the loop
 * said it is). Returns the bytes that reached dst (> 0); 0 when src is at
 * its end; -EAGAIN when src has nothing or dst no room, p->wait saying
 * which; or the -errno of the failed splice, read or write. The first
 * EINVAL of splice switches the pump to read and write for good
 * (p->fallback, for the caller to log) and tries again that way.
 */
ssize_t console_pump_move(struct console_pump *p, size_t max);

/* Bytes the fallback read and has not written yet. */
static inline size_t console_pump_held(const struct console_pump *p)
{
	return p->len;
}

/* src is a pipe: the bytes waiting in it (FIONREAD), or -errno. */
int console_pump_queued(const struct console_pump *p);

/*
 * src is a pipe: drop up to max bytes, the fallback's held ones first,
 * then the oldest waiting in src. Returns how many were dropped.
 */
size_t console_pump_discard(struct console_pump *p, size_t max);

#endif
