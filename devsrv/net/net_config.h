/* net_config.h: the virtio-net features and config bytes a NIC announces,
 * and the tap offloads the driver's choice of features maps to. */
#ifndef ISOVM_DEVSRV_NET_CONFIG_H
#define ISOVM_DEVSRV_NET_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ctl_msg.h"

/* Device feature bits (1 << VIRTIO_NET_F_*) every isovm NIC offers. */
uint64_t net_config_features(void);

/*
 * Write the virtio-net config space of @cfg (MAC, status LINK_UP,
 * max_virtqueue_pairs 0, MTU; little-endian) into out[0..cap). Returns
 * its length (VIRTIO_NET_CFG_LEN) or -ENOBUFS.
 */
int net_config_encode(const struct ctl_net_config *cfg, uint8_t *out,
		      size_t cap);

/*
 * The tap offloads (TUN_F_*) for the features @f the driver accepted:
 * GUEST_CSUM -> TUN_F_CSUM, GUEST_TSO4 -> TUN_F_TSO4, GUEST_TSO6 ->
 * TUN_F_TSO6. Transport bits (24..49) are the VMM's and ignored. Returns
 * 0 with *tun set, or -EINVAL: a device bit that was never offered, or a
 * TSO bit without GUEST_CSUM (the tap's segments need the checksum
 * offload).
 */
int net_config_offload(uint64_t f, unsigned *tun);

#endif
