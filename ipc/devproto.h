/*
 * devproto.h: what requests mean on each device's rings (struct ipc_req /
 * struct ipc_cpl of ipc_entry.h). Shared by the VMM's device fronts and the
 * device servers. The VMM allocates every arena buffer; the server touches
 * only [arena_off, arena_off + arena_len) of a request it was given.
 * Completion status is 0 or a negative errno; cpl.len is the number of bytes
 * the server wrote into the request's arena buffer (0 for writes).
 */
#ifndef ISOVM_IPC_DEVPROTO_H
#define ISOVM_IPC_DEVPROTO_H

#include "ipc/ipc_entry.h"

/* ---- block (isovm-blk) ----
 * IPC_OP_READ   sector, count: fill count*512 bytes (arena_len) from disk
 * IPC_OP_WRITE  sector, count: write the arena bytes to disk
 * IPC_OP_FLUSH  complete only after fdatasync() succeeded
 * BLK_OP_GET_ID fill arena_len (20) bytes with the id, NUL-padded
 * BLK_OP_DISCARD, BLK_OP_WRITE_ZEROES  sector, count; no arena buffer
 * Status: 0; -EIO/-ENOSPC/... from the backend (the guest sees IOERR);
 * -ERANGE for a request outside the capacity (IOERR, nothing touched);
 * -EROFS for a write to a read-only disk (IOERR); -EOPNOTSUPP for an
 * unknown op (UNSUPP).
 */
enum blk_op {
	BLK_OP_GET_ID = IPC_OP_DEV,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

/* ---- console (isovm-console) ----
 * One server owns the guest's console byte streams: the UART (stream 0)
 * and the virtio-console port 0 (stream 1), both tied to one backend.
 * CONSOLE_OP_OUT  args.raw[0] = stream: write the arena bytes to the
 *                 backend; completes when they were taken (kept or, for a
 *                 socket without a client, buffered or counted as dropped).
 * CONSOLE_OP_IN   args.raw[0] = stream: a buffer of arena_len bytes for
 *                 input; the server completes it when input arrives (len =
 *                 bytes), so an IN may stay in flight indefinitely. Input
 *                 goes to the oldest pending virtio IN if there is one, else
 *                 to the oldest pending UART IN, else waits in a bounded
 *                 buffer in the server.
 * CONSOLE_OP_CANCEL_IN  complete every pending IN at once with len 0 (the
 *                 VMM sends it when the guest resets the device).
 */
enum console_op {
	CONSOLE_OP_OUT = IPC_OP_DEV,
	CONSOLE_OP_IN,
	CONSOLE_OP_CANCEL_IN,
};

enum console_stream {
	CONSOLE_STREAM_UART = 0,
	CONSOLE_STREAM_VIRTIO = 1,
};

#endif
