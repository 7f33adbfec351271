/*
 * term.h: the terminal backend of the UART: guest output to stdout, stdin
 * to the guest, both moved by one console thread so that a vCPU never
 * waits for the terminal; raw mode only when stdin is a tty, always
 * restored.
 */
#ifndef ISOVM_TERM_H
#define ISOVM_TERM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/uart.h"

#define TERM_OUT_SIZE 65536 /* guest output not yet written to stdout */
#define TERM_IN_CHUNK 256
#define TERM_ESCAPE   0x01 /* Ctrl-A: Ctrl-A x quits, Ctrl-A Ctrl-A sends it */
#define TERM_STALL_MS 1000 /* longest a vCPU waits for ring space */

struct term {
	bool raw; /* stdin was switched to raw mode */
	bool thread_started;
	pthread_t thread;
	int wake_efd; /* wakes the thread: output queued or stop; owned */
	atomic_bool stop;
	atomic_bool out_dead; /* stdout failed: guest output is dropped */
	bool out_stalled;     /* stdout stuck for TERM_STALL_MS: dropping */
	uint64_t out_dropped; /* bytes dropped while stalled or dead */
	struct uart *uart;    /* where input goes; not owned */
	/* Output ring: vCPUs append, the thread drains; under out_lock. */
	pthread_mutex_t out_lock;
	pthread_cond_t out_space;
	uint8_t out[TERM_OUT_SIZE];
	size_t out_head, out_len;
	/* Input read from stdin that the UART FIFO had no room for yet. */
	uint8_t in[TERM_IN_CHUNK];
	size_t in_off, in_len;
	bool escape; /* the last tty byte was TERM_ESCAPE */
};

/* Backend ops to hand to uart_init(); opaque is the struct term. */
extern const struct uart_backend_ops term_uart_ops;

/*
 * Puts a tty stdin in raw mode, restored by term_close(), at exit and on a
 * fatal signal. Keys then go to the guest; Ctrl-A x sends this process
 * SIGTERM, which main turns into an orderly stop. Returns 0 or -errno.
 */
int term_open(struct term *t);

/*
 * Starts the console thread: stdin -> u, queued output -> stdout. Before
 * it runs, output queues up. A vCPU waits only while TERM_OUT_SIZE bytes
 * are pending, and at most TERM_STALL_MS: then output is dropped (and
 * counted) until the ring is half empty again, so a stuck stdout cannot
 * hang the VM or its shutdown. Returns 0 or -errno.
 */
int term_start(struct term *t, struct uart *u);

/*
 * Stops the thread after it wrote out all queued output, and restores the
 * terminal. Idempotent.
 */
void term_close(struct term *t);

#endif
