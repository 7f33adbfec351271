/* srv_core.h: the server core's private state, shared by devsrv/common/. */
#ifndef ISOVM_DEVSRV_SRV_CORE_H
#define ISOVM_DEVSRV_SRV_CORE_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devsrv/common/srv.h"
#include "ipc/dataplane.h"

/* Requests taken off the ring per batch. */
#define SRV_BATCH 64
/* Batches per kick callback before other events get a turn. */
#define SRV_BATCHES_PER_PASS 16

/*
 * Event priorities. libevent runs only the highest non-empty priority in a
 * pass, so everything of the data path shares NORMAL (the default of a
 * device's own events, FIFO among themselves: a flush activated by a
 * callback runs after it, and a busy ring cannot starve a backend);
 * control messages go first.
 */
enum srv_prio { SRV_PRIO_HIGH, SRV_PRIO_NORMAL, SRV_PRIO_LOW, SRV_NPRIO };

/* Control-socket states of the route table. */
enum srv_state {
	SRV_WAIT_HELLO = 1u << 0,
	SRV_WAIT_SETUP = 1u << 1,
	SRV_RUNNING = 1u << 2,
};

enum srv_pend_state { SRV_PEND_FREE, SRV_PEND_DELAYED, SRV_PEND_DEVICE };

/* A request the core has taken and not yet completed, by id slot. */
struct srv_pend {
	struct ipc_req req; /* private copy, for a delayed dispatch */
	uint64_t t0_ns;	    /* when it was taken off the ring */
	enum srv_pend_state state;
	enum ctl_op cls;
	struct event timer; /* delay fault */
	struct srv *srv;
};

struct srv_opstat {
	uint64_t requests, bytes, errors, lat_sum_ns, lat_max_ns;
	uint64_t lat_hist[CTL_LAT_BUCKETS];
};

struct srv_fault_rule {
	bool active;
	struct ctl_fault f;
	uint64_t seen; /* requests matched, for EVERY_NTH */
	uint32_t fired;
};

/* Counters of the core itself, reported as stats extras. */
struct srv_core_stats {
	uint64_t bad_requests; /* refused before the device saw them */
	uint64_t faults_fired;
	uint64_t faults_dropped;
	uint64_t cpl_overflow; /* completions lost: VMM broke its limit */
};

struct srv {
	const struct srv_dev_ops *ops;
	void *dev;
	int ctl_fd;
	enum srv_seccomp seccomp;
	enum srv_state state;
	int exit_code;
	bool dev_set_up;
	struct event_base *base;
	struct event *ev_ctl, *ev_kick, *ev_flush, *ev_async;

	struct ipc_dp_srv dp;
	bool dp_open;
	int memfd, kick_fd, call_fd;
	struct srv_fds fds;

	uint32_t cap;	       /* sq_entries: most in flight */
	struct srv_pend *pend; /* [cap] */
	struct ipc_cpl *cpl;   /* [cap] batch not yet pushed */
	uint32_t ncpl;
	struct ipc_req batch[SRV_BATCH];
	uint32_t batch_rest; /* requests of the batch behind the current one */

	struct srv_opstat st[CTL_OP_MAX + 1];
	struct srv_fault_rule fault[CTL_OP_MAX + 1];
	struct srv_core_stats cst;
	uint64_t rng;

	pthread_mutex_t aq_lock; /* guards aq, naq */
	struct ipc_cpl *aq;	 /* [cap] async completions */
	uint32_t naq;
	int aq_efd;
};

/*
 * In-process pieces, used by srv_main() and by tests/fuzz that drive the
 * core without a VMM process. srv_core_new: state with its event base (no
 * control socket: ctl_fd -1). srv_core_attach: map the data plane and
 * allocate the tables (fds are borrowed; srv_core_free closes only what
 * srv_main() stored in s->memfd/kick_fd/call_fd/fds).
 */
struct srv *srv_core_new(const struct srv_dev_ops *ops, void *dev);
int srv_core_attach(struct srv *s, int memfd, int kick_fd, int call_fd,
		    const struct ipc_geom *geo);
void srv_core_free(struct srv *s);

/* Take every request off the ring (bounded per call) and dispatch it. */
void srv_ring_drain(struct srv *s);
/* Hand one private request copy through faults to the device. */
void srv_ring_dispatch(struct srv *s, const struct ipc_req *req);
/* Timer of a delay fault: hands the request to the device. */
void srv_ring_delay_cb(evutil_socket_t fd, short what, void *arg);
/* Push the completion batch now. */
void srv_ring_flush(struct srv *s);
/* Zero counters. */
void srv_ring_stats(struct srv *s, struct ctl_stats *st, bool reset);

/* Fault table (srv_fault.c). */
void srv_fault_set(struct srv *s, const struct ctl_fault *f);
/* The rule that fires for request @req of class @cls now, or NULL. */
/* Whether class cls's rule is a drop or corrupt the device applies to
 * frames (srv_dev_ops.frame_fault_classes): the request passes untouched. */
bool srv_fault_on_frames(const struct srv *s, enum ctl_op cls);
const struct ctl_fault *srv_fault_pick(struct srv *s, enum ctl_op cls,
				       const struct ipc_req *req);

/* Arguments (srv_args.c). */
struct srv_args {
	int ctl_fd;
	enum srv_log_level level;
	int outer_pid; /* the pid outside the jail's pid namespace, or 0 */
	enum srv_seccomp seccomp; /* SRV_SECCOMP_ON when not given */
};
/* A pair the core does not know goes to ops->option(dev, ...). */
int srv_args_parse(int argc, char **argv, const struct srv_dev_ops *ops,
		   void *dev, struct srv_args *a);

/*
 * The server's own confinement (srv_sandbox.c), once the device is set
 * up and before READY: not dumpable, and the device's seccomp policy for
 * every thread as s->seccomp says. Returns 0, or -errno after reporting
 * it with srv_fail().
 */
int srv_sandbox_apply(struct srv *s);
/* CTL_ESCAPE: make the attempt; answer CTL_ESCAPE_RESULT if still alive. */
int srv_sandbox_escape(struct srv *s, const struct ctl_escape *e);

/* Logging (srv_log.c): set once at start. */
void srv_log_init(const char *dev_name, enum srv_log_level level,
		  int outer_pid);
/* Route libevent's messages through srv_log(). */
void srv_log_init_libevent(void);

#endif
