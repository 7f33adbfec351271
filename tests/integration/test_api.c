/*
 * test_api.c: the management socket and isovmctl against a running test
 * guest: every call end to end, kill and restart showing in the device
 * list, and clients that send garbage, too much, or never read, which are
 * dropped while the VMM and the guest go on.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/blk_image.h"
#include "tests/integration/harness.h"

#define API_TIMEOUT_MS 120000
#define ISOVMCTL       ISOVM_BIN_DIR "/isovmctl"

static char api_dir[] = "/tmp/isovm-api-XXXXXX";

static void api_setup(void)
{
	harness_enter_tmpdir(api_dir);
	blk_image_make("disk.img", 16ull << 20, 0);
}

static void api_teardown(void)
{
	harness_remove_tmpdir(api_dir);
}

TestSuite(api, .init = api_setup, .fini = api_teardown);

#define API_SOCK "api.sock"

static void ctl(struct harness_ctl *o, const char *args)
{
	harness_isovmctl(o, API_SOCK, args);
}

enum { C_STATUS, C_DEVICES, C_STATS, C_KILL, C_AFTER_KILL, C_RESTART,
       C_AFTER_RESTART, C_PAUSE, C_PAUSED, C_RESUME, C_NODEV, C_BADRULE,
       C_FAULT, C_SHUTDOWN, C_N };

struct api_script {
	bool done;
	struct harness_ctl out[C_N];
};

/* Wait (outside the hook's 50 ms rhythm) for a restarted server. */
static void ctl_until(struct harness_ctl *o, const char *args,
		      const char *want)
{
	harness_isovmctl_until(o, API_SOCK, args, want);
}

/* Once the guest runs: every call, in order, then shutdown. */
static void api_script_hook(struct vmrun *r, void *arg)
{
	struct api_script *s = arg;
	struct harness_ctl *o = s->out;

	if (s->done || !strstr(r->out, "isovm-testguest: boot="))
		return;
	s->done = true;
	ctl(&o[C_STATUS], "status");
	ctl(&o[C_DEVICES], "devices");
	ctl(&o[C_STATS], "stats blk0");
	ctl(&o[C_KILL], "kill blk0");
	ctl_until(&o[C_AFTER_KILL], "--json devices", "\"restarts\":1");
	ctl(&o[C_RESTART], "restart blk0");
	ctl_until(&o[C_AFTER_RESTART], "--json devices", "\"restarts\":2");
	ctl(&o[C_PAUSE], "pause");
	ctl(&o[C_PAUSED], "--json status");
	ctl(&o[C_RESUME], "resume");
	ctl(&o[C_NODEV], "stats blk7");
	ctl(&o[C_BADRULE], "fault blk0 explode");
	ctl(&o[C_FAULT], "fault blk0 delay:op=read:delay-us=1000:count=3");
	ctl(&o[C_SHUTDOWN], "shutdown");
}

static void api_boot(struct vmrun *r, const char *cmdline,
		     const struct vmrun_opts *o)
{
	char *argv[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--cmdline", (char *)cmdline,
			"--disk", "path=disk.img", "--api-socket", "api.sock",
			/* A guest that ignores the power button is stopped
			 * half a second later. */
			"--shutdown-grace-ms", "500", NULL};

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(r, API_TIMEOUT_MS, o, argv), 0);
}

struct api_button {
	bool pressed;
	struct harness_ctl out;
};

static void api_button_hook(struct vmrun *r, void *arg)
{
	struct api_button *b = arg;

	if (b->pressed || !strstr(r->out, "shutdown-wait ready"))
		return;
	b->pressed = true;
	ctl(&b->out, "shutdown");
}

/*
 * shutdown presses the guest's power button: the test guest, asleep
 * until then, is woken by its interrupt, finds the event and powers off
 * by itself, well within the grace.
 */
Test(api, shutdown_is_a_power_button_the_guest_answers)
{
	static struct api_button b;
	struct vmrun_opts o = {.hook = api_button_hook, .arg = &b};
	char line[256];
	struct vmrun r;

	api_boot(&r, "test=shutdown-wait", &o);
	if (r.status != ISOVM_EXIT_POWEROFF ||
	    !vmrun_line(&r, "name=shutdown-wait status=pass", line,
			sizeof(line)))
		vmrun_dump(&r, "shutdown-wait");
	cr_assert(b.pressed, "the guest never got ready");
	cr_assert_eq(b.out.status, 0, "%s", b.out.text);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(&r, "name=shutdown-wait status=pass",
				      line, sizeof(line)));
	cr_assert_geq(vmrun_key(line, "irqs"), 1, "%s", line);
	cr_assert_not_null(strstr(r.err, "power button pressed"), "%s", r.err);
	cr_assert_null(strstr(r.err, "did not power off"),
		       "the guest was stopped, not powered off");
	vmrun_free(&r);
}

