/* test_arena.c: VMM-side arena allocation and checked spans. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ipc/arena.h"

static unsigned char mem[64 * 256];

Test(arena, allocations_are_slot_aligned_and_disjoint)
{
	struct ipc_arena a;
	uint64_t o1, o2, o3;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, true), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 1, &o1), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 257, &o2), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 256, &o3), 0);
	cr_assert_eq(o1 % 256, 0);
	cr_assert_eq(o2 % 256, 0);
	cr_assert_eq(o3 % 256, 0);
	cr_assert(o2 >= o1 + 256 || o2 + 512 <= o1);
	cr_assert(o3 >= o2 + 512 || o3 + 256 <= o2);
	cr_assert(o3 >= o1 + 256 || o3 + 256 <= o1);
	cr_assert_eq(a.nfree, 64 - 4);
	ipc_arena_fini(&a);
}

Test(arena, exhaustion_gives_enospc_and_free_makes_room)
{
	struct ipc_arena a;
	uint64_t off[64], o;
	int i;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, true), 0);
	for (i = 0; i < 64; i++)
		cr_assert_eq(ipc_arena_alloc(&a, 200, &off[i]), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 1, &o), -ENOSPC);
	cr_assert_eq(ipc_arena_free(&a, off[10], 200), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 1, &o), 0);
	cr_assert_eq(o, off[10]);
	ipc_arena_fini(&a);
}

Test(arena, fragmented_arena_refuses_a_run_it_cannot_place)
{
	struct ipc_arena a;
	uint64_t off[64], o;
	int i;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, true), 0);
	for (i = 0; i < 64; i++)
		cr_assert_eq(ipc_arena_alloc(&a, 256, &off[i]), 0);
	for (i = 0; i < 64; i += 2)
		cr_assert_eq(ipc_arena_free(&a, off[i], 256), 0);
	cr_assert_eq(a.nfree, 32);
	cr_assert_eq(ipc_arena_alloc(&a, 512, &o), -ENOSPC);
	cr_assert_eq(ipc_arena_free(&a, off[1], 256), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 768, &o), 0, "slots 0-2 are free");
	cr_assert_eq(o, 0);
	ipc_arena_fini(&a);
}

Test(arena, whole_arena_is_one_buffer)
{
	struct ipc_arena a;
	uint64_t o;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, true), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 64 * 256, &o), 0);
	cr_assert_eq(o, 0);
	cr_assert_eq(ipc_arena_alloc(&a, 64 * 256 + 1, &o), -EINVAL);
	cr_assert_eq(ipc_arena_alloc(&a, 0, &o), -EINVAL);
	ipc_arena_fini(&a);
}

Test(arena, double_free_and_bad_free_are_refused)
{
	struct ipc_arena a;
	uint64_t o;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, true), 0);
	cr_assert_eq(ipc_arena_alloc(&a, 300, &o), 0);
	cr_assert_eq(ipc_arena_free(&a, o + 1, 300), -EINVAL, "unaligned");
	cr_assert_eq(ipc_arena_free(&a, o, 300), 0);
	cr_assert_eq(ipc_arena_free(&a, o, 300), -EINVAL, "double free");
	cr_assert_eq(ipc_arena_free(&a, 64 * 256, 1), -EINVAL);
	cr_assert_eq(a.nfree, 64);
	ipc_arena_fini(&a);
}

Test(arena, server_view_cannot_allocate)
{
	struct ipc_arena a;
	uint64_t o;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, false), 0);
	cr_assert_null(a.bitmap);
	cr_assert_eq(ipc_arena_alloc(&a, 1, &o), -EINVAL);
	cr_assert_eq(ipc_arena_span(&a, 256, 10), mem + 256);
	ipc_arena_fini(&a);
}

Test(arena, span_accepts_exactly_the_ranges_inside)
{
	struct ipc_arena a;
	uint64_t size = 64 * 256;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, false), 0);
	cr_assert_eq(ipc_arena_span(&a, 0, size), mem);
	cr_assert_eq(ipc_arena_span(&a, size - 1, 1), mem + size - 1);
	cr_assert_eq(ipc_arena_span(&a, size, 0), mem + size);
	cr_assert_null(ipc_arena_span(&a, size - 1, 2));
	cr_assert_null(ipc_arena_span(&a, size, 1));
	cr_assert_null(ipc_arena_span(&a, 0, size + 1));
	cr_assert_null(ipc_arena_span(&a, size + 1, 0));
}

Test(arena, init_rejects_bad_geometry)
{
	struct ipc_arena a;

	cr_assert_eq(ipc_arena_init(&a, mem, 100, 4, true), -EINVAL);
	cr_assert_eq(ipc_arena_init(&a, mem, 32, 4, true), -EINVAL);
	cr_assert_eq(ipc_arena_init(&a, mem, 256, 0, true), -EINVAL);
	cr_assert_eq(ipc_arena_init(&a, mem, 256, IPC_ARENA_MAX_SLOTS + 1,
				    true), -EINVAL);
}

Test(arena, many_sizes_churn_without_overlap)
{
	struct ipc_arena a;
	uint64_t off[16] = { 0 }, len[16] = { 0 };
	unsigned char *owner = calloc(64, 1);
	int i, k, s;

	cr_assert_eq(ipc_arena_init(&a, mem, 256, 64, true), 0);
	srand(1);
	for (i = 0; i < 20000; i++) {
		k = rand() % 16;
		if (len[k]) {
			for (s = 0; s < (int)((len[k] + 255) / 256); s++)
				owner[off[k] / 256 + s] = 0;
			cr_assert_eq(ipc_arena_free(&a, off[k], len[k]), 0);
			len[k] = 0;
			continue;
		}
		len[k] = 1 + rand() % 1200;
		if (ipc_arena_alloc(&a, len[k], &off[k])) {
			len[k] = 0;
			continue;
		}
		for (s = 0; s < (int)((len[k] + 255) / 256); s++) {
			cr_assert_eq(owner[off[k] / 256 + s], 0, "overlap");
			owner[off[k] / 256 + s] = 1;
		}
	}
	free(owner);
	ipc_arena_fini(&a);
}
