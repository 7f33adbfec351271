/*
 * test_blk_ro.c: on the first virtio-blk disk that offers VIRTIO_BLK_F_RO,
 * a write completes with VIRTIO_BLK_S_IOERR and a read still succeeds.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/report.h"
#include "tests/tests.h"
#include "virtio/blk.h"
#include "virtio/dma.h"

#define RO_TIMEOUT_US 10000000ull

static struct vblk ro_blk;

/* Opens blk devices in turn until one is read-only; its index or -errno. */
static int ro_find(struct vblk *b)
{
	unsigned nth;
	int ret;

	for (nth = 0;; nth++) {
		if ((ret = vblk_open(b, nth, 1)))
			return ret;
		if (b->ro)
			return (int)nth;
		vblk_close(b);
	}
}

void test_blk_ro(const char *name)
{
	uint64_t mark = dma_mark(), deadline;
	uint8_t *buf = dma_alloc(VBLK_SECTOR, 4096);
	int disk = buf ? ro_find(&ro_blk) : -TG_ENOSPC, wst, rst;

	if (disk < 0) {
		report_result(name, false, "reason=no-ro-disk err=%d", disk);
		goto out_release;
	}
	deadline = clock_deadline_us(RO_TIMEOUT_US);
	buf[0] = 0xa5;
	wst = vblk_sync(&ro_blk, VBLK_T_OUT, 0, buf, VBLK_SECTOR, deadline);
	rst = vblk_sync(&ro_blk, VBLK_T_IN, 0, buf, VBLK_SECTOR, deadline);
	report_result(name, wst == VBLK_S_IOERR && rst == VBLK_S_OK,
		      "write_status=%d read_status=%d disk=%d", wst, rst, disk);
	vblk_close(&ro_blk);
out_release:
	dma_release(mark);
}
