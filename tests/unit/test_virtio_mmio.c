/* test_virtio_mmio.c: the virtio-mmio v2 register state machine. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/virtio/virtio_mmio.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (1ull << 20)
#define DESC_GPA (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x4000)
#define USED_GPA (RAM_GPA + 0x8000)

#define F_DEV_A VIRTIO_BIT(0)
#define F_DEV_B VIRTIO_BIT(5)
#define F_V1 VIRTIO_BIT(VIRTIO_F_VERSION_1)

/* What the fake device and the fake VMM saw. */
static struct {
	int driver_ok, reset, notify[2], queue_ready[2];
	int irq_raised, irq_lowered, log_lines;
	char last_log[256];
	uint8_t config[12];
	uint8_t config_written[12];
} seen;

static void fake_config_read(void *opaque, uint32_t off, void *data,
			     unsigned len)
{
	(void)opaque;
	cr_assert(off + len <= sizeof(seen.config), "transport let it past");
	memcpy(data, seen.config + off, len);
}

static void fake_config_write(void *opaque, uint32_t off, const void *data,
			      unsigned len)
{
	(void)opaque;
	cr_assert(off + len <= sizeof(seen.config), "transport let it past");
	memcpy(seen.config_written + off, data, len);
}

static void fake_driver_ok(void *opaque)
{
	(void)opaque;
	seen.driver_ok++;
}

static void fake_queue_ready(void *opaque, unsigned qi)
{
	(void)opaque;
	seen.queue_ready[qi]++;
}

static void fake_notify(void *opaque, unsigned qi)
{
	(void)opaque;
	seen.notify[qi]++;
}

static void fake_reset(void *opaque)
{
	(void)opaque;
	seen.reset++;
}

static void fake_irq(void *opaque, bool level)
{
	(void)opaque;
	if (level)
		seen.irq_raised++;
	else
		seen.irq_lowered++;
}

static void fake_log(void *opaque, const char *line)
{
	(void)opaque;
	seen.log_lines++;
	snprintf(seen.last_log, sizeof(seen.last_log), "%s", line);
}

static const struct virtio_dev_ops fake_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = F_DEV_A | F_DEV_B,
	.nr_queues = 2,
	.queue_max = { 64, 8 },
	.config_size = 12,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.driver_ok = fake_driver_ok,
	.queue_ready = fake_queue_ready,
	.notify = fake_notify,
	.reset = fake_reset,
};

static struct guest_mem mem;
static struct virtio_mmio_dev dev;

static void setup(void)
{
	uint8_t *ram = calloc(1, RAM_SIZE);

	cr_assert(ram);
	memset(&seen, 0, sizeof(seen));
	for (unsigned i = 0; i < sizeof(seen.config); i++)
		seen.config[i] = (uint8_t)(0xa0 + i);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] = (struct guest_mem_region){ RAM_GPA, RAM_SIZE, ram, 0 };
	mem.nr_regions = 1;
	mem.ram_size = RAM_SIZE;
	mem.memfd = -1;
	cr_assert_eq(virtio_mmio_init(&dev, "blk0", &fake_ops, NULL, &mem,
				      fake_irq, fake_log, NULL),
		     0);
}

static void teardown(void)
{
	free(mem.region[0].host);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	virtio_mmio_read(&dev, off, &v, 4);
	return v;
}

static int wr(uint64_t off, uint32_t v)
{
	return virtio_mmio_write(&dev, off, &v, 4);
}

static bool needs_reset(void)
{
	return rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

static void write_features(uint64_t f)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns Status read back. */
static uint32_t negotiate(uint64_t f)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	write_features(f);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				       VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	return rd(VIRTIO_MMIO_STATUS);
}

static void queue_regs(unsigned qi, uint32_t num, uint64_t desc,
		       uint64_t avail, uint64_t used)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, qi);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}

