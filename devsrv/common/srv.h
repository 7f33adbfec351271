/* srv.h: the device-server core every isovm-<dev> binary is built on. */
#ifndef ISOVM_DEVSRV_SRV_H
#define ISOVM_DEVSRV_SRV_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc_entry.h"
#include "proto/ctl_msg.h"

/*
 * ---- Launch contract (the VMM's supervisor implements the other side) ----
 *
 * The VMM fork+execs build/bin/isovm-<dev> (console, blk, net) with
 *     isovm-<dev> --ctl-fd N [--log-level error|warn|info|debug]
 *                 [--seccomp on|debug|off] [device options]
 * N is the server's end of a SOCK_SEQPACKET socketpair (the control
 * socket). stdin/stdout/stderr are inherited; the server writes log lines
 * to stderr only, each prefixed "isovm-<dev>[pid]: ". The VMM sets
 * PR_SET_PDEATHSIG in the child before exec. No other fd is inherited: the
 * server never opens a path; everything reaches it in SETUP. The
 * environment may be empty: nothing is read from it. Device options are
 * the device's (isovm-blk: --workers N).
 *
 * --seccomp (default on): once SETUP is handled (region mapped, device set
 * up, its threads started) and before READY, the server makes itself not
 * dumpable (PR_SET_DUMPABLE 0: exec reset it) and loads the device's
 * allowlist (srv_dev_ops.policy) for all its threads: from then on a call
 * outside it kills the process with SIGSYS. on: a filter that cannot be
 * loaded fails the setup (CTL_ERROR, exit 1). debug: a refused call is
 * logged by name on stderr ("seccomp: isovm-blk refused openat (nr 257)")
 * and fails with ENOSYS. off: no filter (still not dumpable).
 *
 * Handshake, one control message per datagram (ipc/ctl_channel.h):
 *  1. server -> VMM  HELLO {version, role SERVER, its dev type, pid}
 *  2. VMM -> server  HELLO {same version, role VMM}
 *  3. VMM -> server  SETUP {dev type (must match), device config, geometry,
 *                    fds: CTL_FD_MEMFD, CTL_FD_KICK (read end of the sq
 *                    pipe the VMM writes), CTL_FD_CALL (write end of the
 *                    cq pipe the VMM reads), both non-blocking,
 *                    backend fd(s): CTL_FD_BACKEND, CTL_FD_BACKEND_OUT,
 *                    and the console's pipes: CTL_FD_OUT_PIPE,
 *                    CTL_FD_IN_PIPE, and a socket backend's client the
 *                    VMM kept from an earlier server: CTL_FD_CLIENT}
 *     The server maps the memfd with ipc_dp_srv_open() against the
 *     geometry of SETUP and lets the device set its backend up.
 *  4. server -> VMM  READY {features, config bytes}
 * Then the server runs. Legal in the running state: STATS_REQUEST (answered
 * in order by STATS_REPLY, which echoes the request's seq), RESET (device
 * reset op), FAULT (fault-injection table), ESCAPE (test only: one sandbox
 * escape attempt of sandbox/escape.h; answered by ESCAPE_RESULT with its
 * errno unless the filter killed the server; an errno of 0 means it
 * succeeded, which the server also logs as an error), SHUTDOWN. Unasked,
 * the server sends CTL_ERROR before it exits, and the console's CTL_CLIENT
 * (srv_send()) as its socket backend takes and drops clients. Any
 * message outside this route table, in the wrong state, or undecodable is
 * a protocol error: the server sends CTL_ERROR and exits 1.
 *
 * Exit status: 0 when the VMM goes away (HUP/EOF on the control socket) or
 * after SHUTDOWN; 1 after a fatal error, which is always first reported to
 * the VMM with ctl_send_error(); 2 for a bad command line. A crash fault
 * ends the server by a trap: SIGILL.
 */

struct srv;
struct sandbox_policy;

/* --seccomp: the device's allowlist once it is set up. */
enum srv_seccomp {
	SRV_SECCOMP_ON,	   /* a refused call kills the server (default) */
	SRV_SECCOMP_DEBUG, /* a refused call is logged by name, fails ENOSYS */
	SRV_SECCOMP_OFF,   /* none: debugging the server itself */
};

/* Backend fds from SETUP, by role; -1 when absent. The core owns them and
 * closes them after the device's shutdown op; the device must not close
 * them (it may change their flags, e.g. O_NONBLOCK). */
