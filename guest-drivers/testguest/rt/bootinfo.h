/*
 * bootinfo.h: what the loader handed over through the PVH hvm_start_info
 * structure, copied out of guest memory once and checked.
 */
#ifndef TG_BOOTINFO_H
#define TG_BOOTINFO_H

#include <stdint.h>

#include "guest-drivers/abi/pvh_start_info.h"

#define BOOTINFO_CMDLINE_MAX 4096
#define BOOTINFO_MEMMAP_MAX 64

struct bootinfo {
	int valid;       /* magic matched */
	uint32_t version;
	uint32_t nr_modules;
	char cmdline[BOOTINFO_CMDLINE_MAX]; /* NUL-terminated, maybe cut */
	int cmdline_cut;
	struct hvm_memmap_table_entry memmap[BOOTINFO_MEMMAP_MAX];
	uint32_t memmap_entries;            /* kept (<= BOOTINFO_MEMMAP_MAX) */
	uint64_t ram_bytes;                 /* sum of the RAM entries */
};

extern struct bootinfo bootinfo;

/* Copies and checks the structure at pa; returns 0 or -TG_EINVAL. */
int bootinfo_read(uint64_t pa);

#endif
