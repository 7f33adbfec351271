/*
 * virtio_net_config.h: virtio-net feature bits, config space layout and
 * the per-frame header, shared by the VMM's net front and the net server
 * (virtio 1.x spec, section 5.1; all fields little-endian).
 */
#ifndef ISOVM_IPC_VIRTIO_NET_CONFIG_H
#define ISOVM_IPC_VIRTIO_NET_CONFIG_H

#include <stdint.h>

/* Device feature bits (section 5.1.3). Transport bits are the VMM's. */
#define VIRTIO_NET_F_CSUM	 0  /* device takes partial checksums */
#define VIRTIO_NET_F_GUEST_CSUM	 1  /* driver takes partial checksums */
#define VIRTIO_NET_F_MTU	 3
#define VIRTIO_NET_F_MAC	 5
#define VIRTIO_NET_F_GUEST_TSO4	 7
#define VIRTIO_NET_F_GUEST_TSO6	 8
#define VIRTIO_NET_F_GUEST_ECN	 9
#define VIRTIO_NET_F_GUEST_UFO	 10
#define VIRTIO_NET_F_HOST_TSO4	 11
#define VIRTIO_NET_F_HOST_TSO6	 12
#define VIRTIO_NET_F_HOST_ECN	 13
#define VIRTIO_NET_F_HOST_UFO	 14
#define VIRTIO_NET_F_MRG_RXBUF	 15
#define VIRTIO_NET_F_STATUS	 16
#define VIRTIO_NET_F_CTRL_VQ	 17

/* Config space (section 5.1.4): the fields isovm offers. */
#define VIRTIO_NET_CFG_MAC	   0  /* 6 bytes */
#define VIRTIO_NET_CFG_STATUS	   6  /* le16 */
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS 8  /* le16, only with MQ: 0 here */
#define VIRTIO_NET_CFG_MTU	   10 /* le16 */
#define VIRTIO_NET_CFG_LEN	   12

#define VIRTIO_NET_S_LINK_UP 1

/* Queues: one pair. */
#define VIRTIO_NET_Q_RX 0
#define VIRTIO_NET_Q_TX 1

/*
 * The header before every frame, both ways (struct virtio_net_hdr_v1: with
 * VERSION_1 num_buffers is always there, so it is 12 bytes).
 */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;     /* le16 */
	uint16_t gso_size;    /* le16 */
	uint16_t csum_start;  /* le16 */
	uint16_t csum_offset; /* le16 */
	uint16_t num_buffers; /* le16: RX with MRG_RXBUF, else 0/ignored */
};
#define VIRTIO_NET_HDR_LEN 12

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2

#define VIRTIO_NET_HDR_GSO_NONE	 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP	 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN	 0x80

/* Ethernet: header, and the MTU limits isovm accepts for --net mtu=. */
#define VIRTIO_NET_ETH_HLEN  14
#define VIRTIO_NET_VLAN_HLEN 4
#define VIRTIO_NET_MTU_MIN   68
#define VIRTIO_NET_MTU_MAX   65535
#define VIRTIO_NET_MTU_DEFAULT 1500
/* The largest frame with segmentation offloads: 64 KiB of IP, plus the
 * Ethernet and VLAN headers. */
#define VIRTIO_NET_GSO_FRAME_MAX (65535 + VIRTIO_NET_ETH_HLEN + VIRTIO_NET_VLAN_HLEN)

#endif
