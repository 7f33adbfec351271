/* test_boot_bzimage.c: bzImage loading through the 64-bit boot protocol. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tests/unit/boot_fixture.h"
#include "vcpu/boot/boot.h"
#include "vcpu/boot/boot_bzimage.h"
#include "vcpu/boot/e820.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct guest_mem mem;
static uint8_t img[FX_BZ_SIZE];
static char err[256];
static struct boot_entry entry;

static void teardown(void)
{
	fixture_mem_fini(&mem);
	fixture_tmpfiles_remove();
}

TestSuite(boot_bzimage, .fini = teardown);

static int load(uint64_t ram, const char *initrd, const char *cmdline)
{
	struct boot_config cfg = {
		.kernel_path = fixture_tmpfile(0, img, sizeof(img)),
		.initrd_path = initrd,
		.cmdline = cmdline,
		.cpus = 1,
	};

	fixture_mem_init(&mem, ram);
	return boot_load(&mem, &cfg, &entry, err, sizeof(err));
}

static uint8_t *gp(gpa_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&mem, gpa, len);

	cr_assert_not_null(p, "gpa 0x%llx", (unsigned long long)gpa);
	return p;
}

/* Walks the loader's page tables like the MMU does for a 2 MiB mapping. */
static uint64_t translate(uint64_t va)
{
	uint64_t pml4e = fx_get64(gp(entry.cr3 + ((va >> 39) & 511) * 8, 8));
	uint64_t pdpte, pde;

	cr_assert(pml4e & 1, "PML4E present for 0x%llx", (unsigned long long)va);
	pdpte = fx_get64(gp((pml4e & ~0xfffull) + ((va >> 30) & 511) * 8, 8));
	cr_assert(pdpte & 1, "PDPTE present");
	cr_assert_eq(pdpte & 0x80, 0, "PDPTE points to a PD");
	pde = fx_get64(gp((pdpte & ~0xfffull) + ((va >> 21) & 511) * 8, 8));
	cr_assert(pde & 1, "PDE present");
	cr_assert(pde & 2, "PDE writable");
	cr_assert(pde & 0x80, "PDE is a 2 MiB page");
	return (pde & ~0x1fffffull & 0xffffffffffull) | (va & 0x1fffff);
}

