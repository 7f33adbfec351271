/*
 * test_console_echo.c: reads one line from the virtio console and writes
 * back "echo:<line>\n" on it: the receive and transmit paths end to end.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/console.h"
#include "rt/report.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/console.h"
#include "virtio/dma.h"

#define ECHO_LINE_MAX 1024

static struct vcon echo_con;

/* Reads up to and including '\n'; returns the length or -errno. */
static int echo_read_line(struct vcon *c, char *line, uint64_t deadline)
{
	int n = 0, ret;

	while (n < ECHO_LINE_MAX) {
		ret = vcon_read(c, line + n, 1, deadline);
		if (ret < 0)
			return ret;
		if (line[n++] == '\n')
			return n;
	}
	return -TG_EINVAL; /* no newline within the bound */
}

void test_console_echo(const char *name)
{
	static char line[ECHO_LINE_MAX + 8];
	int bad = 0, n, ret;
	uint64_t ms = tu_key_u64("console-echo.timeout_ms", 20000, &bad);
	uint64_t mark = dma_mark(), deadline;

	if (bad) {
		report_result(name, false, "reason=bad-timeout");
		return;
	}
	ret = vcon_open(&echo_con, 0);
	if (ret) {
		report_result(name, false, "reason=no-console err=%d", ret);
		goto out_release;
	}
	/*
	 * Receive buffers are posted now: tell the host, which holds its line
	 * back until here (input that comes earlier may go to the UART).
	 */
	con_printf("isovm-testguest: console-echo ready\n");
	deadline = clock_deadline_us(ms * 1000);
	n = echo_read_line(&echo_con, line + 5, deadline);
	if (n < 0) {
		report_result(name, false, "reason=%s err=%d",
			      n == -TG_ETIMEDOUT ? "timeout" : "read", n);
		goto out_close;
	}
	line[0] = 'e', line[1] = 'c', line[2] = 'h', line[3] = 'o';
	line[4] = ':';
	ret = vcon_write(&echo_con, line, (size_t)n + 5, deadline);
	if (!ret)
		ret = vcon_flush(&echo_con, deadline);
	if (ret)
		report_result(name, false, "reason=write err=%d", ret);
	else
		report_result(name, true, "bytes=%d", n);
out_close:
	vcon_close(&echo_con);
out_release:
	dma_release(mark);
}
