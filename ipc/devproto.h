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

/* ---- net (isovm-net) ----
 * The server holds one tap fd (CTL_FD_BACKEND), opened by the VMM with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, its vnet header size set to
 * VIRTIO_NET_HDR_LEN (12) and its offloads off, and non-blocking. Every
 * frame both ways is a 12-byte struct virtio_net_hdr followed by the
 * Ethernet frame, exactly as the tap reads and writes them.
 * IPC_OP_WRITE   (TX) arena: header + frame, args.net.hdr_len = 12. One
 *                write(2) to the tap. Status 0, or -errno of the write (the
 *                frame is dropped and counted); len 0. The VMM checked the
 *                header and the length already; the server still treats
 *                the arena as hostile (a short buffer is -EINVAL).
 * IPC_OP_READ    (RX) an empty receive buffer of arena_len >=
 *                NET_RX_BUF_MIN bytes. The server keeps it (SRV_PENDING)
 *                and fills posted buffers in the order they came, one
 *                frame each, as frames arrive on the tap: the frame (header
 *                included) is read to offset NET_RX_REC_LEN, then the
 *                record before it is written (le32 NET_RX_MAGIC, le32 the
 *                frame's bytes), then the buffer completes with len =
 *                NET_RX_REC_LEN + the frame's bytes, status 0. The record
 *                lets the VMM take a frame a server read from the tap and
 *                died before completing (the VMM zeroes it when it posts
 *                the buffer): once a frame leaves the tap's queue, only a
 *                kill inside the read itself can lose it. With no buffer
 *                posted the server does not read the tap: frames wait in
 *                the tap's queue (backpressure). A frame longer than the
 *                buffer is dropped and counted, never truncated.
 * NET_OP_OFFLOAD args.net.features: the VIRTIO_NET_F_* bits the guest's
 *                driver accepted. The server sets the tap's offloads to
 *                match (TUNSETOFFLOAD: GUEST_CSUM -> TUN_F_CSUM,
 *                GUEST_TSO4 -> TUN_F_TSO4, GUEST_TSO6 -> TUN_F_TSO6, and
 *                TUN_F_TSO* only with TUN_F_CSUM); no arena. Status 0 or
 *                -errno of the ioctl (-EINVAL for a TSO bit without CSUM).
 * Requests stay pending at the server only as RX buffers: the VMM's
 * watchdog does not apply to a net server.
 */
enum net_op {
	NET_OP_OFFLOAD = IPC_OP_DEV,
};
/* An RX buffer's record, then room for a header and the largest frame
 * with offloads. */
#define NET_RX_REC_LEN 8u
#define NET_RX_MAGIC   0x4652584eu /* "NXRF" */
#define NET_RX_BUF_MIN (NET_RX_REC_LEN + 12u + 65535u + 14u + 4u)

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
