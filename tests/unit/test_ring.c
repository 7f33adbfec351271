/* test_ring.c: SPSC rings: empty/full, wrap, batches, threads, processes. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/arena.h"
#include "ipc/inflight.h"
#include "ipc/notify.h"
#include "ipc/region.h"
#include "ipc/ring.h"
#include "tests/unit/ring_peer.h"

struct pair {
	void *mem;
	struct ipc_ring prod;
	struct ipc_ring cons;
};

static void pair_new(struct pair *p, uint32_t cap, uint32_t start)
{
	p->mem = aligned_alloc(IPC_CACHELINE, ipc_ring_bytes(cap));
	cr_assert_not_null(p->mem);
	ipc_ring_format(p->mem, start);
	cr_assert_eq(ipc_ring_attach(&p->prod, p->mem, cap, true), 0);
	cr_assert_eq(ipc_ring_attach(&p->cons, p->mem, cap, false), 0);
}

static void req_fill(struct ipc_req *r, uint64_t seq)
{
	memset(r, 0, sizeof(*r));
	r->id = seq;
	r->op = (uint32_t)(seq * 2654435761u);
	r->arena_off = ~seq;
	r->args.blk.sector = seq * 7 + 3;
	r->args.blk.count = (uint32_t)seq ^ 0xa5a5a5a5u;
}

static bool req_check(const struct ipc_req *r, uint64_t seq)
{
	struct ipc_req want;

	req_fill(&want, seq);
	return !memcmp(r, &want, sizeof(want));
}

Test(ring, empty_ring_pops_nothing)
{
	struct pair p;
	struct ipc_req e;

	pair_new(&p, 8, 0);
	cr_assert_eq(ipc_ring_pop(&p.cons, &e, 1), 0);
	cr_assert_eq(ipc_ring_pending(&p.cons), 0);
	cr_assert_eq(ipc_ring_space(&p.prod), 8);
	free(p.mem);
}

Test(ring, full_ring_refuses_more_until_popped)
{
	struct pair p;
	struct ipc_req e[9];
	int i;

	pair_new(&p, 8, 0);
	for (i = 0; i < 9; i++)
		req_fill(&e[i], (uint64_t)i);
	cr_assert_eq(ipc_ring_push(&p.prod, e, 9), 8, "only capacity fits");
	cr_assert_eq(ipc_ring_push(&p.prod, &e[8], 1), 0);
	cr_assert_eq(ipc_ring_space(&p.prod), 0);
	cr_assert_eq(ipc_ring_pop(&p.cons, e, 1), 1);
	cr_assert(req_check(&e[0], 0));
	req_fill(&e[0], 8);
	cr_assert_eq(ipc_ring_push(&p.prod, e, 1), 1);
	cr_assert_eq(ipc_ring_pop(&p.cons, e, 9), 8);
	for (i = 0; i < 8; i++)
		cr_assert(req_check(&e[i], (uint64_t)i + 1), "entry %d", i);
	free(p.mem);
}

Test(ring, indices_wrap_across_uint32_overflow)
{
	struct pair p;
	struct ipc_req in[5], out[5];
	uint64_t seq = 0, got = 0;
	int round, i, n;

	pair_new(&p, 8, UINT32_MAX - 12);
	for (round = 0; round < 40; round++) {
		for (i = 0; i < 5; i++)
			req_fill(&in[i], seq + (uint64_t)i);
		n = ipc_ring_push(&p.prod, in, 5);
		cr_assert_eq(n, 5, "round %d", round);
		seq += 5;
		n = ipc_ring_pop(&p.cons, out, 5);
		cr_assert_eq(n, 5);
		for (i = 0; i < 5; i++, got++)
			cr_assert(req_check(&out[i], got), "entry %lu", got);
	}
	/* The shared indices did wrap past zero. */
	cr_assert_lt(atomic_load(&((struct ipc_ring_hdr *)p.mem)->prod),
		     UINT32_MAX - 12);
	cr_assert_eq(ipc_ring_pending(&p.cons), 0);
	free(p.mem);
}

