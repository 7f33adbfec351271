/* test_virtq.c: the split virtqueue walker against crafted guest rings. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/virtio/virtq.h"

/*
 * Fake guest RAM: two regions allocated at their exact size, so that under
 * ASan any access outside guest RAM fails the test. Region 0 is a small low
 * block, region 1 holds the rings, tables and buffers.
 */
#define LOW_GPA 0x10000ull
#define LOW_SIZE 0x10000ull
#define RAM_GPA 0x100000ull
#define RAM_SIZE (4ull << 20)

#define DESC_GPA (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x10000)
#define USED_GPA (RAM_GPA + 0x20000)
#define ITABLE_GPA (RAM_GPA + 0x30000)
#define BUF_GPA (RAM_GPA + 0x40000)

static struct guest_mem mem;
static struct virtq q;
static struct virtq_chain chain;
static uint16_t drv_avail_idx; /* the fake driver's avail->idx */

static void ram_init(void)
{
	uint8_t *low = calloc(1, LOW_SIZE), *ram = calloc(1, RAM_SIZE);

	cr_assert(low && ram);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] = (struct guest_mem_region){ LOW_GPA, LOW_SIZE, low, 0 };
	mem.region[1] = (struct guest_mem_region){ RAM_GPA, RAM_SIZE, ram, 0 };
	mem.nr_regions = 2;
	mem.ram_size = LOW_SIZE + RAM_SIZE;
	mem.memfd = -1;
	drv_avail_idx = 0;
}

static void ram_fini(void)
{
	free(mem.region[0].host);
	free(mem.region[1].host);
}

static uint8_t *gp(gpa_t gpa)
{
	uint8_t *p = guest_mem_ptr(&mem, gpa, 1);

	cr_assert(p, "test bug: gpa %#llx not in RAM", (unsigned long long)gpa);
	return p;
}

static void queue_init(uint32_t size, bool event_idx, bool indirect)
{
	cr_assert_eq(virtq_setup(&q, &mem, size, DESC_GPA, AVAIL_GPA, USED_GPA,
				 event_idx, indirect),
		     0);
}

static void setup16(void)
{
	ram_init();
	queue_init(16, false, true);
}

static void put_desc(gpa_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy(gp(table + 16ull * i), &d, sizeof(d));
}

static void set_avail_idx(uint16_t idx)
{
	drv_avail_idx = idx;
	memcpy(gp(AVAIL_GPA + 2), &idx, 2);
}

/* The fake driver makes chain 'head' available. */
static void offer(uint16_t head)
{
	uint16_t slot = drv_avail_idx & (q.size - 1);

	memcpy(gp(AVAIL_GPA + 4 + 2 * slot), &head, 2);
	set_avail_idx(drv_avail_idx + 1);
}

static uint16_t rd16(gpa_t gpa)
{
	uint16_t v;

	memcpy(&v, gp(gpa), 2);
	return v;
}

static uint32_t rd32(gpa_t gpa)
{
	uint32_t v;

	memcpy(&v, gp(gpa), 4);
	return v;
}

static void wr16(gpa_t gpa, uint16_t v)
{
	memcpy(gp(gpa), &v, 2);
}

/* Pop must fail with 'err' and leave the queue where it was. */
static void expect_pop_error(int err)
{
	uint16_t last = q.last_avail_idx;
	int ret = virtq_pop(&q, &mem, &chain);

	cr_assert_eq(ret, -err, "expected %s, got %d (%s)", virtq_err_str(err),
		     ret, virtq_err_str(ret));
	cr_assert_eq(q.last_avail_idx, last);
	cr_assert_eq(rd16(USED_GPA + 2), 0, "used ring must be untouched");
}

TestSuite(virtq, .init = setup16, .fini = ram_fini);

Test(virtq, empty_ring_pops_nothing)
{
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 0);
}

