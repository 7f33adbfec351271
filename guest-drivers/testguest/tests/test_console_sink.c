/*
 * test_console_sink.c: reads console-sink.bytes bytes (any values) from the
 * virtio console and reports how many came and their FNV-1a hash: the
 * host, which knows what it sent, checks that none was lost or doubled on
 * the way in. Says "console-sink ready" once its receive buffers are
 * posted; gives up after console-sink.timeout_ms without the last byte. A
 * slow reader with console-sink.gap-us=US: it sleeps that long after each
 * read (at most one receive buffer, VCON_RX_SIZE bytes), so the input
 * piles up on the host's side.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/console.h"
#include "rt/report.h"
#include "rt/wait.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/console.h"
#include "virtio/dma.h"

static struct vcon sink_con;
static uint8_t sink_buf[VCON_RX_SIZE];

static void sink_sleep(uint64_t us)
{
	static volatile uint64_t never;

	while (!wait_counter(&never, 0, clock_deadline_us(us)))
		;
}

void test_console_sink(const char *name)
{
	int bad = 0, n = 0, ret;
	uint64_t bytes = tu_key_u64("console-sink.bytes", 1 << 20, &bad);
	uint64_t ms = tu_key_u64("console-sink.timeout_ms", 120000, &bad);
	uint64_t gap_us = tu_key_u64("console-sink.gap-us", 0, &bad);
	uint64_t mark = dma_mark(), got = 0, hash = FNV1A64_INIT, deadline;

	if (bad || !bytes || gap_us > 10000000) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	ret = vcon_open(&sink_con, 0);
	if (ret) {
		report_result(name, false, "reason=no-console err=%d", ret);
		goto out_release;
	}
	con_printf("isovm-testguest: console-sink ready\n");
	deadline = clock_deadline_us(ms * 1000);
	while (got < bytes) {
		size_t want = bytes - got < sizeof(sink_buf) ? bytes - got
							     : sizeof(sink_buf);

		n = vcon_read(&sink_con, sink_buf, want, deadline);
		if (n < 0)
			break;
		hash = tu_fnv1a64(hash, sink_buf, (size_t)n);
		got += (uint64_t)n;
		if (gap_us && got < bytes)
			sink_sleep(gap_us);
	}
	if (n < 0)
		report_result(name, false, "reason=%s err=%d bytes=%lu",
			      n == -TG_ETIMEDOUT ? "timeout" : "read", n, got);
	else
		report_result(name, true, "bytes=%lu hash=0x%016lx", got, hash);
	vcon_close(&sink_con);
out_release:
	dma_release(mark);
}
