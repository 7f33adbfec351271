/*
 * test_restart.c: device servers that die, hang or lie are restarted and
 * the guest loses nothing. The test guest's blk-verify load (self-
 * describing blocks, reads that check them) runs while the host kills the
 * block server, or while an injected fault makes it hang or send a bad
 * completion; afterwards the image must match the guest's record (its
 * digest, recomputed here from the blocks' headers). The console server is
 * killed while a paced stream flows out of the guest, and while one flows
 * in: both arrive byte for byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/blk_image.h"
#include "tests/integration/con_stream.h"
#include "tests/integration/harness.h"

#define RST_TIMEOUT_MS 300000
#define RST_DISK_MIB   16u
#define RST_BS	       4096u
#define RST_MAGIC      0x4b4c425643564f53ull
#define FNV_INIT       0xcbf29ce484222325ull

static char rst_dir[] = "/tmp/isovm-restart-XXXXXX";

static void rst_setup(void)
{
	harness_enter_tmpdir(rst_dir);
	blk_image_make("disk.img", RST_DISK_MIB * 1024ull * 1024, 0);
}

static void rst_teardown(void)
{
	harness_remove_tmpdir(rst_dir);
}

TestSuite(restart, .init = rst_setup, .fini = rst_teardown);

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * The digest blk-verify reports, from the image: each block is all zeros
 * (generation 0) or carries a header naming itself and a payload checksum
 * that holds. A block that is neither fails the test.
 */
static uint64_t rst_image_digest(const char *path, uint64_t blocks)
{
	static uint8_t buf[RST_BS];
	uint64_t h = FNV_INIT, hdr[4], gen;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	for (uint64_t b = 0; b < blocks; b++) {
		cr_assert_eq(pread(fd, buf, RST_BS, (off_t)(b * RST_BS)),
			     (ssize_t)RST_BS);
		memcpy(hdr, buf, sizeof(hdr));
		gen = 0;
		if (hdr[0] || hdr[1] || hdr[2] || hdr[3]) {
			cr_assert_eq(hdr[0], RST_MAGIC, "block %" PRIu64, b);
			cr_assert_eq(hdr[1], b, "block %" PRIu64 " misplaced",
				     b);
			cr_assert_eq(hdr[3],
				     fnv(FNV_INIT, buf + sizeof(hdr),
					 RST_BS - sizeof(hdr)),
				     "block %" PRIu64 " torn", b);
			gen = hdr[2];
		} else {
			for (unsigned i = 0; i < RST_BS; i++)
				cr_assert_eq(buf[i], 0, "block %" PRIu64, b);
		}
		h = fnv(h, &gen, sizeof(gen));
	}
	close(fd);
	return h;
}

static void rst_kill_hook(struct vmrun *r, void *arg)
{
	harness_kill_tick(r, arg);
}

