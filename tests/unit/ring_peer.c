/*
 * ring_peer.c: test helper: maps an inherited region, answers requests;
 * optionally a hostile peer that spoils its answers in one chosen way.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/arena.h"
#include "ipc/notify.h"
#include "ipc/region.h"
#include "ipc/ring.h"
#include "tests/unit/ring_peer.h"

#define PEER_BATCH 16

/* Exit codes say which step failed, for the test's message. */
enum { PEER_OK, PEER_USAGE, PEER_MAP, PEER_ATTACH, PEER_RING, PEER_TIMEOUT,
       PEER_BADREQ };

/* The ways a hostile peer spoils its answers (4th argument). */
enum peer_evil { EVIL_NONE, EVIL_DUP, EVIL_UNKNOWN, EVIL_BADLEN,
		 EVIL_PRODJUMP, EVIL_CONSBACK, EVIL_EFDFILL, EVIL_CQBLOCK };

static const char *const peer_evil_name[] = {
	[EVIL_NONE] = "none",
	[EVIL_DUP] = "dup",           /* every completion sent twice */
	[EVIL_UNKNOWN] = "unknown",   /* ids the VMM never issued */
	[EVIL_BADLEN] = "badlen",     /* more bytes than the buffer holds */
	[EVIL_PRODJUMP] = "prodjump", /* completion index far ahead */
	[EVIL_CONSBACK] = "consback", /* submission index moved back */
	/* Attacks on the wake-up fds instead of the rings: */
	[EVIL_EFDFILL] = "efdfill", /* kick fd filled, never read, flag set */
	[EVIL_CQBLOCK] = "cqblock", /* call fd made blocking, own kicks read */
};

struct peer {
	enum peer_evil evil;
	int kick_fd, call_fd; /* the wake-up fds the VMM handed over */
	struct ipc_region reg;
	struct ipc_ring sq, cq;
	struct ipc_arena arena;
	struct ipc_notify sq_wait, cq_kick;
};

static int peer_open(struct peer *p, int memfd, int kick_fd, int call_fd)
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
	ipc_notify_init(&p->sq_wait, &p->sq, kick_fd);
	ipc_notify_init(&p->cq_kick, &p->cq, call_fd);
	p->kick_fd = kick_fd;
	p->call_fd = call_fd;
	return PEER_OK;
}

/*
 * efdfill: push the kick fd's counter to the eventfd maximum (refused
 * unless the VMM shared an eventfd with us), make the fd blocking, never
 * read it, and keep asking for kicks: a VMM writing a file description we
 * share would block for good; one with its own pipe end fills the pipe.
 * Runs until killed.
 */
static _Noreturn void peer_efdfill(struct peer *p)
{
	struct timespec ms = { 0, 1000000 };
	uint64_t max = 0xfffffffffffffffeull;
	int fl = fcntl(p->kick_fd, F_GETFL);

	if (write(p->kick_fd, &max, sizeof(max)) < 0) {
		/* Not a fd we can write: nothing to fill. */
	}
	if (fl >= 0)
		fcntl(p->kick_fd, F_SETFL, fl & ~O_NONBLOCK);
	for (;;) {
		atomic_store(&p->sq.hdr->need_wakeup, 1);
		nanosleep(&ms, NULL);
	}
}

/*
 * cqblock: clear O_NONBLOCK on the call fd, so a VMM that shares its file
 * description reads it blocking, and take back every wake-up just sent
 * (refused unless that fd is readable here): a VMM that saw the fd
 * readable would find it empty and wait forever.
 */
static void peer_cqblock_arm(struct peer *p)
{
	int fl = fcntl(p->call_fd, F_GETFL);

	if (fl >= 0)
		fcntl(p->call_fd, F_SETFL, fl & ~O_NONBLOCK);
}

static void peer_cqblock_steal(struct peer *p)
{
	unsigned char buf[64];

	if (read(p->call_fd, buf, sizeof(buf)) < 0) {
		/* Not a fd we can read: nothing to take back. */
	}
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

/* Spoil a batch of @n answers; returns the new count (room for 2n). */
static int peer_spoil(const struct peer *p, struct ipc_cpl *c, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (p->evil == EVIL_UNKNOWN)
			c[i].id ^= 1ull << 40;
		else if (p->evil == EVIL_BADLEN)
			c[i].len++;
		else if (p->evil == EVIL_DUP)
			c[n + i] = c[i];
	}
	return p->evil == EVIL_DUP ? 2 * n : n;
}

/* Scribble on an index this side does not own, after a batch. */
static void peer_spoil_index(struct peer *p)
{
	if (p->evil == EVIL_PRODJUMP)
		atomic_store(&p->cq.hdr->prod,
			     p->cq.own + p->reg.geom.cq_entries + 5);
	else if (p->evil == EVIL_CONSBACK)
		atomic_store(&p->sq.hdr->cons, p->sq.own - 10);
}

static int peer_run(struct peer *p)
{
	struct ipc_req r[PEER_BATCH];
	struct ipc_cpl c[2 * PEER_BATCH];
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
		n = peer_spoil(p, c, n);
		for (done = 0; done < n; done += ret) {
			ret = ipc_ring_push(&p->cq, &c[done],
					    (unsigned)(n - done));
			if (ret < 0)
				return PEER_RING;
			if (!ret)
				sched_yield();
		}
		if (n)
			peer_spoil_index(p);
		if (!n)
			continue;
		ret = ipc_notify_kick(&p->cq_kick);
		if (ret < 0)
			return PEER_RING;
		if (ret && p->evil == EVIL_CQBLOCK)
			peer_cqblock_steal(p);
	}
}

int main(int argc, char **argv)
{
	struct peer p;
	int ret;

	if (argc != 4 && argc != 5)
		return PEER_USAGE;
	p.evil = EVIL_NONE;
	while (argc == 5 && strcmp(argv[4], peer_evil_name[p.evil]))
		if (++p.evil > EVIL_CQBLOCK)
			return PEER_USAGE;
	ret = peer_open(&p, atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
	if (ret)
		return ret;
	if (p.evil == EVIL_EFDFILL)
		peer_efdfill(&p);
	if (p.evil == EVIL_CQBLOCK)
		peer_cqblock_arm(&p);
	ret = peer_run(&p);
	ipc_region_close(&p.reg);
	return ret;
}
