/*
 * test_blk_scan.c: reads a whole virtio-blk disk in 4 KiB requests, one at
 * a time, and says which ones failed: for fault-injection tests. Each of
 * blk-scan.passes passes (default 1) prints
 *   blk-scan pass=P bad=N first=S last=E
 * (S and E the first and last sector of the failed requests, -1 when none)
 * and waits blk-scan.gap-ms (default 0) before the next, so the host can
 * change the faults in between. The result line passes when every request
 * completed (OK or IOERR); it carries the last pass's figures.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/blk.h"
#include "virtio/dma.h"

#define SCAN_BS 4096u

static struct vblk scan_blk;

struct scan_pass {
	uint64_t bad;
	int64_t first, last;
};

static int scan_pass(uint8_t *buf, uint64_t sectors, struct scan_pass *p)
{
	uint64_t per = SCAN_BS / VBLK_SECTOR;
	int ret;

	p->bad = 0;
	p->first = p->last = -1;
	for (uint64_t s = 0; s + per <= sectors; s += per) {
		ret = vblk_sync(&scan_blk, VBLK_T_IN, s, buf, SCAN_BS,
				clock_deadline_us(10000000));
		if (ret < 0)
			return ret;
		if (ret == VBLK_S_OK)
			continue;
		p->bad++;
		if (p->first < 0)
			p->first = (int64_t)s;
		p->last = (int64_t)(s + per - 1);
	}
	return 0;
}

void test_blk_scan(const char *name)
{
	uint64_t passes, gap_ms, mark = dma_mark();
	struct scan_pass p = {0, -1, -1};
	int bad = 0, ret;
	uint8_t *buf;

	passes = tu_key_u64("blk-scan.passes", 1, &bad);
	gap_ms = tu_key_u64("blk-scan.gap-ms", 0, &bad);
	if (bad || !passes || passes > 100 || gap_ms > 600000) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	ret = vblk_open(&scan_blk, 0, 1);
	if (ret) {
		report_result(name, false, "reason=no-disk err=%d", ret);
		goto out;
	}
	buf = dma_alloc(SCAN_BS, 4096);
	if (!buf) {
		report_result(name, false, "reason=no-memory");
		goto out_close;
	}
	for (uint64_t i = 1; i <= passes; i++) {
		ret = scan_pass(buf, scan_blk.capacity, &p);
		if (ret) {
			report_result(name, false, "reason=io err=%d pass=%lu",
				      ret, i);
			goto out_close;
		}
		con_printf("blk-scan pass=%lu bad=%lu first=%ld last=%ld\n", i,
			   p.bad, p.first, p.last);
		if (i < passes) {
			uint64_t until = clock_deadline_us(gap_ms * 1000);

			while (!clock_expired(until))
				cpu_relax();
		}
	}
	report_result(name, true, "passes=%lu bad=%lu first=%ld last=%ld",
		      passes, p.bad, p.first, p.last);
out_close:
	vblk_close(&scan_blk);
out:
	dma_release(mark);
}
