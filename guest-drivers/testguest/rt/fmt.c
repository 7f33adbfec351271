/* fmt.c: a small vsnprintf for the test guest. */
#include <stdbool.h>
#include <stdint.h>

#include "rt/fmt.h"
#include "rt/string.h"

struct fmt_out {
	char *buf;
	size_t cap;
	size_t len;
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = c;
}

static void fmt_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		fmt_putc(o, c);
}

static void fmt_str(struct fmt_out *o, const char *s, int width, bool left)
{
	int n;

	if (!s)
		s = "(null)";
	n = (int)strlen(s);
	if (!left)
		fmt_pad(o, ' ', width - n);
	while (*s)
		fmt_putc(o, *s++);
	if (left)
		fmt_pad(o, ' ', width - n);
}

static void fmt_num(struct fmt_out *o, uint64_t v, bool neg, unsigned base,
		    bool upper, int width, bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + (neg ? 1 : 0);
	if (!left && !zero)
		fmt_pad(o, ' ', width - len);
	if (neg)
		fmt_putc(o, '-');
	if (!left && zero)
		fmt_pad(o, '0', width - len);
	while (n)
		fmt_putc(o, tmp[--n]);
	if (left)
		fmt_pad(o, ' ', width - len);
}

/* Reads an integer argument of the given length modifier (0, 1=l, 2=ll). */
static uint64_t fmt_arg(va_list *ap, int lmod, bool sgn, bool *neg)
{
	int64_t s;

	*neg = false;
	if (!sgn)
		return lmod ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned);
	s = lmod ? va_arg(*ap, long) : va_arg(*ap, int);
	if (s < 0) {
		*neg = true;
		return (uint64_t)0 - (uint64_t)s;
	}
	return (uint64_t)s;
}

int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, cap, 0 };
	va_list args;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		bool zero = false, left = false, neg;
		int width = 0, lmod = 0;
		uint64_t v;

		if (*fmt != '%') {
			fmt_putc(&o, *fmt);
			continue;
		}
		for (fmt++; *fmt == '0' || *fmt == '-'; fmt++) {
			if (*fmt == '0')
				zero = true;
			else
				left = true;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			lmod++;
		switch (*fmt) {
		case 'd':
		case 'i':
			v = fmt_arg(&args, lmod, true, &neg);
			fmt_num(&o, v, neg, 10, false, width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			v = fmt_arg(&args, lmod, false, &neg);
			fmt_num(&o, v, false, *fmt == 'u' ? 10 : 16,
				*fmt == 'X', width, zero, left);
			break;
		case 'p':
			fmt_str(&o, "0x", 0, false);
			v = (uint64_t)(uintptr_t)va_arg(args, void *);
			fmt_num(&o, v, false, 16, false, width, zero, left);
			break;
		case 's':
			fmt_str(&o, va_arg(args, const char *), width, left);
			break;
		case 'c':
			fmt_putc(&o, (char)va_arg(args, int));
			break;
		case '%':
			fmt_putc(&o, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end */
			break;
		default:
			fmt_putc(&o, '%');
			fmt_putc(&o, *fmt);
		}
	}
	va_end(args);
	if (cap)
		buf[o.len] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}
