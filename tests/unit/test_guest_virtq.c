/*
 * test_guest_virtq.c: the test guest's virtqueue driver against the VMM's
 * virtqueue walker (the device side that validates every descriptor): any
 * rule the driver breaks shows up as a VIRTQ_E_* error here, under ASan.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/guest_virtq_shim.h"
#include "vcpu/virtio/virtq.h"

static struct guest_mem mem;
static struct virtq vq; /* the VMM's view */
static struct virtq_chain chain;

/* The guest arena as the only RAM region, guest address == host address. */
static void vq_start(uint32_t qmax, unsigned size, bool event_idx,
		     bool indirect, bool poll)
{
	uint64_t desc, avail, used, asize;
	uint32_t num;
	uint8_t *base;

	cr_assert_eq(gq_new(qmax, size, event_idx, indirect, poll), 0);
	gq_arena(&base, &asize);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] = (struct guest_mem_region){(gpa_t)(uintptr_t)base, asize,
						  base, 0};
	mem.nr_regions = 1;
	mem.ram_size = asize;
	mem.memfd = -1;
	gq_rings(&desc, &avail, &used, &num);
	memset(&vq, 0, sizeof(vq));
	cr_assert_eq(virtq_setup(&vq, &mem, num, desc, avail, used, event_idx,
				 indirect),
		     0, "the VMM refuses the driver's rings");
}

/* A buffer inside guest RAM (the upper half of the arena). */
static uint64_t vq_buf(unsigned i)
{
	uint8_t *base;
	uint64_t size;

	gq_arena(&base, &size);
	return (uint64_t)(uintptr_t)base + size / 2 + 4096ull * (i % 256);
}

static int vq_add_n(unsigned n, unsigned nwrite, uintptr_t cookie)
{
	uint64_t addr[80];
	uint32_t len[80];
	bool wr[80];
	unsigned i;

	for (i = 0; i < n; i++) {
		addr[i] = vq_buf(i);
		len[i] = 100 + i;
		wr[i] = i >= n - nwrite;
	}
	return gq_add(addr, len, wr, n, cookie);
}

static uint16_t *vq_used_flags(void)
{
	return guest_mem_ptr(&mem, vq.used, 2);
}

Test(guest_virtq, direct_chain_reaches_the_device_intact)
{
	uintptr_t cookie;
	uint32_t len;
	unsigned i;

	vq_start(256, 8, false, false, true);
	cr_assert_geq(vq_add_n(3, 1, 42), 0);
	cr_assert_eq(gq_nfree(), 5);
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 0, "visible before kick");
	gq_kick();
	cr_assert_eq(gq_notifies(), 1);
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(chain.nr_segs, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(chain.seg[i].gpa, vq_buf(i));
		cr_assert_eq(chain.seg[i].len, 100 + i);
		cr_assert_eq(chain.seg[i].write, i == 2);
	}
	cr_assert_eq(gq_get(&cookie, &len), 0, "completion before push");
	cr_assert_eq(virtq_push(&vq, &mem, chain.head, 7), 0);
	cr_assert_eq(gq_get(&cookie, &len), 1);
	cr_assert_eq(cookie, 42);
	cr_assert_eq(len, 7);
	cr_assert_eq(gq_nfree(), 8);
}

Test(guest_virtq, indirect_chain_takes_one_ring_descriptor)
{
	vq_start(256, 64, false, true, true);
	cr_assert_gt(gq_indirect_max(), 0);
	cr_assert_geq(vq_add_n(40, 20, 1), 0);
	cr_assert_eq(gq_nfree(), 63);
	gq_kick();
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(chain.nr_segs, 40);
	cr_assert_eq(chain.readable_len, 20 * 100 + 190);
	cr_assert(chain.seg[20].write && !chain.seg[19].write);
}

Test(guest_virtq, indirect_chain_is_no_longer_than_the_queue)
{
	vq_start(256, 8, false, true, true);
	cr_assert_eq(gq_indirect_max(), 8);
	cr_assert_eq(vq_add_n(9, 0, 1), -22 /* TG_EINVAL */);
	cr_assert_geq(vq_add_n(8, 4, 2), 0);
	gq_kick();
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(chain.nr_segs, 8);
}

Test(guest_virtq, queue_size_is_the_largest_power_of_two_allowed)
{
	uint64_t d, a, u;
	uint32_t num;

	vq_start(64, 100, false, false, true);
	gq_rings(&d, &a, &u, &num);
	cr_assert_eq(num, 64);
	vq_start(256, 24, false, false, true);
	gq_rings(&d, &a, &u, &num);
	cr_assert_eq(num, 16);
}

Test(guest_virtq, full_ring_says_no_space_and_long_chain_is_refused)
{
	unsigned i;

	vq_start(256, 4, false, false, true);
	for (i = 0; i < 4; i++)
		cr_assert_geq(vq_add_n(1, 0, i + 1), 0);
	cr_assert_eq(vq_add_n(1, 0, 9), -28 /* TG_ENOSPC */);
	vq_start(256, 4, false, false, true);
	cr_assert_eq(vq_add_n(5, 0, 9), -22 /* TG_EINVAL */);
	cr_assert_eq(vq_add_n(0, 0, 9), -22);
}