Test(api, every_call_answers_against_a_running_guest)
{
	static struct api_script s;
	struct vmrun_opts o = {.hook = api_script_hook, .arg = &s};
	struct harness_ctl *c = s.out;
	struct vmrun r;

	api_boot(&r, "test=blk-verify blk-verify.secs=60", &o);
	cr_assert(s.done, "the guest never started");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF, "shutdown exits with 0");
	cr_assert_null(strstr(r.out, "name=blk-verify"),
		       "the guest ran to its end: shutdown did nothing");
	cr_assert_eq(c[C_STATUS].status, 0, "%s", c[C_STATUS].text);
	cr_assert_not_null(strstr(c[C_STATUS].text, "state     running"),
			   "%s", c[C_STATUS].text);
	cr_assert_not_null(strstr(c[C_STATUS].text, "vcpus     1"));
	cr_assert_not_null(strstr(c[C_STATUS].text, "memory    256 MiB"));
	/* The guest's virtio registers are MMIO: it had made some. */
	cr_assert_not_null(strstr(c[C_STATUS].text, "exits     "), "%s",
			   c[C_STATUS].text);
	cr_assert_null(strstr(c[C_STATUS].text, " 0 MMIO"), "%s",
		       c[C_STATUS].text);
	cr_assert_not_null(strstr(c[C_DEVICES].text, "console    console  "
						     "running"),
			   "%s", c[C_DEVICES].text);
	cr_assert_not_null(strstr(c[C_DEVICES].text, "blk0       blk      "
						     "running"),
			   "%s", c[C_DEVICES].text);
	cr_assert_eq(c[C_STATS].status, 0, "%s", c[C_STATS].text);
	cr_assert_not_null(strstr(c[C_STATS].text, "\nread "), "%s",
			   c[C_STATS].text);
	cr_assert_not_null(strstr(c[C_STATS].text, "P50_US<=   P99_US<="),
			   "%s", c[C_STATS].text);
	cr_assert_eq(c[C_KILL].status, 0, "%s", c[C_KILL].text);
	cr_assert_not_null(strstr(c[C_AFTER_KILL].text,
				  "\"device\":\"blk0\",\"type\":\"blk\","
				  "\"state\":\"running\""),
			   "%s", c[C_AFTER_KILL].text);
	cr_assert_not_null(strstr(c[C_AFTER_KILL].text,
				  "\"restarts\":1,\"last_cause\":\"killed by "
				  "signal 9 (Killed)\""),
			   "%s", c[C_AFTER_KILL].text);
	cr_assert_eq(c[C_RESTART].status, 0, "%s", c[C_RESTART].text);
	cr_assert_not_null(strstr(c[C_AFTER_RESTART].text,
				  "\"restarts\":2,\"last_cause\":\"killed: "
				  "restart asked for\""),
			   "%s", c[C_AFTER_RESTART].text);
	cr_assert_eq(c[C_PAUSE].status, 0, "%s", c[C_PAUSE].text);
	cr_assert_not_null(strstr(c[C_PAUSED].text, "\"state\":\"paused\""),
			   "%s", c[C_PAUSED].text);
	cr_assert_eq(c[C_RESUME].status, 0, "%s", c[C_RESUME].text);
	cr_assert_eq(c[C_NODEV].status, 1, "%s", c[C_NODEV].text);
	cr_assert_not_null(strstr(c[C_NODEV].text, "no device blk7"));
	cr_assert_eq(c[C_BADRULE].status, 2, "%s", c[C_BADRULE].text);
	cr_assert_eq(c[C_FAULT].status, 0, "%s", c[C_FAULT].text);
	cr_assert_eq(c[C_SHUTDOWN].status, 0, "%s", c[C_SHUTDOWN].text);
	cr_assert_neq(access("api.sock", F_OK), 0, "the socket was left");
	vmrun_free(&r);
}

static int api_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/api.sock", api_dir);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0,
		     "connect: %s", strerror(errno));
	return fd;
}

/* Whether the VMM closed fd within ms (reading whatever it sent). */
static bool api_closed_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[65536];

	while (poll(&p, 1, ms) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
	}
	return false;
}

