/* boot_bzimage.c: Linux bzImage via the x86 boot protocol's 64-bit entry. */
#include <errno.h>
#include <string.h>

#include "vcpu/boot/boot_bzimage.h"
#include "vcpu/le.h"
#include "vcpu/log.h"

#define BZ_PAGE 0x1000ull
#define BZ_SECTOR 512u
#define BZ_ENTRY64_OFFSET 0x200u /* startup_64 from the load address */
#define BZ_STACK_TOP 0x9000ull   /* the free page below the page tables */
#define BZ_DEFAULT_INITRD_MAX 0x37ffffffu /* before 2.03; kept as a floor */
#define BZ_PT_PRESENT_RW 0x3ull
#define BZ_PT_LARGE 0x80ull
#define BZ_4G_PDS 4

struct bz_image {
	uint8_t hdr[BZ_SETUP_HEADER_END]; /* file bytes [0, 0x290), 0-padded */
	uint16_t version;
	uint64_t setup_size;  /* real-mode part, skipped */
	uint64_t pm_size;     /* protected-mode kernel bytes in the file */
	uint64_t footprint;   /* bytes the kernel needs at its load address */
	uint64_t load;        /* where the protected-mode kernel goes */
};

bool boot_bzimage_probe(const uint8_t *head, size_t len)
{
	return len >= BZ_HEADER + 4 && !memcmp(head + BZ_HEADER, "HdrS", 4);
}

/* Header checks: version, 64-bit entry, bzImage layout, sizes. */
static int bz_parse(struct boot_ctx *ctx, struct bz_image *bz)
{
	const struct boot_file *f = &ctx->kernel;
	uint64_t n = f->size < sizeof(bz->hdr) ? f->size : sizeof(bz->hdr);
	unsigned sects;
	uint32_t init_size;

	memset(bz->hdr, 0, sizeof(bz->hdr));
	if (boot_file_read(f, 0, bz->hdr, n))
		return -EIO;
	bz->version = le16_get(bz->hdr + BZ_VERSION);
	if (bz->version < BZ_MIN_VERSION) {
		return errf(
			ctx->err, ctx->errlen, -EPROTONOSUPPORT,
			"kernel %s: boot protocol %u.%u too old (need 2.12 for the 64-bit entry)",
			f->path, bz->version >> 8, bz->version & 0xff);
	}
	if (f->size < BZ_INIT_SIZE + 4 ||
	    le16_get(bz->hdr + BZ_BOOT_FLAG) != 0xaa55) {
		return errf(
			ctx->err, ctx->errlen, -ENOEXEC,
			"kernel %s: malformed bzImage: truncated setup header",
			f->path);
	}
	if (!(le16_get(bz->hdr + BZ_XLOADFLAGS) & BZ_XLF_KERNEL_64)) {
		return errf(
			ctx->err, ctx->errlen, -EPROTONOSUPPORT,
			"kernel %s: no 64-bit entry (XLF_KERNEL_64 not set: a 32-bit kernel?)",
			f->path);
	}
	if (!(bz->hdr[BZ_LOADFLAGS] & BZ_LOADED_HIGH)) {
		return errf(
			ctx->err, ctx->errlen, -ENOEXEC,
			"kernel %s: a zImage (not LOADED_HIGH) is not supported",
			f->path);
	}
	sects = bz->hdr[BZ_SETUP_SECTS] ? bz->hdr[BZ_SETUP_SECTS] : 4;
	bz->setup_size = (uint64_t)(sects + 1) * BZ_SECTOR;
	if (f->size <= bz->setup_size + BZ_ENTRY64_OFFSET) {
		return errf(
			ctx->err, ctx->errlen, -ENOEXEC,
			"kernel %s: malformed bzImage: no protected-mode kernel after the setup code",
			f->path);
	}
	bz->pm_size = f->size - bz->setup_size;
	init_size = le32_get(bz->hdr + BZ_INIT_SIZE);
	bz->footprint = init_size > bz->pm_size ? init_size : bz->pm_size;
	return 0;
}

/* pref_address for a relocatable kernel that fits there, else 1 MiB. */
static int bz_place(struct boot_ctx *ctx, struct bz_image *bz)
{
	uint64_t pref = le64_get(bz->hdr + BZ_PREF_ADDRESS);
	uint32_t align = le32_get(bz->hdr + BZ_KERNEL_ALIGNMENT);
	char sz[32];

	if (bz->hdr[BZ_RELOCATABLE] && pref >= BOOT_HIGH_RAM_START &&
	    pref < ctx->low_end && bz->footprint <= ctx->low_end - pref &&
	    (!align || (align & (align - 1)) || !(pref & (align - 1)))) {
		bz->load = pref;
		return 0;
	}
	bz->load = BOOT_HIGH_RAM_START;
	if (bz->footprint > ctx->low_end - bz->load) {
		boot_size_str(bz->footprint, sz, sizeof(sz));
		return errf(
			ctx->err, ctx->errlen, -E2BIG,
			"kernel %s: needs %s at 0x%llx, guest RAM below 4 GiB ends at 0x%llx",
			ctx->kernel.path, sz, (unsigned long long)bz->load,
			(unsigned long long)ctx->low_end);
	}
	return 0;
}

