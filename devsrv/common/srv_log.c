/* srv_log.c: a device server's log lines on stderr, "isovm-<dev>[pid]: ". */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <event2/event.h>

#include "devsrv/common/srv_core.h"

static char srv_log_prefix[48] = "isovm-srv";
static enum srv_log_level srv_log_level = SRV_LOG_WARN;

void srv_log_init(const char *dev_name, enum srv_log_level level,
		  int outer_pid)
{
	/* In the jail's pid namespace getpid() is 1: the VMM knows the other. */
	snprintf(srv_log_prefix, sizeof(srv_log_prefix), "isovm-%s[%ld]",
		 dev_name ? dev_name : "srv",
		 outer_pid ? (long)outer_pid : (long)getpid());
	srv_log_level = level;
}

void srv_log(enum srv_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, m;

	if (level > srv_log_level)
		return;
	n = snprintf(line, sizeof(line), "%s: ", srv_log_prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines of several processes do not mix. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

/*
 * libevent's own messages: its warnings (e.g. an fd epoll cannot watch,
 * which a device handles by itself) are details, not operator news.
 */
static void srv_log_libevent(int severity, const char *msg)
{
	srv_log(severity >= EVENT_LOG_ERR ? SRV_LOG_WARN : SRV_LOG_DEBUG,
		"libevent: %s", msg);
}

void srv_log_init_libevent(void)
{
	event_set_log_callback(srv_log_libevent);
}
