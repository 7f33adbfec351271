/*
 * escape.c: the test-only escape attempts of escape.h, each a small
 * function returning the errno it failed with, or 0. The calls that glibc
 * may not wrap go through syscall().
 */
#include "sandbox/escape.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ESCAPE_UNIX_PATH "/run/isovm-escape.sock"

/* errno of a call that returned r (< 0 failed); an fd it made is closed. */
static int escape_fd_result(long r)
{
	if (r < 0)
		return errno;
	close((int)r);
	return 0;
}

static int escape_open_passwd(void)
{
	return escape_fd_result(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
}

static int escape_socket_inet(void)
{
	return escape_fd_result(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int escape_connect_unix(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return errno;
	memcpy(a.sun_path, ESCAPE_UNIX_PATH, sizeof(ESCAPE_UNIX_PATH));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		err = errno;
	close(fd);
	return err;
}

static int escape_execve(void)
{
	char *const argv[] = {"sh", "-c", "exit 0", NULL};
	char *const envp[] = {NULL};

	execve("/bin/sh", argv, envp);
	return errno;
}

/* The parent; in a pid namespace of its own that is 0, then pid 1. */
static pid_t escape_parent(void)
{
	pid_t p = getppid();

	return p > 0 ? p : 1;
}

static int escape_ptrace(void)
{
	pid_t p = escape_parent();

	if (ptrace(PTRACE_ATTACH, p, NULL, NULL))
		return errno;
	/* It worked: let the parent go again. */
	waitpid(p, NULL, __WALL);
	ptrace(PTRACE_DETACH, p, NULL, NULL);
	return 0;
}

static int escape_mount(void)
{
	if (mount("isovm-escape", "/", "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k"))
		return errno;
	umount2("/", MNT_DETACH);
	return 0;
}

static int escape_unshare(void)
{
	return unshare(CLONE_NEWUSER) ? errno : 0;
}

static int escape_keyctl(void)
{
	long r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
			 KEY_SPEC_SESSION_KEYRING, 0);

	return r < 0 ? errno : 0;
}

static int escape_bpf(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	return escape_fd_result(
		syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
}

static int escape_io_uring(void)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	return escape_fd_result(syscall(SYS_io_uring_setup, 1, &p));
}

static int escape_userfaultfd(void)
{
	return escape_fd_result(
		syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
}

static int escape_perf_event(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return escape_fd_result(syscall(SYS_perf_event_open, &a, 0, -1, -1,
					PERF_FLAG_FD_CLOEXEC));
}

static int escape_kill_parent(void)
{
	return kill(escape_parent(), SIGKILL) ? errno : 0;
}

static int escape_write_foreign_fd(void)
{
	return write(SANDBOX_ESCAPE_FOREIGN_FD, "x", 1) < 0 ? errno : 0;
}

static const struct escape_attempt {
	const char *name;
	int (*fn)(void);
} escape_attempts[] = {
	[SANDBOX_ESCAPE_OPEN_PASSWD] = {"open-passwd", escape_open_passwd},
	[SANDBOX_ESCAPE_SOCKET_INET] = {"socket-inet", escape_socket_inet},
	[SANDBOX_ESCAPE_CONNECT_UNIX] = {"connect-unix", escape_connect_unix},
	[SANDBOX_ESCAPE_EXECVE] = {"execve", escape_execve},
	[SANDBOX_ESCAPE_PTRACE] = {"ptrace", escape_ptrace},
	[SANDBOX_ESCAPE_MOUNT] = {"mount", escape_mount},
	[SANDBOX_ESCAPE_UNSHARE] = {"unshare", escape_unshare},
	[SANDBOX_ESCAPE_KEYCTL] = {"keyctl", escape_keyctl},
	[SANDBOX_ESCAPE_BPF] = {"bpf", escape_bpf},
	[SANDBOX_ESCAPE_IO_URING] = {"io-uring", escape_io_uring},
	[SANDBOX_ESCAPE_USERFAULTFD] = {"userfaultfd", escape_userfaultfd},
	[SANDBOX_ESCAPE_PERF_EVENT] = {"perf-event", escape_perf_event},
	[SANDBOX_ESCAPE_KILL_PARENT] = {"kill-parent", escape_kill_parent},
	[SANDBOX_ESCAPE_WRITE_FOREIGN_FD] = {"write-foreign-fd",
					     escape_write_foreign_fd},
};

_Static_assert(sizeof(escape_attempts) / sizeof(escape_attempts[0]) ==
		       SANDBOX_ESCAPE_END,
	       "one row per attempt");

const char *sandbox_escape_name(unsigned e)
{
	return e && e < SANDBOX_ESCAPE_END ? escape_attempts[e].name : NULL;
}

enum sandbox_escape sandbox_escape_parse(const char *name)
{
	for (unsigned e = 1; e < SANDBOX_ESCAPE_END; e++)
		if (!strcmp(name, escape_attempts[e].name))
			return (enum sandbox_escape)e;
	return 0;
}

int sandbox_escape_try(unsigned e)
{
	if (!sandbox_escape_name(e))
		return -EINVAL;
	return escape_attempts[e].fn();
}
