/* front_net_hdr.c: virtio-net header rules, TX and RX. */
#include "vcpu/front/net/front_net_hdr.h"
#include "vcpu/le.h"
#include "vcpu/virtio/virtio_spec.h"

void front_net_hdr_get(const uint8_t raw[VIRTIO_NET_HDR_LEN],
		       struct virtio_net_hdr *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = le16_get(raw + 2);
	h->gso_size = le16_get(raw + 4);
	h->csum_start = le16_get(raw + 6);
	h->csum_offset = le16_get(raw + 8);
	h->num_buffers = le16_get(raw + 10);
}

void front_net_hdr_put(const struct virtio_net_hdr *h,
		       uint8_t raw[VIRTIO_NET_HDR_LEN])
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	le16_put(raw + 2, h->hdr_len);
	le16_put(raw + 4, h->gso_size);
	le16_put(raw + 6, h->csum_start);
	le16_put(raw + 8, h->csum_offset);
	le16_put(raw + 10, h->num_buffers);
}

static int front_net_has(uint64_t features, unsigned bit)
{
	return (features & VIRTIO_BIT(bit)) != 0;
}

/* The 16-bit checksum field lies inside the frame. */
static int front_net_csum_ok(const struct virtio_net_hdr *h,
			     uint32_t frame_len)
{
	return (uint32_t)h->csum_start + h->csum_offset + 2u <= frame_len;
}

enum front_net_verdict front_net_tx_check(const struct virtio_net_hdr *h,
					  uint32_t frame_len,
					  uint64_t features, uint32_t mtu,
					  const char **why)
{
	unsigned need;

	if (frame_len < VIRTIO_NET_ETH_HLEN) {
		*why = "no Ethernet header";
		return FRONT_NET_SHORT;
	}
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		*why = "unknown header flags";
		return FRONT_NET_BAD_HDR;
	}
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!front_net_has(features, VIRTIO_NET_F_CSUM)) {
			*why = "NEEDS_CSUM without CSUM";
			return FRONT_NET_BAD_HDR;
		}
		if (!front_net_csum_ok(h, frame_len)) {
			*why = "checksum offsets outside the frame";
			return FRONT_NET_BAD_HDR;
		}
	}
	if (h->hdr_len > frame_len) {
		*why = "hdr_len beyond the frame";
		return FRONT_NET_BAD_HDR;
	}
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (frame_len > mtu + VIRTIO_NET_ETH_HLEN + VIRTIO_NET_VLAN_HLEN) {
			*why = "frame longer than the MTU";
			return FRONT_NET_OVERSIZE;
		}
		return FRONT_NET_OK;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need = VIRTIO_NET_F_HOST_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need = VIRTIO_NET_F_HOST_TSO6;
		break;
	default: /* UDP, ECN and unknown types are never offered */
		*why = "GSO type not offered";
		return FRONT_NET_BAD_HDR;
	}
	if (!front_net_has(features, need)) {
		*why = "GSO type not negotiated";
		return FRONT_NET_BAD_HDR;
	}
	if (!h->gso_size || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		*why = "GSO without gso_size or NEEDS_CSUM";
		return FRONT_NET_BAD_HDR;
	}
	if (frame_len > VIRTIO_NET_GSO_FRAME_MAX) {
		*why = "GSO frame longer than 64 KiB";
		return FRONT_NET_OVERSIZE;
	}
	return FRONT_NET_OK;
}

enum front_net_verdict front_net_rx_check(const struct virtio_net_hdr *h,
					  uint32_t frame_len,
					  uint64_t features, const char **why)
{
	unsigned need;

	if (frame_len < VIRTIO_NET_ETH_HLEN) {
		*why = "no Ethernet header";
		return FRONT_NET_SHORT;
	}
	if (frame_len > VIRTIO_NET_GSO_FRAME_MAX) {
		*why = "frame longer than 64 KiB";
		return FRONT_NET_OVERSIZE;
	}
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			 VIRTIO_NET_HDR_F_DATA_VALID)) {
		*why = "unknown header flags";
		return FRONT_NET_BAD_HDR;
	}
	if (h->flags && !front_net_has(features, VIRTIO_NET_F_GUEST_CSUM)) {
		*why = "checksum flags without GUEST_CSUM";
		return FRONT_NET_BAD_HDR;
	}
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !front_net_csum_ok(h, frame_len)) {
		*why = "checksum offsets outside the frame";
		return FRONT_NET_BAD_HDR;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return FRONT_NET_OK;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need = VIRTIO_NET_F_GUEST_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need = VIRTIO_NET_F_GUEST_TSO6;
		break;
	default:
		*why = "GSO type not offered";
		return FRONT_NET_BAD_HDR;
	}
	if (!front_net_has(features, need) || !h->gso_size) {
		*why = "GSO type not negotiated";
		return FRONT_NET_BAD_HDR;
	}
	return FRONT_NET_OK;
}