static void rst_boot(struct vmrun *r, const char *cmdline,
		     const char *const extra[], struct harness_killer *k)
{
	char *argv[32];
	unsigned n = 0;
	struct vmrun_opts o = { .hook = k ? rst_kill_hook : NULL, .arg = k };

	harness_need_kvm();
	argv[n++] = (char *)HARNESS_ISOVM;
	argv[n++] = "run";
	argv[n++] = "--kernel";
	argv[n++] = HARNESS_TESTGUEST;
	argv[n++] = "--log-level";
	argv[n++] = "info";
	argv[n++] = "--cmdline";
	argv[n++] = (char *)cmdline;
	argv[n++] = "--disk";
	argv[n++] = "path=disk.img";
	for (unsigned i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	cr_assert_eq(vmrun_opts(r, RST_TIMEOUT_MS, &o, argv), 0);
	if (r->status != ISOVM_EXIT_POWEROFF || r->timed_out)
		vmrun_dump(r, cmdline);
}

/* The guest's blk-verify passed and the image holds what it recorded. */
static void rst_expect_verified(const struct vmrun *r)
{
	char line[512], want[40];
	long long blocks;

	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(r, "ISOVM-TEST name=blk-verify", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	blocks = vmrun_key(line, "blocks");
	cr_assert_eq(blocks, RST_DISK_MIB * 1024 * 1024 / RST_BS, "%s", line);
	cr_assert_gt(vmrun_key(line, "writes"), 0, "%s", line);
	snprintf(want, sizeof(want), "digest=%016" PRIx64,
		 rst_image_digest("disk.img", (uint64_t)blocks));
	cr_assert_not_null(strstr(line, want), "image %s, guest: %s", want,
			   line);
}

Test(restart, blk_server_killed_50_times_under_a_verifying_load_loses_nothing)
{
	const char *const extra[] = { "--restart-limit", "1000/10", NULL };
	/* At random instants, 150..650 ms apart, while blk-verify runs. */
	struct harness_killer k = {.comm = "isovm-blk",
				   .after = "isovm-testguest: boot=",
				   .until = "name=blk-verify",
				   .want = 50,
				   .gap_ms = 150,
				   .jitter_ms = 500,
				   .seed = 1234};
	struct vmrun r;
	char line[512];

	rst_boot(&r,
		 "test=blk-verify blk-verify.secs=30 blk-verify.qd=16",
		 extra, &k);
	rst_expect_verified(&r);
	cr_assert_geq(k.kills, 50u, "only %u kills in the run", k.kills);
	cr_assert_geq(vmrun_count(&r, "blk0 server restarted"), 50u);
	cr_assert_eq(vmrun_count(&r, "NEEDS_RESET"), 0u);
	cr_assert_not_null(vmrun_line(&r, "blk0 server: deaths=", line,
				      sizeof(line)));
	cr_assert_geq(vmrun_key(line, "deaths"), 50, "%s", line);
	cr_assert_geq(vmrun_key(line, "restarts"), 50, "%s", line);
	cr_assert_not_null(strstr(line, "last_cause=killed by signal 9"),
			   "%s", line);
	vmrun_free(&r);
}

Test(restart, a_hung_server_is_killed_by_the_watchdog_and_the_io_completes)
{
	const char *const extra[] = { "--fault", "blk0:drop:op=write",
				       "--watchdog-ms", "500", NULL };
	struct vmrun r;

	rst_boot(&r, "test=blk-verify blk-verify.secs=3", extra, NULL);
	rst_expect_verified(&r);
	cr_assert_eq(vmrun_count(&r, "watchdog: 1 requests pending, none done "
				      "in 500 ms: killing it"),
		     1u);
	cr_assert_eq(vmrun_count(&r, "blk0 server restarted"), 1u);
	vmrun_free(&r);
}

Test(restart, a_corrupt_completion_gets_the_server_restarted_unseen)
{
	const char *const extra[] = { "--fault", "blk0:corrupt:op=read",
				      NULL };
	struct vmrun r;

	rst_boot(&r, "test=blk-verify blk-verify.secs=3", extra, NULL);
	rst_expect_verified(&r);
	cr_assert_geq(vmrun_count(&r, "broke the data plane: killing it"),
		      1u);
	cr_assert_eq(vmrun_count(&r, "blk0 server restarted"), 1u);
	vmrun_free(&r);
}

Test(restart, a_server_that_always_crashes_ends_in_needs_reset_vm_runs_on)
{
	const char *const extra[] = { "--fault", "blk0:crash:restarts",
				      "--restart-limit", "3/60", NULL };
	struct vmrun r;
	char line[512];

	rst_boot(&r, "test=blk-verify blk-verify.secs=3", extra, NULL);
	/* The guest saw its disk fail and said so over the UART, then
	 * powered off: the VMM and the other devices ran on. */
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=blk-verify", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=fail"), "%s", line);
	cr_assert_not_null(strstr(line, "reason=io"), "%s", line);
	cr_assert_eq(vmrun_count(&r, "no more restarts"), 1u);
	cr_assert_eq(vmrun_count(&r, "blk0 server restarted"), 3u);
	cr_assert_not_null(vmrun_line(&r, "blk0 server: deaths=", line,
				      sizeof(line)));
	cr_assert_eq(vmrun_key(line, "deaths"), 4, "%s", line);
	cr_assert_not_null(strstr(line, " failed"), "%s", line);
	vmrun_free(&r);
}

/*
 * The console server killed again and again while bytes flow: its bytes
 * wait in pipes the VMM holds, and the server only splices them to and
 * from the backend, so no byte may be lost or doubled either way. The
 * backend is stdio: the harness's pipes.
 */
TestSuite(restart_console, .timeout = 300);

#define RST_CON_KILLS 20

/* console: a --console value, or NULL for stdio. */
static void rst_con_boot(struct vmrun *r, const char *cmdline,
			 const char *console, struct vmrun_opts *o)
{
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			HARNESS_TESTGUEST,
			"--log-level",
			"info",
			"--restart-limit",
			"1000/10",
			"--cmdline",
			(char *)cmdline,
			console ? "--console" : NULL,
			(char *)console,
			NULL};

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(r, RST_TIMEOUT_MS, o, argv), 0);
	if (r->status != ISOVM_EXIT_POWEROFF || r->timed_out)
		vmrun_dump(r, cmdline);
	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF);
}

