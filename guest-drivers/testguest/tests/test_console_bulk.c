/*
 * test_console_bulk.c: streams console-bulk.mib MiB of a seeded text
 * pattern over the virtio console between a begin and an end line, and
 * reports its FNV-1a hash and the rate on the guest clock. Paced for
 * tests that need the stream to last: console-bulk.chunk=BYTES per write
 * (default and most VCON_TX_SIZE), and console-bulk.gap-us=US to sleep
 * after each chunk, once the device took it.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/fmt.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/wait.h"
#include "rt/string.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/console.h"
#include "virtio/dma.h"

#define BULK_CHUNK	VCON_TX_SIZE
#define BULK_TIMEOUT_US 120000000ull

static struct vcon bulk_con;
static uint8_t bulk_chunk[BULK_CHUNK];

struct bulk_gen {
	uint64_t state, i, hash;
};

struct bulk_pace {
	uint64_t chunk, gap_us;
};

static void bulk_sleep(uint64_t us)
{
	static volatile uint64_t never;

	while (!wait_counter(&never, 0, clock_deadline_us(us)))
		;
}

/* The next n pattern bytes into out, hashed on the way. */
static void bulk_fill(struct bulk_gen *g, uint8_t *out, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++, g->i++) {
		g->state = tu_xorshift64(g->state);
		out[k] = (g->i % 64 == 63) ? '\n'
					   : (uint8_t)('a' + g->state % 26);
	}
	g->hash = tu_fnv1a64(g->hash, out, n);
}

static int bulk_send(struct vcon *c, uint64_t seed, uint64_t bytes,
		     const struct bulk_pace *pace, uint64_t *hash,
		     uint64_t deadline)
{
	struct bulk_gen g = {.state = seed, .hash = FNV1A64_INIT};
	char hdr[96];
	int n, ret;

	n = fmt_snprintf(hdr, sizeof(hdr),
			 "ISOVM-BULK-BEGIN seed=%lu bytes=%lu\n", seed, bytes);
	if ((ret = vcon_write(c, hdr, (size_t)n, deadline)))
		return ret;
	while (g.i < bytes) {
		size_t len =
			bytes - g.i < pace->chunk ? bytes - g.i : pace->chunk;

		bulk_fill(&g, bulk_chunk, len);
		if ((ret = vcon_write(c, bulk_chunk, len, deadline)))
			return ret;
		if (!pace->gap_us)
			continue;
		if ((ret = vcon_flush(c, deadline)))
			return ret;
		bulk_sleep(pace->gap_us);
	}
	if ((ret = vcon_write(c, "ISOVM-BULK-END\n", 15, deadline)))
		return ret;
	*hash = g.hash;
	return vcon_flush(c, deadline);
}

void test_console_bulk(const char *name)
{
	int bad = 0, ret;
	uint64_t mib = tu_key_u64("console-bulk.mib", 4, &bad);
	uint64_t seed = tu_key_u64("console-bulk.seed", 1, &bad);
	struct bulk_pace pace = {
		.chunk = tu_key_u64("console-bulk.chunk", BULK_CHUNK, &bad),
		.gap_us = tu_key_u64("console-bulk.gap-us", 0, &bad),
	};
	uint64_t mark = dma_mark(), bytes = mib << 20, hash = 0, t0, ns, r;

	if (bad || !mib || mib > 4096 || !pace.chunk ||
	    pace.chunk > BULK_CHUNK || pace.gap_us > 10000000) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	ret = vcon_open(&bulk_con, 0);
	if (ret) {
		report_result(name, false, "reason=no-console err=%d", ret);
		goto out_release;
	}
	t0 = rdtsc();
	ret = bulk_send(&bulk_con, seed, bytes, &pace, &hash,
			clock_deadline_us(BULK_TIMEOUT_US));
	ns = clock_ns(rdtsc() - t0);
	if (ret) {
		report_result(name, false, "reason=send err=%d", ret);
		goto out_close;
	}
	r = tu_rate_tenths(bytes, ns);
	report_result(name, true,
		      "bytes=%lu hash=0x%016lx mbps=%lu.%lu kicks=%lu", bytes,
		      hash, r / 10, r % 10, bulk_con.tx.kicks);
out_close:
	vcon_close(&bulk_con);
out_release:
	dma_release(mark);
}
