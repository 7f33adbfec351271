/* pio_devices.c: isovm port, port A reset, CMOS clock, quiet legacy ports. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/log.h"
#include "vcpu/platform/pio_devices.h"

#define PIO_POST	0x80
#define PIO_PORT_A	0x92 /* bit 0: fast reset */
#define PIO_CMOS_INDEX	0x70

static uint32_t pio_le32(const uint8_t *data, unsigned len)
{
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	return v;
}

static void pio_isovm_read(void *opaque, uint64_t offset, uint8_t *data,
			   unsigned len)
{
	struct pio_devices *d = opaque;
	uint32_t magic = ISOVM_PORT_MAGIC, ev;
	uint8_t bytes[8] = {0};

	if (offset == ISOVM_PORT_EVENTS - ISOVM_PORT && len == 4) {
		/* Read-to-clear: each event is seen once. */
		ev = atomic_exchange(&d->events, 0);
		memcpy(data, &ev, 4);
		return;
	}
	if (offset >= 4) {
		memset(data, 0, len);
		return;
	}
	memcpy(bytes, &magic, sizeof(magic));
	/* A narrow or offset read sees the matching bytes of the magic. */
	memcpy(data, bytes + (offset & 3), len);
}

static void pio_isovm_write(void *opaque, uint64_t offset, const uint8_t *data,
			    unsigned len)
{
	struct pio_devices *d = opaque;
	uint32_t v = pio_le32(data, len);
	unsigned dropped;

	if (offset != 0 || len != 4) {
		if (log_ratelimit_ok(&d->rl, &dropped))
			log_warn("isovm port: ignored %u-byte write at +%u",
				 len, (unsigned)offset);
		return;
	}
	switch (v & 0xff) {
	case ISOVM_CMD_POWEROFF:
		d->event(d->opaque, PIO_EVENT_POWEROFF, 0);
		break;
	case ISOVM_CMD_REBOOT:
		d->event(d->opaque, PIO_EVENT_REBOOT, 0);
		break;
	case ISOVM_CMD_PANIC:
		d->event(d->opaque, PIO_EVENT_PANIC, v >> 8);
		break;
	default:
		if (log_ratelimit_ok(&d->rl, &dropped))
			log_warn("isovm port: unknown command 0x%x", v & 0xff);
	}
}

static const struct io_bus_ops pio_isovm_ops = {
	.read = pio_isovm_read,
	.write = pio_isovm_write,
};

static void pio_port_a_read(void *opaque, uint64_t offset, uint8_t *data,
			    unsigned len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
	data[0] = 0x02; /* A20 enabled */
}

static void pio_port_a_write(void *opaque, uint64_t offset, const uint8_t *data,
			     unsigned len)
{
	struct pio_devices *d = opaque;

	(void)offset;
	(void)len;
	if (data[0] & 1)
		d->event(d->opaque, PIO_EVENT_REBOOT, 0);
}

static const struct io_bus_ops pio_port_a_ops = {
	.read = pio_port_a_read,
	.write = pio_port_a_write,
};

static uint8_t pio_bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* Lock held: the clock registers are read live from the host clock. */
static uint8_t pio_cmos_get(struct pio_devices *d, uint8_t idx)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (idx) {
	case 0x00:
		return pio_bcd(tm.tm_sec);
	case 0x02:
		return pio_bcd(tm.tm_min);
	case 0x04:
		return pio_bcd(tm.tm_hour);
	case 0x06:
		return pio_bcd(tm.tm_wday + 1);
	case 0x07:
		return pio_bcd(tm.tm_mday);
	case 0x08:
		return pio_bcd(tm.tm_mon + 1);
	case 0x09:
		return pio_bcd(tm.tm_year % 100);
	case 0x32:
		return pio_bcd(19 + tm.tm_year / 100);
	case 0x0a:
		return 0x26; /* 32.768 kHz, no update in progress */
	case 0x0b:
		return 0x02; /* 24-hour, BCD, no interrupts */
	case 0x0c:
		return 0x00;
	case 0x0d:
		return 0x80; /* battery good */
	default:
		return d->cmos[idx & 0x7f];
	}
}

static void pio_cmos_read(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned len)
{
	struct pio_devices *d = opaque;

	memset(data, 0, len);
	pthread_mutex_lock(&d->cmos_lock);
	data[0] = offset == 0 ? d->cmos_index : pio_cmos_get(d, d->cmos_index);
	pthread_mutex_unlock(&d->cmos_lock);
}

static void pio_cmos_write(void *opaque, uint64_t offset, const uint8_t *data,
			   unsigned len)
{
	struct pio_devices *d = opaque;

	(void)len;
	pthread_mutex_lock(&d->cmos_lock);
	/* Bit 7 of the index is the NMI mask: not an address bit. */
	if (offset == 0)
		d->cmos_index = data[0] & 0x7f;
	else if (d->cmos_index >= 0x0e)
		d->cmos[d->cmos_index] = data[0];
	pthread_mutex_unlock(&d->cmos_lock);
}

static const struct io_bus_ops pio_cmos_ops = {
	.read = pio_cmos_read,
	.write = pio_cmos_write,
};

/* Absent hardware Linux probes for: all-ones reads, no log noise. */
static const struct io_bus_ops pio_quiet_ops = {0};

static const struct {
	uint16_t base, len;
	const char *name;
} pio_quiet_ranges[] = {
	{PIO_POST, 1, "post"}, {0x87, 1, "dma-page"},  {0xed, 1, "io-delay"},
	{0x2e8, 8, "com4"},    {0x2f8, 8, "com2"},     {0x3e8, 8, "com3"},
	{0x3c0, 0x20, "vga"},  {0xcf8, 8, "pci-conf"},
};

int pio_devices_register(struct pio_devices *d, struct io_bus *bus,
			 pio_event_fn event, void *opaque)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->event = event;
	d->opaque = opaque;
	d->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000, 5);
	pthread_mutex_init(&d->cmos_lock, NULL);
	/*
	 * glibc's gmtime_r() reads the time zone (/etc/localtime) on its first
	 * call: have that happen now, at set-up, and not at the guest's first
	 * RTC read on a vCPU thread, whose seccomp filter opens no file.
	 */
	tzset();

	ret = io_bus_register(bus, ISOVM_PORT, ISOVM_PORT_LEN, &pio_isovm_ops,
			      d, "isovm");
	if (!ret)
		ret = io_bus_register(bus, PIO_PORT_A, 1, &pio_port_a_ops, d,
				      "port-a");
	if (!ret)
		ret = io_bus_register(bus, PIO_CMOS_INDEX, 2, &pio_cmos_ops, d,
				      "cmos");
	for (size_t i = 0;
	     !ret && i < sizeof(pio_quiet_ranges) / sizeof(*pio_quiet_ranges);
	     i++)
		ret = io_bus_register(bus, pio_quiet_ranges[i].base,
				      pio_quiet_ranges[i].len, &pio_quiet_ops,
				      d, pio_quiet_ranges[i].name);
	return ret;
}

void pio_devices_fini(struct pio_devices *d)
{
	pthread_mutex_destroy(&d->cmos_lock);
}
