/* test_dataplane.c: the assembled VMM and server sides of one device. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ipc/dataplane.h"

static const struct ipc_geom geom = { 8, 16, 512, 32 };

static struct ipc_dp_vmm vmm;
static struct ipc_dp_srv srv;

static void dp_setup(void)
{
	cr_assert_eq(ipc_dp_vmm_open(&vmm, &geom, 1), 0);
	cr_assert_eq(ipc_dp_srv_open(&srv, vmm.reg.fd, vmm.srv_kick_fd,
				     vmm.srv_call_fd, &geom), 0);
}

static void dp_teardown(void)
{
	ipc_dp_srv_close(&srv);
	ipc_dp_vmm_close(&vmm);
}

/* Allocate a buffer of @len holding @fill and post it. */
static struct ipc_req dp_post(uint32_t len, unsigned char fill, void *cookie)
{
	struct ipc_req r = { .op = IPC_OP_WRITE, .arena_len = len };

	cr_assert_eq(ipc_arena_alloc(&vmm.arena, len, &r.arena_off), 0);
	memset(ipc_arena_span(&vmm.arena, r.arena_off, len), fill, len);
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r, cookie), 0);
	return r;
}

/* Server: answer every waiting request with status = first byte. */
static int dp_serve(bool twice)
{
	struct ipc_req r[8];
	struct ipc_cpl c[16] = { 0 };
	unsigned char *buf;
	int n, i;

	n = ipc_dp_srv_next(&srv, r, 8);
	cr_assert_geq(n, 0);
	for (i = 0; i < n; i++) {
		buf = ipc_dp_srv_buf(&srv, &r[i]);
		cr_assert_not_null(buf);
		c[i].id = r[i].id;
		c[i].status = buf[0];
		c[i].len = r[i].arena_len / 2;
		c[n + i] = c[i];
	}
	if (n)
		cr_assert_eq(ipc_dp_srv_complete(&srv, c, (unsigned)n *
						 (twice ? 2 : 1)),
			     n * (twice ? 2 : 1));
	return n;
}

Test(dataplane, completion_ring_must_hold_every_request_in_flight)
{
	struct ipc_dp_vmm d;
	struct ipc_geom g = geom;

	g.cq_entries = 4;
	cr_assert_eq(ipc_dp_vmm_open(&d, &g, 1), -EINVAL);
	ipc_dp_vmm_close(&d);
	cr_assert_neq(fcntl(0, F_GETFD), -1, "closing did not touch fd 0");
}

Test(dataplane, requests_go_round_trip_with_their_cookies,
     .init = dp_setup, .fini = dp_teardown)
{
	struct ipc_dp_done done[8];
	int cookie[3], n, i;

	for (i = 0; i < 3; i++)
		dp_post(100 * (uint32_t)(i + 1), (unsigned char)(10 + i),
			&cookie[i]);
	cr_assert_geq(ipc_dp_vmm_kick(&vmm), 0);
	cr_assert_eq(dp_serve(false), 3);
	n = ipc_dp_vmm_reap(&vmm, done, 8);
	cr_assert_eq(n, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(done[i].cookie, &cookie[i]);
		cr_assert_eq(done[i].status, 10 + i);
		cr_assert_eq(done[i].len, 50u * (uint32_t)(i + 1));
		cr_assert_eq(done[i].req.arena_len, 100u * (uint32_t)(i + 1));
	}
	cr_assert_eq(ipc_inflight_count(&vmm.inf), 0);
	cr_assert_eq(ipc_dp_vmm_reap(&vmm, done, 8), 0);
}

Test(dataplane, in_flight_limit_is_the_submission_ring_size,
     .init = dp_setup, .fini = dp_teardown)
{
	struct ipc_req r = { .arena_len = 1 };
	int i;

	for (i = 0; i < 8; i++)
		dp_post(1, 0, NULL);
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r, NULL), -ENOSPC);
}

Test(dataplane, bad_completion_sticks_until_restart_then_replays,
     .init = dp_setup, .fini = dp_teardown)
{
	struct ipc_dp_done done[8];
	struct ipc_req r[8];
	struct ipc_req kept;

	dp_post(64, 1, NULL);
	cr_assert_eq(dp_serve(true), 1, "answers the request twice");
	kept = dp_post(64, 2, NULL);
	cr_assert_eq(ipc_dp_vmm_reap(&vmm, done, 8), 1, "good one first");
	cr_assert_eq(ipc_dp_vmm_reap(&vmm, done, 8), -EALREADY);
	cr_assert_eq(ipc_dp_vmm_reap(&vmm, done, 8), -EALREADY, "sticky");
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r[0], NULL), -EALREADY);

	/* The supervisor kills the server and starts a new one. */
	ipc_dp_srv_close(&srv);
	cr_assert_eq(ipc_dp_vmm_restart(&vmm, 2), 1);
	cr_assert_eq(ipc_dp_srv_open(&srv, vmm.reg.fd, vmm.srv_kick_fd,
				     vmm.srv_call_fd, &geom), 0);
	cr_assert_eq(srv.reg.generation, 2);
	cr_assert_eq(ipc_dp_srv_next(&srv, r, 8), 1);
	cr_assert_eq(r[0].id, kept.id, "same id after replay");
	cr_assert(r[0].flags & IPC_REQ_F_REPLAY);
}

