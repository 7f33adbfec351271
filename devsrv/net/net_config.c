/* net_config.c: what a NIC offers the guest, and what its choice asks of
 * the tap. */
#include <errno.h>
#include <linux/if_tun.h>
#include <string.h>

#include "devsrv/net/net_config.h"
#include "ipc/virtio_net_config.h"

#define NET_CONFIG_BIT(b) (1ull << (b))

/* Feature bits 24..49 belong to the transport (virtio 1.x, 6). */
#define NET_CONFIG_TRANSPORT (((1ull << 50) - 1) & ~((1ull << 24) - 1))

/* The driver's offloads that turn a tap offload on. */
#define NET_CONFIG_GUEST_TSO                       \
	(NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
	 NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_TSO6))

static void net_config_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

uint64_t net_config_features(void)
{
	/*
	 * The tap takes partial checksums and TSO frames from the guest and
	 * can hand them to it; one RX buffer holds any frame, so the guest
	 * may post small buffers and let the VMM merge (MRG_RXBUF).
	 */
	return NET_CONFIG_BIT(VIRTIO_NET_F_MAC) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_STATUS) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_MTU) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_CSUM) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_CSUM) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_HOST_TSO4) |
	       NET_CONFIG_BIT(VIRTIO_NET_F_HOST_TSO6) | NET_CONFIG_GUEST_TSO;
}

int net_config_encode(const struct ctl_net_config *cfg, uint8_t *out,
		      size_t cap)
{
	if (cap < VIRTIO_NET_CFG_LEN)
		return -ENOBUFS;
	memset(out, 0, VIRTIO_NET_CFG_LEN);
	memcpy(out + VIRTIO_NET_CFG_MAC, cfg->mac, CTL_MAC_LEN);
	/* The tap's carrier is the VMM's business: the link is always up. */
	net_config_le16(out + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	net_config_le16(out + VIRTIO_NET_CFG_MAX_VQ_PAIRS, 0);
	/* Decode bounds the MTU to 68..65535. */
	net_config_le16(out + VIRTIO_NET_CFG_MTU, (uint16_t)cfg->mtu);
	return VIRTIO_NET_CFG_LEN;
}

int net_config_offload(uint64_t f, unsigned *tun)
{
	unsigned t = 0;

	f &= ~NET_CONFIG_TRANSPORT;
	if (f & ~net_config_features())
		return -EINVAL;
	if ((f & NET_CONFIG_GUEST_TSO) &&
	    !(f & NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return -EINVAL;
	if (f & NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_CSUM))
		t |= TUN_F_CSUM;
	if (f & NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (f & NET_CONFIG_BIT(VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	*tun = t;
	return 0;
}
