/*
 * front_net_rx.h: the receive side of the net front: receive buffers kept
 * posted at the server, filled ones held in the arena until guest chains
 * take them. Every function runs with the transport lock held.
 */
#ifndef ISOVM_FRONT_NET_RX_H
#define ISOVM_FRONT_NET_RX_H

#include "ipc/dataplane.h"
#include "vcpu/front/net/front_net.h"

/* Tag of the receive buffers' requests (their completions' cookie). */
extern char front_net_rx_tag;

/* Post receive buffers until FRONT_NET_RX_POSTED are posted or held. */
void front_net_rx_pump(struct front_net *n);

/* A receive buffer came back: hold its frame (or drop it), deliver. */
void front_net_rx_done(struct front_net *n, const struct ipc_dp_done *d);

/* Hand held frames to the guest's receive chains while there are some. */
void front_net_rx_deliver(struct front_net *n);

/*
 * The server died: a receive buffer whose record says it holds a frame
 * was filled from the tap and is taken (*len: record + frame) instead of
 * posted again, so no frame that left the tap's queue is lost; so is the
 * oldest unrecorded one when front_net_rx_unrecorded() found a frame.
 */
bool front_net_rx_salvage(struct front_net *n, const struct ipc_req *req,
			  void *cookie, const void *buf, uint32_t *len);

/*
 * After the recorded frames were salvaged: when the tap says one frame
 * more left it than the servers reported, the next salvage gives it to
 * the oldest unrecorded receive buffer (a server killed inside its read).
 */
void front_net_rx_unrecorded(struct front_net *n);

/* After that salvage: a frame no buffer turned out to hold is counted as
 * lost, so the next death starts from counts that agree. */
void front_net_rx_unrecorded_done(struct front_net *n);

/* The guest reset the device: held frames and popped chains are gone. */
void front_net_rx_reset(struct front_net *n);

#endif
