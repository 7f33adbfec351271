/*
 * fuzz_guest_io.c: arbitrary guest port I/O (and host console input)
 * against the board's port devices: the 16550, the isovm port, i8042, CMOS.
 * Nothing may crash, the UART's FIFO stays in bounds and its interrupt line
 * only ever changes level (never two raises or two lowers in a row).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/core/io_bus.h"
#include "vcpu/log.h"
#include "vcpu/platform/pio_devices.h"
#include "vcpu/platform/uart.h"

static const uint16_t fuzz_ports[] = {
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd,  0x3fe, 0x3ff,
	0xe00, 0xe01, 0xe02, 0xe03, 0x60,  0x64,   0x70,  0x71,
	0x92,  0x80,  0x2f8, 0xcf8, 0xcfc, 0x1234,
};

static int fuzz_level;
static unsigned fuzz_events;

static void fuzz_irq(void *opaque, int level)
{
	(void)opaque;
	if (level == fuzz_level)
		abort(); /* the line was set to the level it already had */
	fuzz_level = level;
}

static void fuzz_tx(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
}

static void fuzz_event(void *opaque, enum pio_event ev, uint32_t code)
{
	(void)opaque;
	(void)code;
	if (ev > PIO_EVENT_PANIC)
		abort();
	fuzz_events++;
}

static const struct uart_backend_ops fuzz_be = {.tx = fuzz_tx};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[] = {1, 2, 4, 1};
	struct pio_devices pd;
	struct io_bus bus;
	struct uart u;

	/* Unhandled-access warnings are expected here by the thousand. */
	log_set_level(LOG_LVL_ERROR);
	fuzz_level = 0;
	io_bus_init(&bus, "fuzz");
	uart_init(&u, &fuzz_be, NULL, fuzz_irq, NULL);
	if (io_bus_register(&bus, UART_COM1_BASE, UART_NR_REGS, &uart_io_ops,
			    &u, "com1") ||
	    pio_devices_register(&pd, &bus, fuzz_event, NULL))
		abort();
	/* Each op: selector, flags, value (4 bytes). */
	for (size_t i = 0; i + 6 <= size; i += 6) {
		const uint8_t *op = data + i;
		uint8_t buf[8] = {0};
		unsigned len = widths[op[1] & 3];

		memcpy(buf, op + 2, 4);
		if (op[1] & 0x80) {
			uart_receive(&u, op + 2, op[1] & 3);
		} else {
			uint16_t port =
				fuzz_ports[op[0] % (sizeof(fuzz_ports) /
						    sizeof(*fuzz_ports))];

			io_bus_access(&bus, port, buf, len, op[1] & 4);
		}
		if (u.rx_count > UART_RX_FIFO || u.rx_head >= UART_RX_FIFO)
			abort();
	}
	pio_devices_fini(&pd);
	uart_fini(&u);
	io_bus_fini(&bus);
	return 0;
}
