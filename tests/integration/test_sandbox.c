/*
 * test_sandbox.c: the VMM confines its own threads (--sandbox, seccomp
 * policies in sandbox/policy_*.c): every thread of a running isovm is in
 * seccomp filter mode with no_new_privs while the test guest reads and
 * writes its disk, and none is with --sandbox off; a guest reboot (new VM,
 * kernel loaded again, new vCPU threads), and a block server killed and
 * restarted through the API, all work with the filters on.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/blk_image.h"
#include "sandbox/escape.h"
#include "tests/integration/harness.h"

#define SB_TIMEOUT_MS  120000
#define SB_THREADS_MAX 64
#define SB_LOOK_AFTER  1.0 /* seconds after the boot line: the load runs */

static char sb_dir[] = "/tmp/isovm-sandbox-XXXXXX";

static void sb_setup(void)
{
	harness_enter_tmpdir(sb_dir);
	blk_image_make("disk.img", 16ull << 20, 0);
}

static void sb_teardown(void)
{
	harness_remove_tmpdir(sb_dir);
}

TestSuite(sandbox, .init = sb_setup, .fini = sb_teardown);

/* What /proc says of one thread. */
struct sb_thread {
	int tid;
	int seccomp;  /* 0 none, 1 strict, 2 filter */
	int filters;  /* filters in force */
	int nnp;      /* no_new_privs */
};

struct sb_threads {
	int n;
	struct sb_thread t[SB_THREADS_MAX];
};

static int sb_status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? atoi(p + strlen(key)) : -1;
}

static void sb_read_status(const char *path, struct sb_thread *t)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	t->seccomp = t->filters = t->nnp = -1;
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	t->seccomp = sb_status_field(buf, "\nSeccomp:");
	t->filters = sb_status_field(buf, "\nSeccomp_filters:");
	t->nnp = sb_status_field(buf, "\nNoNewPrivs:");
}

static void sb_snapshot(int vmm, struct sb_threads *s)
{
	char path[96];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", vmm);
	d = opendir(path);
	s->n = 0;
	while (d && (e = readdir(d)) && s->n < SB_THREADS_MAX) {
		struct sb_thread *t = &s->t[s->n];

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		t->tid = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", vmm,
			 t->tid);
		sb_read_status(path, t);
		if (t->seccomp < 0)
			continue; /* ended meanwhile */
		s->n++;
	}
	if (d)
		closedir(d);
}

/* This test's own state: a filter of the VMM's comes on top of it. */
static void sb_self(struct sb_thread *t)
{
	sb_read_status("/proc/self/status", t);
	cr_assert_geq(t->seccomp, 0, "no Seccomp line in /proc/self/status");
}

/*
 * Every thread of the VMM under a filter of its own, with no_new_privs;
 * at least want of them (main, I/O, vCPUs). There is no other thread:
 * servers are started by the launcher, a process of its own.
 */
static void sb_assert_confined(const struct sb_threads *s, int want)
{
	struct sb_thread self;
	int confined = 0;

	sb_self(&self);
	for (int i = 0; i < s->n; i++) {
		const struct sb_thread *t = &s->t[i];

		cr_assert_eq(t->seccomp, 2, "thread %d: Seccomp %d, not 2",
			     t->tid, t->seccomp);
		cr_assert_gt(t->filters, self.filters,
			     "thread %d: no filter of the VMM's", t->tid);
		cr_assert_eq(t->nnp, 1, "thread %d: NoNewPrivs %d", t->tid,
			     t->nnp);
		confined++;
	}
	cr_assert_geq(confined, want, "%d confined threads of %d, want %d",
		      confined, s->n, want);
}

/* A look at the threads once 'after' appeared and SB_LOOK_AFTER passed. */
struct sb_look {
	const char *after;
	const char *not_yet; /* must not have appeared yet (the load runs) */
	double seen_at;
	bool done, in_time;
	struct sb_threads threads;
};

static double sb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sb_look_hook(struct vmrun *r, void *arg)
{
	struct sb_look *l = arg;

	if (l->done || !strstr(r->out, l->after))
		return;
	if (!l->seen_at)
		l->seen_at = sb_now();
	if (sb_now() - l->seen_at < SB_LOOK_AFTER)
		return;
	sb_snapshot(r->pid, &l->threads);
	l->in_time = !strstr(r->out, l->not_yet);
	l->done = true;
}