static void driver_ok(void)
{
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* A working device: features agreed, queue 0 of 16 ready, DRIVER_OK. */
static void bring_up(void)
{
	cr_assert(negotiate(F_V1 | F_DEV_A) & VIRTIO_STATUS_FEATURES_OK);
	queue_regs(0, 16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	driver_ok();
	cr_assert(!needs_reset());
}

/* The device is broken for 'rule': NEEDS_RESET, config irq, one line. */
static void expect_failed(const char *rule)
{
	cr_assert(needs_reset(), "expected NEEDS_RESET for '%s'", rule);
	cr_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	cr_assert_geq(seen.irq_raised, 1);
	cr_assert_eq(seen.log_lines, 1, "lines: %d", seen.log_lines);
	cr_assert(strstr(seen.last_log, rule), "log '%s' lacks '%s'",
		  seen.last_log, rule);
	cr_assert(strstr(seen.last_log, "blk0"));
}

TestSuite(virtio_mmio, .init = setup, .fini = teardown);

Test(virtio_mmio, identity_registers)
{
	cr_assert_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	cr_assert_eq(rd(VIRTIO_MMIO_VERSION), 2);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	cr_assert_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
	cr_assert_eq(seen.log_lines, 0);
}

Test(virtio_mmio, init_refuses_inconsistent_ops)
{
	struct virtio_dev_ops bad = fake_ops;
	struct virtio_mmio_dev d;

	bad.queue_max[1] = 24;
	cr_assert_eq(virtio_mmio_init(&d, "x", &bad, NULL, &mem, NULL, NULL,
				      NULL),
		     -EINVAL);
	bad = fake_ops;
	bad.nr_queues = 0;
	cr_assert_eq(virtio_mmio_init(&d, "x", &bad, NULL, &mem, NULL, NULL,
				      NULL),
		     -EINVAL);
	bad = fake_ops;
	bad.config_size = 0xf01;
	cr_assert_eq(virtio_mmio_init(&d, "x", &bad, NULL, &mem, NULL, NULL,
				      NULL),
		     -EINVAL);
}

Test(virtio_mmio, device_features_offer_transport_and_device_bits)
{
	uint32_t lo, hi;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	cr_assert_eq(lo, (1u << 0) | (1u << 5) | (1u << 28) | (1u << 29));
	cr_assert_eq(hi, 1u); /* VERSION_1 is bit 32 */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

Test(virtio_mmio, full_initialization_reaches_driver_ok)
{
	bring_up();
	cr_assert_eq(seen.driver_ok, 1);
	cr_assert_eq(seen.queue_ready[0], 1);
	cr_assert(virtio_mmio_running(&dev));
	cr_assert_eq(virtio_mmio_features(&dev), F_V1 | F_DEV_A);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0x0f);
	cr_assert_eq(seen.log_lines, 0);
	cr_assert(dev.queue[0].vq.ready);
	cr_assert(!dev.queue[0].vq.event_idx);
}

Test(virtio_mmio, ring_features_reach_the_queue)
{
	cr_assert(negotiate(F_V1 | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |
			    VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)) &
		  VIRTIO_STATUS_FEATURES_OK);
	queue_regs(0, 16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	cr_assert(dev.queue[0].vq.event_idx);
	cr_assert(dev.queue[0].vq.indirect);
}

Test(virtio_mmio, features_without_version_1_are_refused)
{
	uint32_t st = negotiate(F_DEV_A);

	cr_assert_not(st & VIRTIO_STATUS_FEATURES_OK);
	cr_assert_eq(st, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cr_assert_eq(seen.log_lines, 1);
	cr_assert(strstr(seen.last_log, "VERSION_1"));
}

Test(virtio_mmio, unoffered_features_are_refused)
{
	cr_assert_not(negotiate(F_V1 | VIRTIO_BIT(7)) &
		      VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(needs_reset());
	/* The driver retries with what was offered: accepted. */
	write_features(F_V1 | F_DEV_B);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				       VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

Test(virtio_mmio, packed_ring_is_not_offered_and_refused)
{
	cr_assert_not(negotiate(F_V1 | VIRTIO_BIT(VIRTIO_F_RING_PACKED)) &
		      VIRTIO_STATUS_FEATURES_OK);
}

/*
 * Bits 24..49 belong to the transport (virtio 1.x section 6): a device
 * asking for one (packed rings, in-order, notification data, platform
 * access) gets it neither offered nor accepted. Its own bits above 49 pass.
 */
Test(virtio_mmio, transport_bits_in_device_features_are_not_offered)
{
	const uint64_t transport_range =
		VIRTIO_BIT(24) | VIRTIO_BIT(27) |
		VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		VIRTIO_BIT(VIRTIO_F_IN_ORDER) | VIRTIO_BIT(36) |
		VIRTIO_BIT(VIRTIO_F_NOTIFICATION_DATA) | VIRTIO_BIT(40) |
		VIRTIO_BIT(49);
	struct virtio_dev_ops ops = fake_ops;
	uint32_t lo, hi;

	ops.features = F_DEV_A | VIRTIO_BIT(50) | transport_range;
	cr_assert_eq(virtio_mmio_init(&dev, "blk0", &ops, NULL, &mem, fake_irq,
				      fake_log, NULL),
		     0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	cr_assert_eq(lo, (1u << 0) | (1u << 28) | (1u << 29), "%#x", lo);
	cr_assert_eq(hi, 1u | (1u << (50 - 32)), "%#x", hi);
	cr_assert_not(negotiate(F_V1 | VIRTIO_BIT(VIRTIO_F_RING_PACKED)) &
		      VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(needs_reset());
	write_features(F_V1 | F_DEV_A | VIRTIO_BIT(50));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				       VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

Test(virtio_mmio, feature_bits_beyond_64_are_refused)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	cr_assert_not(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
}

Test(virtio_mmio, features_written_after_features_ok_break_the_device)
{
	cr_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	expect_failed("after FEATURES_OK");
	cr_assert_eq(virtio_mmio_features(&dev), F_V1);
}

Test(virtio_mmio, driver_ok_before_features_ok_breaks_the_device)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				       VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_DRIVER_OK);
	expect_failed("DRIVER_OK before FEATURES_OK");
	cr_assert_eq(seen.driver_ok, 0);
}

Test(virtio_mmio, driver_ok_after_refused_features_breaks_the_device)
{
	negotiate(F_DEV_A); /* refused: no VERSION_1 */
	/* The same write asks FEATURES_OK again (refused) and DRIVER_OK. */
	driver_ok();
	cr_assert(needs_reset());
	cr_assert(strstr(seen.last_log, "DRIVER_OK before FEATURES_OK"));
	cr_assert_eq(seen.driver_ok, 0);
}

Test(virtio_mmio, driver_before_acknowledge_breaks_the_device)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
	expect_failed("DRIVER before ACKNOWLEDGE");
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_mmio, clearing_status_bits_without_reset_breaks_the_device)
{
	bring_up();
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	expect_failed("clears bits");
	cr_assert(!virtio_mmio_running(&dev));
}

Test(virtio_mmio, unknown_status_bit_breaks_the_device)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | 0x10);
	expect_failed("unknown bits");
}

Test(virtio_mmio, echoing_needs_reset_is_not_an_error)
{
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
	cr_assert_eq(seen.log_lines, 0);
}

Test(virtio_mmio, failed_status_stops_queue_processing)
{
	struct virtq_chain chain;

	bring_up();
	wr(VIRTIO_MMIO_STATUS, 0x0f | VIRTIO_STATUS_FAILED);
	cr_assert_not(virtio_mmio_running(&dev));
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 0);
}

Test(virtio_mmio, reset_clears_everything)
{
	bring_up();
	virtio_mmio_config_changed(&dev);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_STATUS, 0);

	cr_assert_eq(seen.reset, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	cr_assert_eq(seen.irq_lowered, 1);
	cr_assert_eq(virtio_mmio_features(&dev), 0);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0x30000021u,
		     "DeviceFeaturesSel back to 0");
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 64, "QueueSel back to 0");
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	cr_assert(!dev.queue[0].vq.ready);
	cr_assert_eq(dev.queue[0].num, 0);
	cr_assert_eq(dev.queue[0].desc, 0);
	cr_assert_not(virtio_mmio_running(&dev));
	/* And the device works again from scratch. */
	bring_up();
	cr_assert_eq(seen.driver_ok, 2);
}

