/* console.c: COM1 16550 output and whole-line, CPU-safe printing. */
#include <stdarg.h>
#include <stdint.h>

#include "rt/console.h"
#include "rt/fmt.h"
#include "rt/io.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2 /* write */
#define UART_IIR 2 /* read */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define CON_LINE_MAX 1536

#define UART_IIR_FIFO 0xc0
#define UART_FIFO_DEPTH 16

static volatile uint32_t con_lock;
/* Bytes that fit once THRE is seen: the 16550's FIFO, else its THR. */
static unsigned uart_burst = 1;

void uart_init(void)
{
	outb(COM1 + UART_IER, 0x00);  /* polled: no interrupts */
	outb(COM1 + UART_LCR, 0x80);  /* divisor latch */
	outb(COM1 + 0, 0x01);         /* 115200 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + UART_LCR, 0x03);  /* 8N1 */
	outb(COM1 + UART_FCR, 0x07);  /* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x03);  /* DTR, RTS */
	/*
	 * With FIFOs on, THRE means the whole transmit FIFO is empty: one
	 * LSR read per 16 bytes instead of per byte (each is a VM exit).
	 */
	uart_burst = (inb(COM1 + UART_IIR) & UART_IIR_FIFO) == UART_IIR_FIFO
			     ? UART_FIFO_DEPTH
			     : 1;
}

/* Bounded: a UART that never drains must not hang the guest. */
static void uart_wait_thre(void)
{
	unsigned spins;

	for (spins = 0; spins < 100000; spins++)
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			return;
}

void uart_write(const char *s, size_t n)
{
	unsigned room = 0;

	while (n--) {
		if (!room) {
			uart_wait_thre();
			room = uart_burst;
		}
		outb(COM1 + UART_THR, (uint8_t)*s++);
		room--;
	}
}

void con_write(const char *s, size_t n)
{
	unsigned spins, max = cpu_ring() == 0 ? 20000 : ~0u;
	int locked = 0;

	for (spins = 0; spins < max; spins++) {
		if (!__atomic_exchange_n(&con_lock, 1, __ATOMIC_ACQUIRE)) {
			locked = 1;
			break;
		}
		cpu_relax();
	}
	uart_write(s, n);
	if (locked)
		__atomic_store_n(&con_lock, 0, __ATOMIC_RELEASE);
}

void con_printf(const char *fmt, ...)
{
	char line[CON_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	con_write(line, (size_t)n);
}