Test(boot_bzimage, protocol_2_15_loads_at_pref_address)
{
	const uint64_t isz = 5 * MiB + 7;
	const char *initrd = fixture_tmpfile_pattern(1, isz);
	const uint8_t *zp, *k;
	uint32_t rd, rd_size;

	fixture_bzimage(img, 0x020f, 1);
	cr_assert_eq(load(256 * MiB, initrd, "console=ttyS0 quiet"), 0, "%s",
		     err);
	cr_assert_eq(entry.mode, BOOT_MODE_LINUX64);
	cr_assert_eq(entry.rip, FX_BZ_PREF + 0x200);
	cr_assert_eq(entry.rsi, BOOT_PARAMS_GPA);
	cr_assert_eq(entry.cr3, BOOT_PML4_GPA);
	cr_assert_eq(entry.gdt_gpa, BOOT_GDT_GPA);
	cr_assert_eq(fx_get64(gp(BOOT_GDT_GPA + 0x10, 8)), 0x00af9b000000ffffull,
		     "0x10 is 64-bit code");
	cr_assert_eq(fx_get64(gp(BOOT_GDT_GPA + 0x18, 8)), 0x00cf93000000ffffull);
	cr_assert_neq(entry.rsp, 0);
	cr_assert(guest_mem_ptr(&mem, entry.rsp - 64, 64), "stack in RAM");

	k = gp(FX_BZ_PREF, FX_BZ_PM_SIZE);
	for (unsigned i = 0; i < FX_BZ_PM_SIZE; i++)
		cr_assert_eq(k[i], (uint8_t)(0x5a ^ i), "kernel byte %u", i);

	zp = gp(BOOT_PARAMS_GPA, 4096);
	cr_assert_eq(memcmp(zp + 0x202, "HdrS", 4), 0, "setup header copied");
	cr_assert_eq(zp[0x206], 0x0f);
	cr_assert_eq(fx_get32(zp + 0x238), FX_BZ_CMDLINE_SIZE);
	cr_assert_eq(zp[0x210], 0xff, "type_of_loader");
	cr_assert(zp[0x211] & 1, "LOADED_HIGH");
	cr_assert_eq(fx_get32(zp + 0x228), BOOT_CMDLINE_GPA);
	cr_assert_str_eq((const char *)gp(BOOT_CMDLINE_GPA, 20),
			 "console=ttyS0 quiet");

	rd = fx_get32(zp + 0x218);
	rd_size = fx_get32(zp + 0x21c);
	cr_assert_eq(rd_size, isz);
	cr_assert_eq(rd & 0xfff, 0, "initrd page aligned");
	cr_assert_leq((uint64_t)rd + rd_size, 256 * MiB);
	cr_assert_gt((uint64_t)rd + rd_size, 256 * MiB - 4096, "placed high");
	cr_assert_geq(rd, FX_BZ_PREF + FX_BZ_INIT_SIZE, "above the kernel");
	cr_assert_eq(gp(rd, rd_size)[4097], (uint8_t)4097);

	cr_assert_eq(zp[0x1e8], 3, "e820_entries");
	cr_assert_eq(fx_get64(zp + 0x2d0), 0);
	cr_assert_eq(fx_get64(zp + 0x2d0 + 8), BOOT_LOW_RAM_END);
	cr_assert_eq(fx_get32(zp + 0x2d0 + 16), E820_RAM);
	cr_assert_eq(fx_get32(zp + 0x2d0 + 20 + 16), E820_RESERVED);
	cr_assert_eq(fx_get64(zp + 0x2d0 + 40), MiB);
	cr_assert_eq(fx_get64(zp + 0x2d0 + 48), 255 * MiB);
	cr_assert_eq(fx_get32(zp + 0x2d0 + 56), E820_RAM);

	cr_assert_eq(translate(0), 0);
	cr_assert_eq(translate(entry.rip), entry.rip);
	cr_assert_eq(translate(0x40201234), 0x40201234);
	cr_assert_eq(translate(0xfee00000), 0xfee00000, "LAPIC mapped");
	cr_assert_eq(translate(4 * GiB - 1), 4 * GiB - 1);
}

Test(boot_bzimage, not_relocatable_loads_at_1mib)
{
	fixture_bzimage(img, 0x020f, 1);
	img[0x234] = 0;
	cr_assert_eq(load(64 * MiB, NULL, ""), 0, "%s", err);
	cr_assert_eq(entry.rip, 0x100200);
	cr_assert_eq(gp(MiB, 1)[0], 0x5a);
}

Test(boot_bzimage, pref_address_beyond_ram_falls_back_to_1mib)
{
	fixture_bzimage(img, 0x020c, 1);
	cr_assert_eq(load(16 * MiB, NULL, ""), 0, "%s", err);
	cr_assert_eq(entry.rip, 0x100200);
}

Test(boot_bzimage, kernel_larger_than_ram_is_e2big)
{
	fixture_bzimage(img, 0x020f, 1);
	fx_put32(img + 0x260, 64 * MiB); /* init_size */
	cr_assert_eq(load(32 * MiB, NULL, ""), -E2BIG, "%s", err);
}

Test(boot_bzimage, protocol_2_10_is_eprotonosupport)
{
	fixture_bzimage(img, 0x020a, 1);
	cr_assert_eq(load(64 * MiB, NULL, ""), -EPROTONOSUPPORT);
	cr_assert(strstr(err, ": boot protocol 2.10 too old (need 2.12 for the 64-bit entry)"),
		  "%s", err);
}

Test(boot_bzimage, no_64bit_entry_is_eprotonosupport)
{
	fixture_bzimage(img, 0x020f, 0);
	cr_assert_eq(load(64 * MiB, NULL, ""), -EPROTONOSUPPORT);
	cr_assert(strstr(err, "XLF_KERNEL_64"), "%s", err);
}