static void sb_run(struct vmrun *r, const char *cmdline, const char *sandbox,
		   const struct vmrun_opts *o)
{
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			HARNESS_TESTGUEST,
			"--cpus",
			"2",
			"--cmdline",
			(char *)cmdline,
			"--disk",
			"path=disk.img",
			"--api-socket",
			"api.sock",
			"--log-level",
			"info",
			"--sandbox",
			(char *)sandbox,
			/* The escape test kills servers 28 times. */
			"--restart-limit",
			"1000",
			NULL};

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(r, SB_TIMEOUT_MS, o, argv), 0);
}

static void sb_assert_passed(struct vmrun *r, const char *test)
{
	char want[64];

	snprintf(want, sizeof(want), "name=%s status=pass", test);
	if (r->status != ISOVM_EXIT_POWEROFF || !strstr(r->out, want))
		vmrun_dump(r, "isovm");
	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF, "exit status %d",
		     r->status);
	cr_assert_not_null(strstr(r->out, want), "no '%s'", want);
	cr_assert_eq(vmrun_count(r, "seccomp: "), 0);
}

Test(sandbox, every_thread_is_filtered_while_the_guest_uses_its_disk)
{
	static struct sb_look l = {.after = "isovm-testguest: boot=0",
				   .not_yet = "name=blk-verify"};
	struct vmrun_opts o = {.hook = sb_look_hook, .arg = &l};
	struct vmrun r;

	sb_run(&r, "test=blk-verify blk-verify.secs=5", "on", &o);
	sb_assert_passed(&r, "blk-verify");
	cr_assert(l.done, "the guest never booted");
	cr_assert(l.in_time, "the load had ended before the look");
	/* main, I/O and two vCPU threads */
	sb_assert_confined(&l.threads, 4);
	cr_assert_eq(vmrun_count(&r, "seccomp filter loaded"), 4);
	vmrun_free(&r);
}

Test(sandbox, off_leaves_every_thread_unfiltered)
{
	static struct sb_look l = {.after = "isovm-testguest: boot=0",
				   .not_yet = "name=blk-verify"};
	struct vmrun_opts o = {.hook = sb_look_hook, .arg = &l};
	struct sb_thread self;
	struct vmrun r;

	sb_run(&r, "test=blk-verify blk-verify.secs=3", "off", &o);
	sb_assert_passed(&r, "blk-verify");
	cr_assert(l.done && l.in_time, "no look while the guest ran");
	cr_assert_geq(l.threads.n, 4);
	sb_self(&self);
	for (int i = 0; i < l.threads.n; i++) {
		const struct sb_thread *t = &l.threads.t[i];

		cr_assert_eq(t->seccomp, self.seccomp, "thread %d: Seccomp %d",
			     t->tid, t->seccomp);
		cr_assert_eq(t->filters, self.filters, "thread %d: %d filters",
			     t->tid, t->filters);
	}
	cr_assert_eq(vmrun_count(&r, "seccomp filter loaded"), 0);
	vmrun_free(&r);
}

Test(sandbox, a_reboot_runs_the_next_boot_confined)
{
	static struct sb_look l = {.after = "isovm-testguest: boot=1",
				   .not_yet = "name=blk-verify"};
	struct vmrun_opts o = {.hook = sb_look_hook, .arg = &l};
	struct vmrun r;

	/* Boot 0 resets through the i8042; boot 1 passes and loads the disk. */
	sb_run(&r, "test=reboot,blk-verify blk-verify.secs=4", "on", &o);
	sb_assert_passed(&r, "blk-verify");
	cr_assert_not_null(strstr(r.out, "name=reboot status=pass boot=1"));
	cr_assert(l.done && l.in_time, "no look while boot 1 ran");
	sb_assert_confined(&l.threads, 4);
	/* The vCPU threads of each boot load theirs. */
	cr_assert_eq(vmrun_count(&r, "vcpu0: seccomp filter loaded"), 2);
	cr_assert_eq(vmrun_count(&r, "vcpu1: seccomp filter loaded"), 2);
	vmrun_free(&r);
}

