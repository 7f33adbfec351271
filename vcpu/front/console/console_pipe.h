/*
 * console_pipe.h: one of the console's two kernel pipes as the VMM holds
 * it. The VMM keeps both ends for the device's whole life, so the bytes in
 * the pipe outlive any console server: each server gets the far end again
 * in its SETUP and moves bytes between it and the backend with splice(2).
 *
 *   OUT: the VMM writes the guest's output into it; a server reads it.
 *   IN:  a server writes the guest's input into it; the VMM reads it.
 *
 * The VMM's end is non-blocking: it writes or reads only what the pipe
 * allows now (a call never waits on a server), and asks a one-shot event
 * to tell it, on the event loop's thread, when to try again: the OUT pipe
 * has room, the IN pipe has bytes.
 */
#ifndef ISOVM_CONSOLE_PIPE_H
#define ISOVM_CONSOLE_PIPE_H

#include <event2/event.h>
#include <stddef.h>
#include <sys/types.h>

enum console_pipe_dir {
	CONSOLE_PIPE_OUT, /* guest output: the VMM writes, a server reads */
	CONSOLE_PIPE_IN,  /* guest input: a server writes, the VMM reads */
};

struct console_pipe {
	enum console_pipe_dir dir;
	int vmm_fd;	  /* owned: OUT's write end, IN's read end */
	int srv_fd;	  /* owned: the other end, handed to every server */
	struct event *ev; /* owned: one-shot, OUT writable or IN readable */
	/* owned: made active by console_pipe_wait() from any thread; adds
	 * ev on the loop's thread, so only that thread changes the loop's
	 * fd set (the vCPU threads' filter has no epoll_ctl) */
	struct event *arm;
	void (*cb)(void *arg);
	void *arg;
};

/*
 * Make the pipe (both ends close-on-exec and non-blocking, sized to @size
 * bytes where the kernel allows: else its default) and the event on @base
 * that calls cb(arg) on the loop's thread after console_pipe_wait().
 * Returns 0 or -errno (nothing left open).
 */
int console_pipe_open(struct console_pipe *p, enum console_pipe_dir dir,
		      size_t size, struct event_base *base,
		      void (*cb)(void *arg), void *arg);

/* Free the event and close both ends; after the loop stopped or from it.
 * Idempotent. */
void console_pipe_close(struct console_pipe *p);

/*
 * OUT, any thread: write up to @n bytes now. Returns how many the pipe
 * took, fewer than @n (0 included) when it is full (then wait), or -errno.
 */
ssize_t console_pipe_put(struct console_pipe *p, const void *buf, size_t n);

/* IN, any thread: read up to @n bytes now: the count, 0 when the pipe is
 * empty (then wait), or -errno. */
ssize_t console_pipe_get(struct console_pipe *p, void *buf, size_t n);

/*
 * Any thread, never waits: call cb once the VMM's end is ready (OUT: it
 * has room; IN: bytes came), or at once if it is. Asking again before it
 * ran changes nothing. 0 or -errno.
 */
int console_pipe_wait(struct console_pipe *p);

/* Bytes in the pipe now (FIONREAD), or -errno. */
int console_pipe_queued(const struct console_pipe *p);

#endif
