/*
 * test_linux.c: the Linux guest (Debian's stock kernel + the project's
 * initramfs) under isovm: the PVH entry, a boot with 2 vCPUs to
 * ISOVM-GUEST-READY, the shell on hvc0 answering over stdio and over a
 * unix socket, power-off, panic and reboot, and a block server killed
 * while the guest idles. The disks are in test_linux_blk.c. Every test
 * needs hardware virtualization: on KVM without it guest ring-0 code is
 * emulated and Linux does not finish booting (scripts/kvm-lab.sh gives a
 * machine that has it).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"

#define LINUX_SMOKE_TIMEOUT_MS 120000
#define LINUX_FULL_TIMEOUT_MS  300000
#define LINUX_MAX_ARGS	       32

/*
 * Typed on the guest's shell; only the shell's answer holds "isovm-42",
 * and it names the shell's terminal.
 */
#define LINUX_CMD	 "echo isovm-$((6*7)) $(tty)\n"
#define LINUX_ANSWER	 "isovm-42"
#define LINUX_ANSWER_TTY "isovm-42 /dev/hvc0"
#define LINUX_SHELL_UP	 "starting a shell"

static void linux_need_guest(void)
{
	if (access(HARNESS_GUEST_DIR "/vmlinux", R_OK) != 0 ||
	    access(HARNESS_GUEST_DIR "/initramfs.cpio.gz", R_OK) != 0)
		cr_assert_fail("the Linux guest was not built (%s)",
			       HARNESS_GUEST_DIR);
}

/*
 * argv for "isovm run" of the Linux guest with 2 vCPUs and 512 MiB, the
 * given command line, then extra (NULL-terminated, may be NULL).
 */
static void linux_argv(char *argv[LINUX_MAX_ARGS], const char *cmdline,
		       const char *const extra[])
{
	const char *base[] = {
		HARNESS_ISOVM, "run",
		"--kernel",    HARNESS_GUEST_DIR "/vmlinux",
		"--initrd",    HARNESS_GUEST_DIR "/initramfs.cpio.gz",
		"--cpus",      "2",
		"--memory",    "512M",
		"--cmdline",   cmdline,
		NULL};
	unsigned n = 0;

	for (unsigned i = 0; base[i]; i++)
		argv[n++] = (char *)base[i];
	for (unsigned i = 0; extra && extra[i]; i++) {
		cr_assert_lt(n, LINUX_MAX_ARGS - 1);
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;
}

/* Prints the last 4000 bytes of what, for a failing test's log. */
static void linux_tail(const char *what, const char *text, size_t len)
{
	size_t n = len > 4000 ? 4000 : len;

	fprintf(stderr, "--- %s, last %zu bytes:\n%.*s\n---\n", what, n, (int)n,
		text + len - n);
}

/* Runs the guest to its end; dumps its output when it did not end at 0. */
static void linux_run(struct vmrun *r, const char *cmdline,
		      const char *const extra[])
{
	char *argv[LINUX_MAX_ARGS];

	linux_argv(argv, cmdline, extra);
	cr_assert_eq(vmrun(r, LINUX_FULL_TIMEOUT_MS, argv), 0);
	if (r->status != 0 || r->timed_out) {
		vmrun_dump(r, cmdline);
		linux_tail("stdout", r->out, r->out_len);
	}
}

Test(linux, smoke_pvh_boot_prints_banner_cmdline_and_e820)
{
	const char *until[] = {"Linux version",
			       "Command line:", "BIOS-e820:", NULL};
	char *argv[LINUX_MAX_ARGS];
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	linux_argv(argv, "console=ttyS0 earlyprintk=serial,ttyS0 isovm.smoke=1",
		   NULL);
	cr_assert_eq(
		vmrun_until(&r, LINUX_SMOKE_TIMEOUT_MS, until, 10000, argv), 0);
	if (!r.stopped || r.status != 0)
		vmrun_dump(&r, "linux smoke");
	cr_assert(r.stopped, "banner, command line and e820 map not all seen");
	cr_assert_not_null(strstr(r.out, "isovm.smoke=1"),
			   "the kernel did not echo our command line");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF,
		     "isovm did not end cleanly on SIGTERM (status %d)",
		     r.status);
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

Test(linux, full_boot_reaches_ready_and_reports_info)
{
	struct vmrun r;
	char line[512];

	harness_need_hw_virt();
	linux_need_guest();
	linux_run(&r, "console=ttyS0 isovm.test=info", NULL);
	cr_assert(!r.timed_out, "the guest did not finish in time");
	cr_assert_not_null(strstr(r.out, "ISOVM-GUEST-READY"),
			   "the guest never reached /init's ready line");
	cr_assert_not_null(
		vmrun_line(&r, "ISOVM-TEST name=info", line, sizeof(line)),
		"no info report");
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_eq(vmrun_key(line, "cpus"), 2,
		     "the guest did not see 2 vCPUs: %s", line);
	/* /init ends the test with "poweroff -f": that is exit status 0. */
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF,
		     "the guest's power-off gave status %d, not 0", r.status);
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

/*
 * The shell /init starts on the console when no test is named: the test
 * waits for its prompt, optionally kills the block server first, types a
 * command, waits for the answer, and types "poweroff -f".
 */
enum linux_con_step {
	LINUX_WAIT_SHELL,
	LINUX_WAIT_DEATH,
	LINUX_TYPE_CMD,
	LINUX_WAIT_ANSWER,
	LINUX_POWERED_OFF,
};

struct linux_con {
	const char *sock; /* --console socket path, or NULL for stdio */
	int fd;		  /* our socket client */
	bool kill_blk;	  /* SIGKILL isovm-blk once the shell is up */
	int blk_pid;	  /* the server killed, or 0 */
	double killed_at; /* CLOCK_MONOTONIC seconds of the kill */
	enum linux_con_step step;
	bool type_failed;   /* a write to the console failed */
	double poweroff_at; /* CLOCK_MONOTONIC seconds of "poweroff -f" */
};

static double linux_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The pid of parent's child whose comm is comm, or 0. */
static int linux_child(int parent, const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[300], buf[512], *lp, *rp;
		int pid = atoi(e->d_name), ppid;
		FILE *f;
		size_t n;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* "pid (comm) state ppid": comm may hold spaces or ')'. */
		lp = strchr(buf, '(');
		rp = strrchr(buf, ')');
		if (!lp || !rp || rp < lp ||
		    sscanf(rp + 1, " %*c %d", &ppid) != 1)
			continue;
		*rp = '\0';
		if (ppid == parent && strcmp(lp + 1, comm) == 0)
			found = pid;
	}
	closedir(d);
	return found;
}

