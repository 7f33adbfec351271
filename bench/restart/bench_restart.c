/*
 * bench_restart.c: how long a guest's disk stalls when its block server is
 * killed. The test guest runs blk-verify (random self-checking 4 KiB writes
 * and reads, queue depth 16) while this program SIGKILLs isovm-blk N times,
 * KILL_GAP_MS apart (longer than the supervisor's stable time, so every
 * restart starts at once, as the first of a series does). isovm logs, at
 * debug level with the monotonic clock, the first completion each new
 * server makes; recovery = that instant - the kill's. JSON lines: median,
 * p90 and max of the recoveries and of isovm's own death-to-READY times,
 * with the guest's verdict (a restart must lose nothing).
 *
 * Usage: bench-restart KILLS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"

#define KILLS_MAX   200
#define KILL_GAP_MS 400

static void kill_hook(struct vmrun *r, void *arg)
{
	harness_kill_tick(r, arg);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void stats_line(const char *where, const char *metric, double *v,
		       unsigned n, unsigned kills, const char *verdict)
{
	qsort(v, n, sizeof(*v), cmp);
	printf("{\"bench\":\"restart\",\"where\":\"%s\",\"metric\":\"%s\","
	       "\"unit\":\"ms\",\"kills\":%u,\"samples\":%u,"
	       "\"median\":%.3f,\"p90\":%.3f,\"max\":%.3f,"
	       "\"guest\":\"%s\"}\n",
	       where, metric, kills, n, n ? v[n / 2] : -1,
	       n ? v[n * 9 / 10] : -1, n ? v[n - 1] : -1, verdict);
}

int main(int argc, char **argv)
{
	static double at_ns[KILLS_MAX];
	static struct harness_killer k = {.comm = "isovm-blk",
					  .after = "isovm-testguest: boot=",
					  .gap_ms = KILL_GAP_MS,
					  .at_ns = at_ns};
	static double rec[KILLS_MAX], ready[KILLS_MAX];
	const char *where = getenv("ISOVM_IN_LAB") ? "kvm-lab" : "host";
	unsigned nrec = 0, nready = 0;
	char cmdline[128], line[512];
	const char *p, *verdict;
	struct vmrun r;
	struct vmrun_opts o = {.hook = kill_hook, .arg = &k};

	k.want = argc > 1 ? (unsigned)atoi(argv[1]) : 50;
	if (!k.want || k.want > KILLS_MAX) {
		fprintf(stderr, "usage: bench-restart KILLS (1..%d)\n",
			KILLS_MAX);
		return 2;
	}
	/* Enough time for every kill, and some after the last. */
	snprintf(cmdline, sizeof(cmdline),
		 "test=blk-verify blk-verify.qd=16 blk-verify.secs=%u",
		 2 + k.want * KILL_GAP_MS / 1000 + 3);
	if (system("truncate -s 64M bench-restart.img") != 0)
		return 1;
	char *args[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--log-level", "debug",
			"--restart-limit", "100000/10", "--cmdline", cmdline,
			"--disk", "path=bench-restart.img", NULL};
	if (vmrun_opts(&r, 600000, &o, args)) {
		fprintf(stderr, "bench-restart: cannot run isovm\n");
		return 1;
	}
	unlink("bench-restart.img");
	verdict = vmrun_line(&r, "ISOVM-TEST name=blk-verify", line,
			     sizeof(line)) &&
				  strstr(line, "status=pass")
			  ? "pass"
			  : "fail";
	if (strcmp(verdict, "pass"))
		vmrun_dump(&r, "bench-restart");
	/* Kills and restarts pair up in order: one server at a time. */
	for (p = r.err; (p = strstr(p, "first completion after the restart "
				       "at monotonic "));
	     p++) {
		double t = strtod(p + strlen("first completion after the "
					     "restart at monotonic "),
				  NULL);

		if (nrec < k.kills)
			rec[nrec] = (t - at_ns[nrec]) / 1e6, nrec++;
	}
	for (p = r.err; (p = strstr(p, "server restarted (pid ")); p++) {
		const char *in = strstr(p, ") in ");

		if (in && nready < KILLS_MAX)
			ready[nready++] = strtod(in + 5, NULL);
	}
	stats_line(where, "kill_to_first_completion", rec, nrec, k.kills,
		   verdict);
	stats_line(where, "death_seen_to_ready", ready, nready, k.kills,
		   verdict);
	vmrun_free(&r);
	return strcmp(verdict, "pass") || nrec != k.kills;
}
