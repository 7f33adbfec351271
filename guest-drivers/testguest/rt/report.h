/* report.h: the result line protocol of the test guest. */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include <stdbool.h>

/*
 * Prints one line "ISOVM-TEST name=NAME status=pass|fail KEYS", where KEYS
 * is fmt formatted (space-separated key=value words; may be "").
 */
void report_result(const char *name, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