struct srv_fds {
	int backend;	 /* CTL_FD_BACKEND */
	int backend_out; /* CTL_FD_BACKEND_OUT (e.g. stdio output) */
	int out_pipe;	 /* CTL_FD_OUT_PIPE (console: the guest's output) */
	int in_pipe;	 /* CTL_FD_IN_PIPE (console: the guest's input) */
	/* CTL_FD_CLIENT (console socket: the client the VMM kept). The one
	 * exception: the device owns it from setup() on, whether setup()
	 * succeeds or not, and closes it when done. */
	int client;
};

/* What handle() did with a request. */
enum srv_verdict {
	SRV_DONE = 0,	 /* *cpl filled (status, len) now */
	SRV_PENDING = 1, /* the device completes it later by id with
			  * srv_complete() or srv_complete_async() */
};

/*
 * A device's operations. Every op runs on the loop thread. The device's
 * private state pointer is given to srv_main() and read back with
 * srv_dev().
 */
struct srv_dev_ops {
	const char *name; /* "console", "blk": log prefix isovm-NAME */
	enum ctl_dev_type dev_type; /* must match HELLO/SETUP */

	/*
	 * The system calls the device may make once set up
	 * (sandbox/seccomp_policy.h), loaded for every thread after setup()
	 * and before READY. Its rows may pin arguments to the slots of
	 * enum sandbox_srv_slot. NULL: --seccomp on or debug fails the
	 * setup.
	 */
	const struct sandbox_policy *policy;

	/*
	 * A "--flag value" pair of the device's own, during srv_main()'s
	 * parsing, before anything else runs: 0 when taken, -EINVAL when not
	 * the device's (a usage error). May be NULL. @usage: those flags
	 * for the usage line ("[--workers N]"), or NULL.
	 */
	int (*option)(void *dev, const char *flag, const char *value);
	const char *usage;

	/*
	 * Once, after the data plane is mapped. @setup is the validated SETUP
	 * (device config in setup->cfg). Fill @ready (zeroed by the caller).
	 * Return 0, or -errno: the core reports it and exits 1. The device
	 * may add its own libevent events on srv_base().
	 */
	int (*setup)(struct srv *srv, const struct ctl_setup *setup,
		     const struct srv_fds *fds, struct ctl_ready *ready);

	/*
	 * One request, a private copy already taken off the ring. @buf is the
	 * request's arena buffer, checked to lie inside the arena
	 * (arena_len bytes; NULL when arena_len is 0). It is shared memory
	 * the VMM can change at any time: copy before parsing anything in it.
	 * Return SRV_DONE with cpl->status (0 or -errno) and cpl->len
	 * (<= arena_len) set; the core fills cpl->id. Or SRV_PENDING: the
	 * device keeps req->id (and may keep @buf until it completes) and
	 * completes exactly once later. Must not block, except for one short
	 * operation when srv_sq_idle() says nothing waits behind it. Must
	 * not allocate (ring path).
	 */
	enum srv_verdict (*handle)(struct srv *srv, const struct ipc_req *req,
				   void *buf, struct ipc_cpl *cpl);

	/*
	 * CTL_RESET from the VMM (the guest reset the device). Pending
	 * requests may be completed from here or dropped: after a reset the
	 * VMM forgets what is in flight. May be NULL.
	 */
	void (*reset)(struct srv *srv);

	/* Before the process ends, on every path after a successful setup
	 * (restore terminals, flush what can be flushed without blocking long,
	 * join workers). May be NULL. */
	void (*shutdown)(struct srv *srv);

	/*
	 * Request classes whose drop and corrupt faults act on the frame a
	 * request carries, not on the request (bit 1 << CTL_OP_*): the
	 * device asks srv_frame_fault() per frame and drops it or damages
	 * its bytes itself, and the request completes as usual. Other kinds
	 * (error, delay, crash) still act on the request. 0: none.
	 */
	uint32_t frame_fault_classes;

	/* Class of a request op for per-op stats and faults (a CTL_OP_*), or
	 * 0 when the op is unknown (counted under CTL_OP_ANY). */
	enum ctl_op (*op_class)(uint32_t op);

	/* Append device counters with srv_stats_add(); @reset: zero them after
	 * reading. May be NULL. */
	void (*stats)(struct srv *srv, struct ctl_stats *st, bool reset);
};

/*
 * The program's whole life: parse argv (launch contract above), handshake,
 * set up, run the loop, shut down. Returns the exit status for main().
 * @dev is the device's private state, returned by srv_dev().
 */
int srv_main(int argc, char **argv, const struct srv_dev_ops *ops, void *dev);