Test(virtq, direct_chain_gives_segments_readable_first)
{
	put_desc(DESC_GPA, 3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 7);
	put_desc(DESC_GPA, 7, BUF_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA + 0x1000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(chain.head, 3);
	cr_assert_eq(chain.nr_segs, 3);
	cr_assert_eq(chain.readable_len, 528);
	cr_assert_eq(chain.writable_len, 1);
	cr_assert_eq(chain.seg[1].gpa, BUF_GPA + 0x100);
	cr_assert_eq(chain.seg[1].len, 512);
	cr_assert(!chain.seg[1].write);
	cr_assert(chain.seg[2].write);
	cr_assert_eq(q.last_avail_idx, 1);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 0);
}

Test(virtq, indirect_chain_is_followed)
{
	put_desc(ITABLE_GPA, 0, BUF_GPA, 10, VIRTQ_DESC_F_NEXT, 2);
	put_desc(ITABLE_GPA, 2, BUF_GPA + 64, 20, VIRTQ_DESC_F_NEXT, 1);
	put_desc(ITABLE_GPA, 1, BUF_GPA + 128, 30, VIRTQ_DESC_F_WRITE, 0);
	/* WRITE on the indirect descriptor itself is ignored per spec. */
	put_desc(DESC_GPA, 5, ITABLE_GPA, 3 * 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	offer(5);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(chain.head, 5);
	cr_assert_eq(chain.nr_segs, 3);
	cr_assert_eq(chain.readable_len, 30);
	cr_assert_eq(chain.writable_len, 30);
	cr_assert_eq(chain.seg[2].gpa, BUF_GPA + 128);
}

Test(virtq, direct_then_indirect_mixed_lengths)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 4096, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, ITABLE_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(ITABLE_GPA, 0, BUF_GPA + 8192, 3, VIRTQ_DESC_F_NEXT, 1);
	put_desc(ITABLE_GPA, 1, LOW_GPA, 0x10000, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(chain.nr_segs, 3);
	cr_assert_eq(chain.readable_len, 4099);
	cr_assert_eq(chain.writable_len, 0x10000);
	cr_assert_eq(chain.seg[2].gpa, LOW_GPA);
}

Test(virtq, indices_wrap_past_65535)
{
	uint16_t start = 65533;

	q.last_avail_idx = start;
	q.used_idx = start;
	q.signalled_used = start;
	wr16(USED_GPA + 2, start);
	set_avail_idx(start);
	for (unsigned i = 0; i < 6; i++) {
		put_desc(DESC_GPA, i, BUF_GPA + 16 * i, 16, VIRTQ_DESC_F_WRITE,
			 0);
		offer((uint16_t)i);
	}
	cr_assert_eq(drv_avail_idx, 3);
	for (unsigned i = 0; i < 6; i++) {
		cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
		cr_assert_eq(chain.head, i);
		cr_assert_eq(virtq_push(&q, &mem, chain.head, 7 + i), 0);
	}
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 0);
	cr_assert_eq(q.last_avail_idx, 3);
	cr_assert_eq(rd16(USED_GPA + 2), 3);
	/* Element of the last push: used idx 2 -> slot 2 of 16. */
	cr_assert_eq(rd32(USED_GPA + 4 + 8 * 2), 5);
	cr_assert_eq(rd32(USED_GPA + 4 + 8 * 2 + 4), 12);
	/* First push: used idx 65533 -> slot 13. */
	cr_assert_eq(rd32(USED_GPA + 4 + 8 * 13), 0);
}

