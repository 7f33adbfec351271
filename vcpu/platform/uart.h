/* uart.h: a 16550A UART (COM1) whose byte stream goes to a backend. */
#ifndef ISOVM_UART_H
#define ISOVM_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/core/io_bus.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4
#define UART_NR_REGS   8
#define UART_RX_FIFO   64

/*
 * Where transmitted bytes go. tx is called with the UART lock held, on a
 * vCPU thread or on the I/O thread (replaying coalesced writes): it must
 * not block and must not call back into the UART. Input reaches the UART
 * through uart_receive() from any thread.
 */
struct uart_backend_ops {
	void (*tx)(void *opaque, const uint8_t *buf, size_t len);
};

/* Sets the interrupt line; called with the UART lock held. */
typedef void (*uart_irq_fn)(void *opaque, int level);

struct uart {
	pthread_mutex_t lock;
	const struct uart_backend_ops *be;
	void *be_opaque;
	uart_irq_fn irq;
	void *irq_opaque;
	/* Register state, under lock. */
	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
	bool overrun; /* LSR.OE until LSR is read */
	bool thr_irq; /* THR-empty interrupt pending until IIR/THR */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	int irq_level;
};

/* Register access ops for io_bus_register(); opaque is the struct uart. */
extern const struct io_bus_ops uart_io_ops;

void uart_init(struct uart *u, const struct uart_backend_ops *be,
	       void *be_opaque, uart_irq_fn irq, void *irq_opaque);
void uart_fini(struct uart *u);

/* Power-on state (guest reboot); keeps backend and irq callback. */
void uart_reset(struct uart *u);

/*
 * Host input: queues up to len bytes for the guest and returns how many fit
 * (0 when the receive FIFO is full or the UART is busy: try again later;
 * all of them, dropped, in loopback). Never blocks.
 */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/*
 * Whether the guest reads input now: its received-data interrupt is on
 * (a polled-output guest leaves it off, so host input can go elsewhere).
 * False while a vCPU holds the lock: ask again later. Never blocks.
 */
bool uart_rx_wanted(struct uart *u);

/*
 * How many input bytes the guest takes now: the receive FIFO's free room
 * while it reads input (uart_rx_wanted()); 0 when it does not, when the
 * FIFO is full, or while a vCPU holds the lock (ask again later). Never
 * blocks.
 */
size_t uart_rx_room(struct uart *u);

#endif
