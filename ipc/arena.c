/* arena.c: first-fit slot-run allocator for the data arena and range checks. */
#include "ipc/arena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_WORD_BITS 64u

bool ipc_arena_geom_valid(uint32_t slot_size, uint32_t nslots)
{
	return slot_size >= IPC_ARENA_SLOT_MIN &&
	       slot_size <= IPC_ARENA_SLOT_MAX &&
	       (slot_size & (slot_size - 1)) == 0 && nslots >= 1 &&
	       nslots <= IPC_ARENA_MAX_SLOTS;
}

int ipc_arena_init(struct ipc_arena *a, void *base, uint32_t slot_size,
		   uint32_t nslots, bool allocator)
{
	size_t words;

	memset(a, 0, sizeof(*a));
	if (!ipc_arena_geom_valid(slot_size, nslots))
		return -EINVAL;
	a->base = base;
	a->slot_size = slot_size;
	a->slot_shift = (uint32_t)__builtin_ctz(slot_size);
	a->nslots = nslots;
	a->size = (uint64_t)slot_size * nslots;
	if (!allocator)
		return 0;
	words = (nslots + ARENA_WORD_BITS - 1) / ARENA_WORD_BITS;
	a->bitmap = calloc(words, sizeof(*a->bitmap));
	if (!a->bitmap)
		return -ENOMEM;
	a->nfree = nslots;
	return 0;
}

void ipc_arena_fini(struct ipc_arena *a)
{
	free(a->bitmap);
	a->bitmap = NULL;
}

static bool arena_test(const struct ipc_arena *a, uint32_t slot)
{
	return a->bitmap[slot / ARENA_WORD_BITS] >> (slot % ARENA_WORD_BITS) &
	       1;
}

static void arena_set(struct ipc_arena *a, uint32_t first, uint32_t n,
		      bool used)
{
	uint32_t s;

	for (s = first; s < first + n; s++) {
		uint64_t bit = 1ull << (s % ARENA_WORD_BITS);

		if (used)
			a->bitmap[s / ARENA_WORD_BITS] |= bit;
		else
			a->bitmap[s / ARENA_WORD_BITS] &= ~bit;
	}
}

/* First run of @n free slots in [from, to), or UINT32_MAX. */
static uint32_t arena_find(const struct ipc_arena *a, uint32_t from,
			   uint32_t to, uint32_t n)
{
	uint32_t s = from, run = 0;

	while (s < to) {
		/* Skip a full word at once when we are at its start. */
		if (!run && !(s % ARENA_WORD_BITS) &&
		    a->bitmap[s / ARENA_WORD_BITS] == UINT64_MAX) {
			s += ARENA_WORD_BITS;
			continue;
		}
		run = arena_test(a, s) ? 0 : run + 1;
		s++;
		if (run == n)
			return s - n;
	}
	return UINT32_MAX;
}

int ipc_arena_alloc(struct ipc_arena *a, uint64_t len, uint64_t *off)
{
	uint32_t n, s;

	if (!a->bitmap || !len || len > a->size)
		return -EINVAL;
	n = (uint32_t)((len + a->slot_size - 1) >> a->slot_shift);
	if (n > a->nfree)
		return -ENOSPC;
	/* Next-fit: start at the hint, then wrap to the beginning. */
	s = arena_find(a, a->hint, a->nslots, n);
	if (s == UINT32_MAX)
		s = arena_find(a, 0, a->nslots, n);
	if (s == UINT32_MAX)
		return -ENOSPC;
	arena_set(a, s, n, true);
	a->nfree -= n;
	a->hint = s + n < a->nslots ? s + n : 0;
	*off = (uint64_t)s << a->slot_shift;
	return 0;
}

int ipc_arena_free(struct ipc_arena *a, uint64_t off, uint64_t len)
{
	uint32_t n, s, i;

	if (!a->bitmap || !len || !ipc_arena_span(a, off, len) ||
	    (off & (a->slot_size - 1)))
		return -EINVAL;
	s = (uint32_t)(off >> a->slot_shift);
	n = (uint32_t)((len + a->slot_size - 1) >> a->slot_shift);
	if (n > a->nslots - s)
		return -EINVAL;
	for (i = s; i < s + n; i++)
		if (!arena_test(a, i))
			return -EINVAL;
	arena_set(a, s, n, false);
	a->nfree += n;
	return 0;
}

void *ipc_arena_span(const struct ipc_arena *a, uint64_t off, uint64_t len)
{
	/* Written so that no sum can wrap: off <= size, then len <= rest. */
	if (off > a->size || len > a->size - off)
		return NULL;
	return a->base + off;
}
