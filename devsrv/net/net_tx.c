/* net_tx.c: guest frames out to the tap. */
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "devsrv/common/srv.h"
#include "devsrv/net/net_tap.h"
#include "devsrv/net/net_tx.h"
#include "ipc/virtio_net_config.h"

static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN,
	      "the header as the tap reads it");

/*
 * A header the tap may see: only the offloads offered for this direction
 * (CSUM, HOST_TSO4, HOST_TSO6; no ECN, no UFO), no flag a driver must not
 * set. The tap checks the rest (GSO sizes, checksum offsets) itself.
 */
static int net_tx_check_hdr(const struct virtio_net_hdr *h)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return -EINVAL;
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return 0;
	default:
		return -EINVAL;
	}
}

static void net_tx_count_error(struct net_tx_stats *st, int err)
{
	switch (err) {
	case -EINVAL:
		st->drop_hdr++;
		break;
	case -EAGAIN:
	case -ENOBUFS:
	case -ENOMEM:
		st->drop_busy++;
		break;
	default:
		st->drop_error++;
		break;
	}
}

int net_tx_send(int tap_fd, const struct ipc_req *req, const void *buf,
		struct net_tx_stats *st)
{
	const unsigned char *arena = buf;
	struct virtio_net_hdr hdr;
	size_t len = req->arena_len;
	int ret;

	if (!buf || len < VIRTIO_NET_HDR_LEN) {
		st->drop_short++;
		return -EINVAL;
	}
	if (req->args.net.hdr_len != VIRTIO_NET_HDR_LEN) {
		st->drop_hdr++;
		return -EINVAL;
	}
	/* The VMM may rewrite the arena at any time: the tap gets the very
	 * header checked here, never a second read of it. The fence keeps
	 * the compiler from reading the checked fields from the arena. */
	memcpy(&hdr, arena, VIRTIO_NET_HDR_LEN);
	atomic_signal_fence(memory_order_seq_cst);
	ret = net_tx_check_hdr(&hdr);
	if (!ret)
		ret = net_tap_send(tap_fd, &hdr, arena + VIRTIO_NET_HDR_LEN,
				   len - VIRTIO_NET_HDR_LEN);
	if (ret) {
		net_tx_count_error(st, ret);
		srv_debug("tx: frame of %zu bytes dropped: %s", len,
			  strerror(-ret));
		return ret;
	}
	st->frames++;
	st->bytes += len - VIRTIO_NET_HDR_LEN;
	return 0;
}
