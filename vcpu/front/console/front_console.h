/*
 * front_console.h: the console front: virtio-console (device id 3, port 0
 * only: receiveq 0, transmitq 1) on slot 0, and the UART's byte stream,
 * both carried by the isovm-console server (ipc/devproto.h console ops).
 *
 * UART output is queued by vCPU threads into a bounded buffer (never
 * blocking: bytes beyond it are dropped and counted) and posted by the I/O
 * thread as CONSOLE_OP_OUT. One CONSOLE_OP_IN for the UART stays posted
 * while the UART can take its bytes. Virtio transmit chains become
 * CONSOLE_OP_OUT, receive chains CONSOLE_OP_IN (in flight until input
 * comes), a device reset CONSOLE_OP_CANCEL_IN.
 */
#ifndef ISOVM_FRONT_CONSOLE_H
#define ISOVM_FRONT_CONSOLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcpu/config/console_cfg.h"
#include "vcpu/core/iothread.h"
#include "vcpu/front/front.h"
#include "vcpu/platform/uart.h"
#include "vcpu/supervisor/supervisor.h"
#include "vcpu/virtio/virtio_dev.h"

#define FRONT_CONSOLE_SLOT	  0
#define FRONT_CONSOLE_QUEUE_MAX	  128
#define FRONT_CONSOLE_TX_BUF	  65536	       /* UART bytes not yet posted */
/*
 * UART output is posted in batches: at once from FRONT_CONSOLE_TX_BATCH
 * queued bytes, else FRONT_CONSOLE_TX_DELAY_US after the first byte of a
 * burst. A wake-up per byte costs the vCPU more than the byte's own exit
 * on a small host.
 */
#define FRONT_CONSOLE_TX_BATCH	  1024
#define FRONT_CONSOLE_TX_DELAY_US 500
#define FRONT_CONSOLE_TX_REQ	  4096	       /* UART bytes per request */
#define FRONT_CONSOLE_TX_INFLIGHT 8	       /* UART OUT requests at most */
#define FRONT_CONSOLE_OUT_MAX	  (256u << 10) /* bytes per virtio OUT request */
#define FRONT_CONSOLE_IN_MAX	  4096u	       /* bytes per virtio IN request */
#define FRONT_CONSOLE_DRAIN_MS	  2000	       /* at exit, for UART output */
/*
 * At exit, for the server to stop: it first writes what it queued to a
 * slow reader, for up to 2 s (its CONSOLE_CLOSE_DRAIN_MS), then exits.
 */
#define FRONT_CONSOLE_STOP_MS 3000

struct front_console_stats {
	uint64_t uart_out, uart_in;	/* bytes delivered */
	uint64_t uart_dropped;		/* output bytes dropped */
	uint64_t virtio_out, virtio_in; /* bytes delivered */
	uint64_t virtio_truncated;	/* transmit bytes beyond 4 requests */
};

struct front_console {
	struct supervisor sup;
	struct virtio_dev vdev;
	struct virtio_dev_ops ops; /* features and config from READY */
	struct front front;
	struct uart *uart;
	struct iothread *io;
	bool started, vdev_ready, front_ready;
	atomic_bool server_dead;
	/* UART output: vCPU threads append under tx_lock, I/O thread posts. */
	pthread_mutex_t tx_lock;
	uint8_t tx_buf[FRONT_CONSOLE_TX_BUF];
	size_t tx_head, tx_len;
	int tx_efd; /* owned; wakes the I/O thread */
	struct event *tx_ev;
	struct event *tx_timer; /* posts a small batch of UART output */
	atomic_bool draining;   /* exit: post UART output at once */
	pthread_cond_t drained; /* with front.lock: a pump ran while draining */
	unsigned tx_inflight; /* UART OUT requests at the server */
	/* UART input: at most one IN posted; bytes the FIFO had no room for. */
	bool in_posted;
	uint8_t in_pend[FRONT_CONSOLE_TX_REQ];
	size_t in_off, in_len;
	struct event *in_timer; /* retries in_pend while the FIFO is full */
	bool cancel_pending;	/* CANCEL_IN not posted yet (no room) */
	/* Tags of the front's own requests (compared by address). */
	char tag_out, tag_in, tag_cancel;
	struct front_console_stats st; /* under the front's lock */
};

/* UART backend ops for vm_init(); opaque is the struct front_console. */
extern const struct uart_backend_ops front_console_uart_ops;

/*
 * The device feature bits the guest is offered for the server's READY:
 * what the server says, limited to what this front can serve.
 */
uint64_t front_console_features(const struct ctl_ready *ready);

/* Before vm_init(): the UART output buffer (queues until started). */
int front_console_init(struct front_console *fc);

/*
 * After vm_init(), before vm_run(): start isovm-console on 'res' (the
 * caller keeps res open until front_console_stop()), put the virtio console
 * on slot 0, watch everything on 'io'. Returns 0 or -errno with err set.
 */
int front_console_start(struct front_console *fc, struct vm *vm,
			struct iothread *io, const struct console_res *res,
			int log_level, const struct supervisor_policy *policy,
			char *err, size_t errlen);

/*
 * The VM ended, the I/O thread still runs: give queued UART output up to
 * FRONT_CONSOLE_DRAIN_MS to reach the server.
 */
void front_console_drain(struct front_console *fc);

/* After the I/O thread stopped: shut the server down, free everything. */
void front_console_stop(struct front_console *fc);

#endif
