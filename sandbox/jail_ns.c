/* jail_ns.c: the launcher's half of a jail: clone into namespaces, map ids. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/jail.h"

static const struct {
	unsigned long flag;
	const char *name;
} jail_ns_names[] = {
	{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mount"},
	{CLONE_NEWPID, "pid"},	 {CLONE_NEWNET, "network"},
	{CLONE_NEWIPC, "ipc"},	 {CLONE_NEWUTS, "uts"},
};
#define JAIL_NS_COUNT (sizeof(jail_ns_names) / sizeof(jail_ns_names[0]))

/* fork()-like clone: no new stack, the child returns here too. */
static pid_t jail_raw_clone(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL,
			      NULL);
}

/*
 * Whether a child could be cloned into namespace 'flag' (with the user
 * namespace too, since without it an unprivileged caller can make none).
 * The probe child exits at once; it is ours, not our parent's.
 */
static int jail_probe(unsigned long flag)
{
	unsigned long with = flag | (flag == CLONE_NEWUSER ? 0 : CLONE_NEWUSER);
	pid_t pid;
	int ret;

	if (geteuid() == 0)
		with = flag;
	pid = jail_raw_clone(with);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	do
		ret = waitpid(pid, NULL, 0);
	while (ret < 0 && errno == EINTR);
	return 0;
}

/* Names of the namespaces in 'flags' that cannot be made, into buf. */
static void jail_ns_missing(unsigned long flags, char *buf, size_t len,
			    int *first_err)
{
	size_t n = 0;

	buf[0] = '\0';
	*first_err = 0;
	for (size_t i = 0; i < JAIL_NS_COUNT; i++) {
		int ret;

		if (!(flags & jail_ns_names[i].flag))
			continue;
		ret = jail_probe(jail_ns_names[i].flag);
		if (!ret)
			continue;
		if (!*first_err)
			*first_err = ret;
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? ", " : "",
					      jail_ns_names[i].name);
	}
}

pid_t jail_clone(enum sandbox_mode mode, unsigned long *ns, char *warn,
		 size_t warnlen, char *err, size_t errlen)
{
	/* Relaxed: without a user namespace root can still make the rest;
	 * after that, none. */
	const unsigned long tries[] = {JAIL_NS_ALL, JAIL_NS_ALL & ~CLONE_NEWUSER,
				       0};
	size_t ntries = mode == SANDBOX_RELAXED ? 3 : 1;
	char missing[128];
	int first;
	pid_t pid = -1;

	if (mode == SANDBOX_OFF) {
		*ns = 0;
		pid = jail_raw_clone(CLONE_PARENT);
		return pid < 0 ? -errno : pid;
	}
	for (size_t i = 0; i < ntries; i++) {
		pid = jail_raw_clone(tries[i] | CLONE_PARENT);
		if (pid >= 0) {
			*ns = tries[i];
			if (i > 0 && pid > 0) {
				jail_ns_missing(JAIL_NS_ALL, missing,
						sizeof(missing), &first);
				snprintf(warn, warnlen,
					 "namespaces: cannot make %s (%s): "
					 "left out",
					 missing[0] ? missing : "them",
					 strerror(-first));
			}
			return pid;
		}
	}
	pid = -errno;
	jail_ns_missing(JAIL_NS_ALL, missing, sizeof(missing), &first);
	snprintf(err, errlen, "namespaces: cannot make %s: %s",
		 missing[0] ? missing : "user, mount, pid, network, ipc, uts",
		 strerror(first ? -first : -pid));
	return pid;
}

static int jail_write_file(pid_t pid, const char *file, const char *text)
{
	char path[64];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(text))
		ret = -EIO;
	close(fd);
	return ret;
}

int jail_map_ids(pid_t pid, char *err, size_t errlen)
{
	/* Root maps the jail's root to nobody: a server that got out of its
	 * namespaces would own nothing. Anyone else can map only itself. */
	unsigned uid = geteuid() == 0 ? 65534 : (unsigned)geteuid();
	unsigned gid = geteuid() == 0 ? 65534 : (unsigned)getegid();
	char map[32];
	int ret;

	ret = jail_write_file(pid, "setgroups", "deny");
	if (ret) {
		snprintf(err, errlen, "user ids: setgroups: %s",
			 strerror(-ret));
		return ret;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", uid);
	ret = jail_write_file(pid, "uid_map", map);
	if (ret) {
		snprintf(err, errlen, "user ids: uid_map: %s", strerror(-ret));
		return ret;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", gid);
	ret = jail_write_file(pid, "gid_map", map);
	if (ret)
		snprintf(err, errlen, "user ids: gid_map: %s", strerror(-ret));
	return ret;
}

bool jail_binary_is_static(int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph))
		return false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph),
			  (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return false;
		if (ph.p_type == PT_INTERP)
			return false;
	}
	return true;
}
