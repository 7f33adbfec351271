/* io_bus.c: a small table of address ranges -> device callbacks. */
#include <errno.h>
#include <string.h>

#include "vcpu/core/io_bus.h"

void io_bus_init(struct io_bus *bus, const char *kind)
{
	memset(bus, 0, sizeof(*bus));
	bus->kind = kind;
	pthread_mutex_init(&bus->lock, NULL);
	bus->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000, 10);
}

void io_bus_fini(struct io_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    const struct io_bus_ops *ops, void *opaque,
		    const char *name)
{
	if (len == 0 || base + len < base || !ops)
		return -EINVAL;
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_bus_range *r = &bus->range[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	if (bus->nr_ranges == IO_BUS_MAX_RANGES)
		return -ENOSPC;
	bus->range[bus->nr_ranges++] = (struct io_bus_range){
		.base = base,
		.len = len,
		.ops = ops,
		.opaque = opaque,
		.name = name,
	};
	return 0;
}

static const struct io_bus_range *io_bus_find(const struct io_bus *bus,
					      uint64_t addr, unsigned len)
{
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_bus_range *r = &bus->range[i];

		/* Written so that no sum can overflow. */
		if (addr >= r->base && addr - r->base < r->len &&
		    len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

static void io_bus_unknown(struct io_bus *bus, uint64_t addr, unsigned len,
			   bool is_write, const uint8_t *data)
{
	uint64_t val = 0;
	unsigned dropped;
	bool seen = false;

	bool full = false;

	pthread_mutex_lock(&bus->lock);
	bus->unknown_count++;
	for (unsigned i = 0; i < bus->nr_logged; i++)
		seen |= bus->logged[i] == addr;
	if (!seen) {
		/* One slot past the table says, once, that logging stops. */
		full = bus->nr_logged == IO_BUS_MAX_LOGGED;
		if (bus->nr_logged <= IO_BUS_MAX_LOGGED)
			bus->logged[bus->nr_logged++] = addr;
		else
			seen = true;
	}
	pthread_mutex_unlock(&bus->lock);
	if (full) {
		log_warn("%s: %u distinct unhandled addresses; no longer "
			 "logging them",
			 bus->kind, IO_BUS_MAX_LOGGED);
		return;
	}
	if (seen || !log_ratelimit_ok(&bus->rl, &dropped))
		return;
	if (is_write) {
		memcpy(&val, data, len);
		log_warn("%s: unhandled write of %u bytes at 0x%llx value "
			 "0x%llx",
			 bus->kind, len, (unsigned long long)addr,
			 (unsigned long long)val);
	} else {
		log_warn("%s: unhandled read of %u bytes at 0x%llx", bus->kind,
			 len, (unsigned long long)addr);
	}
	if (dropped)
		log_warn("%s: %u unhandled-access messages suppressed",
			 bus->kind, dropped);
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   unsigned len, bool is_write)
{
	const struct io_bus_range *r;

	if (len == 0 || len > 8)
		return false;
	r = io_bus_find(bus, addr, len);
	if (!r) {
		if (!is_write)
			memset(data, 0xff, len);
		io_bus_unknown(bus, addr, len, is_write, data);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else {
		if (r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, len);
		else
			memset(data, 0xff, len);
	}
	return true;
}