/* Each kill was seen as a death, each followed by a restart. */
static void rst_con_restarted(const struct vmrun *r, unsigned kills)
{
	char line[512];

	cr_assert_geq(kills, RST_CON_KILLS, "only %u kills in the run", kills);
	cr_assert_geq(vmrun_count(r, "console server restarted"),
		      RST_CON_KILLS);
	cr_assert_not_null(vmrun_line(r, "console server: deaths=", line,
				      sizeof(line)));
	cr_assert_geq(vmrun_key(line, "deaths"), RST_CON_KILLS, "%s", line);
	cr_assert_geq(vmrun_key(line, "restarts"), RST_CON_KILLS, "%s", line);
	cr_assert_eq(vmrun_count(r, "NEEDS_RESET"), 0u);
}

/*
 * console-bulk, paced to last about 14 s (5 MiB in 8 KiB writes, 20 ms
 * apart), with the server killed every 300-500 ms from 1 s after the
 * stream began: what reached stdout is the stream, byte for byte, and the
 * guest's hash of what it sent.
 */
Test(restart_console, killed_20_times_under_bulk_output_loses_and_doubles_nothing)
{
	struct harness_killer k = {.comm = "isovm-console",
				   .after = "ISOVM-BULK-BEGIN",
				   .until = "name=console-bulk",
				   .want = RST_CON_KILLS,
				   .gap_ms = 300,
				   .jitter_ms = 200,
				   .seed = 4321};
	struct vmrun_opts o = {.hook = rst_kill_hook, .arg = &k};
	struct vmrun r;

	rst_con_boot(&r,
		     "test=console-bulk console-bulk.mib=5 "
		     "console-bulk.seed=77 console-bulk.chunk=8192 "
		     "console-bulk.gap-us=20000",
		     NULL, &o);
	con_bulk_check(r.out, r.out_len, 5u << 20);
	rst_con_restarted(&r, k.kills);
	vmrun_free(&r);
}

/* The input side: a known stream fed into isovm's stdin as it is taken. */
struct rst_feed {
	struct harness_killer k;
	uint64_t seed, bytes, sent;
	bool ready; /* the guest said so: its buffers are posted */
};

static void rst_feed_hook(struct vmrun *r, void *arg)
{
	struct rst_feed *f = arg;
	uint8_t chunk[4096];

	harness_kill_tick(r, &f->k);
	if (!f->ready) {
		if (!strstr(r->out, "console-sink ready"))
			return;
		f->ready = true;
		/* Our own end: a full pipe must not stop the harness. */
		cr_assert_eq(fcntl(r->in_fd, F_SETFL,
				   fcntl(r->in_fd, F_GETFL) | O_NONBLOCK),
			     0);
	}
	while (f->sent < f->bytes) {
		size_t n = f->bytes - f->sent < sizeof(chunk)
				   ? f->bytes - f->sent
				   : sizeof(chunk);
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			chunk[i] = con_input_byte(f->seed, f->sent + i);
		w = write(r->in_fd, chunk, n);
		if (w <= 0)
			break;
		f->sent += (uint64_t)w;
	}
}

/*
 * console-sink reads 2.5 MiB from the virtio console, 4 KiB every 20 ms
 * (about 13 s), while the host feeds them into stdin as fast as they are
 * taken, so that input always waits in the IN pipe and the backend, and
 * kills the server every 300-500 ms: the guest got exactly the host's
 * bytes (count and hash).
 */
Test(restart_console, killed_20_times_under_input_loses_and_doubles_nothing)
{
	struct rst_feed f = {.k = {.comm = "isovm-console",
				   .after = "console-sink ready",
				   .until = "name=console-sink",
				   .want = RST_CON_KILLS,
				   .gap_ms = 300,
				   .jitter_ms = 200,
				   .seed = 8765},
			     .seed = 99,
			     .bytes = 5u << 19};
	struct vmrun_opts o = {.hook = rst_feed_hook, .arg = &f,
			       .stdin_pipe = true};
	char cmdline[128], line[512], want[64];
	uint64_t hash = CON_FNV_INIT;
	struct vmrun r;

	snprintf(cmdline, sizeof(cmdline),
		 "test=console-sink console-sink.bytes=%llu "
		 "console-sink.gap-us=20000",
		 (unsigned long long)f.bytes);
	rst_con_boot(&r, cmdline, NULL, &o);
	cr_assert_eq(f.sent, f.bytes, "the host fed %llu bytes",
		     (unsigned long long)f.sent);
	for (uint64_t i = 0; i < f.bytes; i++) {
		uint8_t b = con_input_byte(f.seed, i);

		hash = con_fnv(hash, &b, 1);
	}
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=console-sink", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_eq(vmrun_key(line, "bytes"), (long long)f.bytes, "%s", line);
	snprintf(want, sizeof(want), "hash=0x%016" PRIx64, hash);
	cr_assert_not_null(strstr(line, want), "host %s, guest: %s", want,
			   line);
	rst_con_restarted(&r, f.k.kills);
	vmrun_free(&r);
}

