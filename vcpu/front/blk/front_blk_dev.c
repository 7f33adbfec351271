/* front_blk_dev.c: one --disk wired up: isovm-blk, a virtio-mmio slot, a front.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vcpu/front/blk/front_blk.h"

/* I/O thread: the server pushed completions. */
static void front_blk_completions(void *opaque)
{
	struct front_blk *b = opaque;
	int ret = front_reap(&b->front);

	if (ret < 0)
		supervisor_kill(&b->sup, "block server broke the data plane");
}

/* A new server serves the replayed requests: the guest saw a delay. */
static void front_blk_restarted(void *opaque)
{
	struct front_blk *b = opaque;

	front_restarted(&b->front);
}

static void front_blk_failed(void *opaque)
{
	struct front_blk *b = opaque;

	front_failed(&b->front);
}

static const struct supervisor_ops front_blk_sup_ops = {
	.completions = front_blk_completions,
	.restarted = front_blk_restarted,
	.failed = front_blk_failed,
};

static void front_blk_spec(struct supervisor_spec *spec, const char *name,
			   const struct disk_cfg *disk, int log_level,
			   const struct supervisor_policy *policy)
{
	struct ctl_blk_config *c = &spec->setup.cfg.blk;

	memset(spec, 0, sizeof(*spec));
	spec->dev = "blk";
	spec->name = name;
	spec->type = CTL_DEV_BLK;
	spec->setup.dev_type = CTL_DEV_BLK;
	c->capacity_sectors = disk->capacity;
	c->read_only = disk->read_only;
	c->block_size = DISK_SECTOR;
	snprintf(c->id, sizeof(c->id), "%s", disk->id);
	c->cache = disk->cache == DISK_CACHE_NONE ? CTL_CACHE_NONE
						  : CTL_CACHE_WRITEBACK;
	c->slice_offset = disk->offset;
	spec->geom = (struct ipc_geom){
		.sq_entries = FRONT_BLK_RING,
		.cq_entries = FRONT_BLK_RING,
		.arena_slot_size = FRONT_BLK_SLOT,
		.arena_slots = FRONT_BLK_SLOTS,
	};
	supervisor_spec_fd(spec, CTL_FD_BACKEND, disk->fd);
	spec->log_level = log_level;
	spec->policy = *policy;
	/* Its loop, up to 64 workers and their stacks and malloc arenas;
	 * fds: the set-up's, the image, eventfds, epoll. */
	spec->limits = (struct sandbox_limits){
		.as_bytes = SANDBOX_AS(4ull << 30),
		.nofile = 128,
		.nproc = 80,
	};
}

int front_blk_start(struct front_blk *b, unsigned index,
		    const struct disk_cfg *disk, struct vm *vm,
		    struct iothread *io, unsigned slot, int log_level,
		    const struct supervisor_policy *policy, char *err,
		    size_t errlen)
{
	struct supervisor_spec spec;
	struct supervisor *sup = &b->sup;
	char name[16];
	int ret;

	memset(b, 0, sizeof(*b));
	snprintf(name, sizeof(name), "blk%u", index);
	front_blk_spec(&spec, name, disk, log_level, policy);
	/* The READY decides what the guest sees, so the server comes first. */
	ret = supervisor_start(sup, &spec, err, errlen);
	if (ret)
		return ret;
	ret = front_blk_init(b, name, disk, &sup->ready, err, errlen);
	if (ret) {
		supervisor_stop(sup, 0);
		return ret;
	}
	b->sup_up = true;
	ret = virtio_dev_init(&b->vdev, vm, io, slot, b->name, &b->ops, b);
	if (ret) {
		snprintf(err, errlen, "%s: virtio-mmio slot %u: %s", b->name,
			 slot, strerror(-ret));
		goto err_stop;
	}
	b->vdev_up = true;
	ret = front_init(&b->front, &front_blk_front_ops, b, &b->vdev.mmio,
			 &b->vdev.lock, &b->sup.dp, io, 1,
			 FRONT_BLK_QUEUE_SIZE);
	if (ret) {
		snprintf(err, errlen, "%s: front: %s", b->name, strerror(-ret));
		goto err_stop;
	}
	b->front_up = true;
	ret = supervisor_watch(&b->sup, io, &front_blk_sup_ops, b,
			       &b->vdev.lock);
	if (ret) {
		snprintf(err, errlen, "%s: watch: %s", b->name, strerror(-ret));
		goto err_stop;
	}
	/* Arms the completion wake-up: a server only kicks a VMM that said
	 * it sleeps, and nothing has said so yet. */
	front_reap(&b->front);
	log_info("%s: %s, %llu sectors%s, id %s", b->name, disk->path,
		 (unsigned long long)disk->capacity,
		 disk->read_only ? ", read-only" : "", disk->id);
	return 0;

err_stop:
	/* The transport's window and hooks stay registered (vm_init fails
	 * as a whole); front_blk_stop() undoes the rest. */
	front_blk_stop(b);
	return ret;
}

void front_blk_stats(struct front_blk *b,
		     struct front_blk_op_stats out[FRONT_BLK_ST_NR])
{
	if (b->vdev_up)
		pthread_mutex_lock(&b->vdev.lock);
	memcpy(out, b->st, sizeof(b->st));
	if (b->vdev_up)
		pthread_mutex_unlock(&b->vdev.lock);
}

void front_blk_stop(struct front_blk *b)
{
	struct front_blk_op_stats st[FRONT_BLK_ST_NR];
	struct ctl_stats sst;
	char line[512];

	if (b->sup_up) {
		front_blk_stats(b, st);
		front_blk_stats_line(st, b->name, line, sizeof(line));
		log_debug("%s", line);
		supervisor_record_line(&b->sup, b->name, line, sizeof(line));
		if (b->sup.rec.deaths)
			log_info("%s", line);
		else
			log_debug("%s", line);
		/* The I/O thread is stopped: nothing else reads the control
		 * socket now. */
		if (log_get_level() >= LOG_LVL_DEBUG &&
		    front_blk_server_stats(b, &sst, false, 1000) == 0) {
			front_blk_server_line(&sst, b->name, line,
					      sizeof(line));
			log_debug("%s", line);
		}
		supervisor_stop(&b->sup, 0);
		b->sup_up = false;
	}
	if (b->front_up)
		front_fini(&b->front);
	b->front_up = false;
	if (b->vdev_up)
		virtio_dev_fini(&b->vdev);
	b->vdev_up = false;
}

int front_blk_server_stats(struct front_blk *b, struct ctl_stats *st,
			   bool reset, unsigned timeout_ms)
{
	if (!b->sup_up)
		return -ESRCH;
	return supervisor_stats(&b->sup, st, reset, timeout_ms);
}