Test(ring, full_ring_at_wrap_point_keeps_order)
{
	struct pair p;
	struct ipc_req e[16];
	int i;

	pair_new(&p, 16, UINT32_MAX - 3);
	for (i = 0; i < 16; i++)
		req_fill(&e[i], (uint64_t)i);
	cr_assert_eq(ipc_ring_push(&p.prod, e, 16), 16);
	cr_assert_eq(ipc_ring_push(&p.prod, e, 1), 0);
	memset(e, 0, sizeof(e));
	cr_assert_eq(ipc_ring_pop(&p.cons, e, 16), 16);
	for (i = 0; i < 16; i++)
		cr_assert(req_check(&e[i], (uint64_t)i));
	free(p.mem);
}

Test(ring, batches_split_across_the_end_of_the_slots)
{
	struct pair p;
	struct ipc_req e[12];
	uint64_t seq = 0, got = 0;
	int round, i, n, k;

	pair_new(&p, 16, 0);
	for (round = 0; round < 50; round++) {
		k = 1 + round % 12;
		for (i = 0; i < k; i++)
			req_fill(&e[i], seq + (uint64_t)i);
		n = ipc_ring_push(&p.prod, e, (unsigned)k);
		cr_assert_eq(n, k);
		seq += (uint64_t)n;
		n = ipc_ring_pop(&p.cons, e, 12);
		cr_assert_eq(n, k, "pop takes everything published");
		for (i = 0; i < n; i++, got++)
			cr_assert(req_check(&e[i], got));
	}
	free(p.mem);
}

Test(ring, attach_rejects_bad_capacity_and_alignment)
{
	struct ipc_ring r;
	void *mem = aligned_alloc(IPC_CACHELINE, ipc_ring_bytes(16) + 64);

	ipc_ring_format(mem, 0);
	cr_assert_eq(ipc_ring_attach(&r, mem, 12, true), -EINVAL);
	cr_assert_eq(ipc_ring_attach(&r, mem, 1, true), -EINVAL);
	cr_assert_eq(ipc_ring_attach(&r, mem, 1u << 17, true), -EINVAL);
	cr_assert_eq(ipc_ring_attach(&r, (char *)mem + 8, 16, true), -EINVAL);
	cr_assert_eq(ipc_ring_attach(&r, mem, 16, true), 0);
	free(mem);
}

Test(ring, producer_cannot_pop_and_consumer_cannot_push)
{
	struct pair p;
	struct ipc_req e = { 0 };

	pair_new(&p, 8, 0);
	cr_assert_eq(ipc_ring_pop(&p.prod, &e, 1), -EPROTO);
	cr_assert_eq(ipc_ring_push(&p.cons, &e, 1), -EPROTO);
	free(p.mem);
}

#define STRESS_N 10000000ull
#define STRESS_BATCH 32

static void *stress_producer(void *arg)
{
	struct ipc_ring *r = arg;
	struct ipc_req e[STRESS_BATCH];
	uint64_t seq = 0;
	int n, i, k;

	while (seq < STRESS_N) {
		k = STRESS_N - seq < STRESS_BATCH ? (int)(STRESS_N - seq)
						   : STRESS_BATCH;
		for (i = 0; i < k; i++)
			req_fill(&e[i], seq + (uint64_t)i);
		for (i = 0; i < k; i += n) {
			n = ipc_ring_push(r, &e[i], (unsigned)(k - i));
			if (n < 0)
				return (void *)1;
			if (!n)
				sched_yield();
		}
		seq += (uint64_t)k;
	}
	return NULL;
}

Test(ring, two_threads_move_ten_million_entries_in_order, .timeout = 120)
{
	struct pair p;
	struct ipc_req e[STRESS_BATCH];
	uint64_t got = 0, bad = 0;
	pthread_t th;
	void *res;
	int n, i;

	pair_new(&p, 1024, UINT32_MAX - 100);
	cr_assert_eq(pthread_create(&th, NULL, stress_producer, &p.prod), 0);
	while (got < STRESS_N) {
		n = ipc_ring_pop(&p.cons, e, STRESS_BATCH);
		cr_assert_geq(n, 0);
		if (!n)
			sched_yield();
		/* Cheap full check: id and sector derive from the sequence. */
		for (i = 0; i < n; i++, got++)
			if (e[i].id != got ||
			    e[i].args.blk.sector != got * 7 + 3 ||
			    e[i].arena_off != ~got)
				bad++;
	}
	cr_assert_eq(pthread_join(th, &res), 0);
	cr_assert_null(res, "producer saw an error");
	cr_assert_eq(bad, 0, "%lu entries out of order or damaged", bad);
	cr_assert_eq(ipc_ring_pending(&p.cons), 0);
	free(p.mem);
}

