/* test_hostile.c: every kind of corruption by a hostile peer is detected. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/arena.h"
#include "ipc/dataplane.h"
#include "ipc/inflight.h"
#include "ipc/notify.h"
#include "ipc/region.h"
#include "ipc/ring.h"
#include "tests/unit/ring_peer.h"

#define CAP 16u

struct pair {
	void *mem;
	struct ipc_ring_hdr *hdr; /* what the hostile peer scribbles on */
	struct ipc_ring prod, cons;
};

static void pair_new(struct pair *p, uint32_t start)
{
	p->mem = aligned_alloc(IPC_CACHELINE, ipc_ring_bytes(CAP));
	cr_assert_not_null(p->mem);
	p->hdr = p->mem;
	ipc_ring_format(p->mem, start);
	cr_assert_eq(ipc_ring_attach(&p->prod, p->mem, CAP, true), 0);
	cr_assert_eq(ipc_ring_attach(&p->cons, p->mem, CAP, false), 0);
}

static void push_n(struct pair *p, unsigned int n)
{
	struct ipc_req e[CAP] = { 0 };

	cr_assert_eq(ipc_ring_push(&p->prod, e, n), (int)n);
}

/* Producer index claims more than capacity entries: seen at every start. */
Test(hostile, producer_index_ahead_by_more_than_capacity)
{
	static const uint32_t starts[] = { 0, 5, UINT32_MAX - 3 };
	struct ipc_req e[4];
	struct pair p;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		pair_new(&p, starts[i]);
		push_n(&p, 2);
		atomic_store(&p.hdr->prod, starts[i] + CAP + 1);
		cr_assert_eq(ipc_ring_pop(&p.cons, e, 4), -EPROTO,
			     "start %u", starts[i]);
		/* Once broken, always broken, even if the index looks fine. */
		atomic_store(&p.hdr->prod, starts[i] + 1);
		cr_assert_eq(ipc_ring_pop(&p.cons, e, 4), -EPROTO);
		cr_assert_eq(ipc_ring_pending(&p.cons), -EPROTO);
		free(p.mem);
	}
}

Test(hostile, producer_index_exactly_capacity_ahead_is_legal)
{
	struct ipc_req e[CAP];
	struct pair p;

	pair_new(&p, UINT32_MAX - 3);
	/* A full ring written by a well-behaved producer looks like this. */
	atomic_store(&p.hdr->prod, UINT32_MAX - 3 + CAP);
	cr_assert_eq(ipc_ring_pop(&p.cons, e, CAP), (int)CAP);
	free(p.mem);
}

Test(hostile, producer_index_going_backwards)
{
	struct ipc_req e[4];
	struct pair p;

	pair_new(&p, 100);
	push_n(&p, 3);
	cr_assert_eq(ipc_ring_pending(&p.cons), 3);
	atomic_store(&p.hdr->prod, 101);
	cr_assert_eq(ipc_ring_pending(&p.cons), -EPROTO);
	cr_assert_eq(ipc_ring_pop(&p.cons, e, 4), -EPROTO);
	free(p.mem);
}

Test(hostile, consumer_index_going_backwards)
{
	struct pair p;

	pair_new(&p, 50);
	push_n(&p, CAP);
	atomic_store(&p.hdr->cons, 40);
	/* The producer needs space, reads cons, and refuses it. */
	push_n(&p, 0);
	cr_assert_eq(ipc_ring_space(&p.prod), -EPROTO);
	free(p.mem);
}

Test(hostile, consumer_index_ahead_of_producer)
{
	struct ipc_req e = { 0 };
	struct pair p;

	pair_new(&p, UINT32_MAX - 1);
	push_n(&p, CAP);
	/* Claims to have consumed more than was ever produced. */
	atomic_store(&p.hdr->cons, UINT32_MAX - 1 + CAP + 1);
	cr_assert_eq(ipc_ring_push(&p.prod, &e, 1), -EPROTO);
	cr_assert_eq(ipc_ring_push(&p.prod, &e, 1), -EPROTO, "stays broken");
	free(p.mem);
}

Test(hostile, attach_to_a_ring_whose_indices_disagree)
{
	struct ipc_ring r;
	struct pair p;

	pair_new(&p, 0);
	atomic_store(&p.hdr->prod, 1000);
	cr_assert_eq(ipc_ring_attach(&r, p.mem, CAP, false), -EPROTO);
	cr_assert_eq(ipc_ring_pop(&r, NULL, 1), -EPROTO);
	free(p.mem);
}

