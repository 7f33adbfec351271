/* net_tx.h: a TX request: its header checked on a private copy, the frame
 * written to the tap, a failure counted as that frame's drop. */
#ifndef ISOVM_DEVSRV_NET_TX_H
#define ISOVM_DEVSRV_NET_TX_H

#include <stdint.h>

#include "ipc/ipc_entry.h"

/* Frames sent and dropped, by the reason of the drop. Loop thread only. */
struct net_tx_stats {
	uint64_t frames;     /* written to the tap */
	uint64_t bytes;	     /* their Ethernet bytes, headers not counted */
	uint64_t drop_short; /* buffer shorter than the virtio-net header */
	uint64_t drop_hdr;   /* header refused by us or by the tap (EINVAL) */
	uint64_t drop_busy;  /* the tap took no more (EAGAIN, ENOBUFS) */
	uint64_t drop_error; /* any other error of the write (EIO: link down) */
};

/*
 * IPC_OP_WRITE of ipc/devproto.h: send the frame in @buf (the request's
 * arena buffer, req->arena_len bytes, NULL when empty; shared and
 * hostile) on @tap_fd with one write. Returns 0 or the -errno the request
 * completes with: -EINVAL for a short buffer or a header outside the
 * offered features, else the write's. Never fatal; never blocks.
 */
int net_tx_send(int tap_fd, const struct ipc_req *req, const void *buf,
		struct net_tx_stats *st);

#endif
