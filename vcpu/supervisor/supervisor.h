/*
 * supervisor.h: start one device server (isovm-<dev>), hand it its data
 * plane and backend fds, and watch it from the I/O thread.
 *
 * The server is a separate executable next to the isovm binary, started
 * with fork+exec on the spawner thread (spawner.h; never a bare fork of a
 * process that maps guest RAM), with
 * PR_SET_PDEATHSIG(SIGKILL) and no fd but its control socket and stdio
 * (devsrv/common/srv.h, launch contract). The data plane (region, rings,
 * in-flight table) belongs to the VMM and outlives the server: when the
 * server dies its in-flight requests stay there, owned by the VMM, until a
 * restart replays them.
 */
#ifndef ISOVM_SUPERVISOR_H
#define ISOVM_SUPERVISOR_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/dataplane.h"
#include "proto/ctl_msg.h"
#include "sandbox/launcher.h"
#include "vcpu/core/iothread.h"
#include "vcpu/supervisor/server_log.h"

#define SUPERVISOR_READY_TIMEOUT_MS 5000
#define SUPERVISOR_STOP_TIMEOUT_MS  1000
/*
 * CTL_ERRORs a server may send: a token bucket of SUPERVISOR_ERROR_BURST,
 * one token back every SUPERVISOR_ERROR_REFILL_MS. A server has one error
 * to report before it exits; one that empties the bucket floods the log
 * and the I/O thread, which is a protocol error: it is killed.
 */
#define SUPERVISOR_ERROR_BURST	   5
#define SUPERVISOR_ERROR_REFILL_MS 1000
/*
 * Restarts. The first after a server that ran SUPERVISOR_STABLE_MS or
 * more begins at once; each quicker death doubles the wait, from
 * SUPERVISOR_BACKOFF_MIN_MS up to SUPERVISOR_BACKOFF_MAX_MS. A restarted
 * server has SUPERVISOR_RESTART_READY_MS to say READY.
 */
#define SUPERVISOR_STABLE_MS	    250
#define SUPERVISOR_BACKOFF_MIN_MS   10
#define SUPERVISOR_BACKOFF_MAX_MS   1000
#define SUPERVISOR_RESTART_READY_MS 2000
#define SUPERVISOR_FAULTS_MAX	    8

/* When to restart a server, when to give up on it, what to inject. */
struct supervisor_policy {
	/*
	 * Deaths allowed within restart_window_ms, each followed by a
	 * restart; the next one fails the device. 0: never restart.
	 */
	unsigned restart_limit;
	unsigned restart_window_ms;
	/* Requests pending and none completed for this long: the server is
	 * hung, kill it (and restart it). 0: no watchdog. */
	unsigned watchdog_ms;
	/* Faults to inject (sent after READY): into the first server, and
	 * into every restarted one too where again[i]. */
	struct ctl_fault faults[SUPERVISOR_FAULTS_MAX];
	bool again[SUPERVISOR_FAULTS_MAX];
	unsigned nfaults;
	/* How the servers are jailed (launcher.h); seccomp_debug: their
	 * filters log a refused call instead of killing. */
	enum sandbox_mode sandbox;
	bool seccomp_debug;
};

/* Fds a server gets in SETUP besides its data plane's three (and a kept
 * console client, when there is room left for it). */
#define SUPERVISOR_MAX_FDS (CTL_SETUP_MAX_FDS - 3)

/* One of them: its role (CTL_FD_BACKEND, CTL_FD_OUT_PIPE, ...) and fd. */
struct supervisor_fd {
	enum ctl_fd_role role;
	int fd;
};

/*
 * What to start. The caller keeps ownership of the fds; they and the
 * strings stay valid until supervisor_stop() (every restart gets the same
 * fds again).
 */
struct supervisor_spec {
	const char *dev;    /* "console" -> <bindir>/isovm-console */
	const char *name;   /* the device in log lines ("blk0"), copied at
			     * start; NULL: dev */
	const char *bindir; /* NULL: the directory of /proc/self/exe */
	enum ctl_dev_type type;
	struct ctl_setup setup;	   /* dev_type and cfg; geo and fds are
				    * filled in by the supervisor */
	struct ipc_geom geom;	   /* data plane geometry */
	struct supervisor_fd fds[SUPERVISOR_MAX_FDS]; /* supervisor_spec_fd() */
	unsigned nfds;
	int log_level;		   /* enum log_level, passed as --log-level */
	unsigned ready_timeout_ms; /* 0: SUPERVISOR_READY_TIMEOUT_MS */
	struct supervisor_policy policy;
	struct sandbox_limits limits; /* of each server's jail */
};