Test(virtq, push_n_publishes_several_chains_at_once_or_none)
{
	uint16_t heads[3];
	uint32_t lens[3] = {100, 200, 300};

	for (unsigned i = 0; i < 2; i++) {
		put_desc(DESC_GPA, i, BUF_GPA + 64 * i, 64, VIRTQ_DESC_F_WRITE,
			 0);
		offer((uint16_t)i);
		cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
		heads[i] = chain.head;
	}
	heads[2] = 5;
	/* Three used for two in flight: nothing written. */
	cr_assert_eq(virtq_push_n(&q, &mem, heads, lens, 3), -VIRTQ_E_USED_ID);
	cr_assert_eq(rd16(USED_GPA + 2), 0);
	heads[1] = 99; /* past the queue: nothing written either */
	cr_assert_eq(virtq_push_n(&q, &mem, heads, lens, 2), -VIRTQ_E_USED_ID);
	cr_assert_eq(rd16(USED_GPA + 2), 0);
	heads[1] = 1;
	cr_assert_eq(virtq_push_n(&q, &mem, heads, lens, 2), 0);
	cr_assert_eq(rd16(USED_GPA + 2), 2, "one store of used->idx");
	cr_assert_eq(rd32(USED_GPA + 4 + 4), 100);
	cr_assert_eq(rd32(USED_GPA + 4 + 8 + 4), 200);
}

Test(virtq, avail_idx_too_far_ahead_is_refused)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 16, 0, 0);
	set_avail_idx(17);
	expect_pop_error(VIRTQ_E_AVAIL_IDX);
	/* Exactly the queue size ahead is legal. */
	set_avail_idx(16);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
}

Test(virtq, more_in_flight_than_queue_size_is_refused)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 16, 0, 0);
	for (unsigned i = 0; i < 16; i++) {
		offer(0);
		cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	}
	offer(0);
	expect_pop_error(VIRTQ_E_AVAIL_IDX);
}

Test(virtq, head_out_of_range_is_refused)
{
	offer(16);
	expect_pop_error(VIRTQ_E_HEAD_RANGE);
}

Test(virtq, next_out_of_range_is_refused)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 16);
	offer(0);
	expect_pop_error(VIRTQ_E_NEXT_RANGE);
}

Test(virtq, next_out_of_indirect_table_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(ITABLE_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	offer(0);
	expect_pop_error(VIRTQ_E_NEXT_RANGE);
}

Test(virtq, loop_in_main_table_is_refused)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_LOOP);
}

Test(virtq, self_loop_is_refused)
{
	put_desc(DESC_GPA, 4, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 4);
	offer(4);
	expect_pop_error(VIRTQ_E_LOOP);
}

Test(virtq, loop_in_indirect_table_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(ITABLE_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(ITABLE_GPA, 1, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_LOOP);
}

Test(virtq, chain_longer_than_queue_counting_indirect_is_refused)
{
	/* 10 direct + 7 indirect = 17 data descriptors on a 16-queue. */
	for (unsigned i = 0; i < 10; i++)
		put_desc(DESC_GPA, i, BUF_GPA, 1, VIRTQ_DESC_F_NEXT, i + 1);
	put_desc(DESC_GPA, 10, ITABLE_GPA, 7 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < 7; i++)
		put_desc(ITABLE_GPA, i, BUF_GPA, 1,
			 i < 6 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	offer(0);
	expect_pop_error(VIRTQ_E_LOOP);
	/* One fewer indirect entry fits exactly. */
	put_desc(DESC_GPA, 10, ITABLE_GPA, 6 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(ITABLE_GPA, 5, BUF_GPA, 1, 0, 0);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(chain.nr_segs, 16);
}

Test(virtq, indirect_without_feature_is_refused)
{
	queue_init(16, false, false);
	put_desc(DESC_GPA, 0, ITABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(ITABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_FEATURE);
}

Test(virtq, indirect_table_length_zero_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_LEN);
}

Test(virtq, indirect_table_length_not_multiple_of_16_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_LEN);
}

Test(virtq, indirect_table_larger_than_queue_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 17 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_SIZE);
}

Test(virtq, huge_indirect_length_is_refused_without_reading)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 0xfffffff0u, VIRTQ_DESC_F_INDIRECT,
		 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_SIZE);
}