/* An entry is popped as a private copy: later writes do not reach it. */
Test(hostile, entry_rewritten_after_pop_does_not_change_the_copy)
{
	struct ipc_req in = { .id = 7, .arena_len = 10 }, out;
	struct pair p;
	struct ipc_req *slot;

	pair_new(&p, 0);
	cr_assert_eq(ipc_ring_push(&p.prod, &in, 1), 1);
	cr_assert_eq(ipc_ring_pop(&p.cons, &out, 1), 1);
	slot = (struct ipc_req *)((char *)p.mem + sizeof(struct ipc_ring_hdr));
	slot->arena_len = 0xffffffff;
	cr_assert_eq(out.arena_len, 10);
	free(p.mem);
}

static struct ipc_inflight inf;
static struct ipc_req posted;

static void inflight_setup(void)
{
	cr_assert_eq(ipc_inflight_init(&inf, 8), 0);
	posted.arena_len = 512;
	cr_assert_eq(ipc_inflight_begin(&inf, &posted, NULL), 0);
}

static void inflight_teardown(void)
{
	ipc_inflight_fini(&inf);
}

Test(hostile, completion_with_unknown_id, .init = inflight_setup,
     .fini = inflight_teardown)
{
	struct ipc_cpl c = { 0 };

	c.id = posted.id + (1ull << 32); /* right slot, wrong sequence */
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -EBADMSG);
	c.id = 3; /* slot never used: sequence 0 */
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -EBADMSG);
	c.id = (1ull << 32) | 5;
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -EBADMSG);
	cr_assert_eq(ipc_inflight_count(&inf), 1, "table unchanged");
}

Test(hostile, completion_with_out_of_range_id, .init = inflight_setup,
     .fini = inflight_teardown)
{
	struct ipc_cpl c = { 0 };

	c.id = (posted.id & ~0xffffffffull) | 8;
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -ERANGE);
	c.id = UINT64_MAX;
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -ERANGE);
	cr_assert_eq(ipc_inflight_count(&inf), 1);
}

Test(hostile, duplicate_completion, .init = inflight_setup,
     .fini = inflight_teardown)
{
	struct ipc_cpl c = { .id = posted.id, .len = 512 };

	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), 0);
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -EALREADY);
	cr_assert_eq(ipc_inflight_count(&inf), 0);
}

Test(hostile, completion_claiming_more_bytes_than_the_buffer,
     .init = inflight_setup, .fini = inflight_teardown)
{
	struct ipc_cpl c = { .id = posted.id, .len = 513 };

	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), -ERANGE);
	cr_assert_eq(ipc_inflight_count(&inf), 1, "still in flight");
	c.len = 512;
	cr_assert_eq(ipc_inflight_complete(&inf, &c, NULL, NULL), 0);
}

Test(hostile, arena_reference_out_of_range_or_overflowing)
{
	static unsigned char mem[4096 * 4];
	struct ipc_arena a;

	cr_assert_eq(ipc_arena_init(&a, mem, 4096, 4, false), 0);
	cr_assert_null(ipc_arena_span(&a, 4096 * 4, 1));
	cr_assert_null(ipc_arena_span(&a, 4096 * 3, 4097));
	/* off + len wraps to a small number: must still be refused. */
	cr_assert_null(ipc_arena_span(&a, UINT64_MAX, 2));
	cr_assert_null(ipc_arena_span(&a, 16, UINT64_MAX - 15));
	cr_assert_null(ipc_arena_span(&a, UINT64_MAX - 4095, 4096));
	cr_assert_null(ipc_arena_span(&a, 1ull << 63, 1ull << 63));
	cr_assert_not_null(ipc_arena_span(&a, 4096 * 3, 4096));
}

/* Hostile regions: a good region's bytes, then one thing broken. */
static const struct ipc_geom geom = { 16, 16, 4096, 4 };

static int memfd_like(const struct ipc_region *good, uint64_t size,
		      int seals)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	cr_assert_eq(pwrite(fd, good->base, size < good->size ? size :
			    good->size, 0), (ssize_t)(size < good->size ?
						      size : good->size));
	if (seals)
		cr_assert_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int map_with_hdr(void (*spoil)(struct ipc_region_hdr *))
{
	struct ipc_region good, r;
	int ret;

	cr_assert_eq(ipc_region_create(&good, &geom, 1), 0);
	spoil((struct ipc_region_hdr *)good.base);
	ret = ipc_region_map(&r, good.fd, NULL);
	cr_assert_null(r.base, "nothing stays mapped on failure");
	ipc_region_close(&good);
	return ret;
}

