/*
 * fuzz_virtq.c: fuzz target of the virtqueue walker: random descriptor
 * tables and avail rings in a small guest RAM, popped until empty or error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/virtq.h"

/*
 * Input: 4 header bytes (log2 of the queue size, feature flags, starting
 * 16-bit ring index), then the contents of guest RAM. RAM is allocated at
 * its exact size per input so that ASan sees any access outside it.
 */
#define FZ_RAM_GPA 0x1000ull
#define FZ_RAM_SIZE 0x1000u
#define FZ_DESC (FZ_RAM_GPA + 0x000)
#define FZ_AVAIL (FZ_RAM_GPA + 0x100)
#define FZ_USED (FZ_RAM_GPA + 0x140)
#define FZ_HDR 4

static void fz_put(uint8_t *ram, gpa_t gpa, const void *v, size_t n)
{
	memcpy(ram + (gpa - FZ_RAM_GPA), v, n);
}

static void fz_desc(uint8_t *ram, gpa_t table, unsigned i, uint64_t addr,
		    uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	fz_put(ram, table + 16ull * i, &d, sizeof(d));
}

/* A valid start: a direct+indirect chain and a direct one, wrapping idx. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	uint8_t *ram = buf + FZ_HDR;
	uint16_t start = 65535, idx = 1, head0 = 0, head1 = 2;

	if (cap < FZ_HDR + FZ_RAM_SIZE)
		return 0;
	memset(buf, 0, FZ_HDR + FZ_RAM_SIZE);
	buf[0] = 4; /* 16 entries */
	buf[1] = 3; /* EVENT_IDX | INDIRECT_DESC */
	memcpy(buf + 2, &start, 2);
	fz_desc(ram, FZ_DESC, 0, 0x1200, 64, VIRTQ_DESC_F_NEXT, 1);
	fz_desc(ram, FZ_DESC, 1, 0x1300, 32, VIRTQ_DESC_F_INDIRECT, 0);
	fz_desc(ram, 0x1300, 0, 0x1400, 100, VIRTQ_DESC_F_NEXT, 1);
	fz_desc(ram, 0x1300, 1, 0x1500, 50, VIRTQ_DESC_F_WRITE, 0);
	fz_desc(ram, FZ_DESC, 2, 0x1600, 10, VIRTQ_DESC_F_WRITE, 0);
	fz_put(ram, FZ_AVAIL + 2, &idx, 2);
	fz_put(ram, FZ_AVAIL + 4 + 2 * (start & 15), &head0, 2);
	fz_put(ram, FZ_AVAIL + 4 + 2 * (idx & 15), &head1, 2);
	return FZ_HDR + FZ_RAM_SIZE;
}

static void fz_run(struct virtq *q, const struct guest_mem *mem)
{
	static uint8_t scratch[1 << 16];
	struct virtq_chain chain;

	for (unsigned n = 0; n <= q->size + 1u; n++) {
		int ret = virtq_pop(q, mem, &chain);
		size_t got;

		if (ret <= 0) {
			/* An error must name a rule; 0 means empty. */
			if (ret < 0 && !virtq_err_str(ret)[0])
				abort();
			return;
		}
		if (chain.nr_segs > VIRTQ_CHAIN_MAX_SEGS ||
		    chain.head >= q->size ||
		    (uint64_t)chain.readable_len + chain.writable_len >
			    VIRTQ_CHAIN_MAX_BYTES)
			abort();
		got = virtq_chain_read(mem, &chain, 0, scratch,
				       sizeof(scratch));
		if (got > chain.readable_len)
			abort();
		got = virtq_chain_write(mem, &chain, 1, scratch,
					sizeof(scratch));
		if (virtq_push(q, mem, chain.head, (uint32_t)got))
			abort();
		virtq_needs_interrupt(q, mem);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { 0 };
	struct virtq q;
	uint16_t start;
	uint8_t *ram;

	if (size < FZ_HDR)
		return 0;
	ram = calloc(1, FZ_RAM_SIZE);
	if (!ram)
		return 0;
	memcpy(ram, data + FZ_HDR,
	       size - FZ_HDR < FZ_RAM_SIZE ? size - FZ_HDR : FZ_RAM_SIZE);
	mem.region[0] = (struct guest_mem_region){ FZ_RAM_GPA, FZ_RAM_SIZE,
						   ram, 0 };
	mem.nr_regions = 1;
	mem.ram_size = FZ_RAM_SIZE;
	mem.memfd = -1;
	if (virtq_setup(&q, &mem, 1u << (data[0] % 5), FZ_DESC, FZ_AVAIL,
			FZ_USED, data[1] & 1, data[1] & 2) == 0) {
		memcpy(&start, data + 2, 2);
		q.last_avail_idx = start;
		q.used_idx = start;
		q.signalled_used = start;
		fz_run(&q, &mem);
	}
	free(ram);
	return 0;
}