/* No assert here: failing inside vmrun would leave isovm running. */
static void linux_con_type(struct vmrun *r, struct linux_con *c, const char *s)
{
	int fd = c->sock ? c->fd : r->in_fd;
	size_t len = strlen(s);

	if (write(fd, s, len) != (ssize_t)len)
		c->type_failed = true;
}

static void linux_con_hook(struct vmrun *r, void *arg)
{
	struct linux_con *c = arg;
	const char *out, *shell;

	if (c->sock && c->fd < 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		/* isovm creates the socket a little after it starts. */
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->sock);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			c->fd = fd;
			r->extra_fd = fd;
		} else if (fd >= 0) {
			close(fd);
		}
		return;
	}
	out = c->sock ? r->extra : r->out;
	switch (c->step) {
	case LINUX_WAIT_SHELL:
		/* The prompt ("/ # ") follows /init's line. */
		shell = strstr(out, LINUX_SHELL_UP);
		if (!shell || !strstr(shell, "# "))
			return;
		c->step = LINUX_TYPE_CMD;
		if (!c->kill_blk)
			break;
		c->blk_pid = linux_child(r->pid, "isovm-blk");
		if (c->blk_pid <= 0) {
			/* Nothing to kill: end the run, the test fails. */
			linux_con_type(r, c, "poweroff -f\n");
			c->poweroff_at = linux_now();
			c->step = LINUX_POWERED_OFF;
			return;
		}
		kill(c->blk_pid, SIGKILL);
		c->killed_at = linux_now();
		c->step = LINUX_WAIT_DEATH;
		return;
	case LINUX_WAIT_DEATH:
		/* Unlogged after 30 s: go on, the test fails on the log. */
		if (!strstr(r->err, "died") && linux_now() - c->killed_at < 30)
			return;
		c->step = LINUX_TYPE_CMD;
		break;
	case LINUX_WAIT_ANSWER:
		if (!strstr(out, LINUX_ANSWER))
			return;
		linux_con_type(r, c, "poweroff -f\n");
		c->poweroff_at = linux_now();
		c->step = LINUX_POWERED_OFF;
		return;
	default:
		return;
	}
	linux_con_type(r, c, LINUX_CMD);
	c->step = LINUX_WAIT_ANSWER;
}

