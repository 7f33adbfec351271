/*
 * bootinfo.h: what the loader handed over through the PVH hvm_start_info
 * structure, copied out of guest memory once and checked.
 */
#ifndef TG_BOOTINFO_H
#define TG_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_CMDLINE_MAX 4096
#define BOOTINFO_MEMMAP_MAX 64

/* The PVH start-of-day structure (Xen's public arch-x86/hvm/start_info.h). */
#define PVH_START_MAGIC 0x336ec578u
struct pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;   /* version >= 1 */
	uint32_t memmap_entries; /* version >= 1 */
	uint32_t reserved;
};

#define PVH_MEMMAP_RAM 1
struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct bootinfo {
	int valid;       /* magic matched */
	uint32_t version;
	uint32_t nr_modules;
	char cmdline[BOOTINFO_CMDLINE_MAX]; /* NUL-terminated, maybe cut */
	int cmdline_cut;
	struct pvh_memmap_entry memmap[BOOTINFO_MEMMAP_MAX];
	uint32_t memmap_entries;            /* kept (<= BOOTINFO_MEMMAP_MAX) */
	uint64_t ram_bytes;                 /* sum of the RAM entries */
};

extern struct bootinfo bootinfo;

/* Copies and checks the structure at pa; returns 0 or -TG_EINVAL. */
int bootinfo_read(uint64_t pa);

#endif
