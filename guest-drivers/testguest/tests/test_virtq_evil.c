/*
 * test_virtq_evil.c: breaks the virtqueue rule named by virtq-evil= on the
 * first virtio device and passes when the device answers with
 * NEEDS_RESET, then shows the UART still works. virtq-evil=spin breaks no
 * rule and is a test of its own (test_virtq_spin.c).
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/tests.h"
#include "virtio/dma.h"
#include "virtio/virtq_evil.h"

#define EVIL_WAIT_US 2000000ull /* the device thread may take a moment */

/* Polls Status until NEEDS_RESET or the deadline; returns the last value. */
static uint32_t evil_wait_status(struct vmmio_dev *d)
{
	uint64_t deadline = clock_deadline_us(EVIL_WAIT_US);
	uint32_t st;

	for (;;) {
		st = vmmio_status(d);
		if ((st & VIRTIO_STATUS_NEEDS_RESET) || clock_expired(deadline))
			return st;
		for (unsigned i = 0; i < 1000; i++)
			cpu_relax();
	}
}

void test_virtq_evil(const char *name)
{
	const char *rule = cmdline_value(&cmdline, "virtq-evil");
	struct vmmio_dev *d = vmmio_find(0, 0);
	uint64_t mark = dma_mark();
	uint32_t st;
	int ret;

	if (rule && !strcmp(rule, "spin")) {
		test_virtq_spin(name);
		return;
	}
	if (!rule || !virtq_evil_known(rule)) {
		report_result(name, false, "reason=unknown-rule rule=%s",
			      rule ? rule : "(none)");
		return;
	}
	if (!d) {
		report_result(name, false, "reason=no-device rule=%s", rule);
		return;
	}
	ret = virtq_evil_break(d, rule);
	if (ret) {
		report_result(name, false, "reason=setup rule=%s err=%d", rule,
			      ret);
		goto out_stop;
	}
	st = evil_wait_status(d);
	report_result(name, st & VIRTIO_STATUS_NEEDS_RESET,
		      "rule=%s needs_reset=%u dev_status=0x%x device=%u", rule,
		      !!(st & VIRTIO_STATUS_NEEDS_RESET), st, d->device_id);
	con_printf("isovm-testguest: uart still works\n");
out_stop:
	vmmio_stop(d);
	dma_release(mark);
}