/* Called on the I/O thread, with no supervisor lock held. */
struct supervisor_ops {
	/* The completion pipe woke us: reap (e.g. front_reap()). */
	void (*completions)(void *opaque);
	/* The server died (already logged and reaped). May be NULL. */
	void (*died)(void *opaque);
	/* Its completions were taken; before its requests in flight are
	 * posted again: complete those it finished without saying so
	 * (front_salvage). May be NULL. */
	void (*salvage)(void *opaque);
	/* A restarted server said READY; its data plane is new (arm the
	 * completion wake-up again). May be NULL. */
	void (*restarted)(void *opaque);
	/* Too many deaths: no more restarts, the device has failed (mark
	 * it NEEDS_RESET). May be NULL. */
	void (*failed)(void *opaque);
};

/* What happened to a device's servers, for the stats line. */
struct supervisor_record {
	uint64_t deaths;	  /* servers that ended while the VM ran */
	uint64_t restarts;	  /* servers that reached READY after one */
	uint64_t replayed;	  /* requests posted again to them */
	char last_cause[80];	  /* why the last one ended */
	uint64_t last_restart_us; /* its death seen -> next READY */
	uint64_t max_restart_us;
	uint64_t last_recover_us; /* its death seen -> next completion */
	bool failed;		  /* gave up: the device is NEEDS_RESET */
};

enum supervisor_state {
	SUPERVISOR_RUNNING,  /* a server runs (or none was started yet) */
	SUPERVISOR_DOWN,     /* dead; a restart is due (back-off) */
	SUPERVISOR_STARTING, /* restarted, hand-shake under way */
	SUPERVISOR_FAILED,   /* too many deaths: no server any more */
	SUPERVISOR_STOPPED,
};

struct supervisor {
	char dev[16];
	enum ctl_dev_type type;
	pid_t pid;	      /* 0 when no server runs */
	int pidfd;	      /* -1 when none; owned */
	int ctl_fd;	      /* our end of the control socket, or -1; owned */
	struct ipc_dp_vmm dp; /* valid after supervisor_start() */
	bool dp_open;
	uint64_t generation;
	struct ctl_ready ready; /* what the server told the guest to see */
	struct iothread *io;
	struct event *ev_cq, *ev_pid, *ev_ctl;
	struct server_log log; /* every server's stderr */
	bool jail_warned;      /* the relaxed sandbox's warning was given */
	char path[PATH_MAX];   /* isovm-<dev>, found once at start */
	const struct supervisor_ops *ops;
	void *opaque;
	atomic_bool alive;
	int exit_status; /* wait status of the last server that ended */
	/* The CTL_ERROR bucket; I/O thread (or its owner once it stopped). */
	unsigned err_spent;    /* tokens taken: 0 is a full bucket */
	uint64_t err_since_ms; /* refills count from here (CLOCK_MONOTONIC) */
	/* STATS_REQUEST numbers (seq), same threads as the bucket. */
	uint64_t stats_sent;	     /* the newest request's */
	uint64_t stats_answered;     /* the newest reply's, taken or dropped */
	struct supervisor_spec spec; /* as given to supervisor_start() */
	/* Restarts and the watchdog; I/O thread only. */
	enum supervisor_state state;
	pthread_mutex_t *dp_lock; /* whoever else uses dp (the front's) */
	struct event *ev_restart; /* back-off, then the READY deadline */
	struct event *ev_watchdog;
	bool hs_hello;		  /* the restarted server's HELLO came */
	int hs_replayed;	  /* requests posted again for it */
	char kill_why[64];	  /* why we killed it, for the record */
	bool asked;		  /* that kill was a restart asked for */
	unsigned backoff_ms;
	uint64_t ready_ms;	  /* when the running server said READY */
	uint64_t down_ns;	  /* when its death was seen */
	uint64_t window_ms;	  /* restart window: start, deaths in it */
	unsigned window_deaths;
	uint64_t wd_completed;	  /* completions at the watchdog's last look */
	uint64_t wd_since_ms;	  /* ...and since when that number held */
	uint64_t await_from;	  /* restarted: completions before the new
				   * server's first; UINT64_MAX when none */
	/* Console socket: the client a server took (CTL_CLIENT), held so
	 * the connection outlives it and handed to the next one in SETUP
	 * (CTL_FD_CLIENT); -1 when none; owned. I/O thread, or its owner
	 * once it stopped. */
	int client_fd;
	struct supervisor_record rec;
};

/*
 * Add fd with role to what every server of spec gets in SETUP; an fd < 0
 * is left out (a role the device does not use). 0, or -E2BIG when spec
 * has SUPERVISOR_MAX_FDS already.
 */