struct api_abuse {
	bool done;
	bool garbage_dropped, huge_dropped, silent_dropped, busy_refused;
	struct harness_ctl after;
};

static void api_abuse_hook(struct vmrun *r, void *arg)
{
	/* Request{status: Empty{}}: field 1, length 0. */
	static const char status_req[] = {0x0a, 0x00};
	struct api_abuse *a = arg;
	static char huge[20000];
	int fd, fds[16], silent;

	if (a->done || !strstr(r->out, "isovm-testguest: boot="))
		return;
	a->done = true;
	/* Garbage: an error reply, then the door. */
	fd = api_connect();
	cr_assert_eq(send(fd, "\xff\xff\xff\xff garbage", 12, MSG_NOSIGNAL), 12);
	a->garbage_dropped = api_closed_within(fd, 2000);
	close(fd);
	/* More than a message may be. */
	fd = api_connect();
	memset(huge, 0x08, sizeof(huge));
	send(fd, huge, sizeof(huge), MSG_NOSIGNAL);
	a->huge_dropped = api_closed_within(fd, 2000);
	close(fd);
	/* Room for API_CLIENTS_MAX (16): the seventeenth is told so. */
	for (int i = 0; i < 16; i++)
		fds[i] = api_connect();
	usleep(100000); /* all 16 taken in */
	fd = api_connect();
	a->busy_refused = api_closed_within(fd, 2000);
	close(fd);
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	usleep(100000);
	/* A client that asks and asks and never reads: its replies fill
	 * its queue, and then it is dropped, not waited for. */
	silent = api_connect();
	fcntl(silent, F_SETFL, O_NONBLOCK);
	for (int n = 0; n < 20000; n++) {
		if (send(silent, status_req, sizeof(status_req), MSG_NOSIGNAL) >= 0)
			continue;
		if (errno != EAGAIN)
			break;
		usleep(1000); /* let the VMM read and answer */
	}
	a->silent_dropped = api_closed_within(silent, 3000);
	close(silent);
	/* Everyone else is still served. */
	ctl(&a->after, "status");
}

Test(api, garbage_huge_and_silent_clients_are_dropped_and_the_guest_runs_on)
{
	static struct api_abuse a;
	struct vmrun_opts o = {.hook = api_abuse_hook, .arg = &a};
	struct vmrun r;
	struct stat st;
	char line[512];

	api_boot(&r, "test=blk-verify blk-verify.secs=4", &o);
	cr_assert(a.done);
	cr_assert(a.garbage_dropped, "a client sending garbage was kept");
	cr_assert(a.huge_dropped, "a client sending too much was kept");
	cr_assert(a.busy_refused, "a client past the limit was kept");
	cr_assert(a.silent_dropped, "a client that never reads was kept");
	cr_assert_eq(a.after.status, 0, "%s", a.after.text);
	cr_assert_not_null(strstr(a.after.text, "state     running"));
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=blk-verify", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_neq(stat("api.sock", &st), 0);
	vmrun_free(&r);
}

