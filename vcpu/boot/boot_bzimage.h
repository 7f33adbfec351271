/*
 * boot_bzimage.h: loading a Linux bzImage through the x86 boot protocol's
 * 64-bit entry (Documentation/arch/x86/boot.rst).
 */
#ifndef ISOVM_BOOT_BZIMAGE_H
#define ISOVM_BOOT_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/boot/boot_file.h"

/* Offsets in struct boot_params (the zero page) and the setup header. */
#define BZ_E820_ENTRIES 0x1e8
#define BZ_SETUP_SECTS 0x1f1
#define BZ_SYSSIZE 0x1f4
#define BZ_BOOT_FLAG 0x1fe
#define BZ_JUMP 0x200
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_CODE32_START 0x214
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_SETUP_HEADER_END 0x290 /* edd_mbr_sig_buffer follows the header */
#define BZ_E820_TABLE 0x2d0
#define BZ_E820_MAX 128

#define BZ_LOADED_HIGH 0x01
#define BZ_XLF_KERNEL_64 0x01
#define BZ_MIN_VERSION 0x020c /* 2.12: xloadflags with XLF_KERNEL_64 */

/* True when head (the first len bytes of the file) has the "HdrS" header. */
bool boot_bzimage_probe(const uint8_t *head, size_t len);

/*
 * Loads ctx->kernel as a bzImage: protected-mode kernel at 1 MiB (or at
 * pref_address when relocatable and it fits), zero page at BOOT_PARAMS_GPA,
 * initrd high below initrd_addr_max, identity page tables for 4 GiB at
 * BOOT_PML4_GPA, a 64-bit GDT. Returns 0 and fills *entry
 * (BOOT_MODE_LINUX64, rip = load address + 0x200, rsi = BOOT_PARAMS_GPA),
 * or -EPROTONOSUPPORT (protocol < 2.12 or no 64-bit entry), -ENOEXEC
 * (malformed), -E2BIG (kernel, initrd or command line does not fit), -EIO,
 * with a message in ctx->err.
 */
int boot_bzimage_load(struct boot_ctx *ctx, struct boot_entry *entry);

#endif