Test(virtq, nested_indirect_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(ITABLE_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(ITABLE_GPA, 1, ITABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_NESTED);
}

Test(virtq, indirect_with_next_is_refused)
{
	put_desc(DESC_GPA, 0, ITABLE_GPA, 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 16, 0, 0);
	put_desc(ITABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_INDIRECT_NEXT);
}

Test(virtq, indirect_table_outside_ram_is_refused)
{
	/* Its first entry is in RAM and leads to the second, which is not. */
	put_desc(RAM_GPA + RAM_SIZE - 16, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT,
		 1);
	put_desc(DESC_GPA, 0, RAM_GPA + RAM_SIZE - 16, 32,
		 VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_ADDR);
}

static void expect_addr_refused(uint64_t addr, uint32_t len)
{
	put_desc(DESC_GPA, 0, addr, len, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_ADDR);
}

Test(virtq, buffer_below_ram_is_refused)
{
	expect_addr_refused(0, 16);
}

Test(virtq, buffer_past_end_of_ram_is_refused)
{
	expect_addr_refused(RAM_GPA + RAM_SIZE - 8, 16);
}

Test(virtq, buffer_in_hole_between_regions_is_refused)
{
	expect_addr_refused(LOW_GPA + LOW_SIZE, 16);
}

Test(virtq, buffer_straddling_two_regions_is_refused)
{
	/* The low region ends where a gap begins; make them adjacent. */
	mem.region[1].gpa = LOW_GPA + LOW_SIZE;
	expect_addr_refused(LOW_GPA + LOW_SIZE - 8, 16);
}

Test(virtq, buffer_wrapping_address_space_is_refused)
{
	expect_addr_refused(0xfffffffffffff000ull, 0x2000);
}

Test(virtq, readable_after_writable_is_refused)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 16,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	put_desc(DESC_GPA, 2, BUF_GPA, 16, 0, 0);
	offer(0);
	expect_pop_error(VIRTQ_E_ORDER);
}

Test(virtq, total_length_above_limit_is_refused)
{
	/* 17 overlapping 4 MiB buffers: 68 MiB > 64 MiB. */
	for (unsigned i = 0; i < 17; i++)
		put_desc(DESC_GPA, i, RAM_GPA, (uint32_t)RAM_SIZE,
			 i < 16 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	queue_init(32, false, false);
	offer(0);
	expect_pop_error(VIRTQ_E_TOTAL_LEN);
}

Test(virtq, total_length_at_limit_is_accepted)
{
	for (unsigned i = 0; i < 16; i++)
		put_desc(DESC_GPA, i, RAM_GPA, (uint32_t)RAM_SIZE,
			 i < 15 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(chain.readable_len, VIRTQ_CHAIN_MAX_BYTES);
}

Test(virtq, more_segments_than_array_is_refused)
{
	queue_init(256, false, false);
	for (unsigned i = 0; i <= VIRTQ_CHAIN_MAX_SEGS; i++)
		put_desc(DESC_GPA, i, BUF_GPA, 1,
			 i < VIRTQ_CHAIN_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
			 i + 1);
	offer(0);
	expect_pop_error(VIRTQ_E_TOO_MANY_SEGS);
}

Test(virtq, pop_on_queue_not_ready_is_refused)
{
	virtq_reset(&q);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), -VIRTQ_E_NOT_READY);
	cr_assert_eq(virtq_push(&q, &mem, 0, 0), -VIRTQ_E_NOT_READY);
}

