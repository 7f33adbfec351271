/*
 * boot_file.h: internals shared by the kernel format loaders: bounded reads
 * of a hostile kernel or initrd file into guest memory, initrd placement,
 * and the context boot_load() hands to a format loader.
 */
#ifndef ISOVM_BOOT_FILE_H
#define ISOVM_BOOT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/boot/boot.h"
#include "vcpu/boot/e820.h"

struct boot_file {
	int fd;
	uint64_t size;    /* at open time; reads past it fail */
	const char *what; /* "kernel" or "initrd", for messages */
	const char *path;
};

/* What boot_load() prepared before it calls the format loader. */
struct boot_ctx {
	struct guest_mem *mem;
	const struct boot_config *cfg;
	struct boot_file kernel;
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned nr_e820;
	uint64_t low_end;    /* end of RAM below the hole */
	size_t cmdline_len;  /* without the NUL, already at BOOT_CMDLINE_GPA */
	char *err;
	size_t errlen;
};

/*
 * Opens a regular file for reading. On error returns -errno (-EISDIR for a
 * directory, -EINVAL for another non-regular file) with
 * "WHAT PATH: reason" in err.
 */
int boot_file_open(struct boot_file *f, const char *what, const char *path,
		   char *err, size_t errlen);
void boot_file_close(struct boot_file *f);

/*
 * Reads exactly [off, off + len) of the file into buf. -ENOEXEC when the
 * range is not inside the file, -EIO on a short or failed read.
 */
int boot_file_read(const struct boot_file *f, uint64_t off, void *buf,
		   uint64_t len);

/*
 * Copies [off, off + len) of the file to guest [gpa, gpa + len). -ENOEXEC
 * for a range outside the file, -E2BIG for one outside guest RAM, -EIO.
 */
int boot_file_to_guest(const struct boot_file *f, uint64_t off, uint64_t len,
		       struct guest_mem *mem, gpa_t gpa);

/*
 * Loads ctx->cfg->initrd_path page aligned as high as possible in
 * [floor, ceiling). Sets *addr and *size (both 0 without an initrd).
 * Returns 0 or -errno with a message in ctx->err (-E2BIG: does not fit).
 */
int boot_initrd_load(struct boot_ctx *ctx, gpa_t floor, gpa_t ceiling,
		     gpa_t *addr, uint64_t *size);

/*
 * GDT at BOOT_GDT_GPA, 5 descriptors (entry->gdt_limit = 39):
 *   0x00 null, 0x08 unused (null),
 *   0x10 flat code: 32-bit (PVH) or 64-bit (long_mode),
 *   0x18 flat data, 0x20 a 32-bit busy TSS descriptor (base 0, limit 0x67)
 *   that only gives a task register load something valid to point at.
 * Fills entry->gdt_gpa and gdt_limit. Returns 0 or -EFAULT.
 */
int boot_gdt_write(struct guest_mem *mem, bool long_mode,
		   struct boot_entry *entry);

/* Describes a size for a message: "300 MiB", "12 KiB", "17 bytes". */
void boot_size_str(uint64_t bytes, char *buf, size_t len);

#endif
