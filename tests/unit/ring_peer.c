/* ring_peer.c: test helper: maps an inherited region, answers requests. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/arena.h"
#include "ipc/notify.h"
#include "ipc/region.h"
#include "ipc/ring.h"

#define PEER_OP_QUIT 0xffffu
#define PEER_BATCH 16

/* Exit codes say which step failed, for the test's message. */
enum { PEER_OK, PEER_USAGE, PEER_MAP, PEER_ATTACH, PEER_RING, PEER_TIMEOUT,
       PEER_BADREQ };

struct peer {
	struct ipc_region reg;
	struct ipc_ring sq, cq;
	struct ipc_arena arena;
	struct ipc_notify sq_wait, cq_kick;
};

static int peer_open(struct peer *p, int memfd, int sq_efd, int cq_efd)
{
	if (ipc_region_map(&p->reg, memfd, NULL))
		return PEER_MAP;
	if (ipc_ring_attach(&p->sq, ipc_region_sq(&p->reg),
			    p->reg.geom.sq_entries, false) ||
	    ipc_ring_attach(&p->cq, ipc_region_cq(&p->reg),
			    p->reg.geom.cq_entries, true) ||
	    ipc_arena_init(&p->arena, ipc_region_arena(&p->reg),
			   p->reg.geom.arena_slot_size,
			   p->reg.geom.arena_slots, false))
		return PEER_ATTACH;
	ipc_notify_init(&p->sq_wait, &p->sq, sq_efd);
	ipc_notify_init(&p->cq_kick, &p->cq, cq_efd);
	return PEER_OK;
}

/* Answer one request (our private copy): XOR its buffer with 0x5a. */
static int peer_answer(struct peer *p, const struct ipc_req *r,
		       struct ipc_cpl *c)
{
	unsigned char *buf = ipc_arena_span(&p->arena, r->arena_off,
					    r->arena_len);
	uint32_t i;

	if (!buf)
		return PEER_BADREQ;
	for (i = 0; i < r->arena_len; i++)
		buf[i] ^= 0x5a;
	memset(c, 0, sizeof(*c));
	c->id = r->id;
	c->len = r->arena_len;
	return PEER_OK;
}

static int peer_run(struct peer *p)
{
	struct ipc_req r[PEER_BATCH];
	struct ipc_cpl c[PEER_BATCH];
	int n, i, done, ret;

	for (;;) {
		ret = ipc_notify_wait(&p->sq_wait, 10000);
		if (ret < 0)
			return PEER_RING;
		if (!ret)
			return PEER_TIMEOUT;
		n = ipc_ring_pop(&p->sq, r, PEER_BATCH);
		if (n < 0)
			return PEER_RING;
		for (i = 0; i < n; i++) {
			if (r[i].op == PEER_OP_QUIT)
				return PEER_OK;
			ret = peer_answer(p, &r[i], &c[i]);
			if (ret)
				return ret;
		}
		for (done = 0; done < n; done += ret) {
			ret = ipc_ring_push(&p->cq, &c[done],
					    (unsigned)(n - done));
			if (ret < 0)
				return PEER_RING;
			if (!ret)
				sched_yield();
		}
		if (n && ipc_notify_kick(&p->cq_kick) < 0)
			return PEER_RING;
	}
}

int main(int argc, char **argv)
{
	struct peer p;
	int ret;

	if (argc != 4)
		return PEER_USAGE;
	ret = peer_open(&p, atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
	if (ret)
		return ret;
	ret = peer_run(&p);
	ipc_region_close(&p.reg);
	return ret;
}
