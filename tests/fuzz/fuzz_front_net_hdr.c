/*
 * fuzz_front_net_hdr.c: any virtio-net header, frame length, negotiated
 * features and MTU through the TX and RX checks of the net front. A frame
 * they pass must keep every promise the tap and the guest rely on: an
 * Ethernet header, a length within the MTU (or 64 KiB with a negotiated
 * GSO type), a checksum field inside the frame, no flag not allowed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/virtio_net_config.h"
#include "vcpu/front/net/front_net_hdr.h"
#include "vcpu/virtio/virtio_spec.h"

static void fz_check(int ok)
{
	if (!ok)
		abort();
}

static int fz_has(uint64_t f, unsigned bit)
{
	return (f & VIRTIO_BIT(bit)) != 0;
}

static void fz_common(const struct virtio_net_hdr *h, uint32_t len)
{
	fz_check(len >= VIRTIO_NET_ETH_HLEN);
	fz_check(len <= VIRTIO_NET_GSO_FRAME_MAX);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		fz_check((uint32_t)h->csum_start + h->csum_offset + 2 <= len);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint8_t raw[VIRTIO_NET_HDR_LEN] = {0};
	struct virtio_net_hdr h;
	uint64_t features = 0;
	uint32_t len = 0, mtu;
	const char *why = NULL;

	if (n < VIRTIO_NET_HDR_LEN + 14)
		return 0;
	memcpy(raw, d, sizeof(raw));
	memcpy(&len, d + 12, 4);
	len &= 0x1ffff; /* around the limits, mostly */
	memcpy(&features, d + 16, 8);
	mtu = VIRTIO_NET_MTU_MIN + ((uint32_t)d[24] << 8 | d[25]) % 65468u;
	front_net_hdr_get(raw, &h);
	if (front_net_tx_check(&h, len, features, mtu, &why) == FRONT_NET_OK) {
		fz_common(&h, len);
		fz_check(!(h.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
		fz_check(h.hdr_len <= len);
		if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			fz_check(fz_has(features, VIRTIO_NET_F_CSUM));
		if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE)
			fz_check(len <= mtu + 18);
		else
			fz_check((h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
				  fz_has(features, VIRTIO_NET_F_HOST_TSO4)) ||
				 (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
				  fz_has(features, VIRTIO_NET_F_HOST_TSO6)));
	} else {
		fz_check(why != NULL);
	}
	why = NULL;
	if (front_net_rx_check(&h, len, features, &why) == FRONT_NET_OK) {
		fz_common(&h, len);
		if (h.flags)
			fz_check(fz_has(features, VIRTIO_NET_F_GUEST_CSUM));
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			fz_check((h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
				  fz_has(features, VIRTIO_NET_F_GUEST_TSO4)) ||
				 (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
				  fz_has(features, VIRTIO_NET_F_GUEST_TSO6)));
	} else {
		fz_check(why != NULL);
	}
	return 0;
}
