/* front_net_dev.c: one --net wired up: isovm-net, a virtio-mmio slot, a front.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/front/net/front_net.h"
#include "vcpu/front/net/front_net_rx.h"

/* I/O thread: the server pushed completions. */
static void front_net_completions(void *opaque)
{
	struct front_net *n = opaque;

	if (front_reap(&n->front) < 0)
		supervisor_kill(&n->sup, "net server broke the data plane");
}

/* A new server took the replayed requests: the posted receive buffers
 * and the frames not yet written are its now. */
static void front_net_restarted(void *opaque)
{
	struct front_net *n = opaque;

	/* A new server starts with the tap's offloads off: the driver's
	 * go to it again (front_restarted pumps them out). */
	pthread_mutex_lock(&n->vdev.lock);
	if (n->rx_on)
		n->offload_due = true;
	pthread_mutex_unlock(&n->vdev.lock);
	front_restarted(&n->front);
}

/* Frames the dead server read from the tap reach the guest. */
static void front_net_salvage_dead(void *opaque)
{
	struct front_net *n = opaque;
	int got = front_salvage(&n->front);

	/* Then the one a kill inside read(2) left without a record. */
	pthread_mutex_lock(&n->vdev.lock);
	front_net_rx_unrecorded(n);
	pthread_mutex_unlock(&n->vdev.lock);
	got += front_salvage(&n->front);
	pthread_mutex_lock(&n->vdev.lock);
	front_net_rx_unrecorded_done(n);
	pthread_mutex_unlock(&n->vdev.lock);
	if (got)
		log_info("%s: %d received frames taken from the dead server's "
			 "buffers",
			 n->name, got);
}

static void front_net_failed(void *opaque)
{
	struct front_net *n = opaque;

	front_failed(&n->front);
}

static const struct supervisor_ops front_net_sup_ops = {
	.completions = front_net_completions,
	.salvage = front_net_salvage_dead,
	.restarted = front_net_restarted,
	.failed = front_net_failed,
};

static void front_net_spec(struct supervisor_spec *spec, const char *name,
			   const struct net_cfg *net, int log_level,
			   const struct supervisor_policy *policy)
{
	memset(spec, 0, sizeof(*spec));
	spec->dev = "net";
	spec->name = name;
	spec->type = CTL_DEV_NET;
	spec->setup.dev_type = CTL_DEV_NET;
	memcpy(spec->setup.cfg.net.mac, net->mac, NET_MAC_LEN);
	spec->setup.cfg.net.mtu = net->mtu;
	spec->geom = (struct ipc_geom){
		.sq_entries = FRONT_NET_RING,
		.cq_entries = FRONT_NET_RING,
		.arena_slot_size = FRONT_NET_SLOT,
		.arena_slots = FRONT_NET_SLOTS,
	};
	supervisor_spec_fd(spec, CTL_FD_BACKEND, net->fd);
	spec->log_level = log_level;
	spec->policy = *policy;
	/* Receive buffers wait at the server for frames as long as the
	 * wire is quiet: pending is its normal state, not a hang. */
	spec->policy.watchdog_ms = 0;
	/* One loop thread; fds: the set-up's, the tap, eventfds, epoll. */
	spec->limits = (struct sandbox_limits){
		.as_bytes = SANDBOX_AS(1ull << 30),
		.nofile = 64,
		.nproc = 8,
	};
}

int front_net_start(struct front_net *n, unsigned index,
		    const struct net_cfg *net, struct vm *vm,
		    struct iothread *io, unsigned slot, int log_level,
		    const struct supervisor_policy *policy, char *err,
		    size_t errlen)
{
	struct supervisor_spec spec;
	char name[16], mac[18];
	int ret;

	memset(n, 0, sizeof(*n));
	n->ts.fd = -1;
	snprintf(name, sizeof(name), "net%u", index);
	n->part = calloc(FRONT_NET_RX_PART, sizeof(*n->part));
	if (!n->part)
		return errf(err, errlen, -ENOMEM, "%s: out of memory", name);
	front_net_spec(&spec, name, net, log_level, policy);
	/* The READY decides what the guest sees, so the server comes first. */
	ret = supervisor_start(&n->sup, &spec, err, errlen);
	if (ret)
		goto err_free;
	ret = front_net_init(n, name, net, &n->sup.ready, err, errlen);
	if (ret) {
		supervisor_stop(&n->sup, 0);
		goto err_free;
	}
	n->sup_up = true;
	/* The tap's count before any server read from it. */
	ret = tap_stats_open(&n->ts, net->ifname, err, errlen);
	if (ret)
		goto err_stop;
	ret = tap_stats_read(&n->ts, &n->tap_frames0, &n->tap_bytes0);
	if (ret) {
		snprintf(err, errlen, "%s: tap counters: %s", n->name,
			 strerror(-ret));
		goto err_stop;
	}
	ret = virtio_dev_init(&n->vdev, vm, io, slot, n->name, &n->ops, n);
	if (ret) {
		snprintf(err, errlen, "%s: virtio-mmio slot %u: %s", n->name,
			 slot, strerror(-ret));
		goto err_stop;
	}
	n->vdev_up = true;
	ret = front_init(&n->front, &front_net_front_ops, n, &n->vdev.mmio,
			 &n->vdev.lock, &n->sup.dp, io, 2,
			 FRONT_NET_QUEUE_SIZE);
	if (ret) {
		snprintf(err, errlen, "%s: front: %s", n->name, strerror(-ret));
		goto err_stop;
	}
	n->front.own_queues = 1u << VIRTIO_NET_Q_RX;
	n->front_up = true;
	ret = supervisor_watch(&n->sup, io, &front_net_sup_ops, n,
			       &n->vdev.lock);
	if (ret) {
		snprintf(err, errlen, "%s: watch: %s", n->name, strerror(-ret));
		goto err_stop;
	}
	/* Arms the completion wake-up (see front_blk_start). */
	front_reap(&n->front);
	net_mac_str(net->mac, mac);
	log_info("%s: tap %s%s, mac %s, mtu %u", n->name, net->ifname,
		 net->created ? " (created, down)" : "", mac, net->mtu);
	return 0;

err_stop:
	front_net_stop(n);
	return ret;
err_free:
	free(n->part);
	n->part = NULL;
	return ret;
}

void front_net_stats(struct front_net *n, struct front_net_stats *out)
{
	if (n->vdev_up)
		pthread_mutex_lock(&n->vdev.lock);
	*out = n->st;
	if (n->vdev_up)
		pthread_mutex_unlock(&n->vdev.lock);
}

void front_net_stop(struct front_net *n)
{
	struct front_net_stats st;
	char line[512];

	if (n->front_up) {
		/* Held frames sit in arena buffers the front kept; the
		 * arena goes with the server. */
		pthread_mutex_lock(&n->vdev.lock);
		front_net_rx_reset(n);
		pthread_mutex_unlock(&n->vdev.lock);
	}
	if (n->sup_up) {
		front_net_stats(n, &st);
		front_net_stats_line(&st, n->name, line, sizeof(line));
		log_debug("%s", line);
		supervisor_record_line(&n->sup, n->name, line, sizeof(line));
		if (n->sup.rec.deaths)
			log_info("%s", line);
		else
			log_debug("%s", line);
		supervisor_stop(&n->sup, 0);
		n->sup_up = false;
	}
	if (n->front_up)
		front_fini(&n->front);
	n->front_up = false;
	if (n->vdev_up)
		virtio_dev_fini(&n->vdev);
	n->vdev_up = false;
	free(n->part);
	n->part = NULL;
	tap_stats_close(&n->ts);
}
