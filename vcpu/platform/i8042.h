/*
 * i8042.h: the PS/2 controller at ports 0x60 (data) and 0x64 (status and
 * command), with no keyboard and no mouse plugged in. It answers the
 * controller's own commands (configuration byte, self-tests, the aux
 * loopback), so a guest's probe ends at once: without it Linux spins 500
 * ms, thousands of port exits, waiting for a configuration byte, then
 * reports "Can't read CTR". A byte sent to the absent keyboard or mouse
 * comes back as a timeout error, as from an empty port. The CPU reset
 * commands (0xfe, and a cleared reset bit through 0xd1) reboot.
 *
 * Interrupts as on a PC: IRQ 1 for a keyboard-side byte, IRQ 12 for an
 * aux-side one, each while the byte waits and its enable bit is set in
 * the configuration byte.
 */
#ifndef ISOVM_I8042_H
#define ISOVM_I8042_H

#include <pthread.h>
#include <stdint.h>

#include "vcpu/core/io_bus.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT	0x64
#define I8042_KBD_IRQ	1
#define I8042_AUX_IRQ	12

struct i8042_ops {
	void (*reset)(void *opaque);			    /* a vCPU thread */
	void (*irq)(void *opaque, unsigned irq, int level); /* likewise */
};

struct i8042 {
	pthread_mutex_t lock; /* vCPUs may race on the ports */
	uint8_t ctr;	      /* controller configuration byte */
	uint8_t out;	      /* output buffer */
	uint8_t status;
	uint8_t pending;     /* command waiting for its data byte, or 0 */
	unsigned irq_raised; /* I8042_*_IRQ line now high, or 0 */
	const struct i8042_ops *ops;
	void *opaque;
};

/* Registers both ports on bus in the power-on state. 0 or -errno. */
int i8042_register(struct i8042 *k, struct io_bus *bus,
		   const struct i8042_ops *ops, void *opaque);
/* Power-on state again (a guest reboot); lowers a raised line. */
void i8042_reset(struct i8042 *k);
void i8042_fini(struct i8042 *k);

#endif