/* Out-of-order completions over many 16-bit index wraps stay valid. */
Test(guest_virtq, free_list_survives_index_wraps_and_reordering)
{
	uint16_t heads[8];
	unsigned round, n, i, got;
	uintptr_t cookie, want_sum, sum;
	uint32_t len;

	vq_start(256, 8, true, false, true);
	for (round = 0; round < 30000; round++) {
		want_sum = sum = 0;
		for (n = 0; gq_nfree() >= 1 + round % 3; n++) {
			cr_assert_geq(vq_add_n(1 + round % 3, round % 2,
					       round * 8 + n + 1),
				      0);
			want_sum += round * 8 + n + 1;
		}
		gq_kick();
		for (i = 0; i < n; i++) {
			cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1,
				     "round %u", round);
			heads[i] = chain.head;
		}
		for (i = n; i-- > 0;) /* reverse order */
			cr_assert_eq(virtq_push(&vq, &mem, heads[i], 0), 0);
		for (got = 0; gq_get(&cookie, &len) == 1; got++)
			sum += cookie;
		cr_assert_eq(got, n);
		cr_assert_eq(sum, want_sum);
		cr_assert_eq(gq_nfree(), 8);
	}
}

Test(guest_virtq, event_idx_kicks_only_when_the_device_asked)
{
	vq_start(256, 8, true, false, true);
	vq_add_n(1, 0, 1);
	gq_kick();
	cr_assert_eq(gq_notifies(), 1);
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	/* Empty ring: the device publishes avail_event and wants a kick. */
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 0);
	vq_add_n(1, 0, 2);
	gq_kick();
	cr_assert_eq(gq_notifies(), 2);
	/* The device is busy (did not look again): no kick needed. */
	vq_add_n(1, 0, 3);
	gq_kick();
	vq_add_n(1, 0, 4);
	gq_kick();
	cr_assert_eq(gq_notifies(), 2);
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
}

Test(guest_virtq, no_notify_flag_is_honoured_without_event_idx)
{
	vq_start(256, 8, false, false, true);
	*vq_used_flags() = 1; /* VIRTQ_USED_F_NO_NOTIFY */
	vq_add_n(1, 0, 1);
	gq_kick();
	cr_assert_eq(gq_notifies(), 0);
	*vq_used_flags() = 0;
	vq_add_n(1, 0, 2);
	gq_kick();
	cr_assert_eq(gq_notifies(), 1);
}

Test(guest_virtq, polling_queue_asks_for_no_interrupts)
{
	vq_start(256, 8, true, false, true);
	vq_add_n(1, 0, 1);
	gq_kick();
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(virtq_push(&vq, &mem, chain.head, 0), 0);
	cr_assert_not(virtq_needs_interrupt(&vq, &mem));
}

static void device_completes_one(void)
{
	cr_assert_eq(virtq_pop(&vq, &mem, &chain), 1);
	cr_assert_eq(virtq_push(&vq, &mem, chain.head, 3), 0);
	cr_assert(virtq_needs_interrupt(&vq, &mem),
		  "the sleeping driver did not arm used_event");
}

Test(guest_virtq, interrupt_wait_arms_used_event_before_sleeping)
{
	uintptr_t cookie;
	uint32_t len;

	vq_start(256, 8, true, false, false);
	vq_add_n(2, 1, 5);
	gq_kick();
	cr_assert_eq(gq_wait(device_completes_one), 0);
	cr_assert_eq(gq_get(&cookie, &len), 1);
	cr_assert_eq(cookie, 5);
	cr_assert_eq(len, 3);
}

Test(guest_virtq, wait_times_out_when_the_device_is_silent)
{
	vq_start(256, 8, true, false, false);
	vq_add_n(1, 0, 1);
	gq_kick();
	cr_assert_eq(gq_wait(NULL), -110 /* TG_ETIMEDOUT */);
}

Test(guest_virtq, device_needing_reset_ends_the_wait_with_an_io_error)
{
	vq_start(256, 8, true, false, false);
	vq_add_n(1, 0, 1);
	gq_kick();
	gq_set_status(0x4f); /* DRIVER_OK ... | NEEDS_RESET */
	cr_assert_eq(gq_wait(NULL), -5 /* TG_EIO */);
}

Test(guest_virtq, polling_notices_a_device_needing_reset)
{
	vq_start(256, 8, true, false, true);
	vq_add_n(1, 0, 1);
	gq_kick();
	gq_set_status(0x40);
	cr_assert_eq(gq_wait(NULL), -5 /* TG_EIO */);
}

/* Writes one used element as a hostile device would. */
static void used_write(uint16_t idx, uint32_t id, uint32_t len)
{
	uint16_t *uidx = guest_mem_ptr(&mem, vq.used + 2, 2);
	uint32_t *elem = guest_mem_ptr(&mem, vq.used + 4 + 8 * (idx % 8), 8);

	elem[0] = id;
	elem[1] = len;
	__atomic_store_n(uidx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

Test(guest_virtq, hostile_used_entries_are_refused)
{
	uintptr_t cookie;
	uint32_t len;

	vq_start(256, 8, false, false, true);
	vq_add_n(1, 0, 1);
	gq_kick();
	used_write(0, 8, 0); /* id beyond the queue */
	cr_assert_eq(gq_get(&cookie, &len), -22);
	used_write(0, 3, 0); /* a descriptor that is not a head in flight */
	cr_assert_eq(gq_get(&cookie, &len), -22);
	used_write(1, 0, 0); /* two completions for one request */
	cr_assert_eq(gq_get(&cookie, &len), -22);
	used_write(0, 0, 9); /* the honest one */
	cr_assert_eq(gq_get(&cookie, &len), 1);
	cr_assert_eq(cookie, 1);
	used_write(1, 0, 0); /* the same head again: no longer in flight */
	cr_assert_eq(gq_get(&cookie, &len), -22);
}