Test(virtio_mmio, reset_recovers_from_needs_reset)
{
	bring_up();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* queue 1 not ready */
	expect_failed("not ready");
	wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
	bring_up();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert_eq(seen.notify[0], 1);
}

/* Queue 0 set up with 'num' and addresses, then QueueReady = 1. */
static void try_queue(uint32_t num, uint64_t desc, uint64_t avail,
		      uint64_t used)
{
	cr_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	queue_regs(0, num, desc, avail, used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void expect_queue_refused(const char *rule)
{
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	cr_assert_eq(seen.queue_ready[0], 0);
	expect_failed(rule);
}

Test(virtio_mmio, queue_size_not_power_of_two_is_refused)
{
	try_queue(24, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_queue_refused("power of 2");
}

Test(virtio_mmio, queue_size_zero_is_refused)
{
	try_queue(0, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_queue_refused("power of 2");
}

Test(virtio_mmio, queue_size_above_max_is_refused)
{
	try_queue(128, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_queue_refused("above QueueNumMax");
}

Test(virtio_mmio, queue_size_at_max_is_accepted)
{
	try_queue(64, DESC_GPA, AVAIL_GPA, USED_GPA);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	cr_assert_eq(seen.queue_ready[0], 1);
}

Test(virtio_mmio, misaligned_rings_are_refused)
{
	try_queue(16, DESC_GPA + 8, AVAIL_GPA, USED_GPA);
	expect_queue_refused("misaligned");
}

Test(virtio_mmio, misaligned_used_ring_is_refused)
{
	try_queue(16, DESC_GPA, AVAIL_GPA, USED_GPA + 2);
	expect_queue_refused("misaligned");
}

Test(virtio_mmio, rings_outside_ram_are_refused)
{
	try_queue(16, DESC_GPA, AVAIL_GPA, RAM_GPA + RAM_SIZE - 64);
	expect_queue_refused("outside guest RAM");
}

Test(virtio_mmio, ring_above_4g_uses_high_halves)
{
	try_queue(16, DESC_GPA | (1ull << 32), AVAIL_GPA, USED_GPA);
	cr_assert_eq(dev.queue[0].desc, DESC_GPA | (1ull << 32));
	expect_queue_refused("outside guest RAM");
}

Test(virtio_mmio, queue_enabled_before_features_ok_is_refused)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	queue_regs(0, 16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	expect_queue_refused("before FEATURES_OK");
}

Test(virtio_mmio, queue_registers_are_frozen_while_ready)
{
	try_queue(16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	expect_failed("while ready");
	cr_assert_eq(dev.queue[0].num, 16);
}

Test(virtio_mmio, queue_address_is_frozen_while_ready)
{
	try_queue(16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0);
	expect_failed("while ready");
	cr_assert_eq(dev.queue[0].device, USED_GPA);
}

Test(virtio_mmio, queue_taken_down_can_be_reconfigured)
{
	try_queue(16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 32);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	cr_assert_eq(dev.queue[0].vq.size, 32);
	cr_assert_eq(seen.log_lines, 0);
}

Test(virtio_mmio, queue_ready_value_other_than_0_or_1_is_refused)
{
	cr_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	queue_regs(0, 16, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 2);
	expect_queue_refused("neither 0 nor 1");
}

Test(virtio_mmio, missing_queue_reads_zero_and_refuses_writes)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	cr_assert_eq(seen.log_lines, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	expect_failed("does not exist");
}

Test(virtio_mmio, notify_before_driver_ok_breaks_the_device)
{
	try_queue(16, DESC_GPA, AVAIL_GPA, USED_GPA);
	cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0), -EINVAL);
	expect_failed("before DRIVER_OK");
	cr_assert_eq(seen.notify[0], 0);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	/* More bad notifies: still broken, no further line, no callback. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	driver_ok();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert_eq(seen.log_lines, 1);
	cr_assert_eq(seen.notify[0], 0);
}

Test(virtio_mmio, notify_of_missing_queue_breaks_the_device)
{
	bring_up();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	expect_failed("does not exist");
}

Test(virtio_mmio, notify_of_ready_queue_reaches_the_device)
{
	bring_up();
	cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0), 0);
	cr_assert_eq(virtio_mmio_notify(&dev, 0), 0);
	cr_assert_eq(seen.notify[0], 2);
	cr_assert_eq(seen.notify[1], 0);
}

static void wr16(gpa_t gpa, uint16_t v)
{
	memcpy(guest_mem_ptr(&mem, gpa, 2), &v, 2);
}

/* The fake driver offers a one-buffer chain at descriptor 'head'. */
static void offer_one(uint16_t head, uint16_t avail_idx)
{
	struct virtq_desc d = { RAM_GPA + 0x10000, 64, VIRTQ_DESC_F_WRITE, 0 };

	memcpy(guest_mem_ptr(&mem, DESC_GPA + 16 * head, 16), &d, 16);
	wr16(AVAIL_GPA + 4 + 2 * ((avail_idx - 1) % 16), head);
	wr16(AVAIL_GPA + 2, avail_idx);
}

Test(virtio_mmio, used_buffer_interrupt_and_ack)
{
	struct virtq_chain chain;

	bring_up();
	offer_one(3, 1);
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 1);
	cr_assert_eq(virtio_mmio_push(&dev, 0, chain.head, 64), 0);
	virtio_mmio_signal_used(&dev, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	cr_assert_eq(seen.irq_raised, 1);
	virtio_mmio_config_changed(&dev);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
		     VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(seen.irq_lowered, 0, "a bit is still pending");
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	cr_assert_eq(seen.irq_lowered, 1);
	/* Nothing new pushed: no new interrupt. */
	virtio_mmio_signal_used(&dev, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	cr_assert_eq(seen.log_lines, 0);
}

Test(virtio_mmio, broken_chain_puts_device_in_needs_reset)
{
	struct virtq_chain chain;

	bring_up();
	wr16(AVAIL_GPA + 4, 99); /* head 99 of a 16-queue */
	wr16(AVAIL_GPA + 2, 1);
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), -VIRTQ_E_HEAD_RANGE);
	expect_failed("head index out of range");
	cr_assert(strstr(seen.last_log, "queue 0"));
	/* Queues stop until reset. */
	offer_one(2, 2);
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 0);
	cr_assert_eq(virtio_mmio_push(&dev, 0, 2, 0), -VIRTQ_E_NOT_READY);
}

Test(virtio_mmio, pop_before_driver_ok_gives_nothing)
{
	struct virtq_chain chain;

	try_queue(16, DESC_GPA, AVAIL_GPA, USED_GPA);
	offer_one(0, 1);
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 0);
	cr_assert_eq(virtio_mmio_pop(&dev, 5, &chain), 0);
	driver_ok();
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 1);
}

Test(virtio_mmio, config_space_by_byte_word_and_dword)
{
	uint8_t b = 0;
	uint16_t w = 0;
	uint32_t d = 0, v = 0x11223344;

	cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG + 3, &b, 1), 0);
	cr_assert_eq(b, 0xa3);
	cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG + 2, &w, 2), 0);
	cr_assert_eq(w, 0xa3a2);
	cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG + 8, &d, 4), 0);
	cr_assert_eq(d, 0xabaaa9a8);
	cr_assert_eq(virtio_mmio_write(&dev, VIRTIO_MMIO_CONFIG + 4, &v, 4),
		     0);
	cr_assert_eq(seen.config_written[4], 0x44);
	cr_assert_eq(seen.log_lines, 0);
}

