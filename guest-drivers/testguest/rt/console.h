/* console.h: line output on the COM1 16550, one whole line at a time. */
#ifndef TG_CONSOLE_H
#define TG_CONSOLE_H

#include <stddef.h>

/* Programs the UART (8N1, FIFO); callable again, from ring 0 or ring 3. */
void uart_init(void);
void uart_write(const char *s, size_t n);

/*
 * Formats into a line buffer (1536 bytes, longer output is cut) and writes
 * it under a lock, so lines of different CPUs never interleave. From ring
 * 0 (a fatal trap) the lock is waited for only briefly.
 */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void con_write(const char *s, size_t n);

#endif
