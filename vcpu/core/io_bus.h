/* io_bus.h: dispatch of guest port I/O and MMIO exits to device callbacks. */
#ifndef ISOVM_IO_BUS_H
#define ISOVM_IO_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcpu/log.h"

#define IO_BUS_MAX_RANGES 48
#define IO_BUS_MAX_LOGGED 32 /* distinct unknown addresses reported once */

/*
 * Device callbacks, called on a vCPU thread (several vCPUs may call at once:
 * the device locks its own state). offset is relative to the registered
 * base; len is 1, 2, 4 or 8; data is little-endian guest bytes. A read must
 * fill all len bytes. Callbacks must not block.
 */
struct io_bus_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data,
		     unsigned len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data,
		      unsigned len);
};

struct io_bus_range {
	uint64_t base;
	uint64_t len;
	const struct io_bus_ops *ops;
	void *opaque;
	const char *name;
};

struct io_bus {
	const char *kind; /* "pio" or "mmio", for log lines */
	struct io_bus_range range[IO_BUS_MAX_RANGES];
	unsigned nr_ranges;
	/* Unknown-access reporting: guarded by lock, touched only when slow. */
	pthread_mutex_t lock;
	uint64_t logged[IO_BUS_MAX_LOGGED + 1];
	unsigned nr_logged;
	struct log_ratelimit rl;
	uint64_t unknown_count;
};

void io_bus_init(struct io_bus *bus, const char *kind);
void io_bus_fini(struct io_bus *bus);

/*
 * Adds [base, base + len). Only while no vCPU runs (the table is read
 * without locks). ops and opaque must outlive the bus. Returns 0, -EINVAL
 * (len 0 or wrapping), -EEXIST (overlap) or -ENOSPC (table full).
 */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    const struct io_bus_ops *ops, void *opaque,
		    const char *name);

/*
 * One guest access. An access that is not wholly inside one range is
 * unknown: reads return all ones, writes are dropped, and it is logged
 * at warn level (once per address, rate limited, the first
 * IO_BUS_MAX_LOGGED addresses only). Returns true when a device took it.
 */
bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   unsigned len, bool is_write);

#endif