/* Boots to the shell and drives it as c says; extra adds isovm flags. */
static void linux_con_run(struct vmrun *r, struct linux_con *c,
			  const char *const extra[])
{
	char *argv[LINUX_MAX_ARGS];
	struct vmrun_opts o = {
		.stdin_pipe = true, .hook = linux_con_hook, .arg = c};

	c->fd = -1;
	linux_argv(argv, "console=ttyS0", extra);
	cr_assert_eq(vmrun_opts(r, LINUX_FULL_TIMEOUT_MS, &o, argv), 0);
	if (c->fd >= 0)
		close(c->fd);
	if (r->status != 0 || r->timed_out || c->step != LINUX_POWERED_OFF) {
		vmrun_dump(r, "linux console");
		/* The dump shows the start; where it stopped is at the end. */
		linux_tail("stdout", r->out, r->out_len);
		if (c->sock)
			linux_tail("socket", r->extra, r->extra_len);
	}
}

/* What every console test expects once "poweroff -f" was typed. */
static void linux_con_check_poweroff(const struct vmrun *r,
				     const struct linux_con *c)
{
	const char *out = c->sock ? r->extra : r->out;
	double end = r->start_mono + r->seconds;

	cr_assert(!c->type_failed, "a write to the console failed");
	cr_assert_neq(c->step, LINUX_WAIT_SHELL,
		      "the shell never came up on the console");
	cr_assert_neq(c->step, LINUX_WAIT_ANSWER,
		      "the shell never answered '%s'", LINUX_ANSWER);
	cr_assert_not_null(strstr(out, LINUX_ANSWER_TTY),
			   "the shell's terminal is not hvc0");
	cr_assert_eq(c->step, LINUX_POWERED_OFF);
	cr_assert(!r->timed_out, "isovm did not exit after 'poweroff -f'");
	cr_assert_lt(end - c->poweroff_at, 60.0,
		     "isovm took %.1f s to exit after 'poweroff -f'",
		     end - c->poweroff_at);
	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF,
		     "'poweroff -f' gave exit status %d, not 0", r->status);
	cr_assert_not_null(strstr(r->err, "guest powered off"),
			   "isovm did not log the power-off");
	cr_assert(!r->strays, "processes outlived isovm");
}

Test(linux, console_shell_on_hvc0_answers_over_stdio)
{
	const char *extra[] = {"--log-level", "info", NULL};
	struct linux_con c = {0};
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	linux_con_run(&r, &c, extra);
	linux_con_check_poweroff(&r, &c);
	vmrun_free(&r);
}

Test(linux, console_shell_on_hvc0_answers_over_a_socket)
{
	char path[108], spec[120];
	const char *extra[] = {"--log-level", "info", "--console", spec, NULL};
	struct linux_con c = {.sock = path};
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	snprintf(path, sizeof(path), "/tmp/isovm-linux-%d.sock", getpid());
	unlink(path);
	snprintf(spec, sizeof(spec), "socket:%s", path);
	linux_con_run(&r, &c, extra);
	cr_assert_geq(c.fd, 0, "could not connect to %s", path);
	linux_con_check_poweroff(&r, &c);
	cr_assert_null(strstr(r.out, LINUX_ANSWER),
		       "the console went to stdout, not the socket");
	cr_assert_neq(access(path, F_OK), 0, "the socket path was left behind");
	vmrun_free(&r);
}

Test(linux, killed_blk_server_is_logged_restarted_and_the_guest_runs_on)
{
	char dir[] = "/tmp/isovm-linuxkill-XXXXXX", img[64], disk[80];
	char want[64];
	const char *extra[] = {"--log-level", "info", "--disk", disk, NULL};
	struct linux_con c = {.kill_blk = true};
	struct vmrun r;
	FILE *f;

	harness_need_hw_virt();
	linux_need_guest();
	cr_assert_not_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(disk, sizeof(disk), "path=%s", img);
	f = fopen(img, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), 1 << 20), 0);
	fclose(f);
	linux_con_run(&r, &c, extra);
	unlink(img);
	rmdir(dir);
	cr_assert_gt(c.blk_pid, 0, "found no isovm-blk child of isovm");
	snprintf(want, sizeof(want), "blk0 server (pid %d) died", c.blk_pid);
	cr_assert_not_null(strstr(r.err, want), "isovm did not log '%s'", want);
	cr_assert_not_null(strstr(r.err, "blk0 server restarted"),
			   "the block server was not restarted");
	/* The command was typed after the death was logged: its answer and
	 * the power-off show the guest ran on. */
	linux_con_check_poweroff(&r, &c);
	vmrun_free(&r);
}