static void sb_ctl(struct harness_ctl *o, const char *args)
{
	harness_isovmctl(o, "api.sock", args);
}

static void sb_ctl_until(struct harness_ctl *o, const char *args,
			 const char *want)
{
	harness_isovmctl_until(o, "api.sock", args, want);
}

enum { SB_KILL, SB_AFTER_KILL, SB_RESTART, SB_AFTER_RESTART, SB_CTL_N };

struct sb_api {
	bool done;
	struct harness_ctl out[SB_CTL_N];
	struct sb_threads threads;
};

/* Once the guest runs: kill blk0, then restart it, then look. */
static void sb_api_hook(struct vmrun *r, void *arg)
{
	struct sb_api *a = arg;
	struct harness_ctl *o = a->out;

	if (a->done || !strstr(r->out, "isovm-testguest: boot=0"))
		return;
	a->done = true;
	sb_ctl(&o[SB_KILL], "kill blk0");
	sb_ctl_until(&o[SB_AFTER_KILL], "--json devices", "\"restarts\":1");
	sb_ctl(&o[SB_RESTART], "restart blk0");
	sb_ctl_until(&o[SB_AFTER_RESTART], "--json devices", "\"restarts\":2");
	sb_snapshot(r->pid, &a->threads);
}

Test(sandbox, the_api_kills_and_restarts_a_server_under_the_filters)
{
	static struct sb_api a;
	struct vmrun_opts o = {.hook = sb_api_hook, .arg = &a};
	struct harness_ctl *c = a.out;
	struct vmrun r;

	sb_run(&r, "test=blk-verify blk-verify.secs=8", "on", &o);
	sb_assert_passed(&r, "blk-verify");
	cr_assert(a.done, "the guest never booted");
	cr_assert_eq(c[SB_KILL].status, 0, "%s", c[SB_KILL].text);
	cr_assert_not_null(strstr(c[SB_AFTER_KILL].text,
				  "\"restarts\":1,\"last_cause\":\"killed by "
				  "signal 9 (Killed)\""),
			   "%s", c[SB_AFTER_KILL].text);
	cr_assert_eq(c[SB_RESTART].status, 0, "%s", c[SB_RESTART].text);
	cr_assert_not_null(strstr(c[SB_AFTER_RESTART].text,
				  "\"device\":\"blk0\",\"type\":\"blk\","
				  "\"state\":\"running\""),
			   "%s", c[SB_AFTER_RESTART].text);
	cr_assert_not_null(strstr(c[SB_AFTER_RESTART].text,
				  "\"restarts\":2,\"last_cause\":\"killed: "
				  "restart asked for\""),
			   "%s", c[SB_AFTER_RESTART].text);
	cr_assert_eq(vmrun_count(&r, "blk0 server restarted"), 2);
	sb_assert_confined(&a.threads, 4);
	vmrun_free(&r);
}

/*
 * Escapes: once the guest runs its verifying disk load, each server is
 * asked (isovmctl escape, test only) to try every attempt of
 * sandbox/escape.h, one at a time: each must kill it with SIGSYS (then it
 * is restarted) or be denied; the VMM logs which. A hook step: it never
 * waits for the VMM's output, it looks again 50 ms later.
 */
enum sb_outcome { SB_PENDING, SB_DIED, SB_DENIED, SB_NO_ANSWER };

static const char *const sb_esc_dev[] = {"blk0", "console"};
#define SB_ESC_DEVS 2
#define SB_ESC_WAIT 10.0 /* seconds for a death and restart, or a denial */

struct sb_esc {
	unsigned dev, attempt; /* the one under way; dev == SB_ESC_DEVS: done */
	bool sent;
	double sent_at;
	unsigned restarted, denied; /* lines before it was sent */
	enum sb_outcome out[SB_ESC_DEVS][SANDBOX_ESCAPE_END];
	int ctl_status[SB_ESC_DEVS][SANDBOX_ESCAPE_END];
};