Test(virtq, setup_refuses_bad_geometry)
{
	cr_assert_eq(virtq_setup(&q, &mem, 0, DESC_GPA, AVAIL_GPA, USED_GPA,
				 false, false),
		     -VIRTQ_E_SIZE);
	cr_assert(!q.ready);
	cr_assert_eq(virtq_setup(&q, &mem, 24, DESC_GPA, AVAIL_GPA, USED_GPA,
				 false, false),
		     -VIRTQ_E_SIZE);
	cr_assert_eq(virtq_setup(&q, &mem, 65536, DESC_GPA, AVAIL_GPA,
				 USED_GPA, false, false),
		     -VIRTQ_E_SIZE);
	cr_assert_eq(virtq_setup(&q, &mem, 16, DESC_GPA + 8, AVAIL_GPA,
				 USED_GPA, false, false),
		     -VIRTQ_E_RING_ALIGN);
	cr_assert_eq(virtq_setup(&q, &mem, 16, DESC_GPA, AVAIL_GPA + 1,
				 USED_GPA, false, false),
		     -VIRTQ_E_RING_ALIGN);
	cr_assert_eq(virtq_setup(&q, &mem, 16, DESC_GPA, AVAIL_GPA,
				 USED_GPA + 2, false, false),
		     -VIRTQ_E_RING_ALIGN);
	cr_assert_eq(virtq_setup(&q, &mem, 16, 0, AVAIL_GPA, USED_GPA, false,
				 false),
		     -VIRTQ_E_RING_ADDR);
	/* The used ring of 16 needs 134 bytes: 128 left is too few. */
	cr_assert_eq(virtq_setup(&q, &mem, 16, DESC_GPA, AVAIL_GPA,
				 RAM_GPA + RAM_SIZE - 128, false, false),
		     -VIRTQ_E_RING_ADDR);
	cr_assert(!q.ready);
	cr_assert_eq(virtq_setup(&q, &mem, 32768, DESC_GPA, AVAIL_GPA + 0x60000,
				 USED_GPA + 0x80000, false, false),
		     0);
	cr_assert(q.ready);
}

Test(virtq, push_of_head_out_of_range_or_not_in_flight_is_refused)
{
	cr_assert_eq(virtq_push(&q, &mem, 0, 0), -VIRTQ_E_USED_ID);
	put_desc(DESC_GPA, 0, BUF_GPA, 16, 0, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(virtq_push(&q, &mem, 16, 0), -VIRTQ_E_USED_ID);
	cr_assert_eq(rd16(USED_GPA + 2), 0);
	cr_assert_eq(virtq_push(&q, &mem, 0, 9), 0);
	cr_assert_eq(rd16(USED_GPA + 2), 1);
	cr_assert_eq(virtq_push(&q, &mem, 0, 9), -VIRTQ_E_USED_ID);
}

static void pop_push_one(void)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);
	cr_assert_eq(virtq_push(&q, &mem, 0, 16), 0);
}

Test(virtq, interrupt_follows_no_interrupt_flag_without_event_idx)
{
	cr_assert(!virtq_needs_interrupt(&q, &mem), "nothing pushed yet");
	pop_push_one();
	cr_assert(virtq_needs_interrupt(&q, &mem));
	cr_assert(!virtq_needs_interrupt(&q, &mem), "already signalled");
	wr16(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	pop_push_one();
	cr_assert(!virtq_needs_interrupt(&q, &mem));
}

Test(virtq, interrupt_follows_used_event_with_event_idx)
{
	gpa_t used_event = AVAIL_GPA + 4 + 2 * 16;

	queue_init(16, true, false);
	wr16(used_event, 1); /* interrupt when used idx passes 1 */
	pop_push_one();      /* used idx 0 -> 1 */
	cr_assert(!virtq_needs_interrupt(&q, &mem));
	pop_push_one(); /* 1 -> 2: crosses the event */
	cr_assert(virtq_needs_interrupt(&q, &mem));
	pop_push_one();
	pop_push_one(); /* 2 -> 4, event still 1 */
	cr_assert(!virtq_needs_interrupt(&q, &mem));
	wr16(used_event, 4);
	pop_push_one(); /* 4 -> 5 */
	cr_assert(virtq_needs_interrupt(&q, &mem));
	/* The flag means nothing with EVENT_IDX. */
	wr16(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	wr16(used_event, 5);
	pop_push_one();
	cr_assert(virtq_needs_interrupt(&q, &mem));
}

Test(virtq, event_idx_arithmetic_wraps)
{
	cr_assert(virtq_need_event(65535, 0, 65535));
	cr_assert(virtq_need_event(65534, 1, 65530));
	cr_assert(virtq_need_event(0, 1, 65535));
	cr_assert(!virtq_need_event(1, 1, 65535));
	cr_assert(!virtq_need_event(65530, 2, 65531));
	cr_assert(!virtq_need_event(5, 5, 5));
}

Test(virtq, empty_pop_with_event_idx_publishes_avail_event)
{
	gpa_t avail_event = USED_GPA + 4 + 8 * 16;

	queue_init(16, true, false);
	wr16(avail_event, 0xbeef);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 0);
	cr_assert_eq(rd16(avail_event), 0);
	pop_push_one();
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 0);
	cr_assert_eq(rd16(avail_event), 1);
	virtq_set_avail_event(&q, &mem, 77);
	cr_assert_eq(rd16(avail_event), 77);
}

