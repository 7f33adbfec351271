/*
 * isovmctl.c: the command-line client of isovm's management socket
 * (--api-socket): one request, one reply, printed as a table or as JSON.
 *
 * Exit status: 0 done, 1 the VMM refused (its error is printed), 2 bad
 * arguments, 3 no VMM there (no socket, refused, no reply in time).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/api_channel.h"
#include "sandbox/escape.h"
#include "vcpu/config/server_cfg.h"

#define CTL_EXIT_REFUSED 1
#define CTL_EXIT_USAGE	 2
#define CTL_EXIT_NO_VMM	 3
#define CTL_REPLY_MS	 5000

static const char ctl_usage[] =
	"usage: isovmctl --socket PATH [--json] [--count N] COMMAND\n"
	"commands:\n"
	"  status             VM state, uptime, vCPUs, memory\n"
	"  devices            each device: type, state, server pid, restarts,\n"
	"                     why its last server ended\n"
	"  stats DEV          the device server's counters per request type\n"
	"  restart DEV        restart DEV's server (replays what was in flight)\n"
	"  kill DEV           SIGKILL DEV's server, as a crash would\n"
	"  fault DEV RULE     inject a fault: KIND[:KEY=VALUE]... as isovm's\n"
	"                     --fault takes it (see isovm --help)\n"
	"  fault DEV clear    clear DEV's fault rules\n"
	"  pause | resume     stop and restart every vCPU\n"
	"  shutdown           stop the VM (isovm exits with status 0)\n"
	"  trace DEV          every request DEV finishes (guest op, sector,\n"
	"                     length -> file offset, syscall, status, latency)\n"
	"                     and every virtqueue rule its driver breaks, until\n"
	"                     interrupted or --count N of them\n"
	"  escape DEV WHAT    test only: DEV's server tries to break out of\n"
	"                     its sandbox (WHAT: open-passwd, socket-inet,\n"
	"                     connect-unix, execve, ptrace, mount, unshare,\n"
	"                     keyctl, bpf, io-uring, userfaultfd, perf-event,\n"
	"                     kill-parent, write-foreign-fd); the VMM logs\n"
	"                     how it was stopped\n"
	"exit status: 0 done, 1 refused by the VMM, 2 bad arguments, 3 no VMM\n";

static int ctl_bad(const char *fmt, const char *what)
{
	fprintf(stderr, "isovmctl: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (see isovmctl --help)\n");
	return CTL_EXIT_USAGE;
}

/* Command words -> request; returns 0 or an exit status. */
static int ctl_request(int argc, char **argv, struct api_req *q)
{
	static const struct {
		const char *word;
		enum api_req_type type;
		bool dev;
	} cmds[] = {
		{"status", API_REQ_STATUS, false},
		{"devices", API_REQ_DEVICES, false},
		{"stats", API_REQ_STATS, true},
		{"restart", API_REQ_RESTART, true},
		{"kill", API_REQ_KILL, true},
		{"fault", API_REQ_FAULT, true},
		{"pause", API_REQ_PAUSE, false},
		{"resume", API_REQ_RESUME, false},
		{"shutdown", API_REQ_SHUTDOWN, false},
		{"trace", API_REQ_TRACE, true},
		{"escape", API_REQ_ESCAPE, true},
	};
	struct server_fault sf;
	char err[256];
	size_t i;

	memset(q, 0, sizeof(*q));
	if (argc < 1)
		return ctl_bad("%s", "no command");
	for (i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
		if (!strcmp(argv[0], cmds[i].word))
			break;
	if (i == sizeof(cmds) / sizeof(*cmds))
		return ctl_bad("unknown command '%s'", argv[0]);
	q->type = cmds[i].type;
	if (argc != 1 + cmds[i].dev +
			    (q->type == API_REQ_FAULT || q->type == API_REQ_ESCAPE))
		return ctl_bad("wrong number of words for '%s'", argv[0]);
	if (!cmds[i].dev)
		return 0;
	if (strlen(argv[1]) > API_NAME_MAX)
		return ctl_bad("no device '%s'", argv[1]);
	snprintf(q->dev, sizeof(q->dev), "%s", argv[1]);
	if (q->type == API_REQ_ESCAPE) {
		q->escape = sandbox_escape_parse(argv[2]);
		return q->escape ? 0 : ctl_bad("no escape attempt '%s'", argv[2]);
	}
	if (q->type != API_REQ_FAULT)
		return 0;
	if (!strcmp(argv[2], "clear")) {
		q->fault.op = CTL_OP_ANY;
		q->fault.kind = CTL_FAULT_NONE;
		return 0;
	}
	/* The same rules as isovm --fault takes after its device. */
	if (server_cfg_parse_rule(argv[2], &sf, err, sizeof(err))) {
		fprintf(stderr, "isovmctl: fault: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	q->fault = sf.f;
	return 0;
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "isovmctl: %s: path too long\n", path);
		return -1;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "isovmctl: no isovm at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static const char *const ctl_vm_states[] = {
	[API_VM_STARTING] = "starting",
	[API_VM_RUNNING] = "running",
	[API_VM_PAUSED] = "paused",
	[API_VM_SHUTTING_DOWN] = "shutting-down",
};
static const char *const ctl_dev_states[] = {
	[API_DEV_STARTING] = "starting",   [API_DEV_RUNNING] = "running",
	[API_DEV_RESTARTING] = "restarting", [API_DEV_NEEDS_RESET] = "needs-reset",
	[API_DEV_STOPPED] = "stopped",	   [API_DEV_FAILED] = "failed",
};
static const char *const ctl_ops[] = {
	[CTL_OP_ANY] = "any",	      [CTL_OP_READ] = "read",
	[CTL_OP_WRITE] = "write",     [CTL_OP_FLUSH] = "flush",
	[CTL_OP_GET_ID] = "get_id",   [CTL_OP_TX] = "tx",
	[CTL_OP_RX] = "rx",	      [CTL_OP_CONSOLE_OUT] = "out",
	[CTL_OP_CONSOLE_IN] = "in",
};

static const char *ctl_dev_type(enum ctl_dev_type t)
{
	return t == CTL_DEV_BLK ? "blk" : t == CTL_DEV_CONSOLE ? "console"
							    : "net";
}

static void ctl_print_devices(const struct api_devices *d, bool json)
{
	if (!json)
		printf("%-10s %-8s %-12s %8s %8s  %s\n", "DEVICE", "TYPE",
		       "STATE", "PID", "RESTARTS", "LAST CAUSE");
	for (unsigned i = 0; i < d->n; i++) {
		const struct api_device *v = &d->dev[i];

		if (json)
			printf("{\"device\":\"%s\",\"type\":\"%s\",\"state\":"
			       "\"%s\",\"pid\":%u,\"restarts\":%u,"
			       "\"last_cause\":\"%s\"}\n",
			       v->name, ctl_dev_type(v->type),
			       ctl_dev_states[v->state], v->pid, v->restarts,
			       v->last_cause);
		else
			printf("%-10s %-8s %-12s %8u %8u  %s\n", v->name,
			       ctl_dev_type(v->type), ctl_dev_states[v->state],
			       v->pid, v->restarts,
			       v->last_cause[0] ? v->last_cause : "-");
	}
}

/*
 * The latency under which pct percent of the requests completed, from the
 * histogram: the upper bound of the bucket it falls in (us); 0 when none.
 */
static uint64_t ctl_percentile(const struct ctl_op_stats *o, unsigned pct)
{
	uint64_t n = 0, want, seen = 0;

	for (unsigned b = 0; b < CTL_LAT_BUCKETS; b++)
		n += o->latency_hist[b];
	if (!n)
		return 0;
	want = (n * pct + 99) / 100;
	for (unsigned b = 0; b < CTL_LAT_BUCKETS - 1; b++) {
		seen += o->latency_hist[b];
		if (seen >= want)
			return 2ull << b;
	}
	return o->latency_max_ns / 1000; /* the open last bucket */
}

static void ctl_print_hist(const struct ctl_op_stats *o)
{
	printf(",\"lat_hist\":[");
	for (unsigned b = 0; b < CTL_LAT_BUCKETS; b++)
		printf("%s%llu", b ? "," : "",
		       (unsigned long long)o->latency_hist[b]);
	printf("]");
}

static void ctl_print_stats(const struct api_dev_stats *s, bool json)
{
	const struct ctl_stats *st = &s->stats;

	if (!json)
		printf("%-8s %10s %14s %8s %12s %10s %10s %12s\n", "OP",
		       "REQUESTS", "BYTES", "ERRORS", "LAT_MEAN_US",
		       "P50_US<=", "P99_US<=", "LAT_MAX_US");
	for (unsigned i = 0; i < st->nops; i++) {
		const struct ctl_op_stats *o = &st->ops[i];
		double mean = o->requests ? o->latency_sum_ns / 1e3 /
						    (double)o->requests
					  : 0;

		if (json) {
			printf("{\"device\":\"%s\",\"op\":\"%s\",\"requests\":"
			       "%llu,\"bytes\":%llu,\"errors\":%llu,"
			       "\"lat_mean_us\":%.1f,\"lat_max_us\":%.1f,"
			       "\"lat_p50_us\":%llu,\"lat_p99_us\":%llu",
			       s->name, ctl_ops[o->op],
			       (unsigned long long)o->requests,
			       (unsigned long long)o->bytes,
			       (unsigned long long)o->errors, mean,
			       o->latency_max_ns / 1e3,
			       (unsigned long long)ctl_percentile(o, 50),
			       (unsigned long long)ctl_percentile(o, 99));
			ctl_print_hist(o);
			printf("}\n");
		} else {
			printf("%-8s %10llu %14llu %8llu %12.1f %10llu %10llu "
			       "%12.1f\n",
			       ctl_ops[o->op],
			       (unsigned long long)o->requests,
			       (unsigned long long)o->bytes,
			       (unsigned long long)o->errors, mean,
			       (unsigned long long)ctl_percentile(o, 50),
			       (unsigned long long)ctl_percentile(o, 99),
			       o->latency_max_ns / 1e3);
		}
	}
	for (unsigned i = 0; i < st->nextra; i++) {
		if (json)
			printf("{\"device\":\"%s\",\"counter\":\"%s\","
			       "\"value\":%llu}\n",
			       s->name, st->extra[i].key,
			       (unsigned long long)st->extra[i].value);
		else
			printf("%s=%llu\n", st->extra[i].key,
			       (unsigned long long)st->extra[i].value);
	}
}

static int ctl_print(const struct api_reply *r, bool json)
{
	const struct api_status *s = &r->u.status;

	switch (r->type) {
	case API_REPLY_OK:
		if (json)
			printf("{\"ok\":true}\n");
		return 0;
	case API_REPLY_ERROR:
		fprintf(stderr, "isovmctl: %s\n", r->u.error.text);
		return CTL_EXIT_REFUSED;
	case API_REPLY_STATUS:
		if (json)
			printf("{\"state\":\"%s\",\"uptime_ms\":%llu,"
			       "\"vcpus\":%u,\"memory_bytes\":%llu,"
			       "\"exits_io\":%llu,\"exits_mmio\":%llu,"
			       "\"exits_other\":%llu}\n",
			       ctl_vm_states[s->state],
			       (unsigned long long)s->uptime_ms, s->vcpus,
			       (unsigned long long)s->memory_bytes,
			       (unsigned long long)s->exits_io,
			       (unsigned long long)s->exits_mmio,
			       (unsigned long long)s->exits_other);
		else
			printf("state     %s\nuptime    %llu.%03llu s\n"
			       "vcpus     %u\nmemory    %llu MiB\n"
			       "exits     %llu port I/O, %llu MMIO, %llu other\n",
			       ctl_vm_states[s->state],
			       (unsigned long long)(s->uptime_ms / 1000),
			       (unsigned long long)(s->uptime_ms % 1000),
			       s->vcpus,
			       (unsigned long long)(s->memory_bytes >> 20),
			       (unsigned long long)s->exits_io,
			       (unsigned long long)s->exits_mmio,
			       (unsigned long long)s->exits_other);
		return 0;
	case API_REPLY_DEVICES:
		ctl_print_devices(&r->u.devices, json);
		return 0;
	case API_REPLY_STATS:
		ctl_print_stats(&r->u.stats, json);
		return 0;
	case API_REPLY_TRACE:
		break; /* only after a trace request: ctl_trace() */
	}
	return CTL_EXIT_REFUSED;
}

static void ctl_print_trace(const struct api_trace *t, bool json)
{
	if (json)
		printf("{\"device\":\"%s\",\"seq\":%llu,\"queue\":%u,"
		       "\"head\":%u,\"op\":\"%s\",\"sector\":%llu,"
		       "\"bytes\":%u,\"file_offset\":%llu,\"syscall\":\"%s\","
		       "\"status\":%u,\"latency_us\":%llu,\"text\":\"%s\"}\n",
		       t->device, (unsigned long long)t->seq, t->queue, t->head,
		       t->op, (unsigned long long)t->sector, t->bytes,
		       (unsigned long long)t->file_offset, t->syscall,
		       t->status, (unsigned long long)t->latency_us, t->text);
	else if (!strcmp(t->op, "violation"))
		printf("%s #%llu violation: %s\n", t->device,
		       (unsigned long long)t->seq, t->text);
	else if (!strcmp(t->op, "tx") || !strcmp(t->op, "rx"))
		printf("%s #%llu q%u head %u %s %u B %s%s\n", t->device,
		       (unsigned long long)t->seq, t->queue, t->head, t->op,
		       t->bytes,
		       t->status ? "dropped: "
		       : !strcmp(t->op, "tx") ? "-> tap writev"
					      : "<- tap read",
		       t->status ? t->text : "");
	else
		printf("%s #%llu q%u head %u %s sector %llu %u B -> offset "
		       "%llu %s status %u %llu us\n",
		       t->device, (unsigned long long)t->seq, t->queue, t->head,
		       t->op, (unsigned long long)t->sector, t->bytes,
		       (unsigned long long)t->file_offset, t->syscall,
		       t->status, (unsigned long long)t->latency_us);
	fflush(stdout);
}

/* After the OK: print events until count (0: no end) or the VMM goes. */
static int ctl_trace(int fd, bool json, unsigned long count)
{
	struct api_reply r;
	unsigned long n = 0;
	int ret;

	while (!count || n < count) {
		ret = api_reply_recv(fd, &r);
		if (ret == -EINTR)
			continue;
		if (ret == -EPIPE)
			return 0; /* isovm ended */
		if (ret || r.type != API_REPLY_TRACE) {
			fprintf(stderr, "isovmctl: trace: %s\n",
				ret ? strerror(-ret) : "unexpected reply");
			return CTL_EXIT_NO_VMM;
		}
		ctl_print_trace(&r.u.trace, json);
		n++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct pollfd p = {.events = POLLIN};
	struct api_reply r;
	struct api_req q;
	unsigned long count = 0;
	bool json = false;
	char *end;
	int i, ret;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--help")) {
			fputs(ctl_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoul(argv[++i], &end, 10);
			if (*end || !count || argv[i][0] == '-')
				return ctl_bad("--count: '%s' is not a number "
					       "above 0",
					       argv[i]);
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			path = argv[i] + 9;
		} else {
			return ctl_bad("unknown option '%s'", argv[i]);
		}
	}
	if (!path || !*path)
		return ctl_bad("%s", "--socket PATH is required");
	ret = ctl_request(argc - i, argv + i, &q);
	if (ret)
		return ret;
	p.fd = ctl_connect(path);
	if (p.fd < 0)
		return CTL_EXIT_NO_VMM;
	ret = api_req_send(p.fd, &q);
	if (!ret)
		ret = poll(&p, 1, CTL_REPLY_MS) == 1 ? api_reply_recv(p.fd, &r)
						      : -ETIMEDOUT;
	if (ret) {
		close(p.fd);
		fprintf(stderr, "isovmctl: no reply from isovm at %s: %s\n",
			path, strerror(-ret));
		return CTL_EXIT_NO_VMM;
	}
	if (q.type == API_REQ_TRACE && r.type == API_REPLY_OK)
		ret = ctl_trace(p.fd, json, count);
	else
		ret = ctl_print(&r, json);
	close(p.fd);
	return ret;
}