Test(api, a_taken_path_is_refused_and_isovmctl_without_a_vmm_says_so)
{
	char *argv[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--cmdline", "test=info",
			"--api-socket", "taken", NULL};
	struct harness_ctl o;
	struct vmrun r;
	int fd;

	harness_need_kvm();
	fd = open("taken", O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(vmrun(&r, API_TIMEOUT_MS, argv), 0);
	cr_assert_eq(r.status, ISOVM_EXIT_USAGE);
	cr_assert_not_null(strstr(r.err, "--api-socket: taken: exists "
					 "already"),
			   "%s", r.err);
	cr_assert_eq(vmrun_count(&r, "\n"), 1u, "one line: %s", r.err);
	vmrun_free(&r);
	/* No VMM behind the path: status 3, one line. */
	ctl(&o, "status");
	cr_assert_eq(o.status, 3, "%s", o.text);
	cr_assert_not_null(strstr(o.text, "no isovm at"), "%s", o.text);
	/* Bad words: status 2. */
	ctl(&o, "frobnicate");
	cr_assert_eq(o.status, 2, "%s", o.text);
	ctl(&o, "stats");
	cr_assert_eq(o.status, 2, "%s", o.text);
}

static void api_mode_hook(struct vmrun *r, void *arg)
{
	struct stat *st = arg;

	if (!st->st_mode && stat("api.sock", st) != 0)
		memset(st, 0, sizeof(*st));
	(void)r;
}

Test(api, the_socket_is_a_socket_of_mode_0600)
{
	static struct stat st;
	struct vmrun_opts o = {.hook = api_mode_hook, .arg = &st};
	struct vmrun r;

	api_boot(&r, "test=info", &o);
	cr_assert(S_ISSOCK(st.st_mode), "no socket seen while it ran");
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	vmrun_free(&r);
}

struct api_clear {
	bool cleared;
	struct harness_ctl out;
};

/* After the first pass, the faults go. */
static void api_clear_hook(struct vmrun *r, void *arg)
{
	struct api_clear *c = arg;

	if (c->cleared || !strstr(r->out, "blk-scan pass=1 "))
		return;
	c->cleared = true;
	ctl(&c->out, "fault blk0 clear");
}

/*
 * IOERR on sectors 64-127: the guest's reads of that range fail and the
 * rest succeed; after "fault blk0 clear", every read succeeds.
 */
Test(api, a_sector_range_fault_fails_just_those_reads_until_cleared)
{
	static struct api_clear c;
	struct vmrun_opts o = {.hook = api_clear_hook, .arg = &c};
	char *argv[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--cmdline",
			"test=blk-scan blk-scan.passes=2 blk-scan.gap-ms=3000",
			"--disk", "path=disk.img", "--api-socket", "api.sock",
			"--fault", "blk0:error:op=read:sectors=64-127:count=0",
			NULL};
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(&r, API_TIMEOUT_MS, &o, argv), 0);
	if (r.status != ISOVM_EXIT_POWEROFF)
		vmrun_dump(&r, "blk-scan");
	cr_assert(c.cleared, "no first pass seen");
	cr_assert_eq(c.out.status, 0, "%s", c.out.text);
	cr_assert_not_null(vmrun_line(&r, "blk-scan pass=1 ", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "bad=8 first=64 last=127"), "%s",
			   line);
	cr_assert_not_null(vmrun_line(&r, "blk-scan pass=2 ", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "bad=0 first=-1 last=-1"), "%s",
			   line);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=blk-scan", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	vmrun_free(&r);
}

/* The number after "key": in a JSON line, or -1. */
static long long json_num(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* isovmctl trace, started once the guest runs, read after isovm ended. */
struct api_trace_run {
	const char *args;
	FILE *p;
};

static void api_trace_hook(struct vmrun *r, void *arg)
{
	struct api_trace_run *t = arg;
	char cmd[512];

	if (t->p || !strstr(r->out, "isovm-testguest: boot="))
		return;
	snprintf(cmd, sizeof(cmd), "%s --socket %s/api.sock %s 2>&1",
		 ISOVMCTL, api_dir, t->args);
	t->p = popen(cmd, "r");
	cr_assert_not_null(t->p);
	usleep(300000); /* subscribed before the guest's first read */
}

/*
 * The trace shows each guest read with its sector and the file offset it
 * became: a slice at 1 MiB adds 1 MiB. blk-scan reads 4 KiB at a time,
 * one after the other.
 */
Test(api, trace_shows_the_guests_reads_with_sectors_and_file_offsets)
{
	static struct api_trace_run t = {.args = "--json --count 40 trace blk0"};
	struct vmrun_opts o = {.hook = api_trace_hook, .arg = &t};
	char *argv[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--cmdline",
			"test=blk-scan blk-scan.passes=3 blk-scan.gap-ms=1000",
			"--disk", "path=disk.img,offset=1M,size=2M",
			"--api-socket", "api.sock", NULL};
	char line[512];
	long long prev = -1;
	unsigned n = 0;
	struct vmrun r;

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(&r, API_TIMEOUT_MS, &o, argv), 0);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(t.p, "the guest never started");
	while (fgets(line, sizeof(line), t.p)) {
		long long sector = json_num(line, "sector");
		long long off = json_num(line, "file_offset");

		cr_assert_not_null(strstr(line, "\"device\":\"blk0\""), "%s",
				   line);
		cr_assert_not_null(strstr(line, "\"op\":\"read\""), "%s", line);
		cr_assert_not_null(strstr(line, "\"syscall\":\"pread\""), "%s",
				   line);
		cr_assert_not_null(strstr(line, "\"bytes\":4096,"), "%s", line);
		cr_assert_not_null(strstr(line, "\"status\":0,"), "%s", line);
		cr_assert_eq(off, (1ll << 20) + sector * 512, "%s", line);
		if (prev >= 0 && sector)
			cr_assert_eq(sector, prev + 8, "%s", line);
		prev = sector;
		n++;
	}
	cr_assert_eq(WEXITSTATUS(pclose(t.p)), 0);
	t.p = NULL;
	cr_assert_eq(n, 40u, "%u events", n);
	vmrun_free(&r);
}

