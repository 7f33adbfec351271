/* inflight.c: id allocation and exactly-once completion checks for the VMM. */
#include "ipc/inflight.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ipc_inflight_init(struct ipc_inflight *t, uint32_t cap)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	if (!cap || cap > IPC_INFLIGHT_MAX)
		return -EINVAL;
	t->slot = calloc(cap, sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	t->free = calloc(cap, sizeof(*t->free));
	if (!t->free)
		goto err_free_slot;
	/* Lowest slot numbers on top of the stack. */
	for (i = 0; i < cap; i++)
		t->free[i] = cap - 1 - i;
	t->nfree = cap;
	t->cap = cap;
	t->oldest = t->newest = IPC_INFLIGHT_NONE;
	return 0;

err_free_slot:
	free(t->slot);
	t->slot = NULL;
	return -ENOMEM;
}

void ipc_inflight_fini(struct ipc_inflight *t)
{
	free(t->slot);
	free(t->free);
	memset(t, 0, sizeof(*t));
}

int ipc_inflight_begin(struct ipc_inflight *t, struct ipc_req *req,
		       void *cookie)
{
	struct ipc_inflight_slot *s;
	uint32_t n;

	if (!t->nfree)
		return -ENOSPC;
	n = t->free[--t->nfree];
	s = &t->slot[n];
	/* Sequence 0 is never issued: a zeroed id is always unknown. */
	if (++s->seq == 0)
		s->seq = 1;
	req->id = (uint64_t)s->seq << 32 | n;
	s->req = *req;
	s->cookie = cookie;
	s->busy = true;
	s->next = IPC_INFLIGHT_NONE;
	s->prev = t->newest;
	if (t->newest == IPC_INFLIGHT_NONE)
		t->oldest = n;
	else
		t->slot[t->newest].next = n;
	t->newest = n;
	return 0;
}

int ipc_inflight_complete(struct ipc_inflight *t, const struct ipc_cpl *cpl,
			  struct ipc_req *req, void **cookie)
{
	uint64_t id = cpl->id;
	uint32_t n = (uint32_t)id, seq = (uint32_t)(id >> 32);
	struct ipc_inflight_slot *s;

	if (n >= t->cap)
		return -ERANGE;
	s = &t->slot[n];
	if (!seq || seq != s->seq)
		return -EBADMSG;
	if (!s->busy)
		return -EALREADY;
	if (cpl->len > s->req.arena_len)
		return -ERANGE;
	s->busy = false;
	if (s->prev == IPC_INFLIGHT_NONE)
		t->oldest = s->next;
	else
		t->slot[s->prev].next = s->next;
	if (s->next == IPC_INFLIGHT_NONE)
		t->newest = s->prev;
	else
		t->slot[s->next].prev = s->prev;
	t->free[t->nfree++] = n;
	if (req)
		*req = s->req;
	if (cookie)
		*cookie = s->cookie;
	return 0;
}

int ipc_inflight_next(const struct ipc_inflight *t, uint32_t *pos,
		      struct ipc_req *req, void **cookie)
{
	/* *pos is 0 before the first, then 1 + the slot returned last. */
	uint32_t n = *pos ? t->slot[*pos - 1].next : t->oldest;
	const struct ipc_inflight_slot *s;

	if (n == IPC_INFLIGHT_NONE || n >= t->cap)
		return 0;
	s = &t->slot[n];
	if (req)
		*req = s->req;
	if (cookie)
		*cookie = s->cookie;
	*pos = n + 1;
	return 1;
}
