/*
 * test_blk_info.c: a virtio-blk disk's config (capacity, limits), its
 * GET_ID string and, when offered and writable, a WRITE_ZEROES round trip
 * on sector 0 and a DISCARD of sector 1 (both put back afterwards).
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/blk.h"
#include "virtio/dma.h"

#define INFO_TIMEOUT_US 10000000ull

static struct vblk info_blk;

/* Printable copy of a GET_ID answer (NUL-padded, maybe not terminated). */
static void info_id_text(const uint8_t *id, char *out)
{
	unsigned i;

	for (i = 0; i < VBLK_ID_BYTES && id[i]; i++)
		out[i] = (id[i] > ' ' && id[i] < 0x7f) ? (char)id[i] : '_';
	out[i] = '\0';
}

/* Saves sector 0, zeroes it with WRITE_ZEROES, checks, restores. */
static const char *info_write_zeroes(struct vblk *b, uint8_t *save,
				     uint8_t *buf, uint64_t deadline)
{
	unsigned i;
	int st;

	if (!vmmio_has(b->dev, VBLK_F_WRITE_ZEROES))
		return "not-offered";
	if (b->ro)
		return "read-only";
	if (vblk_sync(b, VBLK_T_IN, 0, save, VBLK_SECTOR, deadline))
		return "read-failed";
	memset(buf, 0xab, VBLK_SECTOR);
	if (vblk_sync(b, VBLK_T_OUT, 0, buf, VBLK_SECTOR, deadline))
		return "write-failed";
	st = vblk_sync(b, VBLK_T_WRITE_ZEROES, 0, NULL, VBLK_SECTOR, deadline);
	if (st)
		return "zeroes-failed";
	if (vblk_sync(b, VBLK_T_IN, 0, buf, VBLK_SECTOR, deadline))
		return "read-failed";
	for (i = 0; i < VBLK_SECTOR; i++)
		if (buf[i])
			return "not-zero";
	if (vblk_sync(b, VBLK_T_OUT, 0, save, VBLK_SECTOR, deadline))
		return "restore-failed";
	return "ok";
}

/* Saves sector 1, discards it (only status OK is promised), restores it. */
static const char *info_discard(struct vblk *b, uint8_t *save,
				uint64_t deadline)
{
	if (!vmmio_has(b->dev, VBLK_F_DISCARD))
		return "not-offered";
	if (b->ro)
		return "read-only";
	if (b->capacity < 2 ||
	    vblk_sync(b, VBLK_T_IN, 1, save, VBLK_SECTOR, deadline))
		return "read-failed";
	if (vblk_sync(b, VBLK_T_DISCARD, 1, NULL, VBLK_SECTOR, deadline))
		return "discard-failed";
	if (vblk_sync(b, VBLK_T_OUT, 1, save, VBLK_SECTOR, deadline))
		return "restore-failed";
	return "ok";
}

static bool info_ok(const char *what)
{
	return !strcmp(what, "ok") || !strcmp(what, "not-offered") ||
	       !strcmp(what, "read-only");
}

void test_blk_info(const char *name)
{
	int bad = 0, ret, idst;
	uint64_t disk = tu_key_u64("blk-info.disk", 0, &bad), deadline;
	uint64_t mark = dma_mark();
	uint8_t *id = dma_alloc(4096, 4096), *save = dma_alloc(4096, 4096);
	uint8_t *buf = dma_alloc(4096, 4096);
	char text[VBLK_ID_BYTES + 1];
	const char *wz, *dc;

	if (bad || disk > 64 || !id || !save || !buf) {
		report_result(name, false, "reason=bad-keys");
		goto out_release;
	}
	if ((ret = vblk_open(&info_blk, (unsigned)disk, 1))) {
		report_result(name, false, "reason=no-disk err=%d", ret);
		goto out_release;
	}
	deadline = clock_deadline_us(INFO_TIMEOUT_US);
	idst = vblk_sync(&info_blk, VBLK_T_GET_ID, 0, id, VBLK_ID_BYTES,
			 deadline);
	info_id_text(id, text);
	wz = info_write_zeroes(&info_blk, save, buf, deadline);
	dc = info_discard(&info_blk, save, deadline);
	report_result(name,
		      info_blk.capacity && idst >= 0 && info_ok(wz) &&
			      info_ok(dc),
		      "disk=%lu sectors=%lu blk_size=%u seg_max=%u size_max=%u "
		      "ro=%d features=0x%lx id_status=%d id=%s write_zeroes=%s "
		      "discard=%s",
		      disk, info_blk.capacity, info_blk.blk_size,
		      info_blk.seg_max, info_blk.size_max, info_blk.ro,
		      info_blk.dev->features, idst, idst ? "-" : text, wz, dc);
	vblk_close(&info_blk);
out_release:
	dma_release(mark);
}
