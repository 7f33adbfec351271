/* boot_file.c: bounded reads of kernel and initrd files into guest RAM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vcpu/boot/boot_file.h"
#include "vcpu/log.h"

#define BOOT_PAGE 0x1000ull

void boot_size_str(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ull << 20))
		snprintf(buf, len, "%llu MiB",
			 (unsigned long long)((bytes + (1ull << 20) - 1) >> 20));
	else if (bytes >= 1024)
		snprintf(buf, len, "%llu KiB",
			 (unsigned long long)((bytes + 1023) >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

int boot_file_open(struct boot_file *f, const char *what, const char *path,
		   char *err, size_t errlen)
{
	struct stat st;
	int ret;

	f->fd = -1;
	f->what = what;
	f->path = path;
	if (!path || !*path) {
		return errf(err, errlen, -EINVAL, "%s: no path given", what);
	}
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (f->fd < 0) {
		ret = -errno;
		return errf(err, errlen, ret, "%s %s: %s", what, path,
			    strerror(-ret));
	}
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		errf(err, errlen, ret, "%s %s: %s", what, path, strerror(-ret));
		goto err_close;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		errf(err, errlen, ret, "%s %s: Is a directory", what, path);
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		errf(err, errlen, ret, "%s %s: not a regular file", what, path);
		goto err_close;
	}
	f->size = (uint64_t)st.st_size;
	return 0;

err_close:
	close(f->fd);
	f->fd = -1;
	return ret;
}

void boot_file_close(struct boot_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int boot_file_read(const struct boot_file *f, uint64_t off, void *buf,
		   uint64_t len)
{
	uint8_t *p = buf;

	if (off > f->size || len > f->size - off)
		return -ENOEXEC;
	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = pread(f->fd, p, chunk, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		/* A file that shrank under us reads short: as bad as EIO. */
		if (n <= 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int boot_file_to_guest(const struct boot_file *f, uint64_t off, uint64_t len,
		       struct guest_mem *mem, gpa_t gpa)
{
	void *dst;

	if (off > f->size || len > f->size - off)
		return -ENOEXEC;
	if (!len)
		return 0;
	dst = guest_mem_ptr(mem, gpa, len);
	if (!dst)
		return -E2BIG;
	return boot_file_read(f, off, dst, len);
}

int boot_initrd_load(struct boot_ctx *ctx, gpa_t floor, gpa_t ceiling,
		     gpa_t *addr, uint64_t *size)
{
	struct boot_file f;
	char sz[32];
	gpa_t at;
	int ret;

	*addr = 0;
	*size = 0;
	if (!ctx->cfg->initrd_path)
		return 0;
	ret = boot_file_open(&f, "initrd", ctx->cfg->initrd_path, ctx->err,
			     ctx->errlen);
	if (ret)
		return ret;
	if (ceiling > ctx->low_end)
		ceiling = ctx->low_end;
	/* Highest page-aligned start with room below the ceiling. */
	if (f.size > ceiling ||
	    (at = (ceiling - f.size) & ~(BOOT_PAGE - 1)) < floor) {
		boot_size_str(f.size, sz, sizeof(sz));
		ret = errf(
			ctx->err, ctx->errlen, -E2BIG,
			"initrd %s: %s does not fit below 0x%llx (guest RAM too small?)",
			f.path, sz, (unsigned long long)ceiling);
		goto out_close;
	}
	ret = boot_file_to_guest(&f, 0, f.size, ctx->mem, at);
	if (ret) {
		errf(ctx->err, ctx->errlen, ret, "initrd %s: %s", f.path,
		     ret == -EIO ? "read error" : strerror(-ret));
		goto out_close;
	}
	*addr = at;
	*size = f.size;
out_close:
	boot_file_close(&f);
	return ret;
}

int boot_gdt_write(struct guest_mem *mem, bool long_mode,
		   struct boot_entry *entry)
{
	const uint64_t gdt[5] = {
		0,
		0,
		/* present, ring 0, code exec/read accessed, 4 KiB granular */
		long_mode ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull,
		/* present, ring 0, data read/write accessed, 32-bit, 4 GiB */
		0x00cf93000000ffffull,
		/* present, 32-bit busy TSS, base 0, limit 0x67 */
		0x00008b0000000067ull,
	};
	void *p = guest_mem_ptr(mem, BOOT_GDT_GPA, sizeof(gdt));

	if (!p)
		return -EFAULT;
	memcpy(p, gdt, sizeof(gdt));
	entry->gdt_gpa = BOOT_GDT_GPA;
	entry->gdt_limit = sizeof(gdt) - 1;
	return 0;
}
