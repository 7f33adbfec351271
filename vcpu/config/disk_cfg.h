/* disk_cfg.h: `--disk` options, and opening, checking and locking the images.
 */
#ifndef ISOVM_DISK_CFG_H
#define ISOVM_DISK_CFG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DISK_MAX    8
#define DISK_ID_MAX 20 /* virtio-blk serial bytes */
#define DISK_SECTOR 512u

enum disk_cache {
	DISK_CACHE_WRITEBACK = 0, /* host page cache; FLUSH = fdatasync */
	DISK_CACHE_NONE,	  /* O_DIRECT */
};

/*
 * One disk. disk_cfg_parse() fills the options; disk_set_open() fills the
 * rest. The fd is the VMM's until it is handed to the block server; the
 * server never opens a path.
 */
struct disk_cfg {
	char path[PATH_MAX];
	bool read_only;
	bool has_offset, has_size; /* given on the command line */
	uint64_t offset;	   /* bytes into the image, 512-aligned */
	uint64_t size;		   /* bytes of the slice; filled when open */
	char id[DISK_ID_MAX + 1];  /* the user's, or the default once open */
	bool has_id;
	enum disk_cache cache;

	/* Set by disk_set_open(). */
	int fd;		    /* -1 when not open; O_CLOEXEC */
	uint64_t file_size; /* whole image, bytes */
	uint64_t capacity;  /* sectors of the slice */
	bool block_dev;
	dev_t st_dev; /* identity of the image: st_rdev for */
	ino_t st_ino; /* a block device, else dev + inode */
};

struct disk_set {
	struct disk_cfg disk[DISK_MAX];
	unsigned n;
};

/*
 * Parses one --disk value ("path=FILE[,ro][,offset=B][,size=B][,id=NAME]
 * [,cache=writeback|none]") into d (d->fd = -1). Sizes take K/M/G/T
 * suffixes; offset and size may each be given alone (offset defaults to 0,
 * size to the rest of the image). Returns 0 or -EINVAL with one line in err.
 */
int disk_cfg_parse(const char *spec, struct disk_cfg *d, char *err,
		   size_t errlen);

/* Appends a parsed --disk: 0, -EINVAL (bad spec) or -E2BIG (too many). */
int disk_set_add(struct disk_set *s, const char *spec, char *err,
		 size_t errlen);

/*
 * Opens every image (O_RDONLY for ro, else O_RDWR; O_DIRECT for
 * cache=none; O_CLOEXEC), checks sizes and slices, refuses a writable
 * slice that overlaps another slice of the same image, and takes an OFD
 * lock over each slice (write lock for rw, read lock for ro) so that a
 * second isovm cannot use the image concurrently. Call before the VM is
 * created. Returns 0, or -errno with one line "disk FILE: reason" in err,
 * and then every disk of s is closed again.
 */
int disk_set_open(struct disk_set *s, char *err, size_t errlen);

/* Closes every fd still held (idempotent; drops the locks). */
void disk_set_close(struct disk_set *s);

/* The text of an open()/fstat() failure of an image, never NULL. */
const char *disk_errno_str(int err, bool read_only);

/*
 * The default serial of an image slice: "isovm-" and 14 hex digits of a
 * hash of its identity (device, inode, offset), so the same slice gets the
 * same id on every run. out holds DISK_ID_MAX + 1 bytes.
 */
void disk_default_id(const struct disk_cfg *d, char *out);

#endif