Test(virtio_mmio, misaligned_config_access_is_refused)
{
	uint16_t w = 0x5555;

	cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG + 1, &w, 2),
		     -EINVAL);
	cr_assert_eq(w, 0, "a refused read returns zeros");
	expect_failed("config access");
}

Test(virtio_mmio, config_access_past_its_size_is_refused)
{
	uint32_t d = 0;

	cr_assert_eq(virtio_mmio_write(&dev, VIRTIO_MMIO_CONFIG + 12, &d, 4),
		     -EINVAL);
	expect_failed("config access");
}

Test(virtio_mmio, eight_byte_config_access_is_refused)
{
	uint64_t q = 0;

	cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG, &q, 8),
		     -EINVAL);
	expect_failed("config access");
}

Test(virtio_mmio, config_generation_counts_device_changes)
{
	uint32_t g0 = rd(VIRTIO_MMIO_CONFIG_GENERATION);

	virtio_mmio_config_changed(&dev);
	virtio_mmio_config_changed(&dev);
	cr_assert_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), g0 + 2);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(seen.irq_raised, 2);
}

Test(virtio_mmio, narrow_register_access_is_refused)
{
	uint16_t w = 0x5555;

	cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_MAGIC_VALUE, &w, 2),
		     -EINVAL);
	cr_assert_eq(w, 0);
	expect_failed("register read of 2 bytes");
}

