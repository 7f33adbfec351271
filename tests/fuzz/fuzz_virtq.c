/*
 * fuzz_virtq.c: fuzz target of the virtqueue walker: descriptor tables and
 * avail rings built from the input in a small guest RAM, popped until empty
 * or error. Addresses are drawn mostly near the edges of RAM, where bounds
 * bugs live, rather than uniformly over 2^64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/virtio/virtq.h"

/* Guest RAM, allocated at its exact size per input so ASan sees overruns. */
#define FZ_RAM_GPA 0x1000ull
#define FZ_RAM_SIZE 0x1000u
#define FZ_RAM_END (FZ_RAM_GPA + FZ_RAM_SIZE)
#define FZ_DESC (FZ_RAM_GPA + 0x000)   /* up to 16 entries */
#define FZ_AVAIL (FZ_RAM_GPA + 0x100)
#define FZ_USED (FZ_RAM_GPA + 0x140)
#define FZ_ITABLE_N 16 /* entries of the indirect table area */

/*
 * Input layout:
 *   [0] bits 0-6: log2 of queue size (mod 5); bit 7: the indirect area
 *   sits at the very end of RAM instead of inside it
 *   [1] bit0 EVENT_IDX, bit1 INDIRECT,
 *   bits 2..7 how many chains the driver makes available (mod size + 2)
 *   [2..3] starting 16-bit ring index
 *   then 6-byte records: queue-size descriptors, FZ_ITABLE_N indirect
 *   entries; then one byte per avail ring slot (the head; bit 7 clear:
 *   head % size).
 * Record: [0] bits 0-1 address mode, 2-3 length mode, 4-7 flags;
 *   [1] next (bit 7 clear: next % 4); [2..3] a; [4..5] b. Missing bytes
 *   read as zero.
 */
#define FZ_HDR 4
#define FZ_REC 6

struct fz_in {
	const uint8_t *p;
	size_t left;
};

static uint8_t fz_u8(struct fz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | fz_u8(in) << 8);
}

static gpa_t fz_itable = FZ_RAM_GPA + 0x200;

static uint64_t fz_addr(unsigned mode, uint16_t a, uint16_t b)
{
	switch (mode) {
	case 0:
		return FZ_RAM_GPA + a % FZ_RAM_SIZE; /* anywhere in RAM */
	case 1:
		return FZ_RAM_END - a % 64; /* at the end of RAM */
	case 2:
		return fz_itable + 16u * (a % FZ_ITABLE_N); /* the table */
	default:
		return (uint64_t)a << 48 | (uint64_t)b << 4 | (a & 15);
	}
}

static uint32_t fz_len(unsigned mode, uint16_t b)
{
	switch (mode) {
	case 0:
		return b % 128;
	case 1:
		return 16u * (b % 20); /* indirect-table-like lengths */
	case 2:
		return b;
	default:
		return 0xffffffffu - b; /* near 2^32 */
	}
}

static void fz_record(uint8_t *ram, gpa_t at, struct fz_in *in)
{
	uint8_t mode = fz_u8(in), next = fz_u8(in);
	uint16_t a = fz_u16(in), b = fz_u16(in);
	struct virtq_desc d = {
		.addr = fz_addr(mode & 3, a, b),
		.len = fz_len((mode >> 2) & 3, b),
		.flags = mode >> 4,
		/* Mostly small indices, which stay inside short tables. */
		.next = next & 0x80 ? next : next % 4,
	};

	memcpy(ram + (at - FZ_RAM_GPA), &d, sizeof(d));
}

