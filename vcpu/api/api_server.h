/*
 * api_server.h: the management socket (`--api-socket PATH`) that isovmctl
 * talks to: status, devices, per-device statistics, restart and kill of a
 * device server, fault rules, pause, resume and shutdown.
 *
 * A SOCK_SEQPACKET unix socket (mode 0600), one request or reply per
 * datagram (ipc/api_channel.h), served on the VMM's I/O thread. Every
 * socket is non-blocking: a client that sends garbage or something too
 * large gets an error reply and is disconnected, and one that does not
 * read its replies is disconnected when its queue is full; none can hold
 * the I/O thread. At most API_CLIENTS_MAX clients at once.
 *
 * A client that asks for a device's trace gets an OK, then one
 * API_REPLY_TRACE per request the device finishes and per virtqueue rule
 * its driver breaks (vcpu/core/trace.h), from whichever thread made it,
 * until it disconnects. A trace that does not fit the client's queue is
 * dropped: the sequence numbers then skip it.
 */
#ifndef ISOVM_API_SERVER_H
#define ISOVM_API_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/un.h>

#include "proto/api_msg.h"
#include "vcpu/core/iothread.h"
#include "vcpu/supervisor/supervisor.h"
#include "vcpu/virtio/virtio_mmio.h"
#include "vcpu/vm/vm.h"

#define API_CLIENTS_MAX	  16
#define API_STATS_WAIT_MS 1000

/* A device the API shows: its server and its transport. */
struct api_device_ref {
	char name[API_NAME_MAX + 1]; /* "console", "blk0" */
	char trace_name[16];	     /* its transport's ("console0") */
	enum ctl_dev_type type;
	struct supervisor *sup;
	struct virtio_mmio_dev *vdev; /* its NEEDS_RESET, under lock */
	pthread_mutex_t *lock;
};

struct api_client {
	int fd; /* -1: free */
	struct event *ev;
	struct api_server *srv;
	/* Under srv->trace_lock: the device traced (-1: none), and its
	 * events offered so far. */
	int trace_dev;
	uint64_t trace_seq;
};

struct api_server {
	int listen_fd; /* -1 when not serving */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct iothread *io;
	struct event *ev_listen;
	struct vm *vm;
	struct api_device_ref dev[API_MAX_DEVICES];
	unsigned ndev;
	struct api_client client[API_CLIENTS_MAX];
	/* Guards the clients' trace fields and their fds against the
	 * threads that emit traces. */
	pthread_mutex_t trace_lock;
	unsigned tracers;
	/* shutdown: the guest's power button, then a hard stop this many
	 * ms later if it is still running (0: the hard stop at once). */
	unsigned shutdown_grace_ms;
	struct event *ev_halt;
};

/*
 * Create the socket at path (it must not exist: refused otherwise, so
 * that a second isovm cannot take over the first one's), mode 0600.
 * Before the I/O thread runs. Returns 0 or -errno with one line in err.
 */
int api_server_open(struct api_server *a, const char *path, struct vm *vm,
		    char *err, size_t errlen);

/* Before api_server_start(): one more device to show. 0 or -ENOSPC. */
int api_server_add(struct api_server *a, const struct api_device_ref *d);

/* Serve on io (started or not). 0 or -ENOMEM. */
int api_server_start(struct api_server *a, struct iothread *io);

/* After the I/O thread stopped: close every client and the socket,
 * remove its path. Idempotent. */
void api_server_close(struct api_server *a);

#endif
