/* jail.c: the child's half of a jail: from clone() to the server's exec. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/jail.h"

/* A record for the launcher: 'E' (the spawn fails) or 'W' (skipped). */
static void jail_report(const struct jail_job *j, char kind, const char *fmt,
			...)
{
	char rec[SANDBOX_TEXT_MAX];
	va_list ap;
	int n;

	rec[0] = kind;
	va_start(ap, fmt);
	n = vsnprintf(rec + 1, sizeof(rec) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(rec) - 2)
		n = (int)sizeof(rec) - 2;
	/* One write: below PIPE_BUF, records never interleave. */
	if (write(j->report_fd, rec, (size_t)n + 1) < 0) {
		/* The launcher is gone; so is the reason to go on. */
	}
}

/* A step failed with -ret: fatal in SANDBOX_ON, a warning otherwise. */
static void jail_failed(const struct jail_job *j, const char *step, int ret)
{
	if (j->mode == SANDBOX_ON) {
		jail_report(j, 'E', "%s: %s", step, strerror(-ret));
		_exit(127);
	}
	jail_report(j, 'W', "%s: %s: skipped", step, strerror(-ret));
}

static int jail_ids(void)
{
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
		return -errno;
	return 0;
}

/* Our parent is the VMM: die with it, and make sure it is still there. */
static int jail_parent_death(const struct jail_job *j)
{
	struct pollfd p = {.fd = j->vmm_pidfd, .events = POLLIN};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	if (poll(&p, 1, 0) != 0)
		_exit(127);
	return 0;
}

/*
 * An empty tmpfs becomes the root: mounted over a directory of the old
 * root (only in our mount namespace), pivoted into, the old root
 * detached, then made read-only. The binary is already open.
 */
static int jail_empty_root(void)
{
	static const char *const spots[] = {"/tmp", "/mnt", "/proc", "/"};
	const char *spot = NULL;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		if (mount("isovm-jail", spots[i], "tmpfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=16k,nr_inodes=16,mode=0555") == 0) {
			spot = spots[i];
			break;
		}
	}
	if (!spot)
		return -errno;
	if (chdir(spot))
		return -errno;
	/* pivot_root(".", "."): the old root stacks on the new one, and
	 * detaching it leaves the tmpfs alone. */
	if (syscall(SYS_pivot_root, ".", "."))
		return -errno;
	if (umount2(".", MNT_DETACH))
		return -errno;
	if (chdir("/"))
		return -errno;
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC,
		  NULL))
		return -errno;
	return 0;
}

/* 0 /dev/null, 1 and 2 the log, 3 the control socket; the binary and
 * the report pipe stay (close-on-exec) until the exec. */
static int jail_fds(const struct jail_job *j, int *bin_fd, int *report_fd)
{
	if (dup2(j->null_fd, 0) < 0 || dup2(j->log_fd, 1) < 0 ||
	    dup2(j->log_fd, 2) < 0 || dup2(j->ctl_fd, 3) < 0 ||
	    dup3(j->bin_fd, 4, O_CLOEXEC) < 0 ||
	    dup3(j->report_fd, 5, O_CLOEXEC) < 0)
		return -errno;
	*bin_fd = 4;
	*report_fd = 5;
	if (close_range(6, ~0u, 0))
		return -errno;
	return 0;
}

static int jail_rlimit(int res, uint64_t v)
{
	struct rlimit r = {.rlim_cur = v, .rlim_max = v};

	return setrlimit(res, &r) ? -errno : 0;
}

static int jail_rlimits(const struct sandbox_limits *l)
{
	int ret = jail_rlimit(RLIMIT_CORE, 0);

	if (!ret)
		ret = jail_rlimit(RLIMIT_MEMLOCK, l->memlock_bytes);
	if (!ret && l->nofile)
		ret = jail_rlimit(RLIMIT_NOFILE, l->nofile);
	if (!ret && l->nproc)
		ret = jail_rlimit(RLIMIT_NPROC, l->nproc);
	if (!ret && l->as_bytes)
		ret = jail_rlimit(RLIMIT_AS, l->as_bytes);
	return ret;
}