Test(virtq, set_avail_event_without_event_idx_writes_nothing)
{
	gpa_t avail_event = USED_GPA + 4 + 8 * 16;

	wr16(avail_event, 0x1234);
	virtq_set_avail_event(&q, &mem, 5);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 0);
	cr_assert_eq(rd16(avail_event), 0x1234);
}

Test(virtq, chain_copies_are_bounded_by_segments)
{
	uint8_t out[64], in[64];

	for (unsigned i = 0; i < 16; i++)
		gp(BUF_GPA)[i] = (uint8_t)i;
	for (unsigned i = 0; i < 16; i++)
		gp(BUF_GPA + 0x100)[i] = (uint8_t)(16 + i);
	put_desc(DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA + 0x100, 8, VIRTQ_DESC_F_NEXT, 2);
	put_desc(DESC_GPA, 2, BUF_GPA + 0x200, 4,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	put_desc(DESC_GPA, 3, BUF_GPA + 0x300, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &mem, &chain), 1);

	memset(out, 0xaa, sizeof(out));
	cr_assert_eq(virtq_chain_read(&mem, &chain, 10, out, sizeof(out)), 14);
	for (unsigned i = 0; i < 14; i++)
		cr_assert_eq(out[i], 10 + i);
	cr_assert_eq(out[14], 0xaa);
	cr_assert_eq(virtq_chain_read(&mem, &chain, 24, out, 4), 0);
	cr_assert_eq(virtq_chain_read(&mem, &chain, 0, out, 3), 3);

	memset(in, 0x55, sizeof(in));
	cr_assert_eq(virtq_chain_write(&mem, &chain, 2, in, sizeof(in)), 6);
	cr_assert_eq(gp(BUF_GPA + 0x200)[1], 0);
	cr_assert_eq(gp(BUF_GPA + 0x200)[2], 0x55);
	cr_assert_eq(gp(BUF_GPA + 0x300)[3], 0x55);
	cr_assert_eq(gp(BUF_GPA + 0x300)[4], 0, "wrote past the segment");
	/* The readable buffers are not written through the write helper. */
	cr_assert_eq(gp(BUF_GPA)[2], 2);
}

Test(virtq, every_error_has_its_own_name)
{
	for (int a = VIRTQ_E_AVAIL_IDX; a < VIRTQ_E_MAX_; a++) {
		cr_assert_neq(strcmp(virtq_err_str(-a),
				     "unknown virtqueue error"),
			      0);
		for (int b = a + 1; b < VIRTQ_E_MAX_; b++)
			cr_assert_neq(strcmp(virtq_err_str(a),
					     virtq_err_str(b)),
				      0);
	}
	cr_assert_str_eq(virtq_err_str(5), "unknown virtqueue error");
}

Test(virtq, setup_refuses_region_mapped_off_alignment)
{
	/* The guest's address is aligned, the host copy one byte off. */
	mem.region[1].host += 1;
	mem.region[1].size -= 1;
	cr_assert_eq(virtq_setup(&q, &mem, 16, DESC_GPA, AVAIL_GPA, USED_GPA,
				 false, false),
		     -VIRTQ_E_RING_ALIGN);
	mem.region[1].host -= 1;
	mem.region[1].size += 1;
}
