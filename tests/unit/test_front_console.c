/*
 * test_front_console.c: the console front offers the guest only features
 * it serves, whatever the server's READY says, and the transport adds only
 * its own.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vcpu/front/console/front_console.h"
#include "vcpu/virtio/virtio_mmio.h"

#define F_SIZE	      VIRTIO_BIT(0) /* VIRTIO_CONSOLE_F_SIZE */
#define F_MULTIPORT   VIRTIO_BIT(1)
#define F_EMERG_WRITE VIRTIO_BIT(2)

static struct ctl_ready ready_of(uint64_t features, uint32_t config_len)
{
	struct ctl_ready r;

	memset(&r, 0, sizeof(r));
	r.features = features;
	r.config_len = config_len;
	return r;
}

/* DeviceFeatures as the guest reads them for a device with 'features'. */
static uint64_t guest_sees(uint64_t features)
{
	static struct virtio_dev_ops ops;
	static struct guest_mem mem;
	struct virtio_mmio_dev dev;
	uint32_t half[2], sel;

	memset(&ops, 0, sizeof(ops));
	ops.device_id = VIRTIO_ID_CONSOLE;
	ops.features = features;
	ops.nr_queues = 2;
	ops.queue_max[0] = ops.queue_max[1] = FRONT_CONSOLE_QUEUE_MAX;
	cr_assert_eq(virtio_mmio_init(&dev, "console0", &ops, NULL, &mem, NULL,
				      NULL, NULL),
		     0);
	for (sel = 0; sel < 2; sel++) {
		cr_assert_eq(virtio_mmio_write(&dev,
					       VIRTIO_MMIO_DEVICE_FEATURES_SEL,
					       &sel, 4),
			     0);
		cr_assert_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_DEVICE_FEATURES,
					      &half[sel], 4),
			     0);
	}
	return half[0] | (uint64_t)half[1] << 32;
}

Test(front_console, a_server_reporting_bit_34_does_not_get_it_offered)
{
	struct ctl_ready r = ready_of(F_SIZE | VIRTIO_BIT(34), 8);
	uint64_t offered = front_console_features(&r);

	cr_assert_eq(offered, F_SIZE, "%#llx", (unsigned long long)offered);
	cr_assert_not(guest_sees(offered) & VIRTIO_BIT(34));
}

Test(front_console, only_the_bits_the_front_serves_are_offered)
{
	/* Packed rings, in-order, notification data, platform access,
	 * MULTIPORT (one port here), EMERG_WRITE (config writes ignored). */
	struct ctl_ready r = ready_of(~0ull, 8);
	uint64_t offered = front_console_features(&r);

	cr_assert_eq(offered, F_SIZE, "%#llx", (unsigned long long)offered);
	cr_assert_eq(guest_sees(offered),
		     F_SIZE | VIRTIO_MMIO_TRANSPORT_FEATURES);
	r = ready_of(F_MULTIPORT | F_EMERG_WRITE, 8);
	cr_assert_eq(front_console_features(&r), 0);
}

Test(front_console, size_is_offered_only_with_cols_and_rows_in_the_config)
{
	struct ctl_ready r = ready_of(F_SIZE, 3);

	cr_assert_eq(front_console_features(&r), 0);
	r = ready_of(F_SIZE, 4);
	cr_assert_eq(front_console_features(&r), F_SIZE);
	r = ready_of(0, 8);
	cr_assert_eq(front_console_features(&r), 0);
}
