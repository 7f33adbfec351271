/*
 * iothread.h: the VMM's I/O thread, a libevent loop for work that must not
 * run on vCPU threads (eventfd kicks, device completions, sockets).
 */
#ifndef ISOVM_IOTHREAD_H
#define ISOVM_IOTHREAD_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>

struct event;
struct event_base;

struct iothread {
	struct event_base
		*base; /* owned; events may be added from any thread */
	pthread_t thread;
	bool started;
	/* iothread_start(): the new thread's confinement, then its loop. */
	sem_t confined;
	int start_ret;
	char start_err[320]; /* why iothread_start() failed */
};

typedef void (*iothread_fd_fn)(int fd, void *arg);
typedef void (*iothread_fn)(void *arg);

/* Creates the event base (libevent made thread-safe first). 0 or -errno. */
int iothread_init(struct iothread *io);

/*
 * Runs the loop on a new thread until iothread_stop(). The thread loads its
 * seccomp filter first (confine.h), and iothread_start() waits for that:
 * 0, or -errno with one line in io->start_err (no thread left running).
 */
int iothread_start(struct iothread *io);

/*
 * Calls fn(fd, arg) on the I/O thread each time fd is readable, until
 * iothread_unwatch(). Any thread. Returns the watch or NULL.
 */
struct event *iothread_watch(struct iothread *io, int fd, iothread_fd_fn fn,
			     void *arg);
void iothread_unwatch(struct event *ev);

/*
 * A call of fn(arg) on the I/O thread at the loop's next turn, after the
 * fd callbacks ready by then: work cut into slices so that other events
 * run between them. Made once (allocates); iothread_soon() arms it any
 * number of times (allocating only when the loop holds more timers at
 * once than ever before). Returns it or NULL.
 */
struct event *iothread_soon_new(struct iothread *io, iothread_fn fn, void *arg);

/*
 * Any thread, also from fn itself: call it once more at the next turn.
 * 0, or -ENOMEM when the loop had no room for it (it will not be called).
 */
int iothread_soon(struct event *ev);

/* Any thread: call it once ms milliseconds from now instead (re-arming
 * moves the time). 0 or -ENOMEM. */
int iothread_later(struct event *ev, unsigned ms);

/* Any thread: disarm it; a call already running finishes. */
void iothread_cancel(struct event *ev);

/* Disarms and frees it; waits for a call running on the I/O thread. */
void iothread_soon_free(struct event *ev);

/* Ends the loop and joins the thread; callbacks have returned after it. */
void iothread_stop(struct iothread *io);

/* Frees the base; every watch must be gone. */
void iothread_fini(struct iothread *io);

#endif
