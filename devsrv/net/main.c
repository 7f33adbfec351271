/* main.c: isovm-net, the network device server: a tap behind virtio-net. */
#include <errno.h>
#include <string.h>

#include "devsrv/common/srv.h"
#include "devsrv/net/net_config.h"
#include "devsrv/net/net_rx.h"
#include "devsrv/net/net_tap.h"
#include "devsrv/net/net_tx.h"
#include "ipc/devproto.h"
#include "sandbox/seccomp_policy.h"

struct net_srv {
	int tap;	   /* the core's fd (CTL_FD_BACKEND) */
	unsigned offloads; /* TUN_F_* the tap uses now */
	struct net_rx rx;
	struct net_tx_stats tx;
};

/* The tap's offloads, and the record of them the stats show. */
static int net_srv_set_offloads(struct net_srv *n, unsigned tun)
{
	int ret = net_tap_offload(n->tap, tun);

	if (!ret)
		n->offloads = tun;
	return ret;
}

static int net_srv_setup(struct srv *srv, const struct ctl_setup *setup,
			 const struct srv_fds *fds, struct ctl_ready *ready)
{
	const struct ctl_net_config *cfg = &setup->cfg.net;
	struct net_srv *n = srv_dev(srv);
	char name[IFNAMSIZ];
	int ret;

	n->tap = fds->backend;
	if (n->tap < 0) {
		srv_err("no tap fd in SETUP");
		return -EBADF;
	}
	ret = net_tap_check(n->tap, name);
	if (ret) {
		srv_err("backend fd is no tap with a %u-byte virtio-net header",
			VIRTIO_NET_HDR_LEN);
		return ret;
	}
	/* A known state: the tap may carry the offloads a server before us
	 * set. The VMM asks again with NET_OP_OFFLOAD. */
	ret = net_srv_set_offloads(n, 0);
	if (ret)
		return ret;
	ret = net_rx_init(&n->rx, srv, n->tap, setup->geo.sq_entries);
	if (ret)
		return ret;
	ready->features = net_config_features();
	ret = net_config_encode(cfg, ready->config, sizeof(ready->config));
	if (ret < 0)
		return ret;
	ready->config_len = (uint32_t)ret;
	srv_info("tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u", name,
		 cfg->mac[0], cfg->mac[1], cfg->mac[2], cfg->mac[3],
		 cfg->mac[4], cfg->mac[5], cfg->mtu);
	return 0;
}

/* NET_OP_OFFLOAD: the driver's features, as tap offloads. */
static int net_srv_offload(struct net_srv *n, uint64_t features)
{
	unsigned tun;
	int ret = net_config_offload(features, &tun);

	if (ret) {
		srv_debug("offload: features %#llx refused",
			  (unsigned long long)features);
		return ret;
	}
	return net_srv_set_offloads(n, tun);
}

static enum srv_verdict net_srv_handle(struct srv *srv,
				       const struct ipc_req *req, void *buf,
				       struct ipc_cpl *cpl)
{
	struct net_srv *n = srv_dev(srv);
	const struct ctl_fault *f;
	int ret;

	cpl->len = 0;
	switch (req->op) {
	case IPC_OP_WRITE:
		f = srv_frame_fault(srv, CTL_OP_TX);
		if (f && f->kind == CTL_FAULT_DROP) {
			cpl->status = 0; /* lost on the wire, as it were */
			return SRV_DONE;
		}
		if (f && buf && req->arena_len > VIRTIO_NET_HDR_LEN)
			net_frame_damage(buf, req->arena_len);
		cpl->status = net_tx_send(n->tap, req, buf, &n->tx);
		return SRV_DONE;
	case IPC_OP_READ:
		ret = net_rx_post(&n->rx, req, buf);
		if (!ret)
			return SRV_PENDING;
		cpl->status = ret;
		return SRV_DONE;
	case NET_OP_OFFLOAD:
		cpl->status = net_srv_offload(n, req->args.net.features);
		return SRV_DONE;
	default:
		cpl->status = -EOPNOTSUPP;
		return SRV_DONE;
	}
}

/*
 * Guest reset: its driver negotiates again, and until it asks, no frame
 * may come with an offload it has not accepted. The RX buffers stay: they
 * are the VMM's, still valid, and the next frames go into them.
 */
static void net_srv_reset(struct srv *srv)
{
	struct net_srv *n = srv_dev(srv);
	int ret = net_srv_set_offloads(n, 0);

	if (ret)
		srv_warn("reset: offloads stay %#x: %s", n->offloads,
			 strerror(-ret));
}

static void net_srv_shutdown(struct srv *srv)
{
	struct net_srv *n = srv_dev(srv);

	net_rx_fini(&n->rx);
}

/* TX and RX have classes of their own: their faults and statistics are
 * told apart from a disk's, and no sector range rule ever matches them. */
static enum ctl_op net_srv_op_class(uint32_t op)
{
	switch (op) {
	case IPC_OP_WRITE:
		return CTL_OP_TX;
	case IPC_OP_READ:
		return CTL_OP_RX;
	default:
		return 0;
	}
}

/* Twelve keys: with the core's four, as many as a reply holds. */
static void net_srv_stats(struct srv *srv, struct ctl_stats *st, bool reset)
{
	struct net_srv *n = srv_dev(srv);

	srv_stats_add(st, "tx_frames", n->tx.frames);
	srv_stats_add(st, "tx_bytes", n->tx.bytes);
	srv_stats_add(st, "tx_drop_short", n->tx.drop_short);
	srv_stats_add(st, "tx_drop_hdr", n->tx.drop_hdr);
	srv_stats_add(st, "tx_drop_busy", n->tx.drop_busy);
	srv_stats_add(st, "tx_drop_error", n->tx.drop_error);
	srv_stats_add(st, "rx_frames", n->rx.st.frames);
	srv_stats_add(st, "rx_bytes", n->rx.st.bytes);
	srv_stats_add(st, "rx_drop_oversize", n->rx.st.drop_oversize);
	srv_stats_add(st, "rx_drop_error", n->rx.st.drop_error);
	srv_stats_add(st, "rx_buf_short", n->rx.st.buf_short);
	srv_stats_add(st, "offloads", n->offloads);
	if (reset) {
		memset(&n->tx, 0, sizeof(n->tx));
		memset(&n->rx.st, 0, sizeof(n->rx.st));
	}
}

static const struct srv_dev_ops net_srv_ops = {
	.name = "net",
	.dev_type = CTL_DEV_NET,
	.policy = &sandbox_policy_net,
	.setup = net_srv_setup,
	.handle = net_srv_handle,
	.reset = net_srv_reset,
	.shutdown = net_srv_shutdown,
	.op_class = net_srv_op_class,
	/* Drop and corrupt act on frames both ways, so a guest sees lost
	 * and damaged frames, not a hung device. */
	.frame_fault_classes = 1u << CTL_OP_TX | 1u << CTL_OP_RX,
	.stats = net_srv_stats,
};

int main(int argc, char **argv)
{
	static struct net_srv net;

	return srv_main(argc, argv, &net_srv_ops, &net);
}
