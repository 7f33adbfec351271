/*
 * test_seccomp_policy.c: sandbox_seccomp_install() in a forked child: what
 * a table allows works, anything else kills with SIGSYS, debug mode names
 * the call and fails it with ENOSYS, argument checks and slots hold, bad
 * tables are refused with a line naming the row.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp_policy.h"

/* What every child needs to end: _exit(). */
static const struct sandbox_syscall test_base_rows[] = {
	SANDBOX_ROW(exit_group, "the child ends"),
#ifdef ISOVM_SANITIZE
	/* ASan looks at its signal stack before a noreturn call. */
	SANDBOX_ROW(sigaltstack, "ASan before _exit()"),
#endif
};

static const struct sandbox_policy test_base =
	SANDBOX_POLICY("test base", test_base_rows);

static const struct sandbox_syscall test_rows[] = {
	SANDBOX_ROW(getpid, "allowed"),
	SANDBOX_ROW_EQ(close, 0, 100, "only fd 100"),
	SANDBOX_ROW_MASKED(mmap, 2, PROT_EXEC, 0, "no PROT_EXEC"),
	SANDBOX_ROW(munmap, "unmap"),
	SANDBOX_ROW_SLOT(write, 0, 0, "the slot's fd only"),
	SANDBOX_ROW_SLOT(read, 0, 1, "an absent slot"),
};

static const struct sandbox_policy test_policy =
	SANDBOX_POLICY_ON("test policy", &test_base, test_rows);

/* Run @fn in a child that first loads test_policy; its wait status. */
static int run_confined(int (*fn)(void), const int64_t *slots, size_t n,
			bool debug)
{
	char err[160];
	pid_t pid;
	int st;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (sandbox_seccomp_install_slots(&test_policy, slots, n, true,
						  debug, err, sizeof(err)))
			_exit(100);
		_exit(fn());
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void assert_exit(int st, int code)
{
	cr_assert(WIFEXITED(st), "status %#x (signal %d)", st,
		  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	cr_assert_eq(WEXITSTATUS(st), code);
}

static void assert_sigsys(int st)
{
	cr_assert(WIFSIGNALED(st), "status %#x: not killed", st);
	cr_assert_eq(WTERMSIG(st), SIGSYS);
}

static int call_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 7 : 1;
}

static int call_getppid(void)
{
	syscall(SYS_getppid);
	return 7;
}

Test(seccomp_policy, an_allowed_call_works)
{
	assert_exit(run_confined(call_getpid, NULL, 0, false), 7);
}

Test(seccomp_policy, a_refused_call_kills_with_sigsys)
{
	assert_sigsys(run_confined(call_getppid, NULL, 0, false));
}

static int call_close_100(void)
{
	return close(100) && errno == EBADF ? 7 : 1;
}

static int call_close_101(void)
{
	close(101);
	return 7;
}

Test(seccomp_policy, an_argument_check_lets_one_value_through)
{
	assert_exit(run_confined(call_close_100, NULL, 0, false), 7);
	assert_sigsys(run_confined(call_close_101, NULL, 0, false));
}

static int map_rw(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED && !munmap(p, 4096) ? 7 : 1;
}

static int map_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	     0);
	return 7;
}

Test(seccomp_policy, a_masked_check_forbids_prot_exec)
{
	assert_exit(run_confined(map_rw, NULL, 0, false), 7);
	assert_sigsys(run_confined(map_exec, NULL, 0, false));
}

static int slot_fd = -1;

static int write_slot(void)
{
	return write(slot_fd, "s", 1) == 1 ? 7 : 1;
}

static int write_other(void)
{
	if (write(slot_fd + 1, "s", 1)) {
		/* Not reached: the filter refuses this fd. */
	}
	return 7;
}

static int read_absent_slot(void)
{
	char c;

	if (read(slot_fd, &c, 1)) {
		/* Not reached: slot 1 is absent, nothing is allowed. */
	}
	return 7;
}

Test(seccomp_policy, a_slot_pins_an_argument_to_a_number_known_at_install)
{
	int p[2];
	int64_t slots[2];
	char c;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	slot_fd = p[1];
	slots[0] = p[1];
	slots[1] = -1;
	assert_exit(run_confined(write_slot, slots, 2, false), 7);
	cr_assert_eq(read(p[0], &c, 1), 1);
	assert_sigsys(run_confined(write_other, slots, 2, false));
	/* Absent (negative, or past the table): nothing allowed. */
	assert_sigsys(run_confined(read_absent_slot, slots, 2, false));
	assert_sigsys(run_confined(write_slot, slots, 0, false));
	close(p[0]);
	close(p[1]);
}

