/* netns.c: a network namespace per net test. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/netns.h"

static char netns_name[64];

static int netns_sh(const char *cmd)
{
	int st = system(cmd);

	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void netns_enter(const char *tag)
{
	char cmd[160], path[128];
	int fd;

	snprintf(netns_name, sizeof(netns_name), "isovm-t%d-%s", (int)getpid(),
		 tag);
	snprintf(cmd, sizeof(cmd), "ip netns add %s", netns_name);
	cr_assert_eq(netns_sh(cmd), 0, "%s failed (root and iproute2 needed)",
		     cmd);
	snprintf(path, sizeof(path), "/run/netns/%s", netns_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s", path);
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns %s", netns_name);
	close(fd);
	netns_ip("link set lo up");
}

void netns_remove(void)
{
	char cmd[160];

	if (!netns_name[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", netns_name);
	netns_sh(cmd);
	netns_name[0] = '\0';
}

void netns_ip(const char *fmt, ...)
{
	char args[256], cmd[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "ip %s", args);
	cr_assert_eq(netns_sh(cmd), 0, "%s failed", cmd);
}

void netns_tap(const char *ifname, const char *addr)
{
	netns_ip("tuntap add dev %s mode tap", ifname);
	if (addr)
		netns_ip("addr add %s dev %s", addr, ifname);
	netns_ip("link set %s up", ifname);
}

bool netns_wait_carrier(const char *ifname, int timeout_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up = false;

	if (s < 0)
		return false;
	for (int t = 0; t < timeout_ms && !up; t += 10) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
		    (ifr.ifr_flags & IFF_RUNNING))
			up = true;
		else
			nanosleep(&ts, NULL);
	}
	close(s);
	return up;
}
