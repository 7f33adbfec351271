/*
 * test_confine.c: the VMM's threads confine themselves (vcpu/core/
 * confine.c, policies in sandbox/policy_*.c). Each case runs in a child
 * process that loads a filter, then makes allowed calls (it exits 0) or a
 * forbidden one (SIGSYS kills it); off, relaxed and on when no filter can
 * be loaded; the debug mode; the I/O thread refusing to start unconfined.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/fdpass.h"
#include "sandbox/seccomp_policy.h"
#include "vcpu/core/confine.h"
#include "vcpu/core/iothread.h"

/* Exit codes of a child that did not die. */
#define CHILD_OK	 0
#define CHILD_NOT_LOADED 10 /* confine_thread() failed */
#define CHILD_WRONG	 11 /* an allowed call failed, or a check did */

typedef int (*child_fn)(void);

/*
 * Runs fn in a child after confine_thread(role) under mode; its stderr
 * goes to errbuf when given. Returns the child's wait status.
 */
static int run_confined(enum confine_mode mode, bool debug,
			enum confine_role role, child_fn before, child_fn fn,
			char *errbuf, size_t errlen)
{
	int p[2], status;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char err[512];

		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		if (before && before())
			_exit(CHILD_WRONG);
		confine_init(mode, debug);
		if (confine_thread(role, "test", err, sizeof(err))) {
			dprintf(STDERR_FILENO, "%s\n", err);
			_exit(CHILD_NOT_LOADED);
		}
		_exit(fn ? fn() : CHILD_OK);
	}
	close(p[1]);
	if (errbuf) {
		size_t n = 0;
		ssize_t k;

		while (n + 1 < errlen &&
		       (k = read(p[0], errbuf + n, errlen - 1 - n)) > 0)
			n += (size_t)k;
		errbuf[n] = '\0';
	}
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(int status, const char *what)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "%s: not killed by SIGSYS (status %#x)", what, status);
}

static void assert_ok(int status, const char *what)
{
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
		  "%s: status %#x", what, status);
}

/* The calls each case makes. */
static int do_kvm_run(void)
{
	/* Allowed: the kernel answers (no such fd), the filter lets it by. */
	return ioctl(-1, KVM_RUN, 0) < 0 && errno == EBADF ? CHILD_OK
							   : CHILD_WRONG;
}

static int do_kvm_create_vm(void)
{
	ioctl(-1, KVM_CREATE_VM, 0);
	return CHILD_OK;
}

static int do_open(void)
{
	open("/dev/null", O_RDONLY);
	return CHILD_OK;
}

static int do_open_write(void)
{
	open("/dev/null", O_WRONLY);
	return CHILD_OK;
}

static int do_open_read(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	return fd >= 0 ? CHILD_OK : CHILD_WRONG;
}

static int do_socket_unix(void)
{
	socket(AF_UNIX, SOCK_STREAM, 0);
	return CHILD_OK;
}

static int do_socketpair_inet(void)
{
	int sv[2];

	socketpair(AF_INET, SOCK_STREAM, 0, sv);
	return CHILD_OK;
}

static int do_exec_mmap(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	     0);
	return CHILD_OK;
}

static int do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return CHILD_OK;
}

static int do_execve(void)
{
	char *argv[] = {"true", NULL};

	execve("/bin/true", argv, NULL);
	return CHILD_OK;
}

static void *thread_nop(void *arg)
{
	return arg;
}

static int do_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_nop, NULL))
		return CHILD_WRONG;
	return pthread_join(t, NULL) ? CHILD_WRONG : CHILD_OK;
}

/* A thread of the main thread confines itself as a vCPU does. */
static void *thread_vcpu(void *arg)
{
	char err[512];

	(void)arg;
	if (confine_thread(CONFINE_VCPU, "vcpu0", err, sizeof(err)))
		return (void *)1;
	/* KVM_RUN passes both filters; KVM_CREATE_VM only the main's. */
	if (!(ioctl(-1, KVM_RUN, 0) < 0 && errno == EBADF))
		return (void *)1;
	return NULL;
}

