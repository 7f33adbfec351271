/* fmt.h: formatted printing into a buffer (%d %i %u %x %X %p %s %c %%). */
#ifndef TG_FMT_H
#define TG_FMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Supports the flags '0' and '-', a decimal width, and the length
 * modifiers l, ll and z. Always NUL-terminates when cap > 0; returns the
 * number of characters written (output is cut at cap - 1).
 */
int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
