/* server_cfg.c: parsing --restart-limit, --watchdog-ms, --sandbox and --fault. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/config/server_cfg.h"
#include "vcpu/log.h"

void server_cfg_default(struct server_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->restart_limit = SERVER_CFG_RESTARTS_DEFAULT;
	c->restart_window_ms = SERVER_CFG_WINDOW_MS_DEFAULT;
	c->watchdog_ms = SERVER_CFG_WATCHDOG_DEFAULT;
}

/* A whole decimal number in [0, max] ending at *end (or the string's end). */
static int server_cfg_number(const char *s, const char **end,
			     unsigned long max, unsigned long *out)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || v > max)
		return -EINVAL;
	if (end)
		*end = e;
	else if (*e)
		return -EINVAL;
	*out = v;
	return 0;
}

int server_cfg_parse_restarts(const char *v, struct server_cfg *c, char *err,
			      size_t errlen)
{
	unsigned long n, secs = c->restart_window_ms / 1000u;
	const char *end;

	if (server_cfg_number(v, &end, SERVER_CFG_RESTARTS_MAX, &n) ||
	    (*end && (*end != '/' ||
		      server_cfg_number(end + 1, NULL, 3600, &secs) || !secs)))
		return errf(err, errlen, -EINVAL,
			    "--restart-limit: '%s' is not N or N/SECONDS "
			    "(N 0..%u, SECONDS 1..3600)",
			    v, SERVER_CFG_RESTARTS_MAX);
	c->restart_limit = (unsigned)n;
	c->restart_window_ms = (unsigned)secs * 1000u;
	return 0;
}

int server_cfg_parse_sandbox(const char *v, struct server_cfg *c, char *err,
			     size_t errlen)
{
	if (strcmp(v, "on") == 0)
		c->sandbox = SERVER_SANDBOX_ON;
	else if (strcmp(v, "relaxed") == 0)
		c->sandbox = SERVER_SANDBOX_RELAXED;
	else if (strcmp(v, "off") == 0)
		c->sandbox = SERVER_SANDBOX_OFF;
	else
		return errf(err, errlen, -EINVAL,
			    "--sandbox: '%s' is not on, relaxed or off", v);
	return 0;
}

int server_cfg_parse_watchdog(const char *v, struct server_cfg *c, char *err,
			      size_t errlen)
{
	unsigned long ms;

	if (server_cfg_number(v, NULL, 600000, &ms))
		return errf(err, errlen, -EINVAL,
			    "--watchdog-ms: '%s' is not 0..600000", v);
	c->watchdog_ms = (unsigned)ms;
	return 0;
}

struct server_cfg_word {
	const char *name;
	int value;
};

static const struct server_cfg_word server_cfg_kinds[] = {
	{"error", CTL_FAULT_ERROR}, {"delay", CTL_FAULT_DELAY},
	{"crash", CTL_FAULT_CRASH}, {"drop", CTL_FAULT_DROP},
	{"corrupt", CTL_FAULT_CORRUPT}, {NULL, 0},
};

static const struct server_cfg_word server_cfg_ops[] = {
	{"any", CTL_OP_ANY},	   {"read", CTL_OP_READ},
	{"write", CTL_OP_WRITE},   {"flush", CTL_OP_FLUSH},
	{"get_id", CTL_OP_GET_ID}, {"out", CTL_OP_CONSOLE_OUT},
	{"in", CTL_OP_CONSOLE_IN}, {"tx", CTL_OP_TX},
	{"rx", CTL_OP_RX},	   {NULL, 0},
};

static bool server_cfg_lookup(const struct server_cfg_word *t,
			      const char *word, int *out)
{
	for (; t->name; t++) {
		if (!strcmp(t->name, word)) {
			*out = t->value;
			return true;
		}
	}
	return false;
}

static bool server_cfg_dev_ok(const char *dev)
{
	if (!strcmp(dev, "console"))
		return true;
	if (!strncmp(dev, "net", 3))
		return dev[3] >= '0' && dev[3] <= '3' && !dev[4];
	return !strncmp(dev, "blk", 3) && dev[3] >= '0' && dev[3] <= '7' &&
	       !dev[4];
}