static int do_vcpu_thread(void)
{
	void *ret = (void *)1;
	pthread_t t;

	if (pthread_create(&t, NULL, thread_vcpu, NULL) ||
	    pthread_join(t, &ret))
		return CHILD_WRONG;
	return ret ? CHILD_WRONG : CHILD_OK;
}

static int do_clone3(void)
{
	/* Whatever its arguments: ENOSYS, so pthread_create uses clone. */
	long r = syscall(SYS_clone3, NULL, 0);

	return r < 0 && errno == ENOSYS ? CHILD_OK : CHILD_WRONG;
}

/* A pidfd the test opens before the filter: the launcher's answer. */
static int restart_pidfd = -1;

/* The I/O thread's restart path: socket, pipe, fds over it, the pidfd it
 * gets from the launcher (never pidfd_open), waitid on it. */
static int do_restart_path(void)
{
	int sv[2], pp[2], fds[2], got[2];
	unsigned n = 0;
	char byte = 'x';
	siginfo_t si;
	int pidfd;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(pp, O_CLOEXEC | O_NONBLOCK) ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		return CHILD_WRONG;
	fds[0] = pp[0];
	fds[1] = pp[1];
	if (fdpass_send(sv[0], &byte, 1, fds, 2) ||
	    fdpass_recv(sv[1], &byte, 1, got, 2, &n) != 1 || n != 2)
		return CHILD_WRONG;
	close(got[0]);
	close(got[1]);
	pidfd = restart_pidfd;
	if (pidfd < 0)
		return CHILD_WRONG;
	/* Not our child: refused by the kernel, let by by the filter. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) == 0 ||
	    errno != ECHILD)
		return CHILD_WRONG;
	close(pidfd);
	return CHILD_OK;
}

static int do_pipe_blocking(void)
{
	int pp[2];

	pipe2(pp, 0);
	return CHILD_OK;
}

Test(confine, a_vcpu_thread_runs_kvm_and_nothing_else)
{
	assert_ok(run_confined(CONFINE_ON, false, CONFINE_VCPU, NULL,
			       do_kvm_run, NULL, 0),
		  "KVM_RUN");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_VCPU, NULL,
				   do_kvm_create_vm, NULL, 0),
		      "KVM_CREATE_VM");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_VCPU, NULL,
				   do_open, NULL, 0),
		      "open");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_VCPU, NULL,
				   do_socket_unix, NULL, 0),
		      "socket");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_VCPU, NULL,
				   do_exec_mmap, NULL, 0),
		      "mmap PROT_EXEC");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_VCPU, NULL,
				   do_thread, NULL, 0),
		      "pthread_create");
}

Test(confine, the_io_thread_restarts_servers_but_never_forks_or_execs)
{
	restart_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	cr_assert_geq(restart_pidfd, 0);
	assert_ok(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
			       do_restart_path, NULL, 0),
		  "restart path");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_fork, NULL, 0),
		      "fork");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_execve, NULL, 0),
		      "execve");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_thread, NULL, 0),
		      "pthread_create");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_socketpair_inet, NULL, 0),
		      "socketpair AF_INET");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_pipe_blocking, NULL, 0),
		      "pipe2 without O_NONBLOCK");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_open, NULL, 0),
		      "open");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_IOTHREAD, NULL,
				   do_exec_mmap, NULL, 0),
		      "mmap PROT_EXEC");
}

Test(confine, the_main_thread_makes_threads_not_processes)
{
	assert_ok(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL, do_thread,
			       NULL, 0),
		  "pthread_create");
	assert_ok(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL, do_clone3,
			       NULL, 0),
		  "clone3");
	assert_ok(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL,
			       do_vcpu_thread, NULL, 0),
		  "a vCPU thread under both filters");
	assert_ok(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL,
			       do_open_read, NULL, 0),
		  "open O_RDONLY");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL,
				   do_open_write, NULL, 0),
		      "open O_WRONLY");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL,
				   do_fork, NULL, 0),
		      "fork");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL,
				   do_execve, NULL, 0),
		      "execve");
	assert_killed(run_confined(CONFINE_ON, false, CONFINE_MAIN, NULL,
				   do_socket_unix, NULL, 0),
		      "socket");
}

Test(confine, off_loads_nothing)
{
	assert_ok(run_confined(CONFINE_OFF, false, CONFINE_VCPU, NULL,
			       do_open_read, NULL, 0),
		  "open");
	assert_ok(run_confined(CONFINE_OFF, false, CONFINE_IOTHREAD, NULL,
			       do_thread, NULL, 0),
		  "pthread_create");
}

static int do_socket_enosys(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	return fd < 0 && errno == ENOSYS ? CHILD_OK : CHILD_WRONG;
}

Test(confine, debug_names_a_refused_call_and_fails_it)
{
	char err[2048];

	assert_ok(run_confined(CONFINE_ON, true, CONFINE_VCPU, NULL,
			       do_socket_enosys, err, sizeof(err)),
		  "socket in debug mode");
	cr_assert_not_null(strstr(err, "refused socket (nr "), "%s",
			   err);
}

/* A host where no filter can be loaded: seccomp() and prctl() fail. */
static int block_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return -1;
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(seccomp),
			       0);
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				       SCMP_SYS(prctl), 0);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

