/*
 * ctl_peer.c: test helper, installed as isovm-ctlpeer: a device server that
 * does the console handshake (HELLO, SETUP, READY) as the supervisor
 * launches it, runs no device, and misbehaves on its control socket in the
 * way the CTL_PEER_EVIL environment variable names.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ctl_channel.h"
#include "proto/proto_version.h"
#include "tests/unit/ctl_peer.h"

/* Exit codes say which step failed, for the test's message. */
enum { PEER_OK, PEER_USAGE, PEER_HELLO, PEER_SETUP, PEER_SEND };

static int peer_recv(int fd, struct ctl_msg *m)
{
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	int ret = ctl_recv(fd, m, fds, CTL_SETUP_MAX_FDS, &nfds);

	/* The data plane is not used: nothing but the socket stays open. */
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	return ret;
}

/* Whether an earlier instance ran (and mark that this one did). */
static bool peer_restarted(void)
{
	const char *seen = getenv(CTL_PEER_SEEN);
	FILE *f;

	if (!seen)
		return false;
	if (access(seen, F_OK) == 0)
		return true;
	f = fopen(seen, "w");
	if (f)
		fclose(f);
	return false;
}

static int peer_handshake(int fd, const char *evil)
{
	bool again = peer_restarted();
	struct ctl_msg m = {.type = CTL_HELLO};

	m.u.hello.version = ISOVM_PROTO_VERSION;
	m.u.hello.role = CTL_ROLE_SERVER;
	m.u.hello.dev_type = CTL_DEV_CONSOLE;
	m.u.hello.pid = (uint32_t)getpid();
	if (ctl_send(fd, &m, NULL, 0) || peer_recv(fd, &m) ||
	    m.type != CTL_HELLO)
		return PEER_HELLO;
	if (peer_recv(fd, &m) || m.type != CTL_SETUP)
		return PEER_SETUP;
	if (again && !strcmp(evil, "mute-restart"))
		for (;;)
			pause(); /* until the VMM kills us */
	memset(&m, 0, sizeof(m));
	m.type = CTL_READY;
	m.u.ready.config_len =
		again && !strcmp(evil, "other-restart") ? 4 : 8;
	return ctl_send(fd, &m, NULL, 0) ? PEER_SEND : PEER_OK;
}

/* n errors, unasked; blocks while the VMM does not read. */
static int peer_errors(int fd, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ctl_send_error(fd, EIO, "error %u", i))
			return PEER_SEND;
	return PEER_OK;
}

/*
 * A reply to a request: "asked" counts the requests so far; with 'late'
 * it comes CTL_PEER_LATE_MS after the request.
 */
static int peer_stats(int fd, const struct ctl_msg *req, bool late,
		      uint64_t asked)
{
	struct timespec ts = {0, CTL_PEER_LATE_MS * 1000000L};
	struct ctl_msg r = {.type = CTL_STATS_REPLY, .seq = req->seq};

	if (late)
		nanosleep(&ts, NULL);
	r.u.stats.nextra = 1;
	snprintf(r.u.stats.extra[0].key, sizeof(r.u.stats.extra[0].key),
		 "asked");
	r.u.stats.extra[0].value = asked;
	return ctl_send(fd, &r, NULL, 0) ? PEER_SEND : PEER_OK;
}

/* Answer the VMM until it shuts us down or goes away. */
static int peer_serve(int fd, const char *evil)
{
	struct ctl_msg m;
	uint64_t asked = 0;
	int ret;

	for (;;) {
		if (peer_recv(fd, &m) || m.type == CTL_SHUTDOWN)
			return PEER_OK;
		if (m.type != CTL_STATS_REQUEST)
			continue;
		ret = peer_stats(fd, &m, !strcmp(evil, "late-stats"), ++asked);
		if (ret)
			return ret;
	}
}

int main(int argc, char **argv)
{
	const char *evil = getenv(CTL_PEER_EVIL);
	/* A number the VMM has not used yet. */
	struct ctl_msg m = {.type = CTL_STATS_REPLY, .seq = 99};
	int fd, ret;

	if (argc < 3 || strcmp(argv[1], "--ctl-fd"))
		return PEER_USAGE;
	fd = atoi(argv[2]);
	if (!evil)
		evil = "none";
	ret = peer_handshake(fd, evil);
	if (ret)
		return ret;
	if (!strcmp(evil, "error-flood"))
		ret = peer_errors(fd, CTL_PEER_FLOOD);
	else if (!strcmp(evil, "error-burst"))
		ret = peer_errors(fd, CTL_PEER_BURST);
	else if (!strcmp(evil, "unasked-stats"))
		ret = ctl_send(fd, &m, NULL, 0) ? PEER_SEND : PEER_OK;
	else if (!strcmp(evil, "deaf"))
		for (;;)
			pause(); /* until the VMM kills us */
	return ret ? ret : peer_serve(fd, evil);
}
