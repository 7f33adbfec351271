/* test_inflight.c: VMM request ids, retired exactly once. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "ipc/inflight.h"

Test(inflight, completion_returns_the_posted_request_and_cookie)
{
	struct ipc_inflight t;
	struct ipc_req r = { .op = IPC_OP_READ, .arena_len = 4096 }, back;
	struct ipc_cpl c = { 0 };
	int cookie;
	void *ck;

	cr_assert_eq(ipc_inflight_init(&t, 4), 0);
	r.args.blk.sector = 99;
	cr_assert_eq(ipc_inflight_begin(&t, &r, &cookie), 0);
	cr_assert_eq(ipc_inflight_count(&t), 1);
	c.id = r.id;
	c.len = 4096;
	cr_assert_eq(ipc_inflight_complete(&t, &c, &back, &ck), 0);
	cr_assert_eq(memcmp(&back, &r, sizeof(r)), 0);
	cr_assert_eq(ck, &cookie);
	cr_assert_eq(ipc_inflight_count(&t), 0);
	ipc_inflight_fini(&t);
}

Test(inflight, ids_in_flight_are_distinct_and_capacity_is_enforced)
{
	struct ipc_inflight t;
	struct ipc_req r[8] = { 0 }, x = { 0 };
	int i, j;

	cr_assert_eq(ipc_inflight_init(&t, 8), 0);
	for (i = 0; i < 8; i++)
		cr_assert_eq(ipc_inflight_begin(&t, &r[i], NULL), 0);
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			cr_assert_neq(r[i].id, r[j].id);
	cr_assert_eq(ipc_inflight_begin(&t, &x, NULL), -ENOSPC);
	ipc_inflight_fini(&t);
}

Test(inflight, reused_slot_gets_a_new_id)
{
	struct ipc_inflight t;
	struct ipc_req r = { 0 };
	struct ipc_cpl c = { 0 };
	uint64_t first;

	cr_assert_eq(ipc_inflight_init(&t, 1), 0);
	cr_assert_eq(ipc_inflight_begin(&t, &r, NULL), 0);
	first = r.id;
	c.id = r.id;
	cr_assert_eq(ipc_inflight_complete(&t, &c, NULL, NULL), 0);
	cr_assert_eq(ipc_inflight_begin(&t, &r, NULL), 0);
	cr_assert_neq(r.id, first);
	cr_assert_eq((uint32_t)r.id, (uint32_t)first, "same slot");
	ipc_inflight_fini(&t);
}

Test(inflight, walk_lists_exactly_the_requests_in_flight)
{
	struct ipc_inflight t;
	struct ipc_req r[6] = { 0 }, got;
	struct ipc_cpl c = { 0 };
	uint32_t pos = 0;
	int i, n = 0;

	cr_assert_eq(ipc_inflight_init(&t, 6), 0);
	for (i = 0; i < 6; i++) {
		r[i].args.blk.sector = (uint64_t)i;
		cr_assert_eq(ipc_inflight_begin(&t, &r[i], NULL), 0);
	}
	for (i = 0; i < 6; i += 2) {
		c.id = r[i].id;
		cr_assert_eq(ipc_inflight_complete(&t, &c, NULL, NULL), 0);
	}
	while (ipc_inflight_next(&t, &pos, &got, NULL)) {
		cr_assert_eq(got.args.blk.sector % 2, 1);
		n++;
	}
	cr_assert_eq(n, 3);
	ipc_inflight_fini(&t);
}

/* Slots are reused out of order; the walk still gives submission order. */
Test(inflight, walk_follows_submission_order_not_slot_order)
{
	struct ipc_inflight t;
	struct ipc_req r[8] = { 0 }, got;
	struct ipc_cpl c = { 0 };
	uint64_t want[] = { 1, 3, 10, 11, 12 };
	uint32_t pos = 0;
	unsigned n = 0;

	cr_assert_eq(ipc_inflight_init(&t, 5), 0);
	for (int i = 0; i < 5; i++) {
		r[i].args.blk.sector = (uint64_t)i;
		cr_assert_eq(ipc_inflight_begin(&t, &r[i], NULL), 0);
	}
	/* Free slots 4, 0, 2 (newest, oldest, middle), then refill them. */
	for (int i = 4; i >= 0; i -= 2) {
		c.id = r[i].id;
		cr_assert_eq(ipc_inflight_complete(&t, &c, NULL, NULL), 0);
	}
	for (int i = 5; i < 8; i++) {
		r[i].args.blk.sector = (uint64_t)(i + 5);
		cr_assert_eq(ipc_inflight_begin(&t, &r[i], NULL), 0);
	}
	while (ipc_inflight_next(&t, &pos, &got, NULL)) {
		cr_assert_lt(n, 5u);
		cr_assert_eq(got.args.blk.sector, want[n], "entry %u", n);
		n++;
	}
	cr_assert_eq(n, 5u);
	/* Emptied, the walk finds nothing. */
	pos = 0;
	for (int i = 1; i < 8; i++) {
		if (i == 2 || i == 4)
			continue;
		c.id = r[i].id;
		cr_assert_eq(ipc_inflight_complete(&t, &c, NULL, NULL), 0);
	}
	cr_assert_eq(ipc_inflight_next(&t, &pos, &got, NULL), 0);
	ipc_inflight_fini(&t);
}

Test(inflight, init_rejects_bad_capacity)
{
	struct ipc_inflight t;

	cr_assert_eq(ipc_inflight_init(&t, 0), -EINVAL);
	cr_assert_eq(ipc_inflight_init(&t, IPC_INFLIGHT_MAX + 1), -EINVAL);
}
