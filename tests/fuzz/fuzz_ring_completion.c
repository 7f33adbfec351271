/*
 * fuzz_ring_completion.c: a hostile device server writes whatever it likes
 * into the completion ring (entries and the producer index) and the VMM
 * side reaps. Whatever happens: no crash, no completion for a request that
 * is not in flight, no length beyond the request's buffer, and after a
 * restart the data plane works again.
 *
 * Input: byte 0 = requests to submit (0..15); byte 1 = how far the hostile
 * producer index moves; the rest = raw completion entries, 64 bytes each.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/dataplane.h"

static struct ipc_dp_vmm fz_dp;
static bool fz_open;
static uint64_t fz_gen = 1;

static void fuzz_ring_open(void)
{
	const struct ipc_geom g = { .sq_entries = 16, .cq_entries = 16,
				    .arena_slot_size = 4096,
				    .arena_slots = 16 };

	if (ipc_dp_vmm_open(&fz_dp, &g, fz_gen))
		abort();
	fz_open = true;
}

/* Drain every good completion so the next input starts from empty. */
static void fuzz_ring_settle(void)
{
	struct ipc_dp_done done[16];

	if (ipc_dp_vmm_reap(&fz_dp, done, 16) < 0 || ipc_inflight_count(&fz_dp.inf)) {
		/* The hostile server is "restarted": nothing of it remains. */
		ipc_dp_vmm_close(&fz_dp);
		fz_gen++;
		fuzz_ring_open();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_ring_hdr *cq;
	unsigned char *slots;
	struct ipc_dp_done done[32];
	unsigned nreq, nent, i;
	uint32_t prod;
	int n;

	if (!fz_open)
		fuzz_ring_open();
	if (size < 2)
		return 0;
	nreq = data[0] % 16;
	for (i = 0; i < nreq; i++) {
		struct ipc_req req = { .op = IPC_OP_READ, .arena_len = 512 };

		if (ipc_arena_alloc(&fz_dp.arena, 512, &req.arena_off))
			break;
		if (ipc_dp_vmm_submit(&fz_dp, &req, (void *)(uintptr_t)(i + 1)))
			break;
	}
	/* Play the server: raw entries into the completion ring. */
	cq = ipc_region_cq(&fz_dp.reg);
	slots = (unsigned char *)cq + sizeof(*cq);
	prod = atomic_load_explicit(&cq->prod, memory_order_relaxed);
	nent = (unsigned)((size - 2) / IPC_ENTRY_SIZE);
	for (i = 0; i < nent && i < 16; i++)
		memcpy(slots + ((prod + i) & 15) * IPC_ENTRY_SIZE,
		       data + 2 + i * IPC_ENTRY_SIZE, IPC_ENTRY_SIZE);
	atomic_store_explicit(&cq->prod, prod + (uint32_t)(int8_t)data[1],
			      memory_order_release);

	n = ipc_dp_vmm_reap(&fz_dp, done, 32);
	for (int k = 0; k < n; k++) {
		if (done[k].len > done[k].req.arena_len)
			abort();
		if ((uintptr_t)done[k].cookie < 1 || (uintptr_t)done[k].cookie > 16)
			abort();
		ipc_arena_free(&fz_dp.arena, done[k].req.arena_off,
			       done[k].req.arena_len);
	}
	fuzz_ring_settle();
	return 0;
}