static int getppid_enosys(void)
{
	long r = syscall(SYS_getppid);

	return r == -1 && errno == ENOSYS ? 7 : 1;
}

Test(seccomp_policy, debug_mode_names_the_call_and_fails_it_with_enosys)
{
	char path[] = "/tmp/isovm-seccomp-log-XXXXXX", log[512];
	int fd = mkstemp(path), saved, st;
	ssize_t n;

	cr_assert_geq(fd, 0);
	unlink(path);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(saved, 0);
	/* The child inherits it as its stderr. */
	cr_assert_geq(dup2(fd, STDERR_FILENO), 0);
	st = run_confined(getppid_enosys, NULL, 0, true);
	cr_assert_geq(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	assert_exit(st, 7);
	n = pread(fd, log, sizeof(log) - 1, 0);
	cr_assert_gt(n, 0);
	log[n] = '\0';
	cr_assert_not_null(
		strstr(log, "seccomp: test policy refused getppid (nr 110)\n"),
		"log: %s", log);
	close(fd);
}

/* Seccomp mode of this process, from /proc/self/status. */
static int seccomp_mode(void)
{
	char line[256];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

static const struct sandbox_syscall test_bad_name[] = {
	SANDBOX_ROW(getpid, "fine"),
	{.name = "getpidd", .why = "a typo"},
};

static const struct sandbox_syscall test_foreign_call[] = {
	/* i386 has it, x86-64 does not. */
	{.name = "socketcall", .why = "another architecture's"},
};

static const struct sandbox_syscall test_bad_arg[] = {
	{.name = "close",
	 .why = "argument 6",
	 .check = SANDBOX_ARG_EQ,
	 .arg = 6},
};

Test(seccomp_policy, a_bad_row_is_refused_naming_it_and_nothing_is_loaded)
{
	static const struct sandbox_policy name =
		SANDBOX_POLICY("typo", test_bad_name);
	static const struct sandbox_policy foreign =
		SANDBOX_POLICY("foreign", test_foreign_call);
	static const struct sandbox_policy arg =
		SANDBOX_POLICY("arg", test_bad_arg);
	char err[160] = "";

	cr_assert_eq(
		sandbox_seccomp_install(&name, false, false, err, sizeof(err)),
		-EINVAL);
	cr_assert_str_eq(err, "typo: unknown system call \"getpidd\"");
	cr_assert_eq(sandbox_seccomp_install(&foreign, false, true, err,
					     sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "socketcall"), "err: %s", err);
	cr_assert_eq(
		sandbox_seccomp_install(&arg, false, false, err, sizeof(err)),
		-EINVAL);
	cr_assert_not_null(strstr(err, "close"), "err: %s", err);
	cr_assert_eq(seccomp_mode(), 0, "a filter was loaded");
}

/* all_threads: a thread started before the filter has it too. */
static int tsync_pipe[2], tsync_ready[2];

static void *tsync_thread(void *arg)
{
	char c;

	(void)arg;
	/* Running, past libc's thread start-up: the filter may come. */
	if (write(tsync_ready[1], "r", 1) == 1 &&
	    read(tsync_pipe[0], &c, 1) == 1)
		syscall(SYS_getppid);
	return NULL;
}

Test(seccomp_policy, all_threads_confines_a_thread_started_before)
{
	static const struct sandbox_syscall rows[] = {
		SANDBOX_ROW(write, "wake the thread"),
		SANDBOX_ROW(read, "the thread waits"),
		SANDBOX_ROW(nanosleep, "give it time"),
		SANDBOX_ROW(clock_nanosleep, "give it time"),
	};
	static const struct sandbox_policy p =
		SANDBOX_POLICY_ON("threads", &test_base, rows);
	pthread_t t;
	char err[160], c;
	pid_t pid;
	int st;

	cr_assert_eq(pipe2(tsync_pipe, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(tsync_ready, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (pthread_create(&t, NULL, tsync_thread, NULL) ||
		    read(tsync_ready[0], &c, 1) != 1)
			_exit(101);
		if (sandbox_seccomp_install(&p, true, false, err, sizeof(err)))
			_exit(100);
		if (write(tsync_pipe[1], "x", 1) != 1)
			_exit(102);
		/* The thread's getppid() ends the process meanwhile. */
		sleep(5);
		_exit(7);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	assert_sigsys(st);
	close(tsync_pipe[0]);
	close(tsync_pipe[1]);
	close(tsync_ready[0]);
	close(tsync_ready[1]);
}
