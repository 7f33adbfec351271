/* virtio_mmio.c: the driver side of the virtio-mmio v2 transport. */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/io.h"
#include "rt/ioapic.h"
#include "rt/string.h"
#include "virtio/virtio_mmio.h"

#define VMMIO_RESET_US 100000 /* a reset that takes longer is a dead device */

static struct vmmio_dev vmmio_devs[VMMIO_DEVS_MAX];
static unsigned vmmio_ndevs;
static bool vmmio_scanned;

uint32_t vmmio_read(const struct vmmio_dev *d, uint32_t off)
{
	return *(const volatile uint32_t *)(d->base + off);
}

void vmmio_write(struct vmmio_dev *d, uint32_t off, uint32_t v)
{
	/* Ring writes before this store stay before it (x86 TSO + compiler). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*(volatile uint32_t *)(d->base + off) = v;
}

bool vmmio_mode_poll(void)
{
	const char *m = cmdline_value(&cmdline, "virtio-mode");

	return m && !strcmp(m, "poll");
}

/* Only windows in the MMIO hole, page-sized or smaller, are believed. */
static bool vmmio_window_ok(const struct cmdline_virtio *v)
{
	return v->base >= 0xc0000000ull && v->base < 0x100000000ull &&
	       v->size >= 0x200 && v->size <= 0x1000 &&
	       v->base + v->size <= 0x100000000ull && !(v->base & 3);
}

unsigned vmmio_scan(void)
{
	unsigned i;

	if (vmmio_scanned)
		return vmmio_ndevs;
	vmmio_scanned = true;
	for (i = 0; i < cmdline.nvirtio && vmmio_ndevs < VMMIO_DEVS_MAX; i++) {
		const struct cmdline_virtio *v = &cmdline.virtio[i];
		struct vmmio_dev *d = &vmmio_devs[vmmio_ndevs];

		if (!vmmio_window_ok(v))
			continue;
		memset(d, 0, sizeof(*d));
		d->base = (volatile uint8_t *)(uintptr_t)v->base;
		d->size = v->size;
		d->irq = v->irq;
		d->pin = -1;
		if (vmmio_read(d, VMMIO_MAGIC) != VMMIO_MAGIC_VALUE ||
		    vmmio_read(d, VMMIO_VERSION) != 2)
			continue;
		d->device_id = vmmio_read(d, VMMIO_DEVICE_ID);
		if (!d->device_id)
			continue; /* an empty slot */
		d->vendor_id = vmmio_read(d, VMMIO_VENDOR_ID);
		vmmio_ndevs++;
	}
	return vmmio_ndevs;
}

struct vmmio_dev *vmmio_find(uint32_t device_id, unsigned nth)
{
	unsigned i;

	vmmio_scan();
	for (i = 0; i < vmmio_ndevs; i++) {
		if (device_id && vmmio_devs[i].device_id != device_id)
			continue;
		if (!nth--)
			return &vmmio_devs[i];
	}
	return NULL;
}

int vmmio_reset(struct vmmio_dev *d)
{
	uint64_t deadline = clock_deadline_us(VMMIO_RESET_US);

	vmmio_write(d, VMMIO_STATUS, 0);
	while (vmmio_read(d, VMMIO_STATUS)) {
		if (clock_expired(deadline))
			return -TG_ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

int vmmio_begin(struct vmmio_dev *d)
{
	int ret = vmmio_reset(d);

	if (ret)
		return ret;
	d->poll = vmmio_mode_poll();
	d->features = 0;
	vmmio_write(d, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vmmio_write(d, VMMIO_STATUS,
		    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	return 0;
}

int vmmio_negotiate(struct vmmio_dev *d, uint64_t wanted)
{
	uint64_t offered;
	uint32_t st;

	vmmio_write(d, VMMIO_DEV_FEATURES_SEL, 0);
	offered = vmmio_read(d, VMMIO_DEV_FEATURES);
	vmmio_write(d, VMMIO_DEV_FEATURES_SEL, 1);
	offered |= (uint64_t)vmmio_read(d, VMMIO_DEV_FEATURES) << 32;
	wanted |= 1ull << VIRTIO_F_VERSION_1;
	if (!(offered & (1ull << VIRTIO_F_VERSION_1)))
		goto err_failed;
	d->features = offered & wanted;
	vmmio_write(d, VMMIO_DRV_FEATURES_SEL, 0);
	vmmio_write(d, VMMIO_DRV_FEATURES, (uint32_t)d->features);
	vmmio_write(d, VMMIO_DRV_FEATURES_SEL, 1);
	vmmio_write(d, VMMIO_DRV_FEATURES, (uint32_t)(d->features >> 32));
	st = vmmio_read(d, VMMIO_STATUS);
	vmmio_write(d, VMMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	/* The device clears FEATURES_OK when it refuses the subset. */
	if (!(vmmio_read(d, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		goto err_failed;
	return 0;

err_failed:
	vmmio_write(d, VMMIO_STATUS,
		    vmmio_read(d, VMMIO_STATUS) | VIRTIO_STATUS_FAILED);
	return -TG_EINVAL;
}

uint32_t vmmio_queue_max(struct vmmio_dev *d, unsigned q)
{
	vmmio_write(d, VMMIO_QUEUE_SEL, q);
	if (vmmio_read(d, VMMIO_QUEUE_READY))
		return 0; /* already in use: not ours to set up */
	return vmmio_read(d, VMMIO_QUEUE_NUM_MAX);
}

int vmmio_queue_setup(struct vmmio_dev *d, unsigned q, uint32_t num,
		      uint64_t desc, uint64_t driver, uint64_t device)
{
	uint32_t max = vmmio_queue_max(d, q);

	if (!num || num > max || (num & (num - 1)))
		return -TG_EINVAL;
	vmmio_write(d, VMMIO_QUEUE_NUM, num);
	vmmio_write(d, VMMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	vmmio_write(d, VMMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	vmmio_write(d, VMMIO_QUEUE_DRIVER_LOW, (uint32_t)driver);
	vmmio_write(d, VMMIO_QUEUE_DRIVER_HIGH, (uint32_t)(driver >> 32));
	vmmio_write(d, VMMIO_QUEUE_DEVICE_LOW, (uint32_t)device);
	vmmio_write(d, VMMIO_QUEUE_DEVICE_HIGH, (uint32_t)(device >> 32));
	vmmio_write(d, VMMIO_QUEUE_READY, 1);
	return 0;
}

int vmmio_driver_ok(struct vmmio_dev *d)
{
	uint32_t st;

	if (!d->poll) {
		int pins = ioapic_init(), pin = ioapic_pin_of_irq(d->irq);

		if (pins <= 0 || pin < 0 || ioapic_route((unsigned)pin, 0))
			return -TG_EINVAL;
		d->pin = pin;
	}
	st = vmmio_read(d, VMMIO_STATUS);
	vmmio_write(d, VMMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	st = vmmio_read(d, VMMIO_STATUS);
	if (st & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))
		return -TG_EINVAL;
	return 0;
}

uint32_t vmmio_isr_ack(struct vmmio_dev *d)
{
	uint32_t isr = vmmio_read(d, VMMIO_INTERRUPT_STATUS);

	if (isr)
		vmmio_write(d, VMMIO_INTERRUPT_ACK, isr);
	return isr;
}

uint32_t vmmio_status(const struct vmmio_dev *d)
{
	return vmmio_read(d, VMMIO_STATUS);
}

/* Retries while ConfigGeneration moves under the read (spec 4.2.2.2). */
#define VMMIO_CONFIG_READ(type, d, off)                                      \
	({                                                                   \
		uint32_t gen_;                                               \
		type v_;                                                     \
		do {                                                         \
			gen_ = vmmio_read(d, VMMIO_CONFIG_GENERATION);       \
			v_ = *(const volatile type *)((d)->base +            \
						      VMMIO_CONFIG + (off)); \
		} while (gen_ != vmmio_read(d, VMMIO_CONFIG_GENERATION));    \
		v_;                                                          \
	})

uint8_t vmmio_config8(const struct vmmio_dev *d, uint32_t off)
{
	return VMMIO_CONFIG_READ(uint8_t, d, off);
}

uint16_t vmmio_config16(const struct vmmio_dev *d, uint32_t off)
{
	return VMMIO_CONFIG_READ(uint16_t, d, off);
}

uint32_t vmmio_config32(const struct vmmio_dev *d, uint32_t off)
{
	return VMMIO_CONFIG_READ(uint32_t, d, off);
}

uint64_t vmmio_config64(const struct vmmio_dev *d, uint32_t off)
{
	uint32_t gen, lo, hi;

	do {
		gen = vmmio_read(d, VMMIO_CONFIG_GENERATION);
		lo = *(const volatile uint32_t *)(d->base + VMMIO_CONFIG + off);
		hi = *(const volatile uint32_t *)(d->base + VMMIO_CONFIG + off +
						  4);
	} while (gen != vmmio_read(d, VMMIO_CONFIG_GENERATION));
	return ((uint64_t)hi << 32) | lo;
}

void vmmio_stop(struct vmmio_dev *d)
{
	if (d->pin >= 0)
		ioapic_mask((unsigned)d->pin);
	d->pin = -1;
	vmmio_reset(d);
}
