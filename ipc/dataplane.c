/* dataplane.c: region, rings, arena, wake-up pipes and in-flight table. */
#include "ipc/dataplane.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define DP_REAP_BATCH 32

static int dp_vmm_attach(struct ipc_dp_vmm *d)
{
	int ret;

	ret = ipc_ring_attach(&d->sq, ipc_region_sq(&d->reg),
			      d->reg.geom.sq_entries, true);
	if (!ret)
		ret = ipc_ring_attach(&d->cq, ipc_region_cq(&d->reg),
				      d->reg.geom.cq_entries, false);
	ipc_notify_init(&d->sq_kick, &d->sq, d->kick_fd);
	ipc_notify_init(&d->cq_wait, &d->cq, d->call_fd);
	return ret;
}

/* One pipe per direction: the VMM's end and the server's end. */
static int dp_vmm_pipes(struct ipc_dp_vmm *d)
{
	int kick[2], call[2], ret;

	ret = ipc_notify_pipe(kick);
	if (ret)
		return ret;
	ret = ipc_notify_pipe(call);
	if (ret) {
		close(kick[0]);
		close(kick[1]);
		return ret;
	}
	d->kick_fd = kick[1];
	d->srv_kick_fd = kick[0];
	d->call_fd = call[0];
	d->srv_call_fd = call[1];
	return 0;
}

static void dp_vmm_close_pipes(struct ipc_dp_vmm *d)
{
	int *fds[] = { &d->kick_fd, &d->srv_kick_fd, &d->call_fd,
		       &d->srv_call_fd };

	for (unsigned int i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int ipc_dp_vmm_open(struct ipc_dp_vmm *d, const struct ipc_geom *g,
		    uint64_t generation)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->kick_fd = d->call_fd = d->reg.fd = -1;
	d->srv_kick_fd = d->srv_call_fd = -1;
	if (g->cq_entries < g->sq_entries)
		return -EINVAL;
	ret = ipc_region_create(&d->reg, g, generation);
	if (ret)
		return ret;
	ret = ipc_arena_init(&d->arena, ipc_region_arena(&d->reg),
			     g->arena_slot_size, g->arena_slots, true);
	if (ret)
		goto err_close_region;
	ret = ipc_inflight_init(&d->inf, g->sq_entries);
	if (ret)
		goto err_fini_arena;
	ret = dp_vmm_pipes(d);
	if (ret)
		goto err_fini_inflight;
	ret = dp_vmm_attach(d);
	if (ret)
		goto err_close_pipes;
	return 0;

err_close_pipes:
	dp_vmm_close_pipes(d);
err_fini_inflight:
	ipc_inflight_fini(&d->inf);
err_fini_arena:
	ipc_arena_fini(&d->arena);
err_close_region:
	ipc_region_close(&d->reg);
	return ret;
}

void ipc_dp_vmm_close(struct ipc_dp_vmm *d)
{
	dp_vmm_close_pipes(d);
	ipc_inflight_fini(&d->inf);
	ipc_arena_fini(&d->arena);
	ipc_region_close(&d->reg);
}

int ipc_dp_vmm_submit(struct ipc_dp_vmm *d, struct ipc_req *req,
		      void *cookie)
{
	int ret;

	if (d->err)
		return d->err;
	ret = ipc_inflight_begin(&d->inf, req, cookie);
	if (ret)
		return ret;
	/* In flight <= sq_entries, so there is always a free slot. */
	ret = ipc_ring_push(&d->sq, req, 1);
	if (ret == 1)
		return 0;
	/*
	 * Only a corrupt consumer index gets here. The request stays in
	 * flight and goes out again on restart, so for the caller it was
	 * posted: returning an error would have it freed twice. The error
	 * sticks and shows on the next call.
	 */
	d->err = ret < 0 ? ret : -EPROTO;
	return 0;
}

int ipc_dp_vmm_kick(struct ipc_dp_vmm *d)
{
	return ipc_notify_kick(&d->sq_kick);
}

int ipc_dp_vmm_reap(struct ipc_dp_vmm *d, struct ipc_dp_done *done,
		    unsigned int max)
{
	struct ipc_cpl cpl[DP_REAP_BATCH];
	int n, i, k = 0, ret;

	if (d->err)
		return d->err;
	if (max > DP_REAP_BATCH)
		max = DP_REAP_BATCH;
	n = ipc_ring_pop(&d->cq, cpl, max);
	if (n < 0)
		return d->err = n;
	for (i = 0; i < n; i++, k++) {
		ret = ipc_inflight_complete(&d->inf, &cpl[i], &done[k].req,
					    &done[k].cookie);
		if (ret) {
			d->err = ret;
			break;
		}
		done[k].status = cpl[i].status;
		done[k].len = cpl[i].len;
	}
	d->completed += (uint64_t)k;
	return k ? k : d->err;
}

int ipc_dp_vmm_restart(struct ipc_dp_vmm *d, uint64_t generation)
{
	struct ipc_req req;
	uint32_t pos = 0;
	int ret, n = 0;

	ipc_region_reset(&d->reg, generation);
	d->err = 0;
	ret = dp_vmm_attach(d);
	if (ret)
		return ret;
	/* Undo what the old server did to its ends' flags (O_NONBLOCK
	 * cleared, O_ASYNC set): the next one gets them as open made them. */
	if (fcntl(d->srv_kick_fd, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(d->srv_call_fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	/* The table holds at most sq_entries: they all fit the empty ring. */
	while (ipc_inflight_next(&d->inf, &pos, &req, NULL)) {
		req.flags |= IPC_REQ_F_REPLAY;
		if (ipc_ring_push(&d->sq, &req, 1) != 1)
			return -EPROTO;
		n++;
	}
	return n;
}

int ipc_dp_srv_open(struct ipc_dp_srv *s, int memfd, int kick_fd,
		    int call_fd, const struct ipc_geom *expect)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = ipc_region_map(&s->reg, memfd, expect);
	if (ret)
		return ret;
	ret = ipc_ring_attach(&s->sq, ipc_region_sq(&s->reg),
			      s->reg.geom.sq_entries, false);
	if (!ret)
		ret = ipc_ring_attach(&s->cq, ipc_region_cq(&s->reg),
				      s->reg.geom.cq_entries, true);
	if (!ret)
		ret = ipc_arena_init(&s->arena, ipc_region_arena(&s->reg),
				     s->reg.geom.arena_slot_size,
				     s->reg.geom.arena_slots, false);
	if (ret)
		goto err_unmap;
	ipc_notify_init(&s->sq_wait, &s->sq, kick_fd);
	ipc_notify_init(&s->cq_kick, &s->cq, call_fd);
	return 0;

err_unmap:
	ipc_region_close(&s->reg);
	return ret;
}

void ipc_dp_srv_close(struct ipc_dp_srv *s)
{
	ipc_region_close(&s->reg);
}

int ipc_dp_srv_next(struct ipc_dp_srv *s, struct ipc_req *reqs,
		    unsigned int max)
{
	return ipc_ring_pop(&s->sq, reqs, max);
}

void *ipc_dp_srv_buf(const struct ipc_dp_srv *s, const struct ipc_req *req)
{
	return ipc_arena_span(&s->arena, req->arena_off, req->arena_len);
}

int ipc_dp_srv_complete(struct ipc_dp_srv *s, const struct ipc_cpl *cpl,
			unsigned int n)
{
	int pushed, ret;

	pushed = ipc_ring_push(&s->cq, cpl, n);
	if (pushed <= 0)
		return pushed;
	ret = ipc_notify_kick(&s->cq_kick);
	return ret < 0 ? ret : pushed;
}