/* Cross-process: the ring_peer helper answers every request. */
struct xproc {
	struct ipc_region reg;
	struct ipc_ring sq, cq;
	struct ipc_arena arena;
	struct ipc_inflight inf;
	struct ipc_notify sq_kick, cq_wait;
	int sq_pipe[2], cq_pipe[2]; /* [0] read end, [1] write end */
};

static void xproc_post(struct xproc *x, uint32_t op, uint32_t len,
		       uint64_t seq)
{
	struct ipc_req r = { .op = op, .arena_len = len };
	unsigned char *buf;
	uint32_t i;

	r.args.blk.sector = seq;
	cr_assert_eq(ipc_arena_alloc(&x->arena, len, &r.arena_off), 0);
	buf = ipc_arena_span(&x->arena, r.arena_off, len);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seq + i);
	cr_assert_eq(ipc_inflight_begin(&x->inf, &r, NULL), 0);
	cr_assert_eq(ipc_ring_push(&x->sq, &r, 1), 1);
	cr_assert_geq(ipc_notify_kick(&x->sq_kick), 0);
}

/* Retire one completion; the peer XORed the buffer with 0x5a. */
static void xproc_reap(struct xproc *x, const struct ipc_cpl *c)
{
	struct ipc_req r;
	unsigned char *buf;
	uint32_t i;

	cr_assert_eq(ipc_inflight_complete(&x->inf, c, &r, NULL), 0);
	cr_assert_eq(c->status, 0);
	cr_assert_eq(c->len, r.arena_len);
	buf = ipc_arena_span(&x->arena, r.arena_off, r.arena_len);
	for (i = 0; i < r.arena_len; i++)
		cr_assert_eq(buf[i], (unsigned char)((r.args.blk.sector + i) ^
						     0x5a));
	cr_assert_eq(ipc_arena_free(&x->arena, r.arena_off, r.arena_len), 0);
}

Test(ring, helper_process_answers_every_request_over_shared_memory,
     .timeout = 60)
{
	struct ipc_geom g = { 64, 64, 512, 256 };
	struct ipc_cpl c[16];
	struct xproc x;
	uint64_t posted = 0, done = 0;
	int n, i, status;
	pid_t pid;

	cr_assert_eq(ipc_region_create(&x.reg, &g, 1), 0);
	cr_assert_eq(ipc_ring_attach(&x.sq, ipc_region_sq(&x.reg), 64, true), 0);
	cr_assert_eq(ipc_ring_attach(&x.cq, ipc_region_cq(&x.reg), 64, false), 0);
	cr_assert_eq(ipc_arena_init(&x.arena, ipc_region_arena(&x.reg), 512,
				    256, true), 0);
	cr_assert_eq(ipc_inflight_init(&x.inf, 64), 0);
	cr_assert_eq(ipc_notify_pipe(x.sq_pipe), 0);
	cr_assert_eq(ipc_notify_pipe(x.cq_pipe), 0);
	ipc_notify_init(&x.sq_kick, &x.sq, x.sq_pipe[1]);
	ipc_notify_init(&x.cq_wait, &x.cq, x.cq_pipe[0]);
	pid = ring_peer_spawn(x.reg.fd, x.sq_pipe[0], x.cq_pipe[1], NULL);
	cr_assert_gt(pid, 0);

	while (done < 20000) {
		/* Keep up to 16 requests of varied sizes in flight. */
		while (posted < 20000 && posted - done < 16) {
			xproc_post(&x, IPC_OP_WRITE, 1 + (posted * 37) % 1500,
				   posted);
			posted++;
		}
		cr_assert_gt(ipc_notify_wait(&x.cq_wait, 10000), 0,
			     "peer stopped answering");
		n = ipc_ring_pop(&x.cq, c, 16);
		cr_assert_geq(n, 0);
		for (i = 0; i < n; i++, done++)
			xproc_reap(&x, &c[i]);
	}
	cr_assert_eq(ipc_inflight_count(&x.inf), 0);
	cr_assert_eq(x.arena.nfree, 256, "every buffer came back");
	xproc_post(&x, PEER_OP_QUIT, 1, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "peer status %#x", status);
	ipc_inflight_fini(&x.inf);
	ipc_arena_fini(&x.arena);
	ipc_region_close(&x.reg);
	for (i = 0; i < 2; i++) {
		close(x.sq_pipe[i]);
		close(x.cq_pipe[i]);
	}
}
