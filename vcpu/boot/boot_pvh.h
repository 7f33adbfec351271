/*
 * boot_pvh.h: loading an ELF kernel (32- or 64-bit) through its PVH entry
 * note, and the hvm_start_info structures it boots with.
 */
#ifndef ISOVM_BOOT_PVH_H
#define ISOVM_BOOT_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-drivers/abi/pvh_start_info.h"
#include "vcpu/boot/boot_file.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

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
