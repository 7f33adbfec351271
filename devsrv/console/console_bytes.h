/* console_bytes.h: a bounded byte FIFO (output queues, input buffer). */
#ifndef ISOVM_CONSOLE_BYTES_H
#define ISOVM_CONSOLE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Fixed capacity, allocated once at set-up; never grows. */
struct console_bytes {
	uint8_t *buf;
	size_t cap, head, len; /* head: oldest byte's index */
};

int console_bytes_init(struct console_bytes *q, size_t cap);
void console_bytes_fini(struct console_bytes *q);

static inline size_t console_bytes_space(const struct console_bytes *q)
{
	return q->cap - q->len;
}

/* Append up to @n bytes; returns how many fit. */
size_t console_bytes_put(struct console_bytes *q, const void *p, size_t n);

/* Append all of the last cap bytes of @p, dropping the oldest queued bytes
 * to make room; returns how many bytes were dropped (old or new). */
size_t console_bytes_put_drop(struct console_bytes *q, const void *p, size_t n);

/* Up to two segments of queued bytes, oldest first; returns the count. */
int console_bytes_peek(const struct console_bytes *q, struct iovec iov[2]);

/* Copy out and remove up to @n bytes; returns how many. */
size_t console_bytes_get(struct console_bytes *q, void *p, size_t n);

/* Forget the @n oldest bytes (n <= len). */
void console_bytes_consume(struct console_bytes *q, size_t n);

#endif
