/* boot_pvh.c: ELF kernels with a Xen PVH entry note, booted via hvm_start_info. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/boot/boot_pvh.h"
#include "vcpu/le.h"
#include "vcpu/log.h"

#define ELF_CLASS32 1
#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ELF_EM_386 3
#define ELF_EM_X86_64 62
#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4
#define ELF_SHT_NOTE 7
/* Bounds on hostile counts: far above any real kernel, small enough to read. */
#define PVH_MAX_PHDRS 256
#define PVH_MAX_SHDRS 4096
#define PVH_MAX_NOTES_SIZE (1u << 20)

/* One program header, both classes widened to 64 bits. */
struct pvh_phdr {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

struct pvh_elf {
	bool is64;
	uint64_t phoff, shoff;
	unsigned phnum, shnum;
	unsigned phentsize, shentsize;
	struct pvh_phdr *ph; /* phnum entries */
};

bool boot_pvh_probe(const uint8_t *head, size_t len)
{
	return len >= 4 && !memcmp(head, "\177ELF", 4);
}

/* Reads and checks the ELF header: little-endian x86, sane table geometry. */
static int pvh_read_ehdr(const struct boot_file *f, struct pvh_elf *elf)
{
	uint8_t eh[64];
	uint16_t machine;

	memset(elf, 0, sizeof(*elf));
	if (boot_file_read(f, 0, eh, 52))
		return -ENOEXEC;
	if (memcmp(eh, "\177ELF", 4) || eh[5] != ELF_DATA_LSB)
		return -ENOEXEC;
	machine = le16_get(eh + 18);
	if (eh[4] == ELF_CLASS64) {
		if (boot_file_read(f, 0, eh, 64) || machine != ELF_EM_X86_64)
			return -ENOEXEC;
		elf->is64 = true;
		elf->phoff = le64_get(eh + 32);
		elf->shoff = le64_get(eh + 40);
		elf->phentsize = le16_get(eh + 54);
		elf->phnum = le16_get(eh + 56);
		elf->shentsize = le16_get(eh + 58);
		elf->shnum = le16_get(eh + 60);
		if (elf->phentsize != 56 || (elf->shnum && elf->shentsize != 64))
			return -ENOEXEC;
	} else if (eh[4] == ELF_CLASS32) {
		if (machine != ELF_EM_386 && machine != ELF_EM_X86_64)
			return -ENOEXEC;
		elf->phoff = le32_get(eh + 28);
		elf->shoff = le32_get(eh + 32);
		elf->phentsize = le16_get(eh + 42);
		elf->phnum = le16_get(eh + 44);
		elf->shentsize = le16_get(eh + 46);
		elf->shnum = le16_get(eh + 48);
		if (elf->phentsize != 32 || (elf->shnum && elf->shentsize != 40))
			return -ENOEXEC;
	} else {
		return -ENOEXEC;
	}
	if (!elf->phnum || elf->phnum > PVH_MAX_PHDRS ||
	    elf->shnum > PVH_MAX_SHDRS)
		return -ENOEXEC;
	return 0;
}

static int pvh_read_phdrs(const struct boot_file *f, struct pvh_elf *elf)
{
	uint64_t len = (uint64_t)elf->phnum * elf->phentsize;
	uint8_t *raw = malloc(len);
	int ret;

	elf->ph = calloc(elf->phnum, sizeof(*elf->ph));
	if (!raw || !elf->ph) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = boot_file_read(f, elf->phoff, raw, len);
	if (ret)
		goto out_free;
	for (unsigned i = 0; i < elf->phnum; i++) {
		const uint8_t *p = raw + (uint64_t)i * elf->phentsize;
		struct pvh_phdr *ph = &elf->ph[i];

		ph->type = le32_get(p);
		if (elf->is64) {
			ph->offset = le64_get(p + 8);
			ph->paddr = le64_get(p + 24);
			ph->filesz = le64_get(p + 32);
			ph->memsz = le64_get(p + 40);
		} else {
			ph->offset = le32_get(p + 4);
			ph->paddr = le32_get(p + 12);
			ph->filesz = le32_get(p + 16);
			ph->memsz = le32_get(p + 20);
		}
	}
out_free:
	free(raw);
	return ret;
}

/*
 * Walks one note area for the Xen PHYS32_ENTRY note. Returns 1 and sets
 * *entry when found, 0 when absent, -ENOEXEC for a malformed PVH note.
 */
static int pvh_scan_notes(const uint8_t *p, uint64_t len, uint64_t *entry)
{
	uint64_t pos = 0;

	while (len - pos >= 12) {
		uint32_t namesz = le32_get(p + pos);
		uint32_t descsz = le32_get(p + pos + 4);
		uint32_t type = le32_get(p + pos + 8);
		/* 64-bit sums of 32-bit sizes cannot wrap. */
		uint64_t name = pos + 12;
		uint64_t desc = name + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ull);

		if (desc > len || desc + descsz > len)
			return 0; /* truncated: nothing more to find */
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(p + name, "Xen", 4)) {
			if (descsz == 4)
				*entry = le32_get(p + desc);
			else if (descsz == 8)
				*entry = le64_get(p + desc);
			else
				return -ENOEXEC;
			return 1;
		}
		if (next > len)
			return 0;
		pos = next;
	}
	return 0;
}

