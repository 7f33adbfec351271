/* bench_netns.c: the net benchmark's network namespace of each case. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/net/bench_netns.h"

static char ns_name[64];
static char ns_path[128];
static int ns_home = -1; /* the namespace the process started in */

static int ns_sh(const char *cmd)
{
	int st = system(cmd);

	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench-net: '%s' failed\n", cmd);
		return -1;
	}
	return 0;
}

/*
 * What `ip netns del` does: detach the bind mount that keeps the
 * namespace alive and remove its file. Only system calls, so that the
 * signal handler may do it too.
 */
static void ns_drop(void)
{
	if (!ns_path[0])
		return;
	umount2(ns_path, MNT_DETACH);
	unlink(ns_path);
	ns_path[0] = '\0';
}

static void ns_on_signal(int sig)
{
	ns_drop();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int ns_init(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	if (ns_home >= 0)
		return 0;
	ns_home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns_home < 0) {
		perror("bench-net: /proc/self/ns/net");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ns_on_signal;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	return 0;
}

int bench_netns_enter(const char *tag)
{
	char cmd[160];
	int fd, ret;

	if (ns_init())
		return -1;
	snprintf(ns_name, sizeof(ns_name), "bnE-%d-%s", (int)getpid(), tag);
	/* Set first: a signal from here on removes what may exist. */
	snprintf(ns_path, sizeof(ns_path), "/run/netns/%s", ns_name);
	snprintf(cmd, sizeof(cmd), "ip netns add %s", ns_name);
	if (ns_sh(cmd)) {
		ns_path[0] = '\0';
		return -1;
	}
	fd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		perror("bench-net: entering the namespace");
		if (fd >= 0)
			close(fd);
		ns_drop();
		return -1;
	}
	close(fd);
	ret = bench_netns_ip("link set lo up");
	if (ret)
		bench_netns_leave();
	return ret;
}

int bench_netns_ip(const char *fmt, ...)
{
	char args[256], cmd[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "ip %s", args);
	return ns_sh(cmd);
}

void bench_netns_leave(void)
{
	if (ns_home >= 0 && setns(ns_home, CLONE_NEWNET))
		perror("bench-net: back to the first namespace");
	ns_drop();
}