Test(confine, on_refuses_and_relaxed_warns_when_no_filter_loads)
{
	char err[2048];

	cr_assert_eq(WEXITSTATUS(run_confined(CONFINE_ON, false, CONFINE_VCPU,
					      block_seccomp, NULL, err,
					      sizeof(err))),
		     CHILD_NOT_LOADED, "%s", err);
	cr_assert_not_null(
		strstr(err, "test: cannot load its seccomp filter (--sandbox "
			    "on): "),
		"%s", err);
	assert_ok(run_confined(CONFINE_RELAXED, false, CONFINE_VCPU,
			       block_seccomp, do_open_read, err, sizeof(err)),
		  "relaxed");
	cr_assert_not_null(strstr(err, "test: runs without its seccomp filter "
				       "(--sandbox relaxed)"),
			   "%s", err);
}

/* In a child: the I/O thread cannot load its filter, so it never runs. */
static int do_iothread_refused(void)
{
	struct iothread io;
	int ret;

	if (iothread_init(&io))
		return CHILD_WRONG;
	ret = iothread_start(&io);
	if (ret >= 0 || io.started ||
	    !strstr(io.start_err, "I/O thread: cannot load its seccomp filter"))
		return CHILD_WRONG;
	iothread_fini(&io);
	return CHILD_OK;
}

Test(confine, the_io_thread_does_not_start_unconfined)
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (block_seccomp())
			_exit(CHILD_WRONG);
		confine_init(CONFINE_ON, false);
		_exit(do_iothread_refused());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	assert_ok(status, "iothread_start");
}

/* Every row says why it is there. */
Test(confine, every_row_has_a_reason)
{
	const struct sandbox_policy *p[] = {&sandbox_policy_vmm_main,
					    &sandbox_policy_iothread,
					    &sandbox_policy_vcpu};

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		for (size_t j = 0; j < p[i]->nrows; j++)
			cr_assert(p[i]->rows[j].why && p[i]->rows[j].why[0],
				  "%s: row %s", p[i]->name, p[i]->rows[j].name);
}

/* The vCPU threads start under the main thread's filter: all its rows. */
Test(confine, the_main_policy_holds_every_vcpu_row)
{
	const struct sandbox_policy *m = &sandbox_policy_vmm_main;
	const struct sandbox_policy *v = &sandbox_policy_vcpu;

	for (size_t i = 0; i < v->nrows; i++) {
		const struct sandbox_syscall *r = &v->rows[i];
		bool found = false;

		for (size_t j = 0; j < m->nrows && !found; j++) {
			const struct sandbox_syscall *q = &m->rows[j];

			found = !strcmp(r->name, q->name) &&
				r->check == q->check && r->arg == q->arg &&
				r->mask == q->mask && r->value == q->value;
		}
		cr_assert(found, "vcpu row %s (%s) not in the main policy",
			  r->name, r->why);
	}
}
