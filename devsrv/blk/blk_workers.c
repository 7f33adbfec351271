/* blk_workers.c: worker threads taking block jobs from one bounded queue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devsrv/blk/blk_workers.h"

static void *blk_worker_main(void *arg)
{
	struct blk_worker *me = arg;
	struct blk_workers *p = me->pool;
	struct blk_job job;

	pthread_mutex_lock(&p->lock);
	p->started++;
	pthread_cond_broadcast(&p->idle);
	for (;;) {
		while (!p->queued && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		job = p->q[p->head];
		p->head = (p->head + 1) % p->cap;
		p->queued--;
		p->running++;
		pthread_mutex_unlock(&p->lock);

		p->fn(p->ctx, &job, &me->bb);

		pthread_mutex_lock(&p->lock);
		p->running--;
		if (!p->running && !p->queued)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int blk_workers_alloc(struct blk_workers *p, unsigned nthreads,
			     unsigned cap, size_t bounce_len)
{
	p->q = calloc(cap, sizeof(*p->q));
	p->w = calloc(nthreads, sizeof(*p->w));
	if (!p->q || !p->w)
		return -ENOMEM;
	for (unsigned i = 0; i < nthreads; i++) {
		p->w[i].pool = p;
		if (bounce_len && blk_bounce_init(&p->w[i].bb, bounce_len))
			return -ENOMEM;
	}
	return 0;
}

static void blk_workers_free(struct blk_workers *p, unsigned nthreads)
{
	if (p->w) {
		for (unsigned i = 0; i < nthreads; i++)
			blk_bounce_fini(&p->w[i].bb);
	}
	free(p->w);
	free(p->q);
	p->w = NULL;
	p->q = NULL;
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
}

/* Stop and join the first @n threads (start failed half-way, or stop). */
static void blk_workers_join(struct blk_workers *p, unsigned n)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	p->queued = 0;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(p->w[i].tid, NULL);
}

int blk_workers_start(struct blk_workers *p, unsigned nthreads, unsigned cap,
		      size_t bounce_len, blk_workers_fn fn, void *ctx)
{
	unsigned i;
	int ret;

	if (!nthreads || nthreads > BLK_WORKERS_MAX || !cap || !fn)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->cap = cap;
	p->fn = fn;
	p->ctx = ctx;
	ret = pthread_mutex_init(&p->lock, NULL);
	if (ret)
		return -ret;
	ret = pthread_cond_init(&p->work, NULL);
	if (ret)
		goto err_destroy_lock;
	ret = pthread_cond_init(&p->idle, NULL);
	if (ret)
		goto err_destroy_work;
	ret = blk_workers_alloc(p, nthreads, cap, bounce_len);
	if (ret)
		goto err_free;
	for (i = 0; i < nthreads; i++) {
		ret = pthread_create(&p->w[i].tid, NULL, blk_worker_main,
				     &p->w[i]);
		if (ret) {
			ret = -ret;
			goto err_join;
		}
	}
	/*
	 * Every thread is through libc's start-up (rseq, robust list,
	 * signal mask) when this returns: a seccomp filter loaded next, for
	 * all threads, need not allow those calls.
	 */
	pthread_mutex_lock(&p->lock);
	while (p->started < nthreads)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	p->nthreads = nthreads;
	return 0;

err_join:
	blk_workers_join(p, i);
err_free:
	blk_workers_free(p, nthreads);
	return ret;
err_destroy_work:
	pthread_cond_destroy(&p->work);
err_destroy_lock:
	pthread_mutex_destroy(&p->lock);
	return -ret;
}

int blk_workers_submit(struct blk_workers *p, const struct ipc_req *req,
		       void *buf)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&p->lock);
	if (p->queued < p->cap && !p->stop) {
		struct blk_job *j = &p->q[(p->head + p->queued) % p->cap];

		j->req = *req;
		j->buf = buf;
		p->queued++;
		pthread_cond_signal(&p->work);
		ret = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

bool blk_workers_idle(struct blk_workers *p)
{
	bool idle;

	pthread_mutex_lock(&p->lock);
	idle = !p->queued && !p->running;
	pthread_mutex_unlock(&p->lock);
	return idle;
}

unsigned blk_workers_quiesce(struct blk_workers *p,
			     blk_workers_cancel_fn cancel)
{
	unsigned dropped;

	pthread_mutex_lock(&p->lock);
	dropped = p->queued;
	for (; p->queued; p->queued--) {
		if (cancel)
			cancel(p->ctx, &p->q[p->head]);
		p->head = (p->head + 1) % p->cap;
	}
	while (p->running)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return dropped;
}

void blk_workers_stop(struct blk_workers *p)
{
	if (!p->w)
		return;
	blk_workers_join(p, p->nthreads);
	blk_workers_free(p, p->nthreads);
	p->nthreads = 0;
}