int supervisor_spec_fd(struct supervisor_spec *spec, enum ctl_fd_role role,
		       int fd);

/*
 * Open the data plane, fork+exec the server, run the handshake and SETUP,
 * and wait for READY (s->ready). Blocking; call before the VM runs.
 * Returns 0, or -errno with one line in err (nothing left running).
 */
int supervisor_start(struct supervisor *s, const struct supervisor_spec *spec,
		     char *err, size_t errlen);

/*
 * Watch the server's pidfd, the completion pipe and the control socket
 * on 'io' (started or not); 'dp_lock' is the lock of whoever else uses
 * s->dp (the front's), or NULL. ops->completions runs for every wake-up of
 * the cq pipe; a dead server is logged once ("isovm: console server (pid
 * N) died: ...") and ops->died is called. Then, as spec->policy says, a
 * new server is started, after the completions the dead one left were
 * reaped (ops->completions) and the rest of the requests in flight were
 * posted again in their order, and ops->restarted runs when it is READY
 * (with the same READY as the first, or it is killed); or, past the
 * policy's limit, the device has failed: one log line, ops->failed, no
 * more servers. The watchdog kills a server that leaves requests pending
 * without completing any for policy.watchdog_ms. An unasked CTL_ERROR is logged
 * while the SUPERVISOR_ERROR_BURST bucket lasts, then the server is killed;
 * a STATS_REPLY to a request whose caller timed out is dropped; a console
 * socket server's CTL_CLIENT is kept (s->client_fd); any other
 * unasked message gets the server killed: so a request/reply on
 * s->ctl_fd (STATS_REQUEST) must run on the I/O thread, inside one
 * callback, or after the I/O thread stopped. Returns 0 or -errno.
 */
int supervisor_watch(struct supervisor *s, struct iothread *io,
		     const struct supervisor_ops *ops, void *opaque,
		     pthread_mutex_t *dp_lock);

/*
 * I/O thread (the API): kill the running server and start a new one at
 * once, replaying as after any death, but not counted against the
 * policy's limit. 0, or -ESRCH when no server is running (failed, stopped,
 * or a restart already under way).
 */
int supervisor_restart_asked(struct supervisor *s);

/* Any thread: SIGKILL the server as a crash would (to test crash
 * handling; its death is a failure like any other). 0 or -ESRCH. */
int supervisor_sigkill(struct supervisor *s);

/* I/O thread (the API): hand a fault rule to the running server. 0,
 * -ESRCH (none running) or an error of ctl_send(). */
int supervisor_fault(struct supervisor *s, const struct ctl_fault *f);

/* I/O thread (the API), test only: ask the running server to try escape
 * attempt n (sandbox/escape.h); what came of it is logged when its answer
 * comes, or its death is. 0, -ESRCH or an error of ctl_send(). */
int supervisor_escape(struct supervisor *s, unsigned n);

/*
 * One line for the stats: "NAME server: deaths=N restarts=N replayed=N
 * restart_ms=LAST/MAX last_cause=..." (plus " failed" once given up).
 */
void supervisor_record_line(const struct supervisor *s, const char *name,
			    char *buf, size_t len);

/*
 * The server broke the protocol (bad completion, bad control message):
 * log 'why' and SIGKILL it. The pidfd watch then reports the death. Any
 * thread.
 */
void supervisor_kill(struct supervisor *s, const char *why);

/*
 * The server's own per-op counters over its control socket (STATS_REQUEST
 * -> STATS_REPLY; 'reset' zeroes them), for the API server. On the I/O
 * thread (the control-socket watch runs there as well, so it cannot take
 * the reply), or once that thread stopped. Blocks up to timeout_ms. The
 * request is numbered and only the reply with its number is taken; late
 * replies to earlier requests that timed out are dropped. Returns 0,
 * -ESRCH (no server), -ETIMEDOUT, or -EPROTO (a CTL_ERROR, logged like an
 * unasked one; any other message instead of the reply; a broken control
 * socket).
 */
int supervisor_stats(struct supervisor *s, struct ctl_stats *st, bool reset,
		     unsigned timeout_ms);

/*
 * End of the VM: unwatch, send CTL_SHUTDOWN, wait up to timeout_ms (0:
 * SUPERVISOR_STOP_TIMEOUT_MS) for the exit, then SIGKILL; reap it (no
 * zombie), close the control socket and the data plane. Call after the
 * I/O thread stopped or from it. Idempotent.
 */
void supervisor_stop(struct supervisor *s, unsigned timeout_ms);

#endif
