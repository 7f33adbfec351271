/* test_region.c: creating, sealing and mapping the shared memfd of a device. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ipc/region.h"
#include "ipc/ring.h"

static const struct ipc_geom geom = { 256, 128, 4096, 64 };

Test(region, layout_puts_rings_on_cache_lines_and_arena_on_a_page)
{
	struct ipc_layout l;

	cr_assert_eq(ipc_region_layout(&geom, &l), 0);
	cr_assert_eq(l.sq_off % IPC_CACHELINE, 0);
	cr_assert_eq(l.cq_off, l.sq_off + ipc_ring_bytes(256));
	cr_assert_eq(l.cq_off % IPC_CACHELINE, 0);
	cr_assert_geq(l.arena_off, l.cq_off + ipc_ring_bytes(128));
	cr_assert_eq(l.arena_off % 4096, 0);
	cr_assert_eq(l.size, l.arena_off + 4096 * 64);
}

Test(region, layout_rejects_bad_geometry)
{
	struct ipc_layout l;
	struct ipc_geom g;

	g = geom, g.sq_entries = 100;
	cr_assert_eq(ipc_region_layout(&g, &l), -EINVAL);
	g = geom, g.cq_entries = 0;
	cr_assert_eq(ipc_region_layout(&g, &l), -EINVAL);
	g = geom, g.arena_slot_size = 1000;
	cr_assert_eq(ipc_region_layout(&g, &l), -EINVAL);
	g = geom, g.arena_slots = 0;
	cr_assert_eq(ipc_region_layout(&g, &l), -EINVAL);
	/* 1 MiB x 65536 slots: 64 GiB, above the region limit. */
	g = geom, g.arena_slot_size = 1u << 20, g.arena_slots = 65536;
	cr_assert_eq(ipc_region_layout(&g, &l), -EINVAL);
}

Test(region, created_memfd_is_sealed_against_resizing)
{
	struct ipc_region r;
	int seals;

	cr_assert_eq(ipc_region_create(&r, &geom, 1), 0);
	seals = fcntl(r.fd, F_GET_SEALS);
	cr_assert_eq(seals & (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
		     F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(ftruncate(r.fd, 4096), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(ftruncate(r.fd, (off_t)r.size * 2), -1);
	cr_assert_eq(fcntl(r.fd, F_ADD_SEALS, F_SEAL_WRITE), -1,
		     "the peer cannot add a write seal either");
	cr_assert_eq(fcntl(r.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ipc_region_close(&r);
}

Test(region, created_header_describes_the_region)
{
	struct ipc_region r;
	struct ipc_region_hdr h;

	cr_assert_eq(ipc_region_create(&r, &geom, 7), 0);
	memcpy(&h, r.base, sizeof(h));
	cr_assert_eq(h.magic, IPC_REGION_MAGIC);
	cr_assert_eq(h.version, IPC_REGION_VERSION);
	cr_assert_eq(memcmp(&h.geom, &geom, sizeof(geom)), 0);
	cr_assert_eq(h.generation, 7);
	cr_assert_eq(h.size, r.size);
	ipc_region_reset(&r, 8);
	memcpy(&h, r.base, sizeof(h));
	cr_assert_eq(h.generation, 8);
	cr_assert_eq(r.generation, 8);
	ipc_region_close(&r);
}

Test(region, mapping_the_fd_shares_memory_with_the_creator)
{
	struct ipc_region vmm, srv;
	unsigned char *a, *b;

	cr_assert_eq(ipc_region_create(&vmm, &geom, 3), 0);
	cr_assert_eq(ipc_region_map(&srv, vmm.fd, &geom), 0);
	cr_assert_eq(srv.fd, -1, "mapping does not own the fd");
	cr_assert_eq(srv.generation, 3);
	cr_assert_eq(srv.size, vmm.size);
	a = ipc_region_arena(&vmm);
	b = ipc_region_arena(&srv);
	a[100] = 0x42;
	cr_assert_eq(b[100], 0x42);
	b[4096 * 64 - 1] = 0x17;
	cr_assert_eq(a[4096 * 64 - 1], 0x17);
	ipc_region_close(&srv);
	ipc_region_close(&srv);
	ipc_region_close(&vmm);
}

Test(region, map_without_expected_geometry_takes_the_header)
{
	struct ipc_region vmm, srv;

	cr_assert_eq(ipc_region_create(&vmm, &geom, 1), 0);
	cr_assert_eq(ipc_region_map(&srv, vmm.fd, NULL), 0);
	cr_assert_eq(memcmp(&srv.geom, &geom, sizeof(geom)), 0);
	ipc_region_close(&srv);
	ipc_region_close(&vmm);
}

Test(region, create_rejects_bad_geometry)
{
	struct ipc_region r;
	struct ipc_geom g = geom;

	g.sq_entries = 3;
	cr_assert_eq(ipc_region_create(&r, &g, 1), -EINVAL);
	cr_assert_eq(r.fd, -1);
	ipc_region_close(&r);
}