Test(virtio_mmio, misaligned_register_write_is_refused)
{
	uint32_t v = VIRTIO_STATUS_ACKNOWLEDGE;

	cr_assert_eq(virtio_mmio_write(&dev, VIRTIO_MMIO_STATUS + 2, &v, 4),
		     -EINVAL);
	expect_failed("register write");
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_mmio, write_to_read_only_register_is_refused)
{
	cr_assert_eq(wr(VIRTIO_MMIO_MAGIC_VALUE, 0), -EINVAL);
	expect_failed("read-only");
	cr_assert_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
}

Test(virtio_mmio, log_lines_are_rate_limited)
{
	for (int i = 0; i < 20; i++) {
		wr(VIRTIO_MMIO_MAGIC_VALUE, 0);
		wr(VIRTIO_MMIO_STATUS, 0);
	}
	cr_assert_eq(seen.log_lines, VIRTIO_MMIO_LOG_BURST);
	cr_assert_eq(seen.reset, 20);
}

static uint64_t fz_state = 0x243f6a8885a308d3ull;

static uint64_t fz_next(void)
{
	fz_state ^= fz_state << 13;
	fz_state ^= fz_state >> 7;
	fz_state ^= fz_state << 17;
	return fz_state;
}

/* A register value a driver might plausibly write, or garbage. */
static uint32_t fz_value(void)
{
	switch (fz_next() % 6) {
	case 0:
		return (uint32_t)(fz_next() % 4);
	case 1:
		return 1u << (fz_next() % 32);
	case 2:
		return (uint32_t)(RAM_GPA + (fz_next() % RAM_SIZE));
	case 3:
		return (uint32_t)(fz_next() % 0x100);
	default:
		return (uint32_t)fz_next();
	}
}

