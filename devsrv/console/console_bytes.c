/* console_bytes.c: a bounded byte FIFO over a fixed buffer. */
#include "devsrv/console/console_bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int console_bytes_init(struct console_bytes *q, size_t cap)
{
	q->buf = malloc(cap);
	q->cap = q->buf ? cap : 0;
	q->head = q->len = 0;
	return q->buf ? 0 : -ENOMEM;
}

void console_bytes_fini(struct console_bytes *q)
{
	free(q->buf);
	q->buf = NULL;
	q->cap = q->head = q->len = 0;
}

size_t console_bytes_put(struct console_bytes *q, const void *p, size_t n)
{
	size_t tail, first;

	if (n > console_bytes_space(q))
		n = console_bytes_space(q);
	if (!n)
		return 0;
	tail = (q->head + q->len) % q->cap;
	first = q->cap - tail < n ? q->cap - tail : n;
	memcpy(q->buf + tail, p, first);
	memcpy(q->buf, (const uint8_t *)p + first, n - first);
	q->len += n;
	return n;
}

size_t console_bytes_put_drop(struct console_bytes *q, const void *p, size_t n)
{
	size_t dropped = 0;

	if (!q->cap)
		return n;
	if (n > q->cap) {
		/* Only the newest cap bytes can survive. */
		dropped = n - q->cap;
		p = (const uint8_t *)p + dropped;
		n = q->cap;
	}
	if (n > console_bytes_space(q)) {
		size_t old = n - console_bytes_space(q);

		console_bytes_consume(q, old);
		dropped += old;
	}
	console_bytes_put(q, p, n);
	return dropped;
}

int console_bytes_peek(const struct console_bytes *q, struct iovec iov[2])
{
	size_t first;

	if (!q->len)
		return 0;
	first = q->cap - q->head < q->len ? q->cap - q->head : q->len;
	iov[0].iov_base = q->buf + q->head;
	iov[0].iov_len = first;
	if (first == q->len)
		return 1;
	iov[1].iov_base = q->buf;
	iov[1].iov_len = q->len - first;
	return 2;
}

size_t console_bytes_get(struct console_bytes *q, void *p, size_t n)
{
	struct iovec iov[2];
	int k = console_bytes_peek(q, iov);
	size_t done = 0;

	for (int i = 0; i < k && done < n; i++) {
		size_t c =
			iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

		memcpy((uint8_t *)p + done, iov[i].iov_base, c);
		done += c;
	}
	console_bytes_consume(q, done);
	return done;
}

void console_bytes_consume(struct console_bytes *q, size_t n)
{
	if (n > q->len)
		n = q->len;
	q->head = q->len == n ? 0 : (q->head + n) % q->cap;
	q->len -= n;
}