/* The same input, from a client of --console socket:PATH. */
struct rst_sock_feed {
	struct rst_feed f;
	char path[108];
	int fd;	      /* our connection; -1 before it is made */
	bool dropped; /* a write found it closed */
};

static void rst_sock_connect(struct vmrun *r, struct rst_sock_feed *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fd);
		return;
	}
	s->fd = fd;
	r->extra_fd = fd;
}

static void rst_sock_feed_hook(struct vmrun *r, void *arg)
{
	struct rst_sock_feed *s = arg;
	struct rst_feed *f = &s->f;
	uint8_t chunk[4096];

	if (s->fd < 0)
		rst_sock_connect(r, s);
	/* The guest says it is ready on the console: to us, the client. */
	if (!f->ready && r->extra && strstr(r->extra, "console-sink ready")) {
		f->ready = true;
		f->k.after = ""; /* the kills begin a second later */
	}
	harness_kill_tick(r, &f->k);
	if (s->fd < 0 || s->dropped || !f->ready)
		return;
	while (f->sent < f->bytes) {
		size_t n = f->bytes - f->sent < sizeof(chunk)
				   ? f->bytes - f->sent
				   : sizeof(chunk);
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			chunk[i] = con_input_byte(f->seed, f->sent + i);
		w = send(s->fd, chunk, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN)
			s->dropped = true;
		if (w <= 0)
			break;
		f->sent += (uint64_t)w;
	}
}

/*
 * As above, but the host's bytes come from one client of the socket
 * backend, whose connection the VMM holds too: every kill leaves it
 * open, with what it sent and no server read yet; the next server goes
 * on with it. The client is never dropped, the guest gets every byte.
 */
Test(restart_console, socket_client_kept_through_20_kills_loses_nothing)
{
	struct rst_sock_feed s = {.f = {.k = {.comm = "isovm-console",
					      .after = "\x01 set by the hook",
					      .until = "name=console-sink",
					      .want = RST_CON_KILLS,
					      .gap_ms = 300,
					      .jitter_ms = 200,
					      .seed = 1357},
					.seed = 55,
					.bytes = 5u << 19},
				  .fd = -1};
	struct vmrun_opts o = {.hook = rst_sock_feed_hook, .arg = &s};
	char cmdline[128], spec[128], line[512], want[64];
	uint64_t hash = CON_FNV_INIT;
	const char *res;
	struct vmrun r;

	harness_need_kvm();
	snprintf(s.path, sizeof(s.path), "/tmp/isovm-rst-%d-sock", getpid());
	unlink(s.path);
	snprintf(spec, sizeof(spec), "socket:%s", s.path);
	snprintf(cmdline, sizeof(cmdline),
		 "test=console-sink console-sink.bytes=%llu "
		 "console-sink.gap-us=20000",
		 (unsigned long long)s.f.bytes);
	rst_con_boot(&r, cmdline, spec, &o);
	cr_assert_geq(s.fd, 0, "never connected");
	cr_assert_not(s.dropped, "the client's connection was dropped");
	cr_assert_eq(s.f.sent, s.f.bytes, "the client sent %llu bytes",
		     (unsigned long long)s.f.sent);
	for (uint64_t i = 0; i < s.f.bytes; i++) {
		uint8_t b = con_input_byte(s.f.seed, i);

		hash = con_fnv(hash, &b, 1);
	}
	/* The guest reports on the console too: after the stream, to us. */
	cr_assert_not_null(r.extra, "nothing came to the client");
	res = strstr(r.extra, "ISOVM-TEST name=console-sink");
	cr_assert_not_null(res, "no result on the console");
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(res, "\n"), res);
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_eq(vmrun_key(line, "bytes"), (long long)s.f.bytes, "%s",
		     line);
	snprintf(want, sizeof(want), "hash=0x%016" PRIx64, hash);
	cr_assert_not_null(strstr(line, want), "client %s, guest: %s", want,
			   line);
	rst_con_restarted(&r, s.f.k.kills);
	close(s.fd);
	unlink(s.path);
	vmrun_free(&r);
}