/* What must hold after any access, whatever the guest did. */
static void check_invariants(void)
{
	uint32_t st = rd(VIRTIO_MMIO_STATUS);
	uint64_t offered = fake_ops.features | VIRTIO_MMIO_TRANSPORT_FEATURES;

	cr_assert_eq(st & ~0xcfu, 0, "status %#x", st);
	if (st & VIRTIO_STATUS_DRIVER_OK)
		cr_assert(st & VIRTIO_STATUS_FEATURES_OK);
	if (st & VIRTIO_STATUS_FEATURES_OK) {
		cr_assert_eq(dev.driver_features & ~offered, 0);
		cr_assert(dev.driver_features & F_V1);
	}
	for (unsigned i = 0; i < fake_ops.nr_queues; i++) {
		const struct virtq *vq = &dev.queue[i].vq;

		if (!vq->ready)
			continue;
		cr_assert(vq->size && !(vq->size & (vq->size - 1)));
		cr_assert_leq(vq->size, fake_ops.queue_max[i]);
		cr_assert(guest_mem_ptr(&mem, vq->desc,
					VIRTQ_DESC_BYTES(vq->size)));
		cr_assert(guest_mem_ptr(&mem, vq->used,
					VIRTQ_USED_BYTES(vq->size)));
	}
}

