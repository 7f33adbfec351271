/* fake_uart.c: the recording UART backend and IRQ line of fake_uart.h. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/fake_uart.h"

static void fake_uart_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct fake_uart *f = opaque;

	cr_assert_leq(f->tx_len + len, sizeof(f->tx));
	memcpy(f->tx + f->tx_len, buf, len);
	f->tx_len += len;
}

void fake_uart_irq(void *opaque, int level)
{
	struct fake_uart *f = opaque;

	if (level && !f->level)
		f->edges++;
	f->level = level;
}

const struct uart_backend_ops fake_uart_ops = {.tx = fake_uart_tx};