/* The device's private state, as given to srv_main(). */
void *srv_dev(struct srv *srv);

/* The libevent loop (struct event_base *), for the device's own fds,
 * timers and events. Loop thread only. */
struct event_base *srv_base(struct srv *srv);

/* A message of the device's own to the VMM (the console's CTL_CLIENT),
 * with its fds, which the caller keeps. Loop thread only, once READY was
 * sent. Returns as ctl_send(). */
int srv_send(struct srv *srv, const struct ctl_msg *msg, const int *fds,
	     unsigned nfds);

/*
 * From handle() on the loop thread: true when no other request waits
 * behind the one being handled (the last of its batch, and the submission
 * ring empty now). A device may then run it inline (a single disk read at
 * queue depth 1) and save the hand-offs to a thread and back.
 */
bool srv_sq_idle(struct srv *srv);

/*
 * Complete a request the device answered SRV_PENDING. Loop thread only.
 * Completions are batched and pushed on the completion ring at the end of
 * the current loop pass (one kick per batch, none when the VMM is not
 * sleeping). An id that is not pending at the device is refused with
 * -EBADMSG (a device bug; nothing is pushed). Returns 0.
 */
int srv_complete(struct srv *srv, const struct ipc_cpl *cpl);

/*
 * The same from any thread (device worker threads): queued under a lock
 * and handed to srv_complete() on the loop thread after an eventfd wake-up.
 * Never fails for an id that is pending (the queue holds every request the
 * VMM can have in flight); -EBADMSG is reported later in the log.
 * Returns 0 or -ENOSPC (more completions queued than requests pending).
 */
int srv_complete_async(struct srv *srv, const struct ipc_cpl *cpl);

/*
 * ---- Bytes a device moves itself (the console's pipes) ----
 * A device whose data never rides the rings asks the fault table before
 * each transfer and reports each one after it, so that fault injection,
 * per-op statistics and latencies work as they do for requests. Loop
 * thread only.
 */

/* CLOCK_MONOTONIC now, in ns: the t0 of a transfer. */
uint64_t srv_now_ns(void);

/*
 * A transfer of class @cls (a CTL_OP_*) is about to start: the fault rule
 * that fires for it, or NULL to go on. The device then waits
 * f->delay_us before it (CTL_FAULT_DELAY), fails it with -f->error_code
 * (CTL_FAULT_ERROR), or never makes it (CTL_FAULT_DROP: a hang, until the
 * VMM replaces the server). A crash rule aborts the server here; a corrupt
 * rule pushes a completion of an id never issued (the VMM then replaces
 * the server) and returns NULL.
 */
const struct ctl_fault *srv_transfer_fault(struct srv *srv, enum ctl_op cls);

/*
 * For a class in ops->frame_fault_classes, once per frame: the drop or
 * corrupt rule that fires for it (the device drops the frame, or changes
 * a byte of it), or NULL. Loop thread only.
 */
const struct ctl_fault *srv_frame_fault(struct srv *srv, enum ctl_op cls);

/*
 * A transfer of class @cls that started at @t0_ns ended: @bytes moved
 * (@status 0), or it failed with @status (-errno). Counted in the per-op
 * statistics as one request of that class.
 */
void srv_transfer_done(struct srv *srv, enum ctl_op cls, uint64_t t0_ns,
		       uint64_t bytes, int status);

/*
 * Fatal error after setup (backend gone for good, broken invariant):
 * report it to the VMM with ctl_send_error(), stop the loop; srv_main()
 * then runs the shutdown op and returns 1. Loop thread only.
 */
void srv_fail(struct srv *srv, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add "key" = value to st->extra; silently ignored when full or when key
 * is not a valid name (ctl_name_ok). */
void srv_stats_add(struct ctl_stats *st, const char *key, uint64_t value);

/* Logging to stderr as "isovm-<dev>[pid]: message\n", one write per line.
 * Levels as the VMM's: 0 error, 1 warn (default), 2 info, 3 debug. */
enum srv_log_level {
	SRV_LOG_ERROR,
	SRV_LOG_WARN,
	SRV_LOG_INFO,
	SRV_LOG_DEBUG,
};
void srv_log(enum srv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define srv_err(...)   srv_log(SRV_LOG_ERROR, __VA_ARGS__)
#define srv_warn(...)  srv_log(SRV_LOG_WARN, __VA_ARGS__)
#define srv_info(...)  srv_log(SRV_LOG_INFO, __VA_ARGS__)
#define srv_debug(...) srv_log(SRV_LOG_DEBUG, __VA_ARGS__)

#endif