/* One correct step of the initialization sequence from where we are. */
static void drive_step(void)
{
	uint32_t st = rd(VIRTIO_MMIO_STATUS);
	unsigned qi = (unsigned)(fz_next() % 2);
	uint32_t num;

	if (st & VIRTIO_STATUS_NEEDS_RESET || st & VIRTIO_STATUS_FAILED) {
		wr(VIRTIO_MMIO_STATUS, 0);
	} else if (!(st & VIRTIO_STATUS_ACKNOWLEDGE)) {
		wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	} else if (!(st & VIRTIO_STATUS_DRIVER)) {
		wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER);
	} else if (!(st & VIRTIO_STATUS_FEATURES_OK)) {
		write_features((F_V1 | F_DEV_A | F_DEV_B |
				VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |
				VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)) &
			       fz_next());
		wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	} else if (!dev.queue[qi].vq.ready && fz_next() % 4) {
		num = 1u << (fz_next() % 8);
		queue_regs(qi, num, RAM_GPA + 16 * (fz_next() % 0x10000),
			   RAM_GPA + 2 * (fz_next() % 0x80000),
			   RAM_GPA + 4 * (fz_next() % 0x40000));
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	} else if (!(st & VIRTIO_STATUS_DRIVER_OK)) {
		driver_ok();
	} else if (dev.queue[qi].vq.ready) {
		/* Offer whatever the descriptor table holds, and kick. */
		const struct virtq *vq = &dev.queue[qi].vq;
		uint16_t idx;

		memcpy(&idx, guest_mem_ptr(&mem, vq->avail + 2, 2), 2);
		wr16(vq->avail + 4 + 2 * (idx % vq->size),
		     (uint16_t)(fz_next() % (vq->size + 1u)));
		wr16(vq->avail + 2, (uint16_t)(idx + 1));
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, qi);
	}
}

/* A descriptor in RAM, valid or not. */
static void scribble_desc(void)
{
	unsigned qi = (unsigned)(fz_next() % 2);
	const struct virtq *vq = &dev.queue[qi].vq;
	struct virtq_desc d;
	uint8_t *p;

	if (!vq->ready)
		return;
	d.addr = fz_next() % 4 ? RAM_GPA + fz_next() % RAM_SIZE : fz_next();
	d.len = fz_next() % 4 ? (uint32_t)(fz_next() % 4096) :
				(uint32_t)fz_next();
	d.flags = (uint16_t)(fz_next() % 8);
	d.next = (uint16_t)(fz_next() % (vq->size + 1u));
	p = guest_mem_ptr(&mem, vq->desc + 16 * (fz_next() % vq->size), 16);
	memcpy(p, &d, sizeof(d));
}

