/*
 * boot_pvh.h: loading an ELF kernel (32- or 64-bit) through its PVH entry
 * note, and the hvm_start_info structures it boots with.
 */
#ifndef ISOVM_BOOT_PVH_H
#define ISOVM_BOOT_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/boot_file.h"

#define HVM_START_MAGIC 0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The Xen/PVH start info, version 1 (xen/include/public/arch-x86/hvm/start_info.h). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Where the three live inside the start-info page. */
#define BOOT_PVH_MODLIST_GPA (BOOT_START_INFO_GPA + 0x40)
#define BOOT_PVH_MEMMAP_GPA (BOOT_START_INFO_GPA + 0x80)

/* True when head (the first len bytes of the file) starts like an ELF file. */
bool boot_pvh_probe(const uint8_t *head, size_t len);

/*
 * Loads ctx->kernel as a PVH ELF: its PT_LOAD segments at their physical
 * addresses (at or above 1 MiB, inside low RAM), the initrd as module 0
 * above the kernel, start_info, the GDT. Returns 0 and fills *entry
 * (BOOT_MODE_PVH32, rip = the note's entry, rbx = BOOT_START_INFO_GPA), or
 * -ENOEXEC (no PVH note, malformed), -E2BIG (does not fit), -EIO, with a
 * message in ctx->err.
 */
int boot_pvh_load(struct boot_ctx *ctx, struct boot_entry *entry);

#endif
