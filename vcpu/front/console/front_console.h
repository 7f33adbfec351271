/*
 * front_console.h: the console front: virtio-console (device id 3, port 0
 * only: receiveq 0, transmitq 1) on slot 0, and the UART's byte stream,
 * both carried by the isovm-console server on one backend.
 *
 * The bytes go through two kernel pipes the VMM holds for the device's
 * whole life (console_pipe.h), never through the server's rings; the
 * server only moves them between the pipes and the backend with splice,
 * so a server killed at any instant leaves every byte in a pipe or in the
 * backend, and its successor takes up the same pipes.
 *
 * Output: the I/O thread writes the guest's bytes into the OUT pipe, never
 * blocking: a virtio transmit chain is given back to the guest once all
 * its bytes are in the pipe; UART bytes are queued by vCPU threads into a
 * bounded buffer (never blocking: bytes beyond it are dropped and counted)
 * and written in batches. Both keep the order in which they reached the
 * VMM: a chain's bytes go in after the UART bytes queued before it, and
 * UART bytes never go between the bytes of one chain. A full pipe is
 * backpressure: the writing waits until the pipe has room (the transmit
 * queue stalls, the UART buffer fills).
 *
 * Input: the VMM reads the IN pipe only when the guest has somewhere to
 * put the bytes: a posted virtio receive buffer first, else the UART's
 * receive FIFO while the guest reads it, as far as it has room. Otherwise
 * the bytes wait in the pipe (and then in the backend).
 */
#ifndef ISOVM_FRONT_CONSOLE_H
#define ISOVM_FRONT_CONSOLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcpu/config/console_cfg.h"
#include "vcpu/core/iothread.h"
#include "vcpu/front/console/console_pipe.h"
#include "vcpu/front/front.h"
#include "vcpu/platform/uart.h"
#include "vcpu/supervisor/supervisor.h"
#include "vcpu/virtio/virtio_dev.h"

#define FRONT_CONSOLE_SLOT	0
#define FRONT_CONSOLE_QUEUE_MAX 128
#define FRONT_CONSOLE_TX_BUF	65536 /* UART bytes not yet in the pipe */
/*
 * UART output is written in batches: at once from FRONT_CONSOLE_TX_BATCH
 * queued bytes, else FRONT_CONSOLE_TX_DELAY_US after the first byte of a
 * burst. A wake-up per byte costs the vCPU more than the byte's own exit
 * on a small host.
 */
#define FRONT_CONSOLE_TX_BATCH	  1024
#define FRONT_CONSOLE_TX_DELAY_US 500
/* Guest output the OUT pipe holds before the guest waits for the server. */
#define FRONT_CONSOLE_OUT_PIPE (256u << 10)
/* Bytes copied between guest buffers and a pipe per system call. */
#define FRONT_CONSOLE_BOUNCE (64u << 10)
#define FRONT_CONSOLE_DRAIN_MS 2000 /* at exit, for the OUT pipe to empty */
/*
 * At exit, for the server to stop: it first writes what the OUT pipe still
 * holds to a slow reader, for up to 2 s (its CONSOLE_CLOSE_DRAIN_MS).
 */
#define FRONT_CONSOLE_STOP_MS 3000

struct front_console_stats {
	uint64_t uart_out, uart_in;	/* bytes into / out of the pipes */
	uint64_t uart_dropped;		/* output bytes dropped */
	uint64_t virtio_out, virtio_in; /* bytes into / out of the pipes */
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
	/* The pipes; the front's lock guards what is done with them. */
	struct console_pipe out, in;
	bool pipes_open;
	uint8_t bounce[FRONT_CONSOLE_BOUNCE]; /* under the front's lock */
	bool tx_stalled; /* a transmit chain waits for room in the pipe */
	bool tx_midway;	 /* ...with some of its bytes written already */
	bool rx_waiting; /* a receive chain waits for input */
	/* UART output: vCPU threads append under tx_lock, I/O thread writes. */
	pthread_mutex_t tx_lock;
	uint8_t tx_buf[FRONT_CONSOLE_TX_BUF];
	size_t tx_head, tx_len;
	int tx_efd; /* owned; wakes the I/O thread */
	struct event *tx_ev;
	struct event *tx_timer; /* writes a small batch of UART output */
	atomic_bool draining;	/* exit: write UART output at once */
	/* UART input read from the pipe that its FIFO did not take yet. */
	uint8_t in_pend[UART_RX_FIFO];
	size_t in_off, in_len;
	struct event *in_timer; /* looks at the UART again: FIFO, IER */
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
 * After vm_init(), before vm_run(): make the pipes, start isovm-console on
 * 'res' and them (the caller keeps res open until front_console_stop()),
 * put the virtio console on slot 0, watch everything on 'io'. Returns 0
 * or -errno with err set.
 */
int front_console_start(struct front_console *fc, struct vm *vm,
			struct iothread *io, const struct console_res *res,
			int log_level, const struct supervisor_policy *policy,
			char *err, size_t errlen);

/*
 * The VM ended, the I/O thread still runs (restarts too): give the
 * guest's output up to FRONT_CONSOLE_DRAIN_MS to be written to the backend
 * (the UART buffer into the pipe, the pipe emptied by the server).
 */
void front_console_drain(struct front_console *fc);

/* After the I/O thread stopped: shut the server down, free everything. */
void front_console_stop(struct front_console *fc);

#endif
