/* log.h: the VMM's leveled logging to stderr and a rate-limit helper. */
#ifndef ISOVM_LOG_H
#define ISOVM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Default level is LOG_LVL_WARN. Set once at start-up, before threads. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "error", "warn", "info", "debug" -> level; -EINVAL for anything else. */
int log_level_parse(const char *name, enum log_level *level);

/*
 * Writes "isovm: <message>\n" to stderr as one write (so lines from several
 * threads do not interleave) when level is enabled. Safe from any thread.
 */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * For a function that reports its failure to the caller instead of logging
 * it: formats a one-line reason (no newline) into err, truncated to errlen,
 * and returns ret, as in `return errf(err, errlen, -EINVAL, "...", ...)`.
 * Writes nothing when err is NULL or errlen is 0.
 */
int errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Broken invariant or set-up failure that cannot be unwound: log and exit. */
#define fatal(fmt, ...) log_fatal(__func__, fmt, ##__VA_ARGS__)
_Noreturn void log_fatal(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * At most `burst` messages per `interval_ms`; the first allowed message after
 * a suppressed run reports how many were dropped via *suppressed. Zero-init
 * plus LOG_RATELIMIT_INIT fields; safe from any thread.
 */
struct log_ratelimit {
	unsigned interval_ms;
	unsigned burst;
	uint64_t window_start_ms;
	unsigned printed;
	unsigned missed;
};

#define LOG_RATELIMIT_INIT(ms, n)                 \
	{                                         \
		.interval_ms = (ms), .burst = (n) \
	}

/* True when the caller may log now; *suppressed gets the dropped count. */
bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned *suppressed);

#endif
