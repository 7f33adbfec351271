/*
 * server_cfg.h: how device servers are kept alive (`--restart-limit`,
 * `--watchdog-ms`) and the faults injected into them (`--fault`).
 */
#ifndef ISOVM_SERVER_CFG_H
#define ISOVM_SERVER_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/ctl_msg.h"

#define SERVER_CFG_RESTARTS_DEFAULT  5
#define SERVER_CFG_WINDOW_MS_DEFAULT 10000u
#define SERVER_CFG_WATCHDOG_DEFAULT  5000u
#define SERVER_CFG_RESTARTS_MAX	     100000u
#define SERVER_CFG_FAULTS_MAX	     16

/* --sandbox: how device servers are jailed and the VMM confined. */
enum server_sandbox {
	SERVER_SANDBOX_ON,	/* every step, or the VMM does not start */
	SERVER_SANDBOX_RELAXED, /* steps the host cannot do are skipped */
	SERVER_SANDBOX_OFF,	/* none: for debugging isovm itself */
};

/* One --fault: a rule for the servers of one device. */
struct server_fault {
	char dev[16];	     /* "blk0".."blk7", "console" */
	struct ctl_fault f;  /* validated as ctl_msg_encode() would */
	bool on_restart;     /* into every restarted server, not just the first */
};

struct server_cfg {
	unsigned restart_limit;	    /* deaths allowed in the window */
	unsigned restart_window_ms;
	unsigned watchdog_ms;	    /* 0: off */
	struct server_fault faults[SERVER_CFG_FAULTS_MAX];
	unsigned nfaults;
	enum server_sandbox sandbox;
	bool sandbox_debug; /* --sandbox-debug: log refused calls, not kill */
};

void server_cfg_default(struct server_cfg *c);

/* "N" or "N/SECONDS" (N 0..100000: 0 never restarts; SECONDS 1..3600). */
int server_cfg_parse_restarts(const char *v, struct server_cfg *c, char *err,
			      size_t errlen);

/* Milliseconds, 0..600000 (0: no watchdog). */
int server_cfg_parse_watchdog(const char *v, struct server_cfg *c, char *err,
			      size_t errlen);

/* on, relaxed or off. */
int server_cfg_parse_sandbox(const char *v, struct server_cfg *c, char *err,
			     size_t errlen);

/*
 * "DEV:KIND[:KEY=VALUE]...", KIND error|delay|crash|drop|corrupt; keys
 * op=any|read|write|flush|get_id|out|in, every=N or ppm=N (default
 * every=1), count=N (default 1; 0 no limit), delay-us=N, errno=N,
 * sectors=FIRST-LAST (block reads and writes touching those sectors only;
 * not counted for the rest), and the word restarts (every restarted server gets the rule again). Returns 0 or
 * -EINVAL with one line in err.
 */
int server_cfg_parse_fault(const char *v, struct server_cfg *c, char *err,
			   size_t errlen);

/* The rule alone ("KIND[:KEY=VALUE]...", no device) into sf->f and
 * sf->on_restart, as isovmctl's fault command takes it. 0 or -EINVAL. */
int server_cfg_parse_rule(const char *v, struct server_fault *sf, char *err,
			  size_t errlen);

#endif