/* PML4 -> one PDPT -> four PDs of 2 MiB pages: identity map of 0..4 GiB. */
static int bz_page_tables(struct guest_mem *mem)
{
	const uint64_t pdpt = BOOT_PML4_GPA + BZ_PAGE;
	const uint64_t pd = pdpt + BZ_PAGE;
	uint64_t *t = guest_mem_ptr(mem, BOOT_PML4_GPA, (2 + BZ_4G_PDS) * BZ_PAGE);

	if (!t)
		return -EFAULT;
	memset(t, 0, (2 + BZ_4G_PDS) * BZ_PAGE);
	t[0] = pdpt | BZ_PT_PRESENT_RW;
	for (unsigned i = 0; i < BZ_4G_PDS; i++)
		t[512 + i] = (pd + i * BZ_PAGE) | BZ_PT_PRESENT_RW;
	for (uint64_t j = 0; j < 512 * BZ_4G_PDS; j++)
		t[1024 + j] = (j << 21) | BZ_PT_PRESENT_RW | BZ_PT_LARGE;
	return 0;
}

/* The zero page: the image's setup header plus what the loader decided. */
static int bz_zero_page(struct boot_ctx *ctx, const struct bz_image *bz,
			gpa_t initrd, uint64_t initrd_size)
{
	uint8_t *zp = guest_mem_ptr(ctx->mem, BOOT_PARAMS_GPA, BZ_PAGE);
	/* The header's own length: 0x202 + the jump's 8-bit displacement. */
	uint64_t end = BZ_HEADER + (uint64_t)bz->hdr[BZ_JUMP + 1];

	if (!zp)
		return -EFAULT;
	if (end > sizeof(bz->hdr))
		end = sizeof(bz->hdr);
	memset(zp, 0, BZ_PAGE);
	memcpy(zp + BZ_SETUP_SECTS, bz->hdr + BZ_SETUP_SECTS,
	       end - BZ_SETUP_SECTS);
	zp[BZ_TYPE_OF_LOADER] = 0xff; /* no registered boot loader id */
	zp[BZ_LOADFLAGS] |= BZ_LOADED_HIGH;
	le32_put(zp + BZ_CODE32_START, (uint32_t)bz->load);
	le32_put(zp + BZ_RAMDISK_IMAGE, (uint32_t)initrd);
	le32_put(zp + BZ_RAMDISK_SIZE, (uint32_t)initrd_size);
	le32_put(zp + BZ_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_GPA);
	_Static_assert(E820_MAX_ENTRIES <= BZ_E820_MAX, "e820 fits");
	zp[BZ_E820_ENTRIES] = (uint8_t)ctx->nr_e820;
	for (unsigned i = 0; i < ctx->nr_e820; i++) {
		uint8_t *e = zp + BZ_E820_TABLE + i * 20;

		memcpy(e, &ctx->e820[i].addr, 8);
		memcpy(e + 8, &ctx->e820[i].size, 8);
		le32_put(e + 16, ctx->e820[i].type);
	}
	return 0;
}

static int bz_load_initrd(struct boot_ctx *ctx, const struct bz_image *bz,
			  gpa_t *initrd, uint64_t *size)
{
	uint64_t max = le32_get(bz->hdr + BZ_INITRD_ADDR_MAX);
	uint64_t floor = (bz->load + bz->footprint + BZ_PAGE - 1) &
			 ~(BZ_PAGE - 1);

	if (!max)
		max = BZ_DEFAULT_INITRD_MAX;
	/* initrd_addr_max is the last byte the initrd may use. */
	return boot_initrd_load(ctx, floor, max + 1, initrd, size);
}

int boot_bzimage_load(struct boot_ctx *ctx, struct boot_entry *entry)
{
	const struct boot_file *f = &ctx->kernel;
	struct bz_image bz;
	uint64_t initrd_size;
	uint32_t cmdline_size;
	gpa_t initrd;
	int ret;

	ret = bz_parse(ctx, &bz);
	if (ret == -EIO)
		errf(ctx->err, ctx->errlen, ret, "kernel %s: read error",
		     f->path);
	if (ret)
		return ret;
	cmdline_size = le32_get(bz.hdr + BZ_CMDLINE_SIZE);
	if (ctx->cmdline_len > cmdline_size) {
		return errf(
			ctx->err, ctx->errlen, -E2BIG,
			"command line: %zu bytes, the kernel takes at most %u",
			ctx->cmdline_len, cmdline_size);
	}
	ret = bz_place(ctx, &bz);
	if (ret)
		return ret;
	ret = boot_file_to_guest(f, bz.setup_size, bz.pm_size, ctx->mem,
				 bz.load);
	if (ret) {
		return errf(ctx->err, ctx->errlen, ret, "kernel %s: read error",
			    f->path);
	}
	ret = bz_load_initrd(ctx, &bz, &initrd, &initrd_size);
	if (ret)
		return ret;
	ret = bz_zero_page(ctx, &bz, initrd, initrd_size);
	if (!ret)
		ret = bz_page_tables(ctx->mem);
	if (!ret)
		ret = boot_gdt_write(ctx->mem, true, entry);
	if (ret) {
		return errf(ctx->err, ctx->errlen, ret,
			    "boot structures do not fit in guest RAM");
	}
	entry->mode = BOOT_MODE_LINUX64;
	entry->rip = bz.load + BZ_ENTRY64_OFFSET;
	entry->rsi = BOOT_PARAMS_GPA;
	entry->rsp = BZ_STACK_TOP;
	entry->cr3 = BOOT_PML4_GPA;
	return 0;
}
