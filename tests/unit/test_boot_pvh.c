/* test_boot_pvh.c: PVH ELF loading, start_info, and the common boot_load() errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/unit/boot_fixture.h"
#include "vcpu/boot/boot.h"
#include "vcpu/boot/boot_pvh.h"
#include "vcpu/boot/e820.h"

#define MiB (1ull << 20)

static struct guest_mem mem;
static uint8_t img[FX_PVH_SIZE];
static char err[256];
static struct boot_entry entry;

static void setup(void)
{
	fixture_mem_init(&mem, 64 * MiB);
}

static void teardown(void)
{
	fixture_mem_fini(&mem);
	fixture_tmpfiles_remove();
}

TestSuite(boot_pvh, .init = setup, .fini = teardown);

static int load(const char *kernel, const char *initrd, const char *cmdline)
{
	struct boot_config cfg = {
		.kernel_path = kernel,
		.initrd_path = initrd,
		.cmdline = cmdline,
		.cpus = 2,
	};

	return boot_load(&mem, &cfg, &entry, err, sizeof(err));
}

static int load_img(size_t len)
{
	return load(fixture_tmpfile(0, img, len), NULL, "console=ttyS0");
}

static void *gp(gpa_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&mem, gpa, len);

	cr_assert_not_null(p, "gpa 0x%llx", (unsigned long long)gpa);
	return p;
}

static void check_loaded(void)
{
	struct hvm_start_info si;
	struct hvm_memmap_table_entry mm[E820_MAX_ENTRIES];
	const uint8_t *seg = gp(FX_PVH_LOAD_PADDR, FX_PVH_LOAD_MEMSZ);
	const uint64_t *gdt = gp(BOOT_GDT_GPA, 40);

	cr_assert_eq(entry.mode, BOOT_MODE_PVH32);
	cr_assert_eq(entry.rip, FX_PVH_ENTRY);
	cr_assert_eq(entry.rbx, BOOT_START_INFO_GPA);
	cr_assert_eq(entry.gdt_gpa, BOOT_GDT_GPA);
	cr_assert_eq(entry.gdt_limit, 39);
	cr_assert_eq(gdt[2], 0x00cf9b000000ffffull, "0x10 is flat 32-bit code");
	cr_assert_eq(gdt[3], 0x00cf93000000ffffull, "0x18 is flat data");
	for (unsigned i = 0; i < FX_PVH_LOAD_FILESZ; i++)
		cr_assert_eq(seg[i], (uint8_t)(0xa0 ^ i), "segment byte %u", i);
	for (unsigned i = FX_PVH_LOAD_FILESZ; i < FX_PVH_LOAD_MEMSZ; i++)
		cr_assert_eq(seg[i], 0, "bss byte %u is zero", i);

	memcpy(&si, gp(BOOT_START_INFO_GPA, sizeof(si)), sizeof(si));
	cr_assert_eq(si.magic, HVM_START_MAGIC);
	cr_assert_eq(si.version, 1);
	cr_assert_eq(si.cmdline_paddr, BOOT_CMDLINE_GPA);
	cr_assert_eq(si.rsdp_paddr, 0);
	cr_assert_str_eq(gp(si.cmdline_paddr, 14), "console=ttyS0");
	cr_assert_eq(si.memmap_entries, 3, "64 MiB: low RAM, EBDA hole, RAM");
	memcpy(mm, gp(si.memmap_paddr, sizeof(mm)), sizeof(mm));
	cr_assert_eq(mm[0].addr, 0);
	cr_assert_eq(mm[0].size, BOOT_LOW_RAM_END);
	cr_assert_eq(mm[0].type, E820_RAM);
	cr_assert_eq(mm[1].type, E820_RESERVED);
	cr_assert_eq(mm[2].addr, MiB);
	cr_assert_eq(mm[2].size, 63 * MiB);
	cr_assert_eq(mm[2].type, E820_RAM);
}

Test(boot_pvh, elf64_loads_segments_start_info_and_memmap)
{
	memset(gp(FX_PVH_LOAD_PADDR, FX_PVH_LOAD_MEMSZ), 0xcc,
	       FX_PVH_LOAD_MEMSZ);
	cr_assert_eq(load_img(fixture_pvh_elf(img, 1, 1)), 0, "%s", err);
	check_loaded();
	cr_assert_eq(((struct hvm_start_info *)gp(BOOT_START_INFO_GPA, 56))
			     ->nr_modules,
		     0);
}

Test(boot_pvh, elf32_loads_like_elf64)
{
	cr_assert_eq(load_img(fixture_pvh_elf(img, 0, 1)), 0, "%s", err);
	check_loaded();
}

Test(boot_pvh, initrd_is_module_0_page_aligned_high_above_the_kernel)
{
	const uint64_t isz = 3 * MiB + 123;
	const char *initrd = fixture_tmpfile_pattern(1, isz);
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	const uint8_t *p;

	fixture_pvh_elf(img, 1, 1);
	cr_assert_eq(load(fixture_tmpfile(0, img, sizeof(img)), initrd, ""), 0,
		     "%s", err);
	memcpy(&si, gp(BOOT_START_INFO_GPA, sizeof(si)), sizeof(si));
	cr_assert_eq(si.nr_modules, 1);
	memcpy(&mod, gp(si.modlist_paddr, sizeof(mod)), sizeof(mod));
	cr_assert_eq(mod.size, isz);
	cr_assert_eq(mod.paddr & 0xfff, 0, "page aligned");
	cr_assert_leq(mod.paddr + mod.size, 64 * MiB);
	cr_assert_gt(mod.paddr + mod.size, 64 * MiB - 4096, "as high as possible");
	cr_assert_geq(mod.paddr, FX_PVH_LOAD_PADDR + FX_PVH_LOAD_MEMSZ);
	p = gp(mod.paddr, mod.size);
	for (uint64_t i = 0; i < isz; i += 4093)
		cr_assert_eq(p[i], (uint8_t)i, "initrd byte %llu",
			     (unsigned long long)i);
	cr_assert_str_eq(gp(BOOT_CMDLINE_GPA, 1), "");
}

Test(boot_pvh, elf_without_pvh_note_is_enoexec)
{
	const char *path = fixture_tmpfile(0, img, fixture_pvh_elf(img, 1, 0));

	cr_assert_eq(load(path, NULL, ""), -ENOEXEC);
	cr_assert(strstr(err, "not a bzImage or an ELF kernel with a PVH entry note"),
		  "%s", err);
	cr_assert(strstr(err, path), "%s", err);
}

Test(boot_pvh, segment_outside_ram_is_e2big)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + FX_PVH64_PHDR(0) + 24, 0x7ff00000); /* past 64 MiB */
	cr_assert_eq(load_img(sizeof(img)), -E2BIG, "%s", err);
	cr_assert(strstr(err, "outside guest RAM"), "%s", err);
}

