/*
 * fuzz_kernel_image.c: hostile kernel images through boot_load(). The input
 * is [u16 length of image A][image A][image B]; both are loaded as kernel
 * files into a small guest, so mutations of one seed reach both the
 * bzImage and the PVH ELF parser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vcpu/boot/boot.h"

#define FUZZ_RAM (4u << 20)
#define FUZZ_BZ_SETUP 0x400u /* one setup sector + the boot sector */
#define FUZZ_BZ_SIZE (FUZZ_BZ_SETUP + 0x400u)
#define FUZZ_ELF_SIZE 0x400u

static struct guest_mem fuzz_mem;
static int fuzz_fd[2] = { -1, -1 };
static char fuzz_path[2][32];
static char fuzz_initrd[32];

static void fuzz_put(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fuzz_init(void)
{
	static const uint8_t initrd[8192];
	int fd;

	fuzz_mem.region[0].host = mmap(NULL, FUZZ_RAM, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fuzz_mem.region[0].host == MAP_FAILED)
		abort();
	fuzz_mem.region[0].size = FUZZ_RAM;
	fuzz_mem.nr_regions = 1;
	fuzz_mem.ram_size = FUZZ_RAM;
	fuzz_mem.memfd = -1;
	for (int i = 0; i < 2; i++) {
		fuzz_fd[i] = memfd_create("fuzz-kernel", 0);
		if (fuzz_fd[i] < 0)
			abort();
		snprintf(fuzz_path[i], sizeof(fuzz_path[i]), "/proc/self/fd/%d",
			 fuzz_fd[i]);
	}
	fd = memfd_create("fuzz-initrd", 0);
	if (fd < 0 || write(fd, initrd, sizeof(initrd)) != sizeof(initrd))
		abort();
	snprintf(fuzz_initrd, sizeof(fuzz_initrd), "/proc/self/fd/%d", fd);
}

static void fuzz_load(int i, const uint8_t *data, size_t len, int initrd)
{
	struct boot_config cfg = {
		.kernel_path = fuzz_path[i],
		.initrd_path = initrd ? fuzz_initrd : NULL,
		.cmdline = "console=ttyS0",
		.cpus = 2,
	};
	struct boot_entry entry;
	char err[256];

	if (ftruncate(fuzz_fd[i], 0) ||
	    pwrite(fuzz_fd[i], data, len, 0) != (ssize_t)len)
		abort();
	if (boot_load(&fuzz_mem, &cfg, &entry, err, sizeof(err)) == 0 &&
	    !guest_mem_ptr(&fuzz_mem, entry.rip, 1))
		abort(); /* a successful load must enter guest RAM */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t a;

	if (fuzz_fd[0] < 0)
		fuzz_init();
	if (size < 2)
		return 0;
	a = (size_t)data[0] | (size_t)data[1] << 8;
	if (a > size - 2)
		a = size - 2;
	fuzz_load(0, data + 2, a, size & 1);
	fuzz_load(1, data + 2 + a, size - 2 - a, !(size & 1));
	return 0;
}

/* A bzImage (2.15, 64-bit entry, loads at 1 MiB) then a PVH ELF64. */
static void fuzz_seed_bzimage(uint8_t *b)
{
	memset(b, 0, FUZZ_BZ_SIZE);
	b[0x1f1] = 1;
	fuzz_put(b + 0x1fe, 0xaa55, 2);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	fuzz_put(b + 0x206, 0x020f, 2);
	b[0x211] = 0x01;
	fuzz_put(b + 0x22c, 0x37ffffff, 4);
	fuzz_put(b + 0x230, 0x200000, 4);
	b[0x234] = 1;
	fuzz_put(b + 0x236, 0x3, 2);
	fuzz_put(b + 0x238, 2047, 4);
	fuzz_put(b + 0x258, 0x1000000, 8);
	fuzz_put(b + 0x260, 0x10000, 4);
}

static void fuzz_seed_elf(uint8_t *e)
{
	memset(e, 0, FUZZ_ELF_SIZE);
	memcpy(e, "\177ELF\2\1\1", 7);
	fuzz_put(e + 16, 2, 2);
	fuzz_put(e + 18, 62, 2);
	fuzz_put(e + 32, 64, 8);    /* phoff */
	fuzz_put(e + 54, 56, 2);
	fuzz_put(e + 56, 2, 2);
	fuzz_put(e + 64, 1, 4);     /* PT_LOAD */
	fuzz_put(e + 64 + 8, 0x300, 8);
	fuzz_put(e + 64 + 24, 0x100000, 8);
	fuzz_put(e + 64 + 32, 0x100, 8);
	fuzz_put(e + 64 + 40, 0x1000, 8);
	fuzz_put(e + 120, 4, 4);    /* PT_NOTE */
	fuzz_put(e + 120 + 8, 0x200, 8);
	fuzz_put(e + 120 + 32, 20, 8);
	fuzz_put(e + 0x200, 4, 4);
	fuzz_put(e + 0x204, 4, 4);
	fuzz_put(e + 0x208, 18, 4); /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(e + 0x20c, "Xen", 4);
	fuzz_put(e + 0x210, 0x100000, 4);
}

size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	if (cap < 2 + FUZZ_BZ_SIZE + FUZZ_ELF_SIZE)
		return 0;
	fuzz_put(buf, FUZZ_BZ_SIZE, 2);
	fuzz_seed_bzimage(buf + 2);
	fuzz_seed_elf(buf + 2 + FUZZ_BZ_SIZE);
	return 2 + FUZZ_BZ_SIZE + FUZZ_ELF_SIZE;
}