/* Lines of hay that start with "DEV server" and hold what. */
static unsigned sb_count(const char *hay, const char *dev, const char *what)
{
	char head[48];
	unsigned n = 0;

	snprintf(head, sizeof(head), "%s server", dev);
	for (const char *l = hay; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		const char *p = strstr(l, head);

		/* After the "isovm: " prefix, within this line. */
		if (p && (size_t)(p - l) < len && (p == l || p[-1] == ' ')) {
			const char *w = strstr(p, what);

			n += w && (size_t)(w - l) < len;
		}
		l = end ? end + 1 : NULL;
	}
	return n;
}

static void sb_esc_hook(struct vmrun *r, void *arg)
{
	struct sb_esc *e = arg;
	const char *dev;
	unsigned restarted, denied;

	if (e->dev >= SB_ESC_DEVS || !strstr(r->out, "isovm-testguest: boot=0"))
		return;
	if (!e->attempt)
		e->attempt = 1;
	dev = sb_esc_dev[e->dev];
	restarted = sb_count(r->err, dev, "restarted (pid");
	denied = sb_count(r->err, dev, "escape attempt");
	if (!e->sent) {
		struct harness_ctl o;
		char args[96];

		e->restarted = restarted;
		e->denied = denied;
		snprintf(args, sizeof(args), "escape %s %s", dev,
			 sandbox_escape_name(e->attempt));
		sb_ctl(&o, args);
		e->ctl_status[e->dev][e->attempt] = o.status;
		e->sent = true;
		e->sent_at = sb_now();
		return;
	}
	if (restarted > e->restarted)
		e->out[e->dev][e->attempt] = SB_DIED;
	else if (denied > e->denied)
		e->out[e->dev][e->attempt] = SB_DENIED;
	else if (sb_now() - e->sent_at > SB_ESC_WAIT)
		e->out[e->dev][e->attempt] = SB_NO_ANSWER;
	else
		return;
	e->sent = false;
	if (++e->attempt == SANDBOX_ESCAPE_END) {
		e->attempt = 1;
		e->dev++;
	}
}

Test(sandbox, every_escape_is_killed_or_denied_and_the_guest_runs_on,
     .timeout = 240)
{
	static struct sb_esc e;
	struct vmrun_opts o = {.hook = sb_esc_hook, .arg = &e};
	unsigned died[SB_ESC_DEVS] = {0};
	char want[128];
	struct vmrun r;

	sb_run(&r, "test=blk-verify blk-verify.secs=20", "on", &o);
	sb_assert_passed(&r, "blk-verify");
	cr_assert_eq(e.dev, SB_ESC_DEVS, "the guest ended before the attempts");
	for (unsigned d = 0; d < SB_ESC_DEVS; d++) {
		for (unsigned a = 1; a < SANDBOX_ESCAPE_END; a++) {
			const char *name = sandbox_escape_name(a);

			cr_expect_eq(e.ctl_status[d][a], 0,
				     "isovmctl escape %s %s failed",
				     sb_esc_dev[d], name);
			cr_expect(e.out[d][a] == SB_DIED ||
					  e.out[d][a] == SB_DENIED,
				  "%s: %s neither killed nor denied",
				  sb_esc_dev[d], name);
			died[d] += e.out[d][a] == SB_DIED;
			if (e.out[d][a] == SB_DENIED) {
				snprintf(want, sizeof(want),
					 "escape attempt %s denied: ", name);
				cr_expect_gt(vmrun_count(&r, want), 0,
					     "%s: no line '%s'", sb_esc_dev[d],
					     want);
			}
		}
		/* Every death was the filter's, and the log says so. */
		cr_expect_eq(sb_count(r.err, sb_esc_dev[d],
				      "died: killed by signal 31 (SIGSYS: a "
				      "call its seccomp filter refuses)"),
			     died[d], "%s: %u deaths by the filter logged",
			     sb_esc_dev[d], died[d]);
		cr_expect_eq(sb_count(r.err, sb_esc_dev[d], "died"), died[d],
			     "%s: deaths other than the attempts'",
			     sb_esc_dev[d]);
		cr_expect_gt(died[d], 0, "%s: no attempt killed it",
			     sb_esc_dev[d]);
	}
	cr_expect_eq(vmrun_count(&r, "SUCCEEDED"), 0);
	cr_expect_eq(vmrun_count(&r, "NEEDS_RESET"), 0);
	vmrun_free(&r);
}