/*
 * No capability now or after exec: the securebits stop root (in the
 * jail, uid 0) from getting any back by exec, the bounding set and the
 * ambient set are emptied, and then the sets themselves.
 */
static int jail_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			  SECBIT_NO_SETUID_FIXUP |
			  SECBIT_NO_SETUID_FIXUP_LOCKED |
			  SECBIT_KEEP_CAPS_LOCKED |
			  SECBIT_NO_CAP_AMBIENT_RAISE |
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return -errno;
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

static void jail_signals_default(void)
{
	sigset_t none;

	/* Ignored signals stay ignored across exec: none are the server's. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

_Noreturn void jail_child(const struct jail_job *j)
{
	static char *const empty_env[] = {NULL};
	char pidarg[16];
	const char *argv[SANDBOX_ARGS_MAX + 3];
	int bin_fd, report_fd, outer_pid, argc = 0, ret;
	ssize_t n;

	jail_signals_default();
	/* The launcher writes our pid once our ids are mapped. */
	do
		n = read(j->go_fd, &outer_pid, sizeof(outer_pid));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(outer_pid))
		_exit(127);
	if ((j->ns & CLONE_NEWUSER) && (ret = jail_ids()))
		jail_failed(j, "user ids", ret);
	/* After the ids: changing them clears the death signal. */
	if ((ret = jail_parent_death(j)))
		jail_failed(j, "parent-death signal", ret);
	if (j->mode != SANDBOX_OFF) {
		if (!(j->ns & CLONE_NEWNS))
			jail_report(j, 'W', "empty root: no mount namespace: "
					    "skipped");
		else if (!j->static_binary && j->mode == SANDBOX_RELAXED)
			jail_report(j, 'W', "empty root: the server is not "
					    "statically linked: skipped");
		else if ((ret = jail_empty_root()))
			jail_failed(j, "empty root", ret);
	}
	if ((ret = jail_fds(j, &bin_fd, &report_fd))) {
		jail_report(j, 'E', "fds: %s", strerror(-ret));
		_exit(127);
	}
	/* j's fds are gone now: the report goes to the copy. */
	struct jail_job moved = *j;
	moved.report_fd = report_fd;
	if (setsid() < 0)
		jail_failed(&moved, "session", -errno);
	if (j->mode != SANDBOX_OFF) {
		if ((ret = jail_rlimits(&j->limits)))
			jail_failed(&moved, "rlimits", ret);
		if ((ret = jail_caps()))
			jail_failed(&moved, "capabilities", ret);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			jail_failed(&moved, "no_new_privs", -errno);
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			jail_failed(&moved, "dumpable", -errno);
	}
	for (; j->argv[argc] && argc < SANDBOX_ARGS_MAX; argc++)
		argv[argc] = j->argv[argc];
	/* In a pid namespace the server is pid 1: tell it the pid its log
	 * lines should carry. */
	snprintf(pidarg, sizeof(pidarg), "%d", outer_pid);
	argv[argc++] = "--outer-pid";
	argv[argc++] = pidarg;
	argv[argc] = NULL;
	/* Off: the launcher's environment, for debugging (and test peers). */
	syscall(SYS_execveat, bin_fd, "", (char *const *)argv,
		j->mode == SANDBOX_OFF ? environ : empty_env, AT_EMPTY_PATH);
	ret = -errno;
	if (ret == -ENOENT && !j->static_binary)
		jail_report(&moved, 'E',
			    "exec: %s (the server is not statically linked, "
			    "so it cannot run in the empty root; "
			    "--sandbox relaxed runs it in the host's)",
			    strerror(-ret));
	else
		jail_report(&moved, 'E', "exec: %s", strerror(-ret));
	_exit(127);
}