Test(dataplane, a_push_onto_a_corrupt_ring_is_kept_once_for_replay,
     .init = dp_setup, .fini = dp_teardown)
{
	struct ipc_req r[8], late = { .op = IPC_OP_FLUSH };
	struct ipc_dp_done done[8];
	struct ipc_req kept;

	/* A full lap, served and reaped: the next push must read cons. */
	for (int i = 0; i < 8; i++)
		dp_post(64, 0, NULL);
	cr_assert_eq(dp_serve(false), 8);
	cr_assert_eq(ipc_dp_vmm_reap(&vmm, done, 8), 8);
	/* A hostile server moves its consumer index past the producer. */
	atomic_store(&vmm.sq.hdr->cons, 1000);
	kept = dp_post(64, 3, NULL);
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &late, NULL), -EPROTO,
		     "the ring error sticks for the next request");
	cr_assert_eq(ipc_inflight_count(&vmm.inf), 1,
		     "the kept request is in flight once");
	ipc_dp_srv_close(&srv);
	cr_assert_eq(ipc_dp_vmm_restart(&vmm, 2), 1);
	cr_assert_eq(ipc_dp_srv_open(&srv, vmm.reg.fd, vmm.srv_kick_fd,
				     vmm.srv_call_fd, &geom), 0);
	cr_assert_eq(ipc_dp_srv_next(&srv, r, 8), 1);
	cr_assert_eq(r[0].id, kept.id);
}

Test(dataplane, server_refuses_a_request_outside_the_arena,
     .init = dp_setup, .fini = dp_teardown)
{
	struct ipc_req r = { .arena_off = 512 * 32 - 8, .arena_len = 9 };

	cr_assert_null(ipc_dp_srv_buf(&srv, &r));
	r.arena_len = 8;
	cr_assert_not_null(ipc_dp_srv_buf(&srv, &r));
}

Test(dataplane, server_pushes_no_more_than_the_completion_ring_holds,
     .init = dp_setup, .fini = dp_teardown)
{
	struct ipc_cpl c[17] = { 0 };

	cr_assert_eq(ipc_dp_srv_complete(&srv, c, 17), 16);
	cr_assert_eq(ipc_dp_srv_complete(&srv, c, 1), 0);
}

Test(dataplane, server_rejects_a_region_of_another_geometry)
{
	struct ipc_dp_vmm d;
	struct ipc_dp_srv s;
	struct ipc_geom other = geom;

	other.arena_slots = 64;
	cr_assert_eq(ipc_dp_vmm_open(&d, &geom, 1), 0);
	cr_assert_eq(ipc_dp_srv_open(&s, d.reg.fd, d.srv_kick_fd,
				     d.srv_call_fd, &other), -EINVAL);
	ipc_dp_vmm_close(&d);
}

/* The server's ends are other file descriptions than the VMM's. */
Test(dataplane, the_server_cannot_change_the_vmm_ends)
{
	struct ipc_dp_vmm d;
	int ends[] = { 0, 0 };

	cr_assert_eq(ipc_dp_vmm_open(&d, &geom, 1), 0);
	ends[0] = d.srv_kick_fd;
	ends[1] = d.srv_call_fd;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(fcntl(ends[i], F_SETFL, 0), 0, "server end %d", i);
	cr_assert_eq(fcntl(d.kick_fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
		     O_WRONLY | O_NONBLOCK);
	cr_assert_eq(fcntl(d.call_fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
		     O_RDONLY | O_NONBLOCK);
	cr_assert_eq(fcntl(d.srv_kick_fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	cr_assert_eq(fcntl(d.srv_call_fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	cr_assert_eq(ipc_notify_drain(&d.cq_wait), 0, "an empty read returns");
	ipc_dp_vmm_close(&d);
}

Test(dataplane, restart_gives_the_next_server_non_blocking_ends)
{
	struct ipc_dp_vmm d;

	cr_assert_eq(ipc_dp_vmm_open(&d, &geom, 1), 0);
	cr_assert_eq(fcntl(d.srv_kick_fd, F_SETFL, O_ASYNC), 0);
	cr_assert_eq(fcntl(d.srv_call_fd, F_SETFL, 0), 0);
	cr_assert_eq(ipc_dp_vmm_restart(&d, 2), 0);
	cr_assert_eq(fcntl(d.srv_kick_fd, F_GETFL) & (O_NONBLOCK | O_ASYNC),
		     O_NONBLOCK);
	cr_assert_eq(fcntl(d.srv_call_fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	ipc_dp_vmm_close(&d);
}