static int pvh_scan_area(const struct boot_file *f, uint64_t off,
			 uint64_t len, uint64_t *entry)
{
	uint8_t *buf;
	int ret;

	if (!len || len > PVH_MAX_NOTES_SIZE)
		return 0;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	ret = boot_file_read(f, off, buf, len);
	if (!ret)
		ret = pvh_scan_notes(buf, len, entry);
	free(buf);
	return ret;
}

/* PT_NOTE segments first, SHT_NOTE sections when no segment has the note. */
static int pvh_find_entry(const struct boot_file *f,
			  const struct pvh_elf *elf, uint64_t *entry)
{
	uint8_t sh[64];
	int ret;

	for (unsigned i = 0; i < elf->phnum; i++) {
		if (elf->ph[i].type != ELF_PT_NOTE)
			continue;
		ret = pvh_scan_area(f, elf->ph[i].offset, elf->ph[i].filesz,
				    entry);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < elf->shnum; i++) {
		uint64_t at = elf->shoff + (uint64_t)i * elf->shentsize;
		uint64_t off, size;

		if (elf->shoff > UINT64_MAX - (uint64_t)PVH_MAX_SHDRS * 64 ||
		    boot_file_read(f, at, sh, elf->shentsize))
			return 0;
		if (le32_get(sh + 4) != ELF_SHT_NOTE)
			continue;
		off = elf->is64 ? le64_get(sh + 24) : le32_get(sh + 16);
		size = elf->is64 ? le64_get(sh + 32) : le32_get(sh + 20);
		ret = pvh_scan_area(f, off, size, entry);
		if (ret)
			return ret;
	}
	return 0;
}

/* Checks and copies PT_LOAD segment i; raises *end to its last byte + 1. */
static int pvh_load_segment(struct boot_ctx *ctx, unsigned i,
			    const struct pvh_phdr *ph, uint64_t *end)
{
	const struct boot_file *f = &ctx->kernel;
	uint8_t *dst;
	int ret;

	if (ph->filesz > ph->memsz) {
		return errf(
			ctx->err, ctx->errlen, -ENOEXEC,
			"kernel %s: malformed ELF: segment %u has a file size above its memory size",
			f->path, i);
	}
	if (ph->offset > f->size || ph->filesz > f->size - ph->offset) {
		return errf(
			ctx->err, ctx->errlen, -ENOEXEC,
			"kernel %s: truncated ELF: segment %u ends past the end of the file",
			f->path, i);
	}
	/* Above the boot structures, below the hole: the entry is 32-bit. */
	if (ph->paddr < BOOT_HIGH_RAM_START || ph->paddr > ctx->low_end ||
	    ph->memsz > ctx->low_end - ph->paddr ||
	    !(dst = guest_mem_ptr(ctx->mem, ph->paddr, ph->memsz))) {
		return errf(
			ctx->err, ctx->errlen, -E2BIG,
			"kernel %s: segment %u at 0x%llx (0x%llx bytes) is outside guest RAM [0x%llx, 0x%llx)",
			f->path, i, (unsigned long long)ph->paddr,
			(unsigned long long)ph->memsz,
			(unsigned long long)BOOT_HIGH_RAM_START,
			(unsigned long long)ctx->low_end);
	}
	ret = boot_file_read(f, ph->offset, dst, ph->filesz);
	if (ret) {
		return errf(ctx->err, ctx->errlen, ret, "kernel %s: read error",
			    f->path);
	}
	memset(dst + ph->filesz, 0, ph->memsz - ph->filesz);
	if (ph->paddr + ph->memsz > *end)
		*end = ph->paddr + ph->memsz;
	return 0;
}