typedef struct ipc_region_hdr hdr_t;
static void spoil_magic(hdr_t *h) { h->magic ^= 1; }
static void spoil_version(hdr_t *h) { h->version = 2; }
static void spoil_ring_size(hdr_t *h) { h->geom.sq_entries = 24; }
static void spoil_slot_size(hdr_t *h) { h->geom.arena_slot_size = 0; }
static void spoil_arena(hdr_t *h) { h->geom.arena_slots = 2; }
static void spoil_size(hdr_t *h) { h->size += 4096; }

Test(hostile, region_with_bad_magic)
{
	cr_assert_eq(map_with_hdr(spoil_magic), -EBADMSG);
}

Test(hostile, region_with_bad_version)
{
	cr_assert_eq(map_with_hdr(spoil_version), -EPROTONOSUPPORT);
}

Test(hostile, region_with_bad_geometry)
{
	cr_assert_eq(map_with_hdr(spoil_ring_size), -EINVAL);
	cr_assert_eq(map_with_hdr(spoil_slot_size), -EINVAL);
	/* Valid geometry that does not match the memfd size. */
	cr_assert_eq(map_with_hdr(spoil_arena), -EMSGSIZE);
	cr_assert_eq(map_with_hdr(spoil_size), -EMSGSIZE);
}

Test(hostile, region_with_unexpected_geometry)
{
	struct ipc_region good, r;
	struct ipc_geom want = geom;

	want.cq_entries = 32;
	cr_assert_eq(ipc_region_create(&good, &geom, 1), 0);
	cr_assert_eq(ipc_region_map(&r, good.fd, &want), -EINVAL);
	ipc_region_close(&good);
}

Test(hostile, region_memfd_of_wrong_size)
{
	struct ipc_region good, r;
	int fd;

	cr_assert_eq(ipc_region_create(&good, &geom, 1), 0);
	fd = memfd_like(&good, good.size + 4096,
			F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EMSGSIZE);
	close(fd);
	fd = memfd_like(&good, good.size - 4096,
			F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EMSGSIZE);
	close(fd);
	fd = memfd_like(&good, 16, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EMSGSIZE, "tiny memfd");
	close(fd);
	ipc_region_close(&good);
}

Test(hostile, region_memfd_missing_seals)
{
	struct ipc_region good, r;
	int fd;

	cr_assert_eq(ipc_region_create(&good, &geom, 1), 0);
	fd = memfd_like(&good, good.size, 0);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EPERM, "no seals");
	close(fd);
	fd = memfd_like(&good, good.size, F_SEAL_GROW | F_SEAL_SEAL);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EPERM, "can shrink");
	close(fd);
	fd = memfd_like(&good, good.size, F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EPERM, "can grow");
	close(fd);
	fd = memfd_like(&good, good.size, F_SEAL_SHRINK | F_SEAL_GROW);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), -EPERM, "can add seals");
	close(fd);
	/* The same bytes with all seals do map: only the seals differed. */
	fd = memfd_like(&good, good.size,
			F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(ipc_region_map(&r, fd, NULL), 0);
	ipc_region_close(&r);
	close(fd);
	ipc_region_close(&good);
}

Test(hostile, region_fd_that_is_not_a_memfd)
{
	struct ipc_region r;
	int fd[2];

	cr_assert_eq(pipe(fd), 0);
	cr_assert_eq(ipc_region_map(&r, fd[0], NULL), -EPERM);
	close(fd[0]);
	close(fd[1]);
	cr_assert_eq(ipc_region_map(&r, -1, NULL), -EBADF);
}

/*
 * A real hostile server: the ring_peer helper in a separate process,
 * spoiling its answers in one way per test. The VMM side must name it.
 */
struct vmm {
	struct ipc_region reg;
	struct ipc_ring sq, cq;
	struct ipc_arena arena;
	struct ipc_notify kick, wait;
	int sq_pipe[2], cq_pipe[2]; /* [0] read end, [1] write end */
	pid_t pid;
};

static const struct ipc_geom vmm_geom = { 16, 16, 256, 16 };

