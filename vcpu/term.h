/*
 * term.h: the terminal backend of the UART: guest output to stdout, stdin
 * to the guest; raw mode only when stdin is a tty, always restored.
 */
#ifndef ISOVM_TERM_H
#define ISOVM_TERM_H

#include <pthread.h>
#include <stdbool.h>

#include "vcpu/uart.h"

struct term {
	bool raw;             /* stdin was switched to raw mode */
	bool reader_started;
	pthread_t reader;
	int stop_efd;         /* eventfd that stops the reader, owned */
	struct uart *uart;    /* where input goes; not owned */
};

/* Backend ops to hand to uart_init(); opaque is the struct term. */
extern const struct uart_backend_ops term_uart_ops;

/*
 * Puts a tty stdin in raw mode (restored by term_close(), at exit and on a
 * fatal signal). Returns 0 or -errno.
 */
int term_open(struct term *t);

/* Starts the stdin reader thread feeding u. Returns 0 or -errno. */
int term_start_input(struct term *t, struct uart *u);

/* Stops the reader (if any) and restores the terminal. Idempotent. */
void term_close(struct term *t);

#endif