/* sectors=FIRST-LAST (inclusive): the rule's sector range. */
static int server_cfg_fault_sectors(const char *v, struct ctl_fault *f)
{
	unsigned long long first, last;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	first = strtoull(v, &end, 10);
	if (errno || *end != '-' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	last = strtoull(end + 1, &end, 10);
	if (errno || *end || last < first || last == ~0ull)
		return -EINVAL;
	f->sector_start = first;
	f->sector_count = last - first + 1;
	return 0;
}

/* One KEY=VALUE (or the word "restarts") of a --fault. */
static int server_cfg_fault_key(char *w, struct server_fault *sf)
{
	struct ctl_fault *f = &sf->f;
	char *val = strchr(w, '=');
	unsigned long n;
	int op;

	if (!strcmp(w, "restarts")) {
		sf->on_restart = true;
		return 0;
	}
	if (!val)
		return -EINVAL;
	*val++ = '\0';
	if (!strcmp(w, "sectors"))
		return server_cfg_fault_sectors(val, f);
	if (!strcmp(w, "op")) {
		if (!server_cfg_lookup(server_cfg_ops, val, &op))
			return -EINVAL;
		f->op = (enum ctl_op)op;
		return 0;
	}
	if (server_cfg_number(val, NULL, 0xffffffffu, &n))
		return -EINVAL;
	if (!strcmp(w, "every")) {
		f->trigger = CTL_TRIGGER_EVERY_NTH;
		f->every_nth = (uint32_t)n;
		f->probability_ppm = 0;
	} else if (!strcmp(w, "ppm")) {
		f->trigger = CTL_TRIGGER_PROBABILITY;
		f->probability_ppm = (uint32_t)n;
		f->every_nth = 0;
	} else if (!strcmp(w, "count")) {
		f->count = (uint32_t)n;
	} else if (!strcmp(w, "delay-us")) {
		f->delay_us = (uint32_t)n;
	} else if (!strcmp(w, "errno")) {
		f->error_code = (uint32_t)n;
	} else {
		return -EINVAL;
	}
	return 0;
}


int server_cfg_parse_rule(const char *v, struct server_fault *sf, char *err,
			  size_t errlen)
{
	char buf[256], *w, *save = NULL;
	int kind, ret = 0;

	if (strlen(v) >= sizeof(buf))
		return errf(err, errlen, -EINVAL, "fault rule: too long");
	snprintf(buf, sizeof(buf), "%s", v);
	memset(&sf->f, 0, sizeof(sf->f));
	sf->on_restart = false;
	sf->f.op = CTL_OP_ANY;
	sf->f.trigger = CTL_TRIGGER_EVERY_NTH;
	sf->f.every_nth = 1;
	sf->f.count = 1;
	w = strtok_r(buf, ":", &save);
	if (!w || !server_cfg_lookup(server_cfg_kinds, w, &kind))
		return errf(err, errlen, -EINVAL,
			    "'%s': the kind is error, delay, crash, drop or "
			    "corrupt",
			    v);
	sf->f.kind = (enum ctl_fault_kind)kind;
	while (!ret && (w = strtok_r(NULL, ":", &save)))
		ret = server_cfg_fault_key(w, sf);
	if (sf->f.kind == CTL_FAULT_ERROR && !sf->f.error_code)
		sf->f.error_code = EIO;
	if (ret || ctl_fault_validate(&sf->f))
		return errf(err, errlen, -EINVAL,
			    "'%s' is not a valid rule (see isovm --help)", v);
	return 0;
}

int server_cfg_parse_fault(const char *v, struct server_cfg *c, char *err,
			   size_t errlen)
{
	struct server_fault sf;
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);
	char why[240];

	if (c->nfaults >= SERVER_CFG_FAULTS_MAX)
		return errf(err, errlen, -EINVAL, "--fault: at most %d rules",
			    SERVER_CFG_FAULTS_MAX);
	memset(&sf, 0, sizeof(sf));
	if (n >= sizeof(sf.dev))
		n = 0; /* too long for any device: refused below */
	memcpy(sf.dev, v, n);
	sf.dev[n] = '\0';
	if (!server_cfg_dev_ok(sf.dev))
		return errf(err, errlen, -EINVAL,
			    "--fault: '%s': the device is blk0..blk7, "
			    "net0..net3 or console",
			    v);
	if (server_cfg_parse_rule(colon ? colon + 1 : "", &sf, why,
				  sizeof(why)))
		return errf(err, errlen, -EINVAL, "--fault: %s", why);
	c->faults[c->nfaults++] = sf;
	return 0;
}