Test(boot_bzimage, zimage_without_loaded_high_is_enoexec)
{
	fixture_bzimage(img, 0x020f, 1);
	img[0x211] = 0;
	cr_assert_eq(load(64 * MiB, NULL, ""), -ENOEXEC, "%s", err);
}

Test(boot_bzimage, initrd_stays_below_initrd_addr_max)
{
	const char *initrd = fixture_tmpfile_pattern(1, 3 * MiB);
	const uint8_t *zp;
	uint32_t rd;

	fixture_bzimage(img, 0x020f, 1);
	fx_put32(img + 0x22c, 48 * MiB - 1);
	cr_assert_eq(load(256 * MiB, initrd, ""), 0, "%s", err);
	zp = gp(BOOT_PARAMS_GPA, 4096);
	rd = fx_get32(zp + 0x218);
	cr_assert_leq((uint64_t)rd + fx_get32(zp + 0x21c), 48 * MiB);
	cr_assert_gt((uint64_t)rd + fx_get32(zp + 0x21c), 48 * MiB - 4096);
	cr_assert_eq(rd & 0xfff, 0);
}

Test(boot_bzimage, initrd_too_large_is_e2big)
{
	const char *initrd = fixture_tmpfile_pattern(1, 100 * MiB);

	fixture_bzimage(img, 0x020f, 1);
	cr_assert_eq(load(64 * MiB, initrd, ""), -E2BIG);
	cr_assert(strstr(err, "initrd "), "%s", err);
	cr_assert(strstr(err, ": 100 MiB does not fit below 0x4000000 (guest RAM too small?)"),
		  "%s", err);
}

Test(boot_bzimage, initrd_colliding_with_the_kernel_is_e2big)
{
	const char *initrd = fixture_tmpfile_pattern(1, 10 * MiB);

	fixture_bzimage(img, 0x020f, 1);
	/* Kernel at 16 MiB needs 4 MiB; the initrd must end below 24 MiB. */
	fx_put32(img + 0x22c, 24 * MiB - 1);
	cr_assert_eq(load(64 * MiB, initrd, ""), -E2BIG, "%s", err);
}

Test(boot_bzimage, command_line_over_cmdline_size_is_e2big)
{
	fixture_bzimage(img, 0x020f, 1);
	fx_put32(img + 0x238, 8);
	cr_assert_eq(load(64 * MiB, NULL, "12345678"), 0, "%s", err);
	fixture_mem_fini(&mem);
	cr_assert_eq(load(64 * MiB, NULL, "123456789"), -E2BIG);
	cr_assert(strstr(err, "command line"), "%s", err);
}

Test(boot_bzimage, truncated_header_is_enoexec)
{
	struct boot_config cfg = { .cpus = 1 };

	fixture_bzimage(img, 0x020f, 1);
	cfg.kernel_path = fixture_tmpfile(0, img, 0x240);
	fixture_mem_init(&mem, 64 * MiB);
	cr_assert_eq(boot_load(&mem, &cfg, &entry, err, sizeof(err)), -ENOEXEC,
		     "%s", err);
	cfg.kernel_path = fixture_tmpfile(1, img, FX_BZ_SETUP_SIZE + 0x100);
	cr_assert_eq(boot_load(&mem, &cfg, &entry, err, sizeof(err)), -ENOEXEC,
		     "%s", err);
}

Test(boot_bzimage, setup_header_copy_is_bounded)
{
	const uint8_t *zp;

	fixture_bzimage(img, 0x020f, 1);
	img[0x201] = 0xff; /* claims a header up to 0x301 */
	memset(img + 0x290, 0xee, 0x80);
	cr_assert_eq(load(64 * MiB, NULL, ""), 0, "%s", err);
	zp = gp(BOOT_PARAMS_GPA, 4096);
	cr_assert_eq(zp[0x290], 0, "nothing past the setup header is copied");
	cr_assert_eq(zp[0x2d0 + 20 * 3], 0);
}
