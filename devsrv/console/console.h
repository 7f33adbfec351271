/* console.h: the console device (ipc/devproto.h console ops) on a backend. */
#ifndef ISOVM_CONSOLE_H
#define ISOVM_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "devsrv/common/srv.h"
#include "devsrv/console/console_backend.h"

/* Input bytes kept while the guest has no buffer posted. */
#define CONSOLE_INBUF_BYTES 4096u

/* An IN buffer the guest posted, or an OUT waiting for queue room. */
struct console_waiter {
	uint64_t id;
	uint8_t *buf; /* arena: valid while the request is in flight */
	uint32_t len, done;
	uint8_t stream;
};

/* FIFO of waiters over a fixed array of @cap (the most in flight). */
struct console_fifo {
	struct console_waiter *e;
	uint32_t cap, head, n;
};

struct console {
	struct srv *srv;
	struct console_backend be;
	bool be_open;
	struct console_bytes inbuf;
	struct console_fifo in[2]; /* by enum console_stream */
	struct console_fifo outw;  /* OUTs held back by a full queue */
	uint64_t out_bytes[2], in_bytes[2];
};

/* The ops srv_main() runs the console with; dev is a zeroed console. */
extern const struct srv_dev_ops console_ops;

#endif