/* A virtq-evil rule the guest breaks shows in the trace, named. */
static void api_evil(const char *rule, const char *want)
{
	static struct api_trace_run t;
	struct vmrun_opts o = {.hook = api_trace_hook, .arg = &t};
	char cmdline[160], line[512], found[512] = "";
	char *argv[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--cmdline", cmdline, "--disk",
			"path=disk.img", "--api-socket", "api.sock", NULL};
	struct vmrun r;

	harness_need_kvm();
	t = (struct api_trace_run){.args = "trace console"};
	/* blk-scan first: time for the trace to be there. */
	snprintf(cmdline, sizeof(cmdline),
		 "test=blk-scan,virtq-evil blk-scan.passes=2 "
		 "blk-scan.gap-ms=1000 virtq-evil=%s",
		 rule);
	cr_assert_eq(vmrun_opts(&r, API_TIMEOUT_MS, &o, argv), 0);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(t.p);
	/* Console bytes come and go too: the one violation is the point. */
	while (fgets(line, sizeof(line), t.p))
		if (strstr(line, " violation: ")) {
			cr_assert_eq(found[0], '\0', "two: %s%s", found, line);
			snprintf(found, sizeof(found), "%s", line);
		}
	pclose(t.p);
	cr_assert_not_null(strstr(found, "console #"), "no violation traced");
	cr_assert_not_null(strstr(found, want), "want '%s' in: %s", want,
			   found);
	vmrun_free(&r);
}

/* Every rule of the test guest's virtq-evil, each named in the trace. */
Test(api, trace_names_a_descriptor_loop)
{
	api_evil("loop", "chain longer than queue (loop)");
}
Test(api, trace_names_an_index_out_of_range)
{
	api_evil("index", "head index out of range");
}
Test(api, trace_names_an_address_outside_ram)
{
	api_evil("addr", "buffer outside guest RAM");
}
Test(api, trace_names_a_length_overflow)
{
	api_evil("overflow", "buffer outside guest RAM");
}
Test(api, trace_names_a_nested_indirect_table)
{
	api_evil("nested-indirect", "nested indirect descriptor");
}
Test(api, trace_names_a_queue_size_not_a_power_of_two)
{
	api_evil("qsize", "queue size not a power of 2");
}
Test(api, trace_names_a_notify_before_driver_ok)
{
	api_evil("early-notify", "notify of queue 1 before DRIVER_OK");
}

/* console-echo over stdio: the line typed in, the echo and the rest out. */
struct api_con_trace {
	struct api_trace_run t;
	bool sent;
};

static void api_con_hook(struct vmrun *r, void *arg)
{
	struct api_con_trace *c = arg;

	api_trace_hook(r, &c->t);
	if (!c->sent && c->t.p && strstr(r->out, "console-echo ready"))
		c->sent = write(r->in_fd, "traced-line-7\n", 14) == 14;
}

Test(api, trace_shows_console_bytes_each_way)
{
	static struct api_con_trace c = {.t = {.args = "--json trace console"}};
	struct vmrun_opts o = {.hook = api_con_hook, .arg = &c,
			       .stdin_pipe = true};
	char *argv[] = {(char *)HARNESS_ISOVM, "run", "--kernel",
			HARNESS_TESTGUEST, "--cmdline",
			"test=blk-scan,console-echo blk-scan.passes=2 "
			"blk-scan.gap-ms=500",
			"--disk", "path=disk.img", "--api-socket", "api.sock",
			NULL};
	long long in = 0, out = 0;
	char line[512];
	struct vmrun r;

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(&r, API_TIMEOUT_MS, &o, argv), 0);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert(c.sent, "the guest never asked for input");
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=console-echo "
					 "status=pass"),
			   "%s", r.out);
	while (fgets(line, sizeof(line), c.t.p)) {
		cr_assert_not_null(strstr(line, "\"device\":\"console\""),
				   "%s", line);
		if (strstr(line, "\"syscall\":\"read\""))
			in += json_num(line, "bytes");
		else if (strstr(line, "\"syscall\":\"write\""))
			out += json_num(line, "bytes");
	}
	pclose(c.t.p);
	cr_assert_geq(in, 14, "%lld bytes in", in);
	cr_assert_geq(out, 14, "%lld bytes out: the echo at least", out);
	vmrun_free(&r);
}
