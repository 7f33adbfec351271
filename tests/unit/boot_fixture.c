/* boot_fixture.c: guest memory, temporary files and crafted kernels for boot tests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/unit/boot_fixture.h"

#define FX_SLOTS 4

static char fx_paths[FX_SLOTS][64];

void fx_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void fx_put32(uint8_t *p, uint32_t v)
{
	fx_put16(p, (uint16_t)v);
	fx_put16(p + 2, (uint16_t)(v >> 16));
}

void fx_put64(uint8_t *p, uint64_t v)
{
	fx_put32(p, (uint32_t)v);
	fx_put32(p + 4, (uint32_t)(v >> 32));
}

uint32_t fx_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t fx_get64(const uint8_t *p)
{
	return fx_get32(p) | (uint64_t)fx_get32(p + 4) << 32;
}

static void fx_region(struct guest_mem *mem, gpa_t gpa, uint64_t size)
{
	struct guest_mem_region *r = &mem->region[mem->nr_regions++];
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	cr_assert_neq(p, MAP_FAILED, "mmap of %llu bytes",
		      (unsigned long long)size);
	r->gpa = gpa;
	r->size = size;
	r->host = p;
	r->memfd_off = 0;
}

void fixture_mem_init(struct guest_mem *mem, uint64_t size)
{
	uint64_t low = size < ISOVM_HOLE_START ? size : ISOVM_HOLE_START;

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->ram_size = size;
	fx_region(mem, 0, low);
	if (size > low)
		fx_region(mem, ISOVM_HOLE_END, size - low);
}

void fixture_mem_fini(struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nr_regions; i++)
		munmap(mem->region[i].host, mem->region[i].size);
	mem->nr_regions = 0;
}

const char *fixture_tmpfile(unsigned slot, const void *buf, size_t len)
{
	int fd;

	cr_assert_lt(slot, FX_SLOTS);
	snprintf(fx_paths[slot], sizeof(fx_paths[slot]),
		 "/tmp/isovm-boot-test-XXXXXX");
	fd = mkstemp(fx_paths[slot]);
	cr_assert_geq(fd, 0, "mkstemp");
	cr_assert_eq(write(fd, buf, len), (ssize_t)len, "write tmpfile");
	close(fd);
	return fx_paths[slot];
}

const char *fixture_tmpfile_pattern(unsigned slot, uint64_t len)
{
	uint8_t chunk[4096];
	FILE *f;

	for (unsigned i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	fixture_tmpfile(slot, "", 0);
	f = fopen(fx_paths[slot], "wb");
	cr_assert_not_null(f);
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < sizeof(chunk) ? (size_t)(len - done) :
							sizeof(chunk);

		cr_assert_eq(fwrite(chunk, 1, n, f), n);
		done += n;
	}
	fclose(f);
	return fx_paths[slot];
}

void fixture_tmpfiles_remove(void)
{
	for (unsigned i = 0; i < FX_SLOTS; i++)
		if (fx_paths[i][0]) {
			unlink(fx_paths[i]);
			fx_paths[i][0] = 0;
		}
}

static void fx_pvh_phdr(uint8_t *p, int is64, uint32_t type, uint64_t off,
			uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	fx_put32(p, type);
	if (is64) {
		fx_put64(p + 8, off);
		fx_put64(p + 16, paddr | 0xffffffff80000000ull); /* vaddr */
		fx_put64(p + 24, paddr);
		fx_put64(p + 32, filesz);
		fx_put64(p + 40, memsz);
	} else {
		fx_put32(p + 4, (uint32_t)off);
		fx_put32(p + 8, (uint32_t)paddr);
		fx_put32(p + 12, (uint32_t)paddr);
		fx_put32(p + 16, (uint32_t)filesz);
		fx_put32(p + 20, (uint32_t)memsz);
	}
}

size_t fixture_pvh_elf(uint8_t *buf, int is64, int with_note)
{
	uint8_t *ph0 = buf + (is64 ? FX_PVH64_PHDR(0) : FX_PVH32_PHDR(0));
	uint8_t *ph1 = buf + (is64 ? FX_PVH64_PHDR(1) : FX_PVH32_PHDR(1));
	uint8_t *note = buf + FX_PVH_NOTE_OFFSET;

	memset(buf, 0, FX_PVH_SIZE);
	memcpy(buf, "\177ELF", 4);
	buf[4] = is64 ? 2 : 1;
	buf[5] = 1; /* little endian */
	buf[6] = 1; /* EV_CURRENT */
	fx_put16(buf + 16, 2); /* ET_EXEC */
	fx_put16(buf + 18, is64 ? 62 : 3);
	fx_put32(buf + 20, 1);
	if (is64) {
		fx_put64(buf + 32, FX_PVH64_PHDR(0));
		fx_put16(buf + 52, 64);
		fx_put16(buf + 54, 56);
		fx_put16(buf + 56, 2);
	} else {
		fx_put32(buf + 28, FX_PVH32_PHDR(0));
		fx_put16(buf + 40, 52);
		fx_put16(buf + 42, 32);
		fx_put16(buf + 44, 2);
	}
	fx_pvh_phdr(ph0, is64, 1, FX_PVH_LOAD_OFFSET, FX_PVH_LOAD_PADDR,
		    FX_PVH_LOAD_FILESZ, FX_PVH_LOAD_MEMSZ);
	fx_pvh_phdr(ph1, is64, 4, FX_PVH_NOTE_OFFSET, 0, 20, 20);
	/* A GNU note first, so the walk must step over a foreign note. */
	fx_put32(note, 4);
	fx_put32(note + 4, 0);
	fx_put32(note + 8, 3);
	memcpy(note + 12, "GNU", 4);
	note += 16;
	fx_put32(ph1 + (is64 ? 32 : 16), 36);
	fx_put32(note, 4);
	fx_put32(note + 4, 4);
	fx_put32(note + 8, with_note ? 18 : 17);
	memcpy(note + 12, "Xen", 4);
	fx_put32(note + 16, FX_PVH_ENTRY);
	for (unsigned i = 0; i < FX_PVH_LOAD_FILESZ; i++)
		buf[FX_PVH_LOAD_OFFSET + i] = (uint8_t)(0xa0 ^ i);
	return FX_PVH_SIZE;
}

size_t fixture_bzimage(uint8_t *buf, uint16_t version, int kernel64)
{
	memset(buf, 0, FX_BZ_SIZE);
	buf[0x1f1] = 4; /* setup_sects */
	fx_put32(buf + 0x1f4, FX_BZ_PM_SIZE / 16);
	fx_put16(buf + 0x1fe, 0xaa55);
	buf[0x200] = 0xeb;
	buf[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(buf + 0x202, "HdrS", 4);
	fx_put16(buf + 0x206, version);
	buf[0x211] = 0x01; /* LOADED_HIGH */
	fx_put32(buf + 0x214, 0x100000);
	fx_put32(buf + 0x22c, FX_BZ_INITRD_MAX);
	fx_put32(buf + 0x230, 0x200000);
	buf[0x234] = 1; /* relocatable */
	fx_put16(buf + 0x236, kernel64 ? 0x3 : 0x0);
	fx_put32(buf + 0x238, FX_BZ_CMDLINE_SIZE);
	fx_put64(buf + 0x258, FX_BZ_PREF);
	fx_put32(buf + 0x260, FX_BZ_INIT_SIZE);
	for (unsigned i = 0; i < FX_BZ_PM_SIZE; i++)
		buf[FX_BZ_SETUP_SIZE + i] = (uint8_t)(0x5a ^ i);
	return FX_BZ_SIZE;
}