/* Loads all PT_LOAD segments; the entry must fall inside one of them. */
static int pvh_load_segments(struct boot_ctx *ctx, const struct pvh_elf *elf,
			     uint64_t entry, uint64_t *end)
{
	bool entry_ok = false;
	unsigned loads = 0;
	int ret;

	*end = 0;
	for (unsigned i = 0; i < elf->phnum; i++) {
		const struct pvh_phdr *ph = &elf->ph[i];

		if (ph->type != ELF_PT_LOAD || !ph->memsz)
			continue;
		ret = pvh_load_segment(ctx, i, ph, end);
		if (ret)
			return ret;
		loads++;
		if (entry >= ph->paddr && entry - ph->paddr < ph->memsz)
			entry_ok = true;
	}
	if (!loads || !entry_ok) {
		return errf(
			ctx->err, ctx->errlen, -ENOEXEC,
			"kernel %s: malformed ELF: the PVH entry 0x%llx is in no loadable segment",
			ctx->kernel.path, (unsigned long long)entry);
	}
	return 0;
}

/* start_info, module list and memory map in the start-info page. */
static int pvh_write_start_info(struct boot_ctx *ctx, gpa_t initrd,
				uint64_t initrd_size)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = BOOT_CMDLINE_GPA,
		.memmap_paddr = BOOT_PVH_MEMMAP_GPA,
		.memmap_entries = ctx->nr_e820,
	};
	struct hvm_modlist_entry mod = { .paddr = initrd, .size = initrd_size };
	uint8_t *page = guest_mem_ptr(ctx->mem, BOOT_START_INFO_GPA, 0x1000);

	_Static_assert(BOOT_PVH_MEMMAP_GPA - BOOT_START_INFO_GPA +
				       E820_MAX_ENTRIES *
					       sizeof(struct hvm_memmap_table_entry) <=
			       0x1000,
		       "memmap fits the start-info page");
	if (!page)
		return -EFAULT;
	memset(page, 0, 0x1000);
	if (ctx->cfg->initrd_path) {
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_PVH_MODLIST_GPA;
		memcpy(page + (BOOT_PVH_MODLIST_GPA - BOOT_START_INFO_GPA),
		       &mod, sizeof(mod));
	}
	for (unsigned i = 0; i < ctx->nr_e820; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = ctx->e820[i].addr,
			.size = ctx->e820[i].size,
			.type = ctx->e820[i].type,
		};

		memcpy(page + (BOOT_PVH_MEMMAP_GPA - BOOT_START_INFO_GPA) +
			       i * sizeof(e),
		       &e, sizeof(e));
	}
	memcpy(page, &si, sizeof(si));
	return 0;
}

int boot_pvh_load(struct boot_ctx *ctx, struct boot_entry *entry)
{
	const struct boot_file *f = &ctx->kernel;
	uint64_t pvh_entry = 0, end, initrd_size;
	struct pvh_elf elf;
	gpa_t initrd;
	int ret;

	ret = pvh_read_ehdr(f, &elf);
	if (!ret)
		ret = pvh_read_phdrs(f, &elf);
	if (!ret)
		ret = pvh_find_entry(f, &elf, &pvh_entry);
	if (ret <= 0) {
		if (ret == -ENOMEM || ret == -EIO)
			errf(ctx->err, ctx->errlen, ret, "kernel %s: %s",
			     f->path, strerror(-ret));
		else
			errf(ctx->err, ctx->errlen, ret,
			     "kernel %s: not a bzImage or an ELF kernel with a PVH entry note",
			     f->path);
		if (ret == 0)
			ret = -ENOEXEC;
		goto out_free;
	}
	ret = pvh_load_segments(ctx, &elf, pvh_entry, &end);
	if (ret)
		goto out_free;
	ret = boot_initrd_load(ctx, (end + 0xfff) & ~0xfffull, ctx->low_end,
			       &initrd, &initrd_size);
	if (ret)
		goto out_free;
	ret = pvh_write_start_info(ctx, initrd, initrd_size);
	if (!ret)
		ret = boot_gdt_write(ctx->mem, false, entry);
	if (ret) {
		errf(ctx->err, ctx->errlen, ret,
		     "boot structures do not fit in guest RAM");
		goto out_free;
	}
	entry->mode = BOOT_MODE_PVH32;
	entry->rip = pvh_entry;
	entry->rbx = BOOT_START_INFO_GPA;
out_free:
	free(elf.ph);
	return ret;
}