static void vmm_start(struct vmm *v, const char *evil)
{
	cr_assert_eq(ipc_region_create(&v->reg, &vmm_geom, 1), 0);
	cr_assert_eq(ipc_ring_attach(&v->sq, ipc_region_sq(&v->reg), 16,
				     true), 0);
	cr_assert_eq(ipc_ring_attach(&v->cq, ipc_region_cq(&v->reg), 16,
				     false), 0);
	cr_assert_eq(ipc_arena_init(&v->arena, ipc_region_arena(&v->reg),
				    256, 16, true), 0);
	cr_assert_eq(ipc_inflight_init(&inf, 16), 0);
	cr_assert_eq(ipc_notify_pipe(v->sq_pipe), 0);
	cr_assert_eq(ipc_notify_pipe(v->cq_pipe), 0);
	ipc_notify_init(&v->kick, &v->sq, v->sq_pipe[1]);
	ipc_notify_init(&v->wait, &v->cq, v->cq_pipe[0]);
	v->pid = ring_peer_spawn(v->reg.fd, v->sq_pipe[0], v->cq_pipe[1],
				 evil);
	cr_assert_gt(v->pid, 0);
}

static void vmm_post(struct vmm *v)
{
	struct ipc_req r = { .op = IPC_OP_READ, .arena_len = 100 };

	cr_assert_eq(ipc_arena_alloc(&v->arena, 100, &r.arena_off), 0);
	cr_assert_eq(ipc_inflight_begin(&inf, &r, NULL), 0);
	cr_assert_eq(ipc_ring_push(&v->sq, &r, 1), 1);
	cr_assert_geq(ipc_notify_kick(&v->kick), 0);
}

/*
 * Retire completions until one is refused (return that error) or, with
 * @enough > 0, until that many were retired (return 0); 0 also after 5 s
 * without any.
 */
static int vmm_reap_until_error(struct vmm *v, int enough)
{
	struct ipc_cpl c[8];
	int n, i, ret, idle = 0, got = 0;

	while (idle < 50 && (!enough || got < enough)) {
		n = ipc_notify_wait(&v->wait, 100);
		if (n < 0)
			return n;
		n = ipc_ring_pop(&v->cq, c, 8);
		if (n < 0)
			return n;
		idle = n ? 0 : idle + 1;
		for (i = 0; i < n; i++) {
			ret = ipc_inflight_complete(&inf, &c[i], NULL, NULL);
			if (ret)
				return ret;
			got++;
		}
	}
	return 0;
}

static void vmm_stop(struct vmm *v)
{
	int status;

	/* What the supervisor does to a server that broke the protocol. */
	kill(v->pid, SIGKILL);
	cr_assert_eq(waitpid(v->pid, &status, 0), v->pid);
	for (int i = 0; i < 2; i++) {
		close(v->sq_pipe[i]);
		close(v->cq_pipe[i]);
	}
	ipc_inflight_fini(&inf);
	ipc_arena_fini(&v->arena);
	ipc_region_close(&v->reg);
}

Test(hostile, server_process_sending_duplicate_completions, .timeout = 30)
{
	struct vmm v;

	vmm_start(&v, "dup");
	vmm_post(&v);
	cr_assert_eq(vmm_reap_until_error(&v, 0), -EALREADY);
	vmm_stop(&v);
}

Test(hostile, server_process_completing_unknown_ids, .timeout = 30)
{
	struct vmm v;

	vmm_start(&v, "unknown");
	vmm_post(&v);
	cr_assert_eq(vmm_reap_until_error(&v, 0), -EBADMSG);
	vmm_stop(&v);
}

Test(hostile, server_process_claiming_too_many_bytes, .timeout = 30)
{
	struct vmm v;

	vmm_start(&v, "badlen");
	vmm_post(&v);
	cr_assert_eq(vmm_reap_until_error(&v, 0), -ERANGE);
	cr_assert_eq(ipc_inflight_count(&inf), 1, "request kept for replay");
	vmm_stop(&v);
}

Test(hostile, server_process_pushing_its_index_too_far, .timeout = 30)
{
	struct vmm v;

	vmm_start(&v, "prodjump");
	vmm_post(&v);
	cr_assert_eq(vmm_reap_until_error(&v, 0), -EPROTO);
	vmm_stop(&v);
}

