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
 * One server owns the guest's console byte streams, the UART's and the
 * virtio-console port 0's, both tied to one backend. No request of the
 * console rides the rings: the VMM writes the guest's output into a pipe
 * whose read end the server gets (CTL_FD_OUT_PIPE) and reads the guest's
 * input from a pipe whose write end the server gets (CTL_FD_IN_PIPE). The
 * VMM holds both ends of both pipes for the device's life, and the server
 * moves bytes between them and the backend with splice(2), so a server
 * killed at any instant leaves every byte in a pipe or in the backend.
 * The server refuses any request (-EOPNOTSUPP); its data plane stays only
 * as the channel the supervisor watches (and a corrupt fault breaks).
 */

#endif
