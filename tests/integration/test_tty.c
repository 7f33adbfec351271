/*
 * test_tty.c: isovm on a terminal. With stdin a tty, the terminal is raw
 * (no echo, no line editing, signals still on) while the guest runs, and
 * exactly as it was once isovm has exited, by power-off or by SIGTERM.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"

#define TTY_TIMEOUT_S 60
#define TTY_LINE      "typed-on-a-terminal"

struct tty_run {
	int master, slave;
	pid_t pid;
	char out[16384];
	size_t len;
};

/* A new pty pair; the slave starts as a fresh terminal does (cooked). */
static void tty_open(struct tty_run *t)
{
	memset(t, 0, sizeof(*t));
	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(t->master, 0);
	cr_assert_eq(grantpt(t->master), 0);
	cr_assert_eq(unlockpt(t->master), 0);
	t->slave = open(ptsname(t->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(t->slave, 0);
}

/* isovm with the slave as stdin and stdout, stderr to /dev/null. */
static void tty_spawn(struct tty_run *t, const char *cmdline)
{
	t->pid = fork();
	cr_assert_geq(t->pid, 0);
	if (t->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* A session of its own: the pty is a plain fd, not a
		 * controlling terminal whose job control could stop it. */
		setsid();
		dup2(t->slave, 0);
		dup2(t->slave, 1);
		dup2(null, 2);
		execl(HARNESS_ISOVM, HARNESS_ISOVM, "run", "--kernel",
		      HARNESS_TESTGUEST, "--cmdline", cmdline, (char *)NULL);
		_exit(127);
	}
}

/* Reads the master until want shows up or the time is over. */
static bool tty_wait_for(struct tty_run *t, const char *want)
{
	time_t end = time(NULL) + TTY_TIMEOUT_S;
	struct pollfd p = {.fd = t->master, .events = POLLIN};
	ssize_t n;

	while (!strstr(t->out, want) && time(NULL) < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(t->master, t->out + t->len, sizeof(t->out) - 1 - t->len);
		if (n <= 0)
			return false;
		t->len += (size_t)n;
		t->out[t->len] = '\0';
	}
	return strstr(t->out, want) != NULL;
}

/* Waits for isovm; the pty stays open so its modes can be read after. */
static int tty_reap(struct tty_run *t)
{
	int st;

	cr_assert_eq(waitpid(t->pid, &st, 0), t->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void tty_close(struct tty_run *t)
{
	close(t->master);
	close(t->slave);
}

static void tty_assert_same(const struct termios *a, const struct termios *b)
{
	cr_assert_eq(a->c_iflag, b->c_iflag, "c_iflag not restored");
	cr_assert_eq(a->c_oflag, b->c_oflag, "c_oflag not restored");
	cr_assert_eq(a->c_lflag, b->c_lflag, "c_lflag not restored");
	cr_assert_eq(a->c_cflag, b->c_cflag, "c_cflag not restored");
}

/* While the guest waits for input: raw, but Ctrl-C still a signal. */
static void tty_assert_raw(int fd)
{
	struct termios t;

	cr_assert_eq(tcgetattr(fd, &t), 0);
	cr_assert_eq(t.c_lflag & (ICANON | ECHO), 0, "not raw: 0x%x",
		     (unsigned)t.c_lflag);
	cr_assert_neq(t.c_lflag & ISIG, 0, "Ctrl-C would not stop isovm");
}

/*
 * A cooked pty, its modes kept in *before, isovm on it running
 * console-echo, checked raw once the guest waits for input.
 */
static void tty_start_echo(struct tty_run *t, struct termios *before)
{
	tty_open(t);
	cr_assert_eq(tcgetattr(t->slave, before), 0);
	cr_assert_neq(before->c_lflag & ICANON, 0, "a new pty is cooked");
	tty_spawn(t, "test=console-echo");
	cr_assert(tty_wait_for(t, "console-echo ready"), "%s", t->out);
	tty_assert_raw(t->slave);
}

/* After isovm ended with status: the pty is as it was before. */
static void tty_end(struct tty_run *t, const struct termios *before,
		    int status)
{
	struct termios after;

	cr_assert_eq(tty_reap(t), status);
	cr_assert_eq(tcgetattr(t->slave, &after), 0);
	tty_close(t);
	tty_assert_same(before, &after);
}

Test(tty, raw_while_running_and_restored_after_power_off)
{
	struct termios before;
	struct tty_run t;

	harness_need_kvm();
	tty_start_echo(&t, &before);
	cr_assert_eq(write(t.master, TTY_LINE "\n", sizeof(TTY_LINE)),
		     (ssize_t)sizeof(TTY_LINE));
	cr_assert(tty_wait_for(&t, "echo:" TTY_LINE), "%s", t.out);
	/* Raw: the terminal did not echo the line itself, only the guest. */
	cr_assert_eq(strstr(t.out, TTY_LINE), strstr(t.out, "echo:" TTY_LINE) + 5);
	cr_assert(tty_wait_for(&t, "name=console-echo status=pass"), "%s",
		  t.out);
	tty_end(&t, &before, ISOVM_EXIT_POWEROFF);
}

Test(tty, restored_after_sigterm)
{
	struct termios before;
	struct tty_run t;

	harness_need_kvm();
	tty_start_echo(&t, &before);
	kill(t.pid, SIGTERM);
	tty_end(&t, &before, ISOVM_EXIT_POWEROFF);
}
