/*
 * boot.h: loading a guest kernel into guest memory. The loader writes the
 * kernel, initrd, command line, memory map, MP table and the boot-protocol
 * structures into guest RAM and says how the boot vCPU must start; the vCPU
 * code (cpu.c) turns struct boot_entry into registers.
 */
#ifndef ISOVM_BOOT_H
#define ISOVM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu/core/guest_mem.h"

enum boot_mode {
	/* PVH: 32-bit protected mode, paging off, flat CS/DS, EBX = start_info. */
	BOOT_MODE_PVH32,
	/* Linux 64-bit entry: long mode, identity paging at cr3, RSI = boot_params. */
	BOOT_MODE_LINUX64,
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t rbx;       /* PVH32: gpa of struct hvm_start_info */
	uint64_t rsi;       /* LINUX64: gpa of struct boot_params */
	uint64_t rsp;       /* LINUX64: an initial stack inside RAM, else 0 */
	uint64_t gdt_gpa;   /* GDT the loader wrote; selector 0x10 code, 0x18 data
			     * (32-bit code for PVH32, 64-bit for LINUX64),
			     * 0x08 null, 0x20 a busy 32-bit TSS, base 0,
			     * limit 0x67 (only so TR can name something) */
	uint16_t gdt_limit;
	uint64_t cr3;       /* LINUX64: gpa of identity page tables (first 4 GiB) */
};

struct boot_config {
	const char *kernel_path;
	const char *initrd_path; /* NULL: none */
	const char *cmdline;     /* final command line, as the guest must see it */
	unsigned cpus;           /* for the MP table */
};

/* Guest-physical layout of what the loader writes below 1 MiB. */
#define BOOT_GDT_GPA 0x500ull
#define BOOT_START_INFO_GPA 0x6000ull  /* hvm_start_info + memmap + modules */
#define BOOT_PARAMS_GPA 0x7000ull      /* Linux zero page */
#define BOOT_PML4_GPA 0x9000ull        /* PML4, PDPT, 4 PDs: 0x9000..0xefff */
#define BOOT_CMDLINE_GPA 0x20000ull
#define BOOT_CMDLINE_MAX 4096
#define BOOT_MPTABLE_GPA 0x9fc00ull    /* in the EBDA, where Linux scans */
#define BOOT_LOW_RAM_END 0x9fc00ull    /* e820: RAM below, reserved above to 1 MiB */
#define BOOT_HIGH_RAM_START 0x100000ull

/*
 * Loads cfg into mem and fills *entry. Returns 0, or a negative errno with a
 * one-line reason (no trailing newline) in err: -ENOENT/-EACCES/-EISDIR (and
 * -EINVAL for a non-regular file) for the kernel or initrd, -ENOEXEC for a
 * kernel that is neither a bzImage nor an ELF with a PVH note (or is
 * malformed), -EPROTONOSUPPORT for a boot protocol older than 2.12 or a
 * bzImage without the 64-bit entry, -E2BIG for a kernel, initrd or command
 * line that does not fit, -EINVAL for a cpu count outside 1..254 or RAM that
 * does not reach past 1 MiB. The files are treated as hostile: any content
 * gives a clean error. mem need not be zeroed: every structure (and a
 * segment's bss) is written whole. Also writes the command line at
 * BOOT_CMDLINE_GPA, the MP table (floating pointer at BOOT_MPTABLE_GPA), and
 * the e820 map into the boot structures. PVH: start_info at
 * BOOT_START_INFO_GPA, module list at +0x40, memory map at +0x80. The
 * initrd (PVH module 0, or the bzImage ramdisk) goes page aligned as high as
 * the kernel allows in RAM below the hole, above the kernel.
 */
int boot_load(struct guest_mem *mem, const struct boot_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen);

#endif
