/* disk_cfg.c: parse --disk, then open, check and lock each image. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vcpu/config/args.h"
#include "vcpu/config/disk_cfg.h"
#include "vcpu/log.h"

static int disk_parse_bytes(const char *key, const char *v, uint64_t *out,
			    char *err, size_t errlen)
{
	int ret = args_parse_size(v, out);

	if (ret == -ERANGE)
		return errf(err, errlen, -EINVAL, "--disk: %s=%s is too large",
			    key, v);
	if (ret)
		return errf(err, errlen, -EINVAL,
			    "--disk: %s=%s is not a size (e.g. 1M, 4096)", key,
			    v);
	return 0;
}

static int disk_parse_id(const char *v, struct disk_cfg *d, char *err,
			 size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n > DISK_ID_MAX)
		return errf(err, errlen, -EINVAL,
			    "--disk: id must be 1..%u characters", DISK_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return errf(err, errlen, -EINVAL,
				    "--disk: id may hold printable "
				    "characters only, no spaces");
	memcpy(d->id, v, n + 1);
	d->has_id = true;
	return 0;
}

/* One "key[=value]" item of the spec (NUL-terminated copy). */
static int disk_parse_item(char *item, struct disk_cfg *d, char *err,
			   size_t errlen)
{
	char *eq = strchr(item, '=');
	const char *v = eq ? eq + 1 : NULL;

	if (eq)
		*eq = '\0';
	if (strcmp(item, "ro") == 0 && !v) {
		d->read_only = true;
		return 0;
	}
	if (!v || (*v == '\0'))
		return errf(err, errlen, -EINVAL,
			    "--disk: '%s' needs a value (or is unknown)", item);
	if (strcmp(item, "path") == 0) {
		if (strlen(v) >= sizeof(d->path))
			return errf(err, errlen, -EINVAL,
				    "--disk: path is too long");
		strcpy(d->path, v);
	} else if (strcmp(item, "offset") == 0) {
		d->has_offset = true;
		return disk_parse_bytes("offset", v, &d->offset, err, errlen);
	} else if (strcmp(item, "size") == 0) {
		d->has_size = true;
		return disk_parse_bytes("size", v, &d->size, err, errlen);
	} else if (strcmp(item, "id") == 0) {
		return disk_parse_id(v, d, err, errlen);
	} else if (strcmp(item, "cache") == 0) {
		if (strcmp(v, "writeback") == 0)
			d->cache = DISK_CACHE_WRITEBACK;
		else if (strcmp(v, "none") == 0)
			d->cache = DISK_CACHE_NONE;
		else
			return errf(err, errlen, -EINVAL,
				    "--disk: cache=%s is not writeback "
				    "or none",
				    v);
	} else {
		return errf(err, errlen, -EINVAL, "--disk: unknown key '%s'",
			    item);
	}
	return 0;
}

/* Checks that need no file: alignment and a non-empty slice. */
static int disk_check_static(const struct disk_cfg *d, char *err, size_t errlen)
{
	if (!d->path[0])
		return errf(err, errlen, -EINVAL,
			    "--disk: path=FILE is required");
	if (d->offset % DISK_SECTOR)
		return errf(err, errlen, -EINVAL,
			    "--disk path=%s: offset %llu is not a "
			    "multiple of 512",
			    d->path, (unsigned long long)d->offset);
	if (d->has_size && d->size == 0)
		return errf(err, errlen, -EINVAL,
			    "--disk path=%s: size is zero", d->path);
	if (d->size % DISK_SECTOR)
		return errf(err, errlen, -EINVAL,
			    "--disk path=%s: size %llu is not a multiple "
			    "of 512",
			    d->path, (unsigned long long)d->size);
	return 0;
}

int disk_cfg_parse(const char *spec, struct disk_cfg *d, char *err,
		   size_t errlen)
{
	char buf[PATH_MAX + 256], *item, *save = NULL;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (strlen(spec) >= sizeof(buf))
		return errf(err, errlen, -EINVAL, "--disk: too long");
	strcpy(buf, spec);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		ret = disk_parse_item(item, d, err, errlen);
		if (ret)
			return ret;
	}
	return disk_check_static(d, err, errlen);
}

int disk_set_add(struct disk_set *s, const char *spec, char *err, size_t errlen)
{
	if (s->n >= DISK_MAX)
		return errf(err, errlen, -E2BIG, "--disk: at most %u disks",
			    DISK_MAX);
	int ret = disk_cfg_parse(spec, &s->disk[s->n], err, errlen);

	if (ret)
		return ret;
	s->n++;
	return 0;
}

