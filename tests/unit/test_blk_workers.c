/* test_blk_workers.c: the worker pool runs every job once, many at a time. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "devsrv/blk/blk_workers.h"

#define NJOBS 64

struct wk_ctx {
	atomic_uint runs[NJOBS];
	atomic_uint running, peak, done;
	atomic_bool hold; /* jobs wait while set */
	atomic_uint bad_bounce;
	atomic_uint cancelled[NJOBS];
	size_t bounce_len;
};

static void wk_fn(void *arg, const struct blk_job *job,
		  const struct blk_bounce *bb)
{
	struct wk_ctx *c = arg;
	unsigned now = atomic_fetch_add(&c->running, 1) + 1;
	unsigned peak = atomic_load(&c->peak);

	while (now > peak &&
	       !atomic_compare_exchange_weak(&c->peak, &peak, now))
		;
	if (bb->len != c->bounce_len || (c->bounce_len && !bb->buf))
		atomic_fetch_add(&c->bad_bounce, 1);
	while (atomic_load(&c->hold))
		usleep(200);
	usleep(2000); /* long enough that jobs overlap */
	if (job->req.id < NJOBS && job->buf == &c->runs[job->req.id])
		atomic_fetch_add(&c->runs[job->req.id], 1);
	atomic_fetch_sub(&c->running, 1);
	atomic_fetch_add(&c->done, 1);
}

static void wk_cancel(void *arg, const struct blk_job *job)
{
	struct wk_ctx *c = arg;

	if (job->req.id < NJOBS)
		atomic_fetch_add(&c->cancelled[job->req.id], 1);
}

static void wk_wait_done(struct wk_ctx *c, unsigned n)
{
	for (int i = 0; i < 5000 && atomic_load(&c->done) < n; i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&c->done), n);
}

Test(blk_workers, sixty_four_in_flight_each_complete_exactly_once)
{
	static struct wk_ctx c;
	struct blk_workers p;

	memset(&c, 0, sizeof(c));
	c.bounce_len = 4096;
	cr_assert_eq(blk_workers_start(&p, 4, NJOBS, 4096, wk_fn, &c), 0);
	for (unsigned i = 0; i < NJOBS; i++) {
		struct ipc_req r = {.id = i, .op = 1};

		cr_assert_eq(blk_workers_submit(&p, &r, &c.runs[i]), 0);
	}
	wk_wait_done(&c, NJOBS);
	blk_workers_stop(&p);
	for (unsigned i = 0; i < NJOBS; i++)
		cr_assert_eq(atomic_load(&c.runs[i]), 1, "job %u ran %u times",
			     i, atomic_load(&c.runs[i]));
	/* Several at once (all four unless the machine is very busy). */
	cr_assert_geq(atomic_load(&c.peak), 2);
	cr_assert_leq(atomic_load(&c.peak), 4);
	cr_assert_eq(atomic_load(&c.bad_bounce), 0);
}

Test(blk_workers, full_queue_is_enospc_not_a_block)
{
	static struct wk_ctx c;
	struct blk_workers p;
	struct ipc_req r = {.op = 1};

	memset(&c, 0, sizeof(c));
	atomic_store(&c.hold, true);
	cr_assert_eq(blk_workers_start(&p, 2, 4, 0, wk_fn, &c), 0);
	/* Two jobs taken by the held threads, then four fill the queue. */
	for (unsigned i = 0; i < 6; i++) {
		r.id = i;
		cr_assert_eq(blk_workers_submit(&p, &r, &c.runs[i]), 0);
		while (i < 2 && atomic_load(&c.running) <= i)
			usleep(100);
	}
	cr_assert_eq(blk_workers_submit(&p, &r, NULL), -ENOSPC);
	atomic_store(&c.hold, false);
	wk_wait_done(&c, 6);
	blk_workers_stop(&p);
}

Test(blk_workers, quiesce_cancels_queued_jobs_and_waits_for_running_ones)
{
	static struct wk_ctx c;
	struct blk_workers p;
	struct ipc_req r = {.op = 1};
	unsigned dropped;

	memset(&c, 0, sizeof(c));
	atomic_store(&c.hold, true);
	cr_assert_eq(blk_workers_start(&p, 1, 8, 0, wk_fn, &c), 0);
	for (unsigned i = 0; i < 5; i++) {
		r.id = i;
		cr_assert_eq(blk_workers_submit(&p, &r, &c.runs[i]), 0);
	}
	while (!atomic_load(&c.running))
		usleep(100);
	atomic_store(&c.hold, false);
	dropped = blk_workers_quiesce(&p, wk_cancel);
	cr_assert_eq(dropped, 4);
	for (unsigned i = 1; i < 5; i++)
		cr_assert_eq(atomic_load(&c.cancelled[i]), 1, "job %u", i);
	cr_assert_eq(atomic_load(&c.cancelled[0]), 0, "job 0 ran instead");
	cr_assert_eq(atomic_load(&c.done), 1, "the running job finished");
	cr_assert_eq(atomic_load(&c.running), 0);
	/* Still usable afterwards. */
	r.id = 9;
	cr_assert_eq(blk_workers_submit(&p, &r, &c.runs[9]), 0);
	wk_wait_done(&c, 2);
	cr_assert_eq(atomic_load(&c.runs[9]), 1);
	blk_workers_stop(&p);
}

Test(blk_workers, bad_sizes_are_einval)
{
	struct blk_workers p;
	static struct wk_ctx c;

	cr_assert_eq(blk_workers_start(&p, 0, 8, 0, wk_fn, &c), -EINVAL);
	cr_assert_eq(
		blk_workers_start(&p, BLK_WORKERS_MAX + 1, 8, 0, wk_fn, &c),
		-EINVAL);
	cr_assert_eq(blk_workers_start(&p, 2, 0, 0, wk_fn, &c), -EINVAL);
	cr_assert_eq(blk_workers_start(&p, 2, 8, 0, NULL, &c), -EINVAL);
}

Test(blk_workers, idle_only_while_nothing_is_queued_or_running)
{
	static struct wk_ctx c;
	struct blk_workers p;
	struct ipc_req r = {.id = 3, .op = 1};

	memset(&c, 0, sizeof(c));
	cr_assert_eq(blk_workers_start(&p, 2, 8, 0, wk_fn, &c), 0);
	cr_assert(blk_workers_idle(&p));
	atomic_store(&c.hold, true);
	cr_assert_eq(blk_workers_submit(&p, &r, &c.runs[3]), 0);
	cr_assert_not(blk_workers_idle(&p), "a job is queued or running");
	for (int i = 0; i < 2000 && !atomic_load(&c.running); i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&c.running), 1);
	cr_assert_not(blk_workers_idle(&p), "a job is running");
	atomic_store(&c.hold, false);
	wk_wait_done(&c, 1);
	for (int i = 0; i < 2000 && !blk_workers_idle(&p); i++)
		usleep(1000);
	cr_assert(blk_workers_idle(&p));
	blk_workers_stop(&p);
}
