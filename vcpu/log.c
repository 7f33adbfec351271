/*
 * log.c: leveled stderr logging with an "isovm: " prefix, rate limits, and
 * the one-line reasons functions hand back to their callers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vcpu/clock.h"
#include "vcpu/log.h"

static enum log_level log_level_cur = LOG_LVL_WARN;
static pthread_mutex_t log_rl_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	log_level_cur = level;
}

enum log_level log_get_level(void)
{
	return log_level_cur;
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (unsigned i = 0;
	     i < sizeof(log_level_names) / sizeof(*log_level_names); i++) {
		if (strcmp(name, log_level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void log_vwrite(const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "isovm: ");
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)m > sizeof(line) - n - 2)
		m = sizeof(line) - n - 2;
	n += m;
	line[n++] = '\n';
	/* One write per line: stderr is shared by every thread. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level_cur)
		return;
	va_start(ap, fmt);
	log_vwrite(fmt, ap);
	va_end(ap);
}

int errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

_Noreturn void log_fatal(const char *func, const char *fmt, ...)
{
	char msg[768];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("fatal in %s: %s (errno %d: %s)", func, msg, saved,
		  strerror(saved));
	exit(1);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned *suppressed)
{
	uint64_t now = clock_now_ms();
	bool ok;

	*suppressed = 0;
	pthread_mutex_lock(&log_rl_lock);
	if (rl->window_start_ms == 0 ||
	    now - rl->window_start_ms >= rl->interval_ms) {
		rl->window_start_ms = now ? now : 1;
		*suppressed = rl->missed;
		rl->missed = 0;
		rl->printed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->missed++;
	pthread_mutex_unlock(&log_rl_lock);
	return ok;
}
