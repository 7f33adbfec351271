/*
 * pvh_start_info.h: the PVH start-of-day structures, version 1, as laid out
 * by Xen's public arch-x86/hvm/start_info.h. The VMM writes them (boot_pvh)
 * and the test guest reads them (rt/bootinfo).
 */
#ifndef ISOVM_ABI_PVH_START_INFO_H
#define ISOVM_ABI_PVH_START_INFO_H

#include <stdint.h>

#define HVM_START_MAGIC	   0x336ec578u
#define HVM_MEMMAP_TYPE_RAM 1 /* the e820 type numbers */

struct hvm_start_info {
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

#endif