const char *disk_errno_str(int err, bool read_only)
{
	switch (err < 0 ? -err : err) {
	case ENOENT:
		return "no such file";
	case EACCES:
	case EPERM:
		return read_only ? "permission denied"
				 : "permission denied (read-only use needs ro)";
	case EISDIR:
		return "is a directory";
	case EROFS:
		return "read-only file system (add ro)";
	case ETXTBSY:
		return "file is busy";
	case ELOOP:
		return "too many symbolic links";
	case ENOTDIR:
		return "a path component is not a directory";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

void disk_default_id(const struct disk_cfg *d, char *out)
{
	/* FNV-1a over the identity: stable, and differs per slice. */
	uint64_t v[3] = {(uint64_t)d->st_dev, (uint64_t)d->st_ino, d->offset};
	const unsigned char *p = (const unsigned char *)v;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(v); i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	snprintf(out, DISK_ID_MAX + 1, "isovm-%014llx",
		 (unsigned long long)(h >> 8));
}

/* Image size: st_size, or BLKGETSIZE64 for a block device. */
static int disk_image_size(struct disk_cfg *d, const struct stat *st)
{
	uint64_t bytes;

	if (S_ISBLK(st->st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &bytes))
			return -errno;
		d->file_size = bytes;
		d->block_dev = true;
		d->st_dev = st->st_rdev;
		d->st_ino = 0;
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return S_ISDIR(st->st_mode) ? -EISDIR : -ENODEV;
	d->file_size = (uint64_t)st->st_size;
	d->st_dev = st->st_dev;
	d->st_ino = st->st_ino;
	return 0;
}

/* Size and slice of one opened image. */
static int disk_check_slice(struct disk_cfg *d, char *err, size_t errlen)
{
	if (d->offset > d->file_size)
		return errf(err, errlen, -EINVAL,
			    "disk %s: offset %llu is past the end of the "
			    "image (%llu bytes)",
			    d->path, (unsigned long long)d->offset,
			    (unsigned long long)d->file_size);
	if (!d->has_size)
		d->size = d->file_size - d->offset;
	else if (d->size > d->file_size - d->offset)
		return errf(err, errlen, -EINVAL,
			    "disk %s: slice %llu+%llu reaches past the "
			    "end of the image (%llu bytes)",
			    d->path, (unsigned long long)d->offset,
			    (unsigned long long)d->size,
			    (unsigned long long)d->file_size);
	if (d->size == 0)
		return errf(err, errlen, -EINVAL, "disk %s: size is zero",
			    d->path);
	if (d->size % DISK_SECTOR)
		return errf(err, errlen, -EINVAL,
			    "disk %s: size %llu is not a multiple of 512",
			    d->path, (unsigned long long)d->size);
	if (d->size >= (1ull << 62))
		return errf(err, errlen, -EINVAL, "disk %s: too large",
			    d->path);
	d->capacity = d->size / DISK_SECTOR;
	return 0;
}

static int disk_open_one(struct disk_cfg *d, char *err, size_t errlen)
{
	int flags = (d->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int ret;

	if (d->cache == DISK_CACHE_NONE)
		flags |= O_DIRECT;
	d->fd = open(d->path, flags);
	if (d->fd < 0) {
		ret = -errno;
		/* open() says EINVAL for O_DIRECT on e.g. old tmpfs. */
		if (ret == -EINVAL && (flags & O_DIRECT))
			return errf(err, errlen, ret,
				    "disk %s: cache=none: the file system "
				    "refuses O_DIRECT",
				    d->path);
		return errf(err, errlen, ret, "disk %s: %s", d->path,
			    disk_errno_str(ret, d->read_only));
	}
	if (fstat(d->fd, &st))
		ret = -errno;
	else
		ret = disk_image_size(d, &st);
	if (ret == -ENODEV)
		return errf(err, errlen, ret,
			    "disk %s: not a regular file or block device",
			    d->path);
	if (ret)
		return errf(err, errlen, ret, "disk %s: %s", d->path,
			    disk_errno_str(ret, d->read_only));
	return disk_check_slice(d, err, errlen);
}

static bool disk_same_image(const struct disk_cfg *a, const struct disk_cfg *b)
{
	return a->block_dev == b->block_dev && a->st_dev == b->st_dev &&
	       a->st_ino == b->st_ino;
}

/* A writable slice must not share a byte with any other slice. */
static int disk_check_overlap(const struct disk_set *s, char *err,
			      size_t errlen)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct disk_cfg *a = &s->disk[i];

		for (unsigned j = i + 1; j < s->n; j++) {
			const struct disk_cfg *b = &s->disk[j];

			if (!disk_same_image(a, b) ||
			    (a->read_only && b->read_only))
				continue;
			if (a->offset < b->offset + b->size &&
			    b->offset < a->offset + a->size)
				return errf(err, errlen, -EBUSY,
					    "disk %s: overlaps disk %u "
					    "(%s), and one of them is "
					    "writable",
					    b->path, i, a->path);
		}
	}
	return 0;
}

static int disk_check_ids(struct disk_set *s, char *err, size_t errlen)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (!s->disk[i].has_id)
			disk_default_id(&s->disk[i], s->disk[i].id);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(s->disk[i].id, s->disk[j].id) == 0)
				return errf(err, errlen, -EINVAL,
					    "disk %s: id '%s' is used "
					    "twice",
					    s->disk[i].path, s->disk[i].id);
	}
	return 0;
}

/*
 * An OFD lock belongs to the open file description, so it holds for as
 * long as the fd (or a copy passed to the server) is open, and it also
 * conflicts with another open of the same image inside one process.
 */
static int disk_lock(struct disk_cfg *d, char *err, size_t errlen)
{
	struct flock fl = {
		.l_type = d->read_only ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)d->offset,
		.l_len = (off_t)d->size,
	};

	if (fcntl(d->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return errf(err, errlen, -EBUSY,
			    "disk %s: in use by another process", d->path);
	return errf(err, errlen, -errno, "disk %s: cannot lock: %s", d->path,
		    strerror(errno));
}

int disk_set_open(struct disk_set *s, char *err, size_t errlen)
{
	int ret = 0;

	for (unsigned i = 0; i < s->n && !ret; i++)
		ret = disk_open_one(&s->disk[i], err, errlen);
	if (!ret)
		ret = disk_check_overlap(s, err, errlen);
	if (!ret)
		ret = disk_check_ids(s, err, errlen);
	for (unsigned i = 0; i < s->n && !ret; i++)
		ret = disk_lock(&s->disk[i], err, errlen);
	if (ret)
		disk_set_close(s);
	return ret;
}

void disk_set_close(struct disk_set *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (s->disk[i].fd >= 0)
			close(s->disk[i].fd);
		s->disk[i].fd = -1;
	}
}