Test(boot_pvh, segment_wrapping_the_address_space_is_rejected)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + FX_PVH64_PHDR(0) + 24, 0x200000);
	fx_put64(img + FX_PVH64_PHDR(0) + 40, ~0ull - 0x1000);
	fx_put64(img + FX_PVH64_PHDR(0) + 32, 0x10);
	cr_assert_eq(load_img(sizeof(img)), -E2BIG, "%s", err);
}

Test(boot_pvh, segment_below_1mib_is_rejected)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + FX_PVH64_PHDR(0) + 24, 0x6000); /* over start_info */
	cr_assert_eq(load_img(sizeof(img)), -E2BIG, "%s", err);
}

Test(boot_pvh, filesz_above_memsz_is_enoexec)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + FX_PVH64_PHDR(0) + 32, FX_PVH_LOAD_MEMSZ + 1);
	cr_assert_eq(load_img(sizeof(img)), -ENOEXEC, "%s", err);
	cr_assert(strstr(err, "file size above its memory size"), "%s", err);
}

Test(boot_pvh, segment_past_end_of_file_is_enoexec)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + FX_PVH64_PHDR(0) + 8, FX_PVH_SIZE - 0x10);
	cr_assert_eq(load_img(sizeof(img)), -ENOEXEC, "%s", err);
	cr_assert(strstr(err, "past the end of the file"), "%s", err);
}

Test(boot_pvh, huge_offset_does_not_overflow)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + FX_PVH64_PHDR(0) + 8, ~0ull - 8);
	cr_assert_eq(load_img(sizeof(img)), -ENOEXEC, "%s", err);
}

Test(boot_pvh, truncated_file_is_enoexec)
{
	fixture_pvh_elf(img, 1, 1);
	cr_assert_eq(load_img(FX_PVH_NOTE_OFFSET + 20), -ENOEXEC, "%s", err);
	cr_assert_eq(load_img(40), -ENOEXEC, "%s", err);
}

Test(boot_pvh, phdr_table_past_eof_is_enoexec)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put64(img + 32, 0xfffffffffffff000ull);
	cr_assert_eq(load_img(sizeof(img)), -ENOEXEC, "%s", err);
}

Test(boot_pvh, entry_outside_every_segment_is_enoexec)
{
	fixture_pvh_elf(img, 1, 1);
	fx_put32(img + FX_PVH_NOTE_OFFSET + 16 + 16, 0x300000);
	cr_assert_eq(load_img(sizeof(img)), -ENOEXEC, "%s", err);
	cr_assert(strstr(err, "entry"), "%s", err);
}

