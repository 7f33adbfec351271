/*
 * front_net_hdr.h: the checks of one frame's virtio-net header against
 * what the driver negotiated, both ways. Pure functions on private copies.
 */
#ifndef ISOVM_FRONT_NET_HDR_H
#define ISOVM_FRONT_NET_HDR_H

#include <stdint.h>

#include "ipc/virtio_net_config.h"

enum front_net_verdict {
	FRONT_NET_OK,
	FRONT_NET_SHORT,    /* less than an Ethernet header after the header */
	FRONT_NET_OVERSIZE, /* more than the MTU allows, or 64 KiB with GSO */
	FRONT_NET_BAD_HDR,  /* flags, GSO type or size, offsets */
};

/* The header from its 12 little-endian bytes (host order after this). */
void front_net_hdr_get(const uint8_t raw[VIRTIO_NET_HDR_LEN],
		       struct virtio_net_hdr *h);
void front_net_hdr_put(const struct virtio_net_hdr *h,
		       uint8_t raw[VIRTIO_NET_HDR_LEN]);

/*
 * A frame the guest sends: header h (num_buffers ignored), frame_len bytes
 * after it, 'features' the driver accepted, 'mtu' the device's. GSO needs
 * HOST_TSO4/6 for its type (UDP and ECN are never offered), a non-zero
 * gso_size and NEEDS_CSUM; NEEDS_CSUM needs CSUM and a checksum field
 * inside the frame; no other flag is allowed. 'why' names the rule.
 */
enum front_net_verdict front_net_tx_check(const struct virtio_net_hdr *h,
					  uint32_t frame_len,
					  uint64_t features, uint32_t mtu,
					  const char **why);

/*
 * A frame the server read from the tap, before it reaches the guest: the
 * tap only offloads what NET_OP_OFFLOAD allowed, but the server is
 * trusted no more than the guest. GSO types need GUEST_TSO4/6, NEEDS_CSUM
 * and DATA_VALID need GUEST_CSUM, offsets inside the frame.
 */
enum front_net_verdict front_net_rx_check(const struct virtio_net_hdr *h,
					  uint32_t frame_len,
					  uint64_t features, const char **why);

#endif
