/* bootinfo.c: copies the PVH start info, memory map and command line. */
#include "boot/kernel.h"
#include "guest-drivers/abi/isovm_abi.h"
#include "rt/bootinfo.h"
#include "rt/string.h"

struct bootinfo bootinfo;

/* Only the identity-mapped RAM below the MMIO hole may be read. */
static const void *bootinfo_ptr(uint64_t pa, uint64_t len)
{
	if (pa == 0 || len > ISOVM_HOLE_START || pa > ISOVM_HOLE_START - len)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

static void bootinfo_copy_cmdline(uint64_t pa)
{
	const char *src;
	size_t i;

	bootinfo.cmdline[0] = '\0';
	if (pa == 0 || pa >= ISOVM_HOLE_START)
		return;
	src = (const char *)(uintptr_t)pa;
	for (i = 0; i + 1 < sizeof(bootinfo.cmdline); i++) {
		/* Stop at the hole rather than fault on it. */
		if (pa + i >= ISOVM_HOLE_START || !src[i])
			break;
		bootinfo.cmdline[i] = src[i];
	}
	bootinfo.cmdline[i] = '\0';
	bootinfo.cmdline_cut = i + 1 == sizeof(bootinfo.cmdline);
}

static void bootinfo_copy_memmap(uint64_t pa, uint32_t n)
{
	const struct hvm_memmap_table_entry *src;
	uint32_t i;

	if (n > BOOTINFO_MEMMAP_MAX)
		n = BOOTINFO_MEMMAP_MAX;
	src = bootinfo_ptr(pa, (uint64_t)n * sizeof(*src));
	if (!src)
		return;
	memcpy(bootinfo.memmap, src, n * sizeof(*src));
	bootinfo.memmap_entries = n;
	for (i = 0; i < n; i++) {
		const struct hvm_memmap_table_entry *e = &bootinfo.memmap[i];

		if (e->type == HVM_MEMMAP_TYPE_RAM &&
		    e->size <= UINT64_MAX - bootinfo.ram_bytes)
			bootinfo.ram_bytes += e->size;
	}
}

int bootinfo_read(uint64_t pa)
{
	const struct hvm_start_info *src = bootinfo_ptr(pa, sizeof(*src));
	struct hvm_start_info si;

	memset(&bootinfo, 0, sizeof(bootinfo));
	if (!src)
		return -TG_EINVAL;
	memcpy(&si, src, sizeof(si));
	if (si.magic != HVM_START_MAGIC)
		return -TG_EINVAL;
	bootinfo.valid = 1;
	bootinfo.version = si.version;
	bootinfo.nr_modules = si.nr_modules;
	bootinfo_copy_cmdline(si.cmdline_paddr);
	if (si.version >= 1)
		bootinfo_copy_memmap(si.memmap_paddr, si.memmap_entries);
	return 0;
}