Test(boot_pvh, note_found_through_sht_note_section)
{
	/* No PT_NOTE (made PT_NULL); a section header table names the note. */
	static uint8_t big[FX_PVH_SIZE + 2 * 64];
	uint8_t *sh = big + FX_PVH_SIZE;

	fixture_pvh_elf(big, 1, 1);
	fx_put32(big + FX_PVH64_PHDR(1), 0);
	cr_assert_eq(load(fixture_tmpfile(0, big, FX_PVH_SIZE), NULL, ""),
		     -ENOEXEC);
	fx_put64(big + 40, FX_PVH_SIZE);
	fx_put16(big + 58, 64);
	fx_put16(big + 60, 2);
	fx_put32(sh + 64 + 4, 7); /* SHT_NOTE */
	fx_put64(sh + 64 + 24, FX_PVH_NOTE_OFFSET);
	fx_put64(sh + 64 + 32, 36);
	cr_assert_eq(load(fixture_tmpfile(1, big, sizeof(big)), NULL, ""), 0,
		     "%s", err);
	cr_assert_eq(entry.rip, FX_PVH_ENTRY);
}

Test(boot_pvh, initrd_too_large_is_e2big)
{
	const char *initrd = fixture_tmpfile_pattern(1, 70 * MiB);

	fixture_pvh_elf(img, 1, 1);
	cr_assert_eq(load(fixture_tmpfile(0, img, sizeof(img)), initrd, ""),
		     -E2BIG);
	cr_assert(strstr(err, "70 MiB does not fit below 0x4000000 (guest RAM too small?)"),
		  "%s", err);
}

Test(boot_pvh, missing_kernel_is_enoent_with_path)
{
	cr_assert_eq(load("/nonexistent/vmlinux", NULL, ""), -ENOENT);
	cr_assert_str_eq(err, "kernel /nonexistent/vmlinux: No such file or directory");
}

Test(boot_pvh, directory_kernel_is_eisdir)
{
	cr_assert_eq(load("/tmp", NULL, ""), -EISDIR);
	cr_assert_str_eq(err, "kernel /tmp: Is a directory");
}

Test(boot_pvh, missing_initrd_is_enoent)
{
	fixture_pvh_elf(img, 1, 1);
	cr_assert_eq(load(fixture_tmpfile(0, img, sizeof(img)), "/nonexistent/i",
			  ""),
		     -ENOENT);
	cr_assert_str_eq(err, "initrd /nonexistent/i: No such file or directory");
}

Test(boot_pvh, garbage_and_empty_files_are_enoexec)
{
	memset(img, 0x90, sizeof(img));
	cr_assert_eq(load_img(sizeof(img)), -ENOEXEC);
	cr_assert_eq(load_img(0), -ENOEXEC);
}

Test(boot_pvh, command_line_over_the_limit_is_e2big)
{
	static char cmdline[BOOT_CMDLINE_MAX + 1];

	fixture_pvh_elf(img, 1, 1);
	memset(cmdline, 'a', BOOT_CMDLINE_MAX - 1);
	cr_assert_eq(load(fixture_tmpfile(0, img, sizeof(img)), NULL, cmdline),
		     0, "4095 bytes + NUL fit: %s", err);
	cr_assert_eq(strlen(gp(BOOT_CMDLINE_GPA, BOOT_CMDLINE_MAX)),
		     BOOT_CMDLINE_MAX - 1);
	cmdline[BOOT_CMDLINE_MAX - 1] = 'a';
	cr_assert_eq(load(fixture_tmpfile(1, img, sizeof(img)), NULL, cmdline),
		     -E2BIG);
	cr_assert(strstr(err, "command line"), "%s", err);
}

Test(boot_pvh, zero_cpus_is_einval)
{
	struct boot_config cfg = { .cmdline = "", .cpus = 0 };

	fixture_pvh_elf(img, 1, 1);
	cfg.kernel_path = fixture_tmpfile(0, img, sizeof(img));
	cr_assert_eq(boot_load(&mem, &cfg, &entry, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "MP table: 0 CPUs"), "%s", err);
}

Test(boot_pvh, ram_not_past_1mib_is_einval)
{
	fixture_pvh_elf(img, 1, 1);
	mem.region[0].size = BOOT_HIGH_RAM_START;
	cr_assert_eq(load_img(sizeof(img)), -EINVAL);
	cr_assert(strstr(err, "guest memory: too small"), "%s", err);
	mem.region[0].size = 64 * MiB;
}