Test(linux, kernel_panic_exits_with_status_3)
{
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	linux_run(&r, "console=ttyS0 isovm.test=panic", NULL);
	cr_assert(!r.timed_out, "isovm did not exit after the guest panic");
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=panic "
					 "status=running"),
			   "the panic test never started");
	cr_assert_null(strstr(r.out, "reason=no-panic"),
		       "the kernel refused to crash");
	cr_assert_eq(r.status, ISOVM_EXIT_GUEST_PANIC,
		     "a guest panic gave exit status %d, not %d", r.status,
		     ISOVM_EXIT_GUEST_PANIC);
	cr_assert_not_null(strstr(r.err, "guest panic"),
			   "isovm did not log the panic");
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

Test(linux, reboot_restarts_the_vm_in_place)
{
	const char *extra[] = {"--log-level", "info", NULL};
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	/* --on-reboot restart is the default: not passed. */
	linux_run(&r, "console=ttyS0 isovm.test=reboot", extra);
	cr_assert(!r.timed_out, "the guest did not finish in time");
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=reboot "
					 "status=rebooting boot=0"),
			   "the first boot never got to its reboot");
	cr_assert_null(strstr(r.out, "reason=no-reboot"),
		       "'reboot -f' came back to the guest");
	cr_assert_not_null(strstr(r.err, "guest rebooted; restarting"),
			   "isovm did not log a restart");
	cr_assert_eq(vmrun_count(&r, "ISOVM-GUEST-READY"), 2,
		     "want the guest ready twice, once per boot");
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=reboot status=pass "
					 "boot=1"),
			   "the second boot did not report boot=1");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF,
		     "status %d after the second boot's power-off", r.status);
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

Test(linux, reboot_with_on_reboot_exit_ends_isovm_with_0)
{
	const char *extra[] = {"--log-level", "info", "--on-reboot", "exit",
			       NULL};
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	linux_run(&r, "console=ttyS0 isovm.test=reboot", extra);
	cr_assert(!r.timed_out, "isovm did not exit on the guest's reboot");
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=reboot "
					 "status=rebooting boot=0"),
			   "the first boot never got to its reboot");
	cr_assert_not_null(strstr(r.err, "guest rebooted; exiting"),
			   "isovm did not log its exit on reboot");
	cr_assert_eq(vmrun_count(&r, "ISOVM-GUEST-READY"), 1,
		     "the guest booted again");
	cr_assert_null(strstr(r.out, "name=reboot status=pass"),
		       "the guest booted again");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF,
		     "--on-reboot exit gave status %d, not 0", r.status);
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

struct linux_button {
	bool pressed;
	struct harness_ctl out;
};

static void linux_button_hook(struct vmrun *r, void *arg)
{
	struct linux_button *b = arg;

	if (b->pressed || !strstr(r->out, "name=idle status=running"))
		return;
	b->pressed = true;
	harness_isovmctl(&b->out, "api.sock", "shutdown");
}

/*
 * isovmctl shutdown presses the power button: the isovm module's
 * interrupt handler starts the kernel's orderly power-off (sync, then
 * poweroff), long before the VMM's grace would end in a hard stop.
 */
Test(linux, shutdown_powers_the_guest_off_in_order)
{
	static char dir[] = "/tmp/isovm-lshut-XXXXXX";
	static struct linux_button b;
	const char *extra[] = {"--api-socket", "api.sock",
			       "--shutdown-grace-ms", "120000",
			       "--log-level", "info", NULL};
	struct vmrun_opts o = {.hook = linux_button_hook, .arg = &b};
	char *argv[LINUX_MAX_ARGS];
	struct vmrun r;

	harness_need_hw_virt();
	linux_need_guest();
	harness_enter_tmpdir(dir);
	linux_argv(argv, "console=ttyS0 isovm.test=idle", extra);
	cr_assert_eq(vmrun_opts(&r, LINUX_FULL_TIMEOUT_MS, &o, argv), 0);
	cr_assert_eq(chdir("/"), 0);
	harness_remove_tmpdir(dir);
	if (r.status != 0 || !strstr(r.err, "guest powered off"))
		linux_tail("stdout", r.out, r.out_len);
	cr_assert(b.pressed, "the guest never got to its idle test");
	cr_assert_eq(b.out.status, 0, "%s", b.out.text);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF, "status %d", r.status);
	cr_assert_not_null(strstr(r.err, "guest powered off"), "%s", r.err);
	cr_assert_null(strstr(r.err, "did not power off"),
		       "the VMM had to stop it");
	cr_assert_null(strstr(r.out, "name=idle status=timeout"));
	vmrun_free(&r);
}
