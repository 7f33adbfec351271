/* dataplane.h: one device's data plane assembled, VMM side and server side. */
#ifndef ISOVM_IPC_DATAPLANE_H
#define ISOVM_IPC_DATAPLANE_H

#include <stdint.h>

#include "ipc/arena.h"
#include "ipc/inflight.h"
#include "ipc/ipc_entry.h"
#include "ipc/notify.h"
#include "ipc/region.h"
#include "ipc/ring.h"

/*
 * VMM side: the region it created, both rings, the arena allocator, the
 * in-flight table and two wake-up pipes. It pushes on sq and kicks through
 * kick_fd; it pops cq and sleeps on call_fd. One thread (the I/O thread)
 * uses it.
 *
 * The VMM's ends are file descriptions the server never holds: whatever the
 * server does to its own ends (fill, drain, F_SETFL), a kick or a drain
 * here returns at once (ipc/notify.h).
 */
struct ipc_dp_vmm {
	struct ipc_region reg;
	struct ipc_ring sq, cq;
	struct ipc_arena arena;
	struct ipc_inflight inf;
	struct ipc_notify sq_kick;
	struct ipc_notify cq_wait;
	int kick_fd;     /* owned; write end of the kick pipe; non-blocking */
	int call_fd;     /* owned; read end of the call pipe; non-blocking,
			  * for the VMM's event loop (ipc_notify_drain()) */
	int srv_kick_fd; /* owned; the kick pipe's read end, the server's */
	int srv_call_fd; /* owned; the call pipe's write end, the server's */
	int err;         /* sticky protocol error of the server, or 0 */
	uint64_t completed; /* good completions reaped, ever (progress) */
};

/* A retired request, as ipc_dp_vmm_reap() returns it. */
struct ipc_dp_done {
	struct ipc_req req;   /* the request as posted */
	void *cookie;
	int32_t status;       /* from the completion */
	uint32_t len;         /* bytes written, <= req.arena_len */
};

/*
 * Create region, pipes and tables for geometry @g. cq_entries must be
 * >= sq_entries: at most sq_entries requests are in flight, so a well-
 * behaved server always finds room for its completions. The fds to hand to
 * the server are d->reg.fd, d->srv_kick_fd and d->srv_call_fd (close-on-
 * exec; the launcher passes them explicitly). The VMM keeps them open
 * until close, for the next server after a restart; it never reads or
 * writes them. Returns 0, -EINVAL or -errno.
 */
int ipc_dp_vmm_open(struct ipc_dp_vmm *d, const struct ipc_geom *g,
		    uint64_t generation);
void ipc_dp_vmm_close(struct ipc_dp_vmm *d);

/*
 * Post @req (its arena buffer already allocated and filled) with @cookie;
 * req->id is set here. No kick: call ipc_dp_vmm_kick() once per batch.
 * Returns 0, -ENOSPC (in-flight limit) or the sticky error of a broken
 * ring (-EPROTO...). A request that finds the ring broken on its push is
 * kept for replay and returns 0; only the calls after it fail.
 */
int ipc_dp_vmm_submit(struct ipc_dp_vmm *d, struct ipc_req *req,
		      void *cookie);

/*
 * Wake the server if it sleeps: 1 kicked (or a wake-up was still queued),
 * 0 suppressed, -errno. Never waits, whatever the server does.
 */
int ipc_dp_vmm_kick(struct ipc_dp_vmm *d);

/*
 * Pop and validate up to @max completions into @done. Returns how many, or
 * a negative error from ring.h/inflight.h (-EPROTO, -ERANGE, -EBADMSG,
 * -EALREADY): the server broke the protocol and must be restarted. Good
 * completions popped before a bad one are still returned; the error then
 * sticks (every later call returns it) until ipc_dp_vmm_restart(). A
 * request whose completion was bad or never seen stays in flight.
 */
int ipc_dp_vmm_reap(struct ipc_dp_vmm *d, struct ipc_dp_done *done,
		    unsigned int max);

/*
 * After the old server is dead and before the new one starts: empty both
 * rings, publish @generation, clear the sticky error, set the server's
 * pipe ends back to non-blocking (the old server may have changed their
 * flags) and post every request still in flight again (flag
 * IPC_REQ_F_REPLAY, same ids, in the order they were first submitted).
 * Completions still in the cq are dropped with it: reap them first
 * (ipc_dp_vmm_reap() until it returns 0 or an error), so that a request
 * the dead server finished is not served twice. Returns the number
 * re-posted, -EPROTO or -errno.
 */
int ipc_dp_vmm_restart(struct ipc_dp_vmm *d, uint64_t generation);

/*
 * Server side: the mapped region, both rings and a view of the arena. It
 * pops sq (sleeping on the kick pipe's read end) and pushes cq (kicking
 * the call pipe's write end). It owns none of the fds.
 */
struct ipc_dp_srv {
	struct ipc_region reg;
	struct ipc_ring sq, cq;
	struct ipc_arena arena;
	struct ipc_notify sq_wait;
	struct ipc_notify cq_kick;
};

/*
 * Map @memfd (checked as ipc_region_map() documents, against @expect if not
 * NULL) and attach. Returns 0 or a negative error of ipc_region_map(),
 * ipc_ring_attach() or ipc_arena_init().
 */
int ipc_dp_srv_open(struct ipc_dp_srv *s, int memfd, int kick_fd,
		    int call_fd, const struct ipc_geom *expect);
void ipc_dp_srv_close(struct ipc_dp_srv *s);

/*
 * Pop up to @max requests (private copies). Returns how many, 0 when none,
 * -EPROTO. Use ipc_notify_wait(&s->sq_wait, ...) to sleep when 0.
 */
int ipc_dp_srv_next(struct ipc_dp_srv *s, struct ipc_req *reqs,
		    unsigned int max);

/* The request's arena buffer, or NULL when it lies outside the arena. */
void *ipc_dp_srv_buf(const struct ipc_dp_srv *s, const struct ipc_req *req);

/*
 * Push up to @n completions and kick the VMM if it sleeps. Returns how many
 * were pushed (fewer than @n only when the VMM broke its in-flight limit;
 * push the rest later), -EPROTO or -errno of the kick.
 */
int ipc_dp_srv_complete(struct ipc_dp_srv *s, const struct ipc_cpl *cpl,
			unsigned int n);

#endif
