/* inflight.h: VMM-side table of requests posted and not yet completed. */
#ifndef ISOVM_IPC_INFLIGHT_H
#define ISOVM_IPC_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc_entry.h"

#define IPC_INFLIGHT_MAX (1u << 20)

/*
 * A request id is (sequence << 32 | slot). The slot finds the entry in O(1);
 * the per-slot sequence (never 0) tells a live id from a stale or forged one
 * that names a reused slot. All of it is private VMM memory.
 */
struct ipc_inflight_slot {
	struct ipc_req req;   /* the request as posted, kept for replay */
	void *cookie;         /* caller's context (e.g. the virtqueue chain) */
	uint32_t seq;         /* sequence of the last id issued for this slot */
	bool busy;
	/* Busy slots in submission order, for replay (IPC_INFLIGHT_NONE
	 * ends the list). */
	uint32_t prev, next;
};

#define IPC_INFLIGHT_NONE UINT32_MAX

struct ipc_inflight {
	struct ipc_inflight_slot *slot;
	uint32_t *free;       /* stack of free slot numbers */
	uint32_t nfree;
	uint32_t cap;
	uint32_t oldest, newest; /* ends of the submission-order list */
};

/* Table for @cap (1..IPC_INFLIGHT_MAX) requests: 0, -EINVAL or -ENOMEM. */
int ipc_inflight_init(struct ipc_inflight *t, uint32_t cap);
void ipc_inflight_fini(struct ipc_inflight *t);

/*
 * Give @req a fresh id (written into req->id) and remember a copy of it with
 * @cookie. Returns 0 or -ENOSPC when @cap requests are already in flight.
 */
int ipc_inflight_begin(struct ipc_inflight *t, struct ipc_req *req,
		       void *cookie);

/*
 * Retire the request a completion names. @cpl must be the caller's private
 * copy (popped from the ring). On success stores the posted request and its
 * cookie (either pointer may be NULL) and returns 0. Errors, each leaving
 * the table unchanged:
 *   -ERANGE    slot number out of range, or cpl->len larger than the
 *              request's arena buffer;
 *   -EBADMSG   id not in flight (never issued, or stale sequence);
 *   -EALREADY  id already completed (duplicate completion).
 */
int ipc_inflight_complete(struct ipc_inflight *t, const struct ipc_cpl *cpl,
			  struct ipc_req *req, void **cookie);

/* Requests currently in flight. */
static inline uint32_t ipc_inflight_count(const struct ipc_inflight *t)
{
	return t->cap - t->nfree;
}

/*
 * Walk the requests in flight in the order they were begun (for replay
 * after a server restart): start with *@pos = 0; returns 1 and fills
 * @req/@cookie, or 0 at the end. The table must not change during a walk.
 */
int ipc_inflight_next(const struct ipc_inflight *t, uint32_t *pos,
		      struct ipc_req *req, void **cookie);

#endif
