/* blk_workers.h: a fixed pool of threads running block requests in parallel. */
#ifndef ISOVM_DEVSRV_BLK_WORKERS_H
#define ISOVM_DEVSRV_BLK_WORKERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "devsrv/blk/blk_backend.h"
#include "ipc/ipc_entry.h"

/* Measured best at queue depth 32 on a 2-core host: 16 keep the disk busy,
 * more cost more in scheduling than they add in parallel I/O. */
#define BLK_WORKERS_DEFAULT 16u
#define BLK_WORKERS_MAX	    64u

/* One queued request: a private copy and its arena buffer (not owned). */
struct blk_job {
	struct ipc_req req;
	void *buf;
};

/*
 * Runs one job on a worker thread with that thread's bounce buffer; it
 * must complete the request itself (e.g. srv_complete_async()).
 */
typedef void (*blk_workers_fn)(void *ctx, const struct blk_job *job,
			       const struct blk_bounce *bb);

struct blk_worker {
	pthread_t tid;
	struct blk_bounce bb; /* private to this thread */
	struct blk_workers *pool;
};

/*
 * Queue and threads. Everything is allocated by blk_workers_start(), so
 * blk_workers_submit() never allocates. The lock guards the queue, the
 * counters and the flags.
 */
struct blk_workers {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* running dropped to 0 with nothing queued,
			      * or a thread started */
	struct blk_job *q;   /* ring of cap jobs */
	unsigned cap, head, queued;
	unsigned running; /* jobs taken by a thread, not finished */
	unsigned nthreads;
	unsigned started; /* threads that reached their loop */
	bool stop;
	struct blk_worker *w; /* [nthreads] */
	blk_workers_fn fn;
	void *ctx;
};

/*
 * Start @nthreads (1..BLK_WORKERS_MAX) threads and a queue of @cap jobs
 * (the most requests that can be in flight). Each thread gets a bounce
 * buffer of @bounce_len bytes (0: none). Returns once every thread runs
 * its loop: 0, -EINVAL, -ENOMEM or -errno of pthread_create (nothing is
 * left running then).
 */
int blk_workers_start(struct blk_workers *p, unsigned nthreads, unsigned cap,
		      size_t bounce_len, blk_workers_fn fn, void *ctx);

/* Queue a job (any thread; never blocks). Returns 0 or -ENOSPC (full). */
int blk_workers_submit(struct blk_workers *p, const struct ipc_req *req,
		       void *buf);

/* True when no job is queued or running (any thread; a snapshot). */
bool blk_workers_idle(struct blk_workers *p);

/* Told about a job taken off the queue without running (under the lock:
 * it must not call into the pool). */
typedef void (*blk_workers_cancel_fn)(void *ctx, const struct blk_job *job);

/*
 * Device reset: take the jobs not yet started off the queue, handing each
 * to @cancel (may be NULL) so it can still be completed, and wait until
 * the running ones finished. Returns how many were cancelled.
 */
unsigned blk_workers_quiesce(struct blk_workers *p,
			     blk_workers_cancel_fn cancel);

/* Drop the queue, let running jobs finish, join and free everything. */
void blk_workers_stop(struct blk_workers *p);

#endif
