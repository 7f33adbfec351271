/*
 * boot_fixture.h: helpers for the boot loader tests: guest memory backed by
 * anonymous mappings, temporary files, and crafted kernel images.
 */
#ifndef ISOVM_TEST_BOOT_FIXTURE_H
#define ISOVM_TEST_BOOT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu/core/guest_mem.h"

/*
 * Guest memory of 'size' bytes laid out as the VMM does: [0, min(size,
 * 3 GiB)) and the rest from 4 GiB. Mappings are lazy (MAP_NORESERVE).
 */
void fixture_mem_init(struct guest_mem *mem, uint64_t size);
void fixture_mem_fini(struct guest_mem *mem);

/* Writes buf to a new temporary file; returns its path (static buffer per slot). */
const char *fixture_tmpfile(unsigned slot, const void *buf, size_t len);
/* A temporary file of len bytes, each byte (offset & 0xff). */
const char *fixture_tmpfile_pattern(unsigned slot, uint64_t len);
void fixture_tmpfiles_remove(void);

/* Crafted PVH ELF: one PT_LOAD and one PT_NOTE. */
#define FX_PVH_LOAD_PADDR 0x100000u
#define FX_PVH_LOAD_OFFSET 0x1000u
#define FX_PVH_LOAD_FILESZ 0x100u
#define FX_PVH_LOAD_MEMSZ 0x2000u
#define FX_PVH_NOTE_OFFSET 0x200u
#define FX_PVH_ENTRY 0x100010u
#define FX_PVH_SIZE (FX_PVH_LOAD_OFFSET + FX_PVH_LOAD_FILESZ)
/* Program header i of the crafted ELF64 (56 bytes each) */
#define FX_PVH64_PHDR(i) (64u + 56u * (i))
#define FX_PVH32_PHDR(i) (52u + 32u * (i))

/* Builds the image into buf (at least FX_PVH_SIZE); returns its size. */
size_t fixture_pvh_elf(uint8_t *buf, int is64, int with_note);

/* Crafted bzImage: 4 setup sectors, then the protected-mode kernel. */
#define FX_BZ_SETUP_SIZE 0xa00u
#define FX_BZ_PM_SIZE 0x1000u
#define FX_BZ_SIZE (FX_BZ_SETUP_SIZE + FX_BZ_PM_SIZE)
#define FX_BZ_PREF 0x1000000u
#define FX_BZ_INIT_SIZE 0x400000u
#define FX_BZ_CMDLINE_SIZE 2047u
#define FX_BZ_INITRD_MAX 0x37ffffffu

size_t fixture_bzimage(uint8_t *buf, uint16_t version, int kernel64);

/* Little-endian stores into crafted images. */
void fx_put16(uint8_t *p, uint16_t v);
void fx_put32(uint8_t *p, uint32_t v);
void fx_put64(uint8_t *p, uint64_t v);
uint32_t fx_get32(const uint8_t *p);
uint64_t fx_get64(const uint8_t *p);

#endif
