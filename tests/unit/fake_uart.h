/* fake_uart.h: a UART backend and IRQ line that record what they see. */
#ifndef ISOVM_TEST_FAKE_UART_H
#define ISOVM_TEST_FAKE_UART_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu/platform/uart.h"

struct fake_uart {
	uint8_t tx[1024];
	size_t tx_len;
	int level;
	unsigned edges; /* 0 -> 1 transitions */
};

/* Backend ops whose opaque is a struct fake_uart. */
extern const struct uart_backend_ops fake_uart_ops;

/* An irq callback whose opaque is a struct fake_uart. */
void fake_uart_irq(void *opaque, int level);

#endif