Test(virtio_mmio, random_register_traffic_keeps_invariants)
{
	static const uint64_t regs[] = {
		VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
		VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
		VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY,
		VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_ACK,
		VIRTIO_MMIO_STATUS, VIRTIO_MMIO_QUEUE_DESC_LOW,
		VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
		VIRTIO_MMIO_QUEUE_DRIVER_HIGH, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
		VIRTIO_MMIO_QUEUE_DEVICE_HIGH, VIRTIO_MMIO_MAGIC_VALUE,
	};
	struct virtq_chain chain;
	unsigned popped = 0, driver_oks = 0;
	uint64_t buf;

	for (unsigned i = 0; i < 100000; i++) {
		uint64_t r = fz_next(), off = regs[r % 16];
		unsigned len = 4, qi = (unsigned)((r >> 28) % 3);

		if ((r >> 4) % 64 == 0) {
			/* A driver bug: any access, sometimes any width. */
			if ((r >> 12) % 4 == 0) {
				off = fz_next() % 0x140;
				len = 1u << (fz_next() % 4);
			}
			buf = fz_value();
			if ((r >> 16) & 1)
				virtio_mmio_write(&dev, off, &buf, len);
			else
				virtio_mmio_read(&dev, off, &buf, len);
		} else {
			drive_step();
		}
		if ((r >> 20) % 2 == 0)
			scribble_desc();
		if (virtio_mmio_pop(&dev, qi, &chain) == 1) {
			popped++;
			virtio_mmio_push(&dev, qi, chain.head, 0);
			virtio_mmio_signal_used(&dev, qi);
		}
		if (rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK)
			driver_oks++;
		check_invariants();
	}
	/* The walk must reach the interesting states, or it proves little. */
	cr_assert_gt(popped, 100, "popped %u", popped);
	cr_assert_gt(driver_oks, 1000, "DRIVER_OK seen %u times", driver_oks);
}

Test(virtio_mmio, interrupt_registers_are_served_without_the_lock_path)
{
	struct virtq_chain chain;
	uint32_t v = 0, ack = VIRTIO_MMIO_INT_VRING;
	uint16_t narrow = 0;

	bring_up();
	offer_one(3, 1);
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 1);
	cr_assert_eq(virtio_mmio_push(&dev, 0, chain.head, 64), 0);
	virtio_mmio_signal_used(&dev, 0);
	cr_assert(virtio_mmio_irq_read(&dev, VIRTIO_MMIO_INTERRUPT_STATUS, &v,
				       4));
	cr_assert_eq(v, VIRTIO_MMIO_INT_VRING);
	cr_assert(virtio_mmio_irq_write(&dev, VIRTIO_MMIO_INTERRUPT_ACK, &ack,
					4));
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	cr_assert_eq(seen.irq_lowered, 1);
	/* Everything else is left to the locked path and its checks. */
	cr_assert_not(virtio_mmio_irq_read(&dev, VIRTIO_MMIO_INTERRUPT_STATUS,
					   &narrow, 2));
	cr_assert_not(virtio_mmio_irq_read(&dev, VIRTIO_MMIO_STATUS, &v, 4));
	cr_assert_not(virtio_mmio_irq_write(&dev, VIRTIO_MMIO_STATUS, &v, 4));
	cr_assert_not(virtio_mmio_irq_write(&dev, VIRTIO_MMIO_INTERRUPT_ACK,
					    &narrow, 2));
	cr_assert_eq(seen.log_lines, 0);
}

Test(virtio_mmio, a_queue_goes_down_only_when_idle)
{
	struct virtq_chain chain;

	bring_up();
	offer_one(3, 1);
	cr_assert_eq(virtio_mmio_pop(&dev, 0, &chain), 1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	expect_failed("queue 0 taken down with 1 buffers in flight");
}

Test(virtio_mmio, an_idle_queue_goes_down_and_comes_back)
{
	bring_up();
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	cr_assert(!needs_reset());
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	cr_assert_eq(seen.log_lines, 0);
}
