/* test_fault.c: the page-table walk used to show code bytes on a fault. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/vm/fault.h"

#define RAM (8u << 20)

static struct guest_mem mem;
static uint8_t *ram;

static void setup(void)
{
	ram = aligned_alloc(4096, RAM);
	cr_assert_not_null(ram);
	memset(ram, 0, RAM);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] =
		(struct guest_mem_region){.gpa = 0, .size = RAM, .host = ram};
	mem.nr_regions = 1;
	mem.ram_size = RAM;
	mem.memfd = -1;
}

static void teardown(void)
{
	free(ram);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

TestSuite(fault, .init = setup, .fini = teardown);

Test(fault, without_paging_virtual_is_physical)
{
	struct kvm_sregs s = {.cr0 = 1};
	gpa_t pa;

	cr_assert(fault_translate(&mem, &s, 0x123456, &pa));
	cr_assert_eq(pa, 0x123456);
}

Test(fault, four_level_walk_with_4k_and_2m_pages)
{
	struct kvm_sregs s = {
		.cr0 = 0x80000001, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500};
	uint64_t va = 0xffffffff80201234ull; /* pml4 511, pdpt 510, pd 1 */
	gpa_t pa;

	put64(0x1000 + 511 * 8, 0x2000 | 3);
	put64(0x2000 + 510 * 8, 0x3000 | 3);
	put64(0x3000 + 1 * 8, 0x4000 | 3);
	put64(0x4000 + 1 * 8, 0x567000 | 3);
	cr_assert(fault_translate(&mem, &s, va, &pa));
	cr_assert_eq(pa, 0x567234);
	/* The same PD slot as a 2 MiB page. */
	put64(0x3000 + 1 * 8, 0x600000 | 0x83);
	cr_assert(fault_translate(&mem, &s, va, &pa));
	cr_assert_eq(pa, 0x601234);
}

Test(fault, a_missing_entry_or_table_outside_ram_fails)
{
	struct kvm_sregs s = {
		.cr0 = 0x80000001, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500};
	gpa_t pa;

	cr_assert(!fault_translate(&mem, &s, 0x1000, &pa), "not present");
	put64(0x1000, 0x7fff0000000ull | 3); /* PDPT far beyond RAM */
	cr_assert(!fault_translate(&mem, &s, 0x1000, &pa));
	s.cr3 = 0x7fff0000000ull;
	cr_assert(!fault_translate(&mem, &s, 0x1000, &pa), "cr3 beyond RAM");
}

Test(fault, pae_walk_uses_the_four_entry_pdpt)
{
	struct kvm_sregs s = {.cr0 = 0x80000001, .cr3 = 0x1020, .cr4 = 0x20};
	gpa_t pa;

	put64(0x1020 + 3 * 8, 0x2000 | 1);	/* 3..4 GiB */
	put64(0x2000 + 0 * 8, 0x400000 | 0x81); /* 2 MiB page */
	cr_assert(fault_translate(&mem, &s, 0xc0000abcull, &pa));
	cr_assert_eq(pa, 0x400abc);
}

Test(fault, two_level_32bit_walk_with_4k_and_4m_pages)
{
	struct kvm_sregs s = {.cr0 = 0x80000001, .cr3 = 0x1000, .cr4 = 0x10};
	gpa_t pa;

	put32(0x1000 + 0x300 * 4, 0x2000 | 3); /* va 0xc0000000 */
	put32(0x2000 + 5 * 4, 0x345000 | 3);
	cr_assert(fault_translate(&mem, &s, 0xc0005010ull, &pa));
	cr_assert_eq(pa, 0x345010);
	put32(0x1000 + 1 * 4, 0x400000 | 0x83); /* 4 MiB page at va 4M */
	cr_assert(fault_translate(&mem, &s, 0x00412345ull, &pa));
	cr_assert_eq(pa, 0x412345);
}