static void fz_run(struct virtq *q, const struct guest_mem *mem)
{
	static uint8_t scratch[1 << 16];
	struct virtq_chain chain;

	for (unsigned n = 0; n <= q->size + 1u; n++) {
		int ret = virtq_pop(q, mem, &chain);
		size_t got;

		if (ret < 0 && !virtq_err_str(ret)[0])
			abort(); /* every error names its rule */
		if (ret == 0)
			return;
		if (ret < 0) {
			/*
			 * A device would stop here (NEEDS_RESET); the fuzzer
			 * skips the entry to walk more chains per input.
			 */
			q->last_avail_idx++;
			continue;
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

static void fz_build(uint8_t *ram, const struct virtq *q, struct fz_in *in,
		     unsigned chains, uint16_t start)
{
	uint16_t idx = (uint16_t)(start + chains), head;

	for (unsigned i = 0; i < q->size; i++)
		fz_record(ram, FZ_DESC + 16u * i, in);
	for (unsigned i = 0; i < FZ_ITABLE_N; i++)
		fz_record(ram, fz_itable + 16u * i, in);
	for (unsigned i = 0; i < q->size; i++) {
		head = fz_u8(in);
		/* Mostly heads in range, so that chains get walked. */
		head = head & 0x80 ? head : head % q->size;
		memcpy(ram + (FZ_AVAIL - FZ_RAM_GPA) + 4 + 2 * i, &head, 2);
	}
	memcpy(ram + (FZ_AVAIL - FZ_RAM_GPA) + 2, &idx, 2);
	memcpy(ram + (FZ_USED - FZ_RAM_GPA) + 2, &start, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct guest_mem mem = { 0 };
	uint8_t szlog = fz_u8(&in), flags = fz_u8(&in);
	uint16_t start = fz_u16(&in);
	struct virtq q;
	uint8_t *ram = calloc(1, FZ_RAM_SIZE);

	if (!ram)
		return 0;
	fz_itable = szlog & 0x80 ? FZ_RAM_END - 16u * FZ_ITABLE_N :
				   FZ_RAM_GPA + 0x200;
	mem.region[0] = (struct guest_mem_region){ FZ_RAM_GPA, FZ_RAM_SIZE,
						   ram, 0 };
	mem.nr_regions = 1;
	mem.ram_size = FZ_RAM_SIZE;
	mem.memfd = -1;
	if (virtq_setup(&q, &mem, 1u << ((szlog & 0x7f) % 5), FZ_DESC, FZ_AVAIL,
			FZ_USED, flags & 1, flags & 2) == 0) {
		q.last_avail_idx = start;
		q.used_idx = start;
		q.signalled_used = start;
		/* At most one more than the queue size: that is an error. */
		fz_build(ram, &q, &in, (flags >> 2) % (q.size + 2u), start);
		fz_run(&q, &mem);
	}
	free(ram);
	return 0;
}

static void fz_seed_rec(uint8_t *r, unsigned amode, unsigned lmode,
			unsigned flags, uint8_t next, uint16_t a, uint16_t b)
{
	r[0] = (uint8_t)(amode | lmode << 2 | flags << 4);
	r[1] = next;
	memcpy(r + 2, &a, 2);
	memcpy(r + 4, &b, 2);
}

/* A valid start: a direct+indirect chain and a direct one, wrapping idx. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	size_t len = FZ_HDR + FZ_REC * (16 + FZ_ITABLE_N) + 16;
	uint8_t *desc = buf + FZ_HDR, *itab = desc + FZ_REC * 16;
	uint8_t *heads = itab + FZ_REC * FZ_ITABLE_N;
	uint16_t start = 65535;

	if (cap < len)
		return 0;
	memset(buf, 0, len);
	buf[0] = 4;           /* 16 entries */
	buf[1] = 3 | 2 << 2;  /* EVENT_IDX, INDIRECT_DESC, 2 chains */
	memcpy(buf + 2, &start, 2);
	fz_seed_rec(desc, 0, 0, VIRTQ_DESC_F_NEXT, 1, 0x300, 64);
	fz_seed_rec(desc + FZ_REC, 2, 1, VIRTQ_DESC_F_INDIRECT, 0, 0, 2);
	fz_seed_rec(itab, 0, 2, VIRTQ_DESC_F_NEXT, 1, 0x400, 100);
	fz_seed_rec(itab + FZ_REC, 1, 0, VIRTQ_DESC_F_WRITE, 0, 50, 50);
	fz_seed_rec(desc + 2 * FZ_REC, 0, 0, VIRTQ_DESC_F_WRITE, 0, 0x600, 10);
	heads[start & 15] = 0;
	heads[(uint16_t)(start + 1) & 15] = 2;
	return len;
}
