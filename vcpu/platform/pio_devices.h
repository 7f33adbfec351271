/*
 * pio_devices.h: the small port-I/O devices of the board: the isovm port,
 * port A's fast reset, the CMOS clock and ports Linux probes (the PS/2
 * controller has its own file, i8042.h).
 */
#ifndef ISOVM_PIO_DEVICES_H
#define ISOVM_PIO_DEVICES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "vcpu/core/io_bus.h"

enum pio_event {
	PIO_EVENT_POWEROFF,
	PIO_EVENT_REBOOT,
	PIO_EVENT_PANIC, /* code: the guest's 24-bit panic code */
};

/* Called on a vCPU thread; must not block. */
typedef void (*pio_event_fn)(void *opaque, enum pio_event ev, uint32_t code);

struct pio_devices {
	pio_event_fn event;
	_Atomic uint32_t events; /* ISOVM_EVENT_* for the guest to read */
	void *opaque;
	pthread_mutex_t cmos_lock;
	uint8_t cmos_index;
	uint8_t cmos[128];
	struct log_ratelimit rl;
};

/* Registers every device on bus. Returns 0 or -errno (from io_bus). */
int pio_devices_register(struct pio_devices *d, struct io_bus *bus,
			 pio_event_fn event, void *opaque);
void pio_devices_fini(struct pio_devices *d);

#endif