Test(hostile, server_process_moving_its_index_back, .timeout = 30)
{
	struct timespec ts = { 0, 1000000 };
	struct vmm v;
	int i, ret = 0;

	vmm_start(&v, "consback");
	vmm_post(&v);
	cr_assert_eq(vmm_reap_until_error(&v, 1), 0,
		     "its answer was fine");
	/* The spoiled index is seen the next time the VMM needs space. */
	for (i = 0; i < 5000 && ret >= 0; i++) {
		ret = ipc_ring_space(&v.sq);
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(ret, -EPROTO);
	vmm_stop(&v);
}

/*
 * Hostile peers of the wake-up fds: whatever the server does to the fds it
 * was handed, the VMM's kick and its completion read return at once. The
 * data plane is the one the VMM really opens; .timeout turns a blocked
 * call into a failure.
 */
static const struct ipc_geom dp_geom = { 16, 16, 256, 16 };

static pid_t dp_peer(struct ipc_dp_vmm *d, const char *evil)
{
	pid_t pid;

	cr_assert_eq(ipc_dp_vmm_open(d, &dp_geom, 1), 0);
	pid = ring_peer_spawn(d->reg.fd, d->srv_kick_fd, d->srv_call_fd, evil);
	cr_assert_gt(pid, 0);
	return pid;
}

static void dp_peer_stop(struct ipc_dp_vmm *d, pid_t pid)
{
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	ipc_dp_vmm_close(d);
}

static double dp_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

Test(hostile, server_filling_its_kick_fd_cannot_block_a_kick, .timeout = 20)
{
	_Atomic uint32_t *flag;
	struct ipc_dp_vmm d;
	struct timespec ms = { 0, 1000000 };
	double t0;
	pid_t pid;
	int i, ret, cap;

	pid = dp_peer(&d, "efdfill");
	flag = &d.sq.hdr->need_wakeup;
	/* The peer asks for a kick once its fill is done. */
	for (i = 0; i < 5000 && !atomic_load(flag); i++)
		nanosleep(&ms, NULL);
	cr_assert(atomic_load(flag), "the peer set need_wakeup");
	cap = fcntl(d.kick_fd, F_GETPIPE_SZ);
	cr_assert_gt(cap, 0);
	t0 = dp_now();
	/* More kicks than the pipe holds, each one asked for. */
	for (i = 0; i < cap + 100; i++) {
		atomic_store(flag, 1);
		ret = ipc_dp_vmm_kick(&d);
		cr_assert_eq(ret, 1, "kick %d: %d", i, ret);
	}
	cr_assert_lt(dp_now() - t0, 5.0, "kicks returned at once");
	cr_assert_geq(d.sq_kick.st.full, 100, "a full pipe is a kick sent");
	cr_assert_eq(fcntl(d.kick_fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK,
		     "the VMM's end is still non-blocking");
	dp_peer_stop(&d, pid);
}

Test(hostile, server_taking_back_its_wakeup_cannot_block_the_read,
     .timeout = 20)
{
	struct ipc_req r = { .op = IPC_OP_READ, .arena_len = 100 };
	struct timespec later = { 0, 50000000 };
	struct ipc_dp_done done;
	struct ipc_dp_vmm d;
	struct pollfd p;
	double t0;
	pid_t pid;

	pid = dp_peer(&d, "cqblock");
	/* The VMM's event loop sleeps on the completion fd. */
	cr_assert_eq(ipc_notify_arm(&d.cq_wait), 0);
	cr_assert_eq(ipc_arena_alloc(&d.arena, 100, &r.arena_off), 0);
	cr_assert_eq(ipc_dp_vmm_submit(&d, &r, NULL), 0);
	cr_assert_geq(ipc_dp_vmm_kick(&d), 0);
	p = (struct pollfd){ .fd = d.call_fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 5000), 1, "the peer answered and woke us");
	/* Other callbacks run first; the peer takes its wake-up back. */
	nanosleep(&later, NULL);
	t0 = dp_now();
	/* What the I/O thread does with a readable completion fd. */
	cr_assert_eq(ipc_notify_drain(&d.cq_wait), 1, "our wake-up is ours");
	cr_assert_eq(ipc_notify_drain(&d.cq_wait), 0, "then it is empty");
	cr_assert_lt(dp_now() - t0, 1.0, "the reads returned at once");
	ipc_notify_disarm(&d.cq_wait);
	cr_assert_eq(ipc_dp_vmm_reap(&d, &done, 1), 1, "the answer is there");
	cr_assert_eq(done.len, 100);
	dp_peer_stop(&d, pid);
}
