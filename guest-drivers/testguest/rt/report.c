/* report.c: prints ISOVM-TEST result lines. */
#include <stdarg.h>

#include "rt/console.h"
#include "rt/fmt.h"
#include "rt/report.h"

void report_result(const char *name, bool pass, const char *fmt, ...)
{
	char keys[1280];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(keys, sizeof(keys), fmt, ap);
	va_end(ap);
	con_printf("ISOVM-TEST name=%s status=%s%s%s\n", name,
		   pass ? "pass" : "fail", keys[0] ? " " : "", keys);
}
