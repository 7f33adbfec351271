/* test_disk_cfg.c: --disk parsing, image checks, overlaps and the OFD lock. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vcpu/config/disk_cfg.h"

static char err[PATH_MAX + 512];
static char dir[] = "/tmp/isovm-disk-XXXXXX";

static void setup_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown_dir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(disk_cfg, .init = setup_dir, .fini = teardown_dir);

/* A file of 'size' bytes in the test directory; returns its path. */
static const char *image(const char *name, off_t size)
{
	static char path[8][PATH_MAX];
	static unsigned next;
	char *p = path[next++ % 8];
	int fd;

	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, size), 0);
	close(fd);
	return p;
}

/* Parses the specs (printf-style "%s" = the path of each) and opens. */
static int open_set(struct disk_set *s, int nspecs, ...)
{
	va_list ap;
	int ret;

	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	va_start(ap, nspecs);
	for (int i = 0; i < nspecs; i++) {
		const char *spec = va_arg(ap, const char *);

		ret = disk_set_add(s, spec, err, sizeof(err));
		if (ret) {
			va_end(ap);
			return ret;
		}
	}
	va_end(ap);
	return disk_set_open(s, err, sizeof(err));
}

static char *spec(const char *fmt, const char *path)
{
	static char buf[8][PATH_MAX + 128];
	static unsigned next;
	char *b = buf[next++ % 8];

	snprintf(b, sizeof(buf[0]), fmt, path);
	return b;
}

static void expect_err(int ret, int want, const char *needle)
{
	cr_assert_eq(ret, want, "ret %d want %d (%s)", ret, want, err);
	cr_assert_not_null(strstr(err, needle), "'%s' lacks '%s'", err, needle);
	cr_assert_null(strchr(err, '\n'), "one line");
}

static void expect_parse_err(const char *s, const char *needle)
{
	struct disk_cfg d;

	err[0] = '\0';
	expect_err(disk_cfg_parse(s, &d, err, sizeof(err)), -EINVAL, needle);
}

Test(disk_cfg, every_key_is_parsed_with_size_suffixes)
{
	struct disk_cfg d;

	cr_assert_eq(disk_cfg_parse("path=/x/y,ro,offset=1M,size=2G,id=boot-1,"
				    "cache=none",
				    &d, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(d.path, "/x/y");
	cr_assert(d.read_only);
	cr_assert_eq(d.offset, 1ull << 20);
	cr_assert_eq(d.size, 2ull << 30);
	cr_assert_str_eq(d.id, "boot-1");
	cr_assert_eq(d.cache, DISK_CACHE_NONE);
	cr_assert_eq(d.fd, -1);
	cr_assert_eq(disk_cfg_parse("path=z", &d, err, sizeof(err)), 0);
	cr_assert_not(d.read_only);
	cr_assert_eq(d.cache, DISK_CACHE_WRITEBACK);
	cr_assert_not(d.has_id);
}

Test(disk_cfg, bad_specs_are_refused_with_the_reason)
{
	expect_parse_err("ro", "path=FILE is required");
	expect_parse_err("path=a,color=red", "unknown key 'color'");
	expect_parse_err("path=a,rw", "'rw' needs a value (or is unknown)");
	expect_parse_err("path=a,ro=1", "unknown key 'ro'");
	expect_parse_err("path=a,size=", "'size' needs a value");
	expect_parse_err("path=a,size=12Q", "size=12Q is not a size");
	expect_parse_err("path=a,offset=99999999999999999999",
			 "offset=99999999999999999999 is too large");
	expect_parse_err("path=a,cache=maybe", "cache=maybe is not writeback");
	expect_parse_err("path=a,id=123456789012345678901", "id must be 1..20");
	expect_parse_err("path=a,id=a\tb", "printable characters only");
	expect_parse_err("path=a,offset=100", "offset 100 is not a multiple");
	expect_parse_err("path=a,size=1000", "size 1000 is not a multiple");
	expect_parse_err("path=a,size=0", "size is zero");
}

Test(disk_cfg, more_than_eight_disks_are_refused)
{
	struct disk_set s;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < DISK_MAX; i++)
		cr_assert_eq(disk_set_add(&s, "path=a", err, sizeof(err)), 0);
	expect_err(disk_set_add(&s, "path=a", err, sizeof(err)), -E2BIG,
		   "at most 8 disks");
}

Test(disk_cfg, a_whole_image_opens_with_its_capacity_and_a_stable_id)
{
	const char *p = image("a.img", 1 << 20);
	struct disk_set s, t;
	int fl;

	cr_assert_eq(open_set(&s, 1, spec("path=%s", p)), 0, "%s", err);
	cr_assert_eq(s.disk[0].capacity, 2048);
	cr_assert_geq(s.disk[0].fd, 0);
	fl = fcntl(s.disk[0].fd, F_GETFL);
	cr_assert_eq(fl & O_ACCMODE, O_RDWR);
	cr_assert(fcntl(s.disk[0].fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(strncmp(s.disk[0].id, "isovm-", 6), 0);
	cr_assert_eq(strlen(s.disk[0].id), DISK_ID_MAX);
	disk_set_close(&s);
	cr_assert_eq(s.disk[0].fd, -1);
	cr_assert_eq(open_set(&t, 1, spec("path=%s", p)), 0, "%s", err);
	cr_assert_str_eq(t.disk[0].id, s.disk[0].id, "same image, same id");
	disk_set_close(&t);
}

Test(disk_cfg, a_read_only_disk_is_opened_read_only)
{
	const char *p = image("ro.img", 4096);
	struct disk_set s;

	cr_assert_eq(open_set(&s, 1, spec("path=%s,ro", p)), 0, "%s", err);
	cr_assert_eq(fcntl(s.disk[0].fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	disk_set_close(&s);
}

Test(disk_cfg, missing_file_and_directory_are_refused)
{
	struct disk_set s;
	char missing[PATH_MAX];

	snprintf(missing, sizeof(missing), "%s/none.img", dir);
	expect_err(open_set(&s, 1, spec("path=%s", missing)), -ENOENT,
		   "none.img: no such file");
	expect_err(open_set(&s, 1, spec("path=%s", dir)), -EISDIR,
		   "is a directory");
	expect_err(open_set(&s, 1, spec("path=%s,ro", dir)), -EISDIR,
		   "is a directory");
	expect_err(open_set(&s, 1, "path=/dev/null,ro"), -ENODEV,
		   "not a regular file or block device");
}

/* Root passes permission checks: a child drops to nobody so that open()
 * of a root-only image really fails (and the parent can clean up). */
Test(disk_cfg, an_image_without_permission_is_refused)
{
	const char *p = image("priv.img", 4096);
	struct disk_set s;
	int status;
	pid_t pid;

	cr_assert_eq(chmod(p, 0600), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && setuid(65534))
			_exit(10);
		if (open_set(&s, 1, spec("path=%s", p)) != -EACCES ||
		    !strstr(err, "priv.img: permission denied"))
			_exit(11);
		if (open_set(&s, 1, spec("path=%s,ro", p)) != -EACCES)
			_exit(12);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed",
		     WEXITSTATUS(status));
}

Test(disk_cfg, open_errors_have_clear_texts)
{
	cr_assert_str_eq(disk_errno_str(-ENOENT, false), "no such file");
	cr_assert_str_eq(disk_errno_str(EACCES, true), "permission denied");
	cr_assert_not_null(strstr(disk_errno_str(-EROFS, false), "add ro"));
	cr_assert_str_eq(disk_errno_str(-EISDIR, false), "is a directory");
}

Test(disk_cfg, sizes_not_a_multiple_of_512_or_zero_are_refused)
{
	struct disk_set s;

	expect_err(open_set(&s, 1, spec("path=%s", image("odd.img", 1000))),
		   -EINVAL, "size 1000 is not a multiple of 512");
	expect_err(open_set(&s, 1, spec("path=%s", image("empty.img", 0))),
		   -EINVAL, "size is zero");
	expect_err(
		open_set(&s, 1, spec("path=%s,offset=4096", image("e2", 4096))),
		-EINVAL, "size is zero");
}

Test(disk_cfg, slices_must_lie_inside_the_image)
{
	const char *p = image("s.img", 1 << 20);
	struct disk_set s;

	cr_assert_eq(open_set(&s, 1, spec("path=%s,offset=512K,size=256K", p)),
		     0, "%s", err);
	cr_assert_eq(s.disk[0].capacity, 512);
	cr_assert_eq(s.disk[0].offset, 512 << 10);
	disk_set_close(&s);
	cr_assert_eq(open_set(&s, 1, spec("path=%s,offset=768K", p)), 0);
	cr_assert_eq(s.disk[0].capacity, 512, "offset alone: rest of image");
	disk_set_close(&s);
	expect_err(open_set(&s, 1, spec("path=%s,offset=768K,size=512K", p)),
		   -EINVAL, "reaches past the end of the image");
	expect_err(open_set(&s, 1, spec("path=%s,offset=2M", p)), -EINVAL,
		   "is past the end of the image");
}

Test(disk_cfg, writable_slices_of_one_image_must_not_overlap)
{
	const char *p = image("ov.img", 1 << 20);
	struct disk_set s;

	/* Disjoint writable slices: fine, and their ids differ. */
	cr_assert_eq(open_set(&s, 2, spec("path=%s,size=512K", p),
			      spec("path=%s,offset=512K", p)),
		     0, "%s", err);
	cr_assert_str_neq(s.disk[0].id, s.disk[1].id);
	disk_set_close(&s);
	/* Read-only slices may share bytes. */
	cr_assert_eq(open_set(&s, 2, spec("path=%s,ro", p),
			      spec("path=%s,ro,offset=4K", p)),
		     0, "%s", err);
	disk_set_close(&s);
	expect_err(open_set(&s, 2, spec("path=%s,size=512K", p),
			    spec("path=%s,offset=511K", p)),
		   -EBUSY, "overlaps disk 0");
	expect_err(open_set(&s, 2, spec("path=%s,ro", p),
			    spec("path=%s,offset=4K,size=4K", p)),
		   -EBUSY, "overlaps disk 0");
	/* The same image under another name is still the same image. */
	char alias[PATH_MAX];

	snprintf(alias, sizeof(alias), "%s/hard", dir);
	cr_assert_eq(link(p, alias), 0);
	expect_err(open_set(&s, 2, spec("path=%s", p), spec("path=%s", alias)),
		   -EBUSY, "overlaps");
}

Test(disk_cfg, duplicate_ids_are_refused)
{
	const char *a = image("a", 4096), *b = image("b", 4096);
	struct disk_set s;
	char sa[PATH_MAX + 32];

	snprintf(sa, sizeof(sa), "path=%s,id=same", a);
	expect_err(open_set(&s, 2, sa, spec("path=%s,id=same", b)), -EINVAL,
		   "id 'same' is used twice");
}

Test(disk_cfg, an_image_in_use_by_another_open_is_refused)
{
	const char *p = image("lock.img", 1 << 20);
	struct disk_set first, second;

	cr_assert_eq(open_set(&first, 1, spec("path=%s,size=512K", p)), 0, "%s",
		     err);
	expect_err(open_set(&second, 1, spec("path=%s", p)), -EBUSY,
		   "in use by another process");
	cr_assert_eq(second.disk[0].fd, -1, "nothing stays open");
	expect_err(open_set(&second, 1, spec("path=%s,ro", p)), -EBUSY,
		   "in use by another process");
	/* The lock covers the slice only: the other half is free. */
	cr_assert_eq(open_set(&second, 1, spec("path=%s,offset=512K", p)), 0,
		     "%s", err);
	disk_set_close(&second);
	disk_set_close(&first);
	cr_assert_eq(open_set(&second, 1, spec("path=%s", p)), 0,
		     "lock dropped on close: %s", err);
	disk_set_close(&second);
}

Test(disk_cfg, readers_share_an_image_but_exclude_a_writer)
{
	const char *p = image("rd.img", 1 << 20);
	struct disk_set a, b, c;

	cr_assert_eq(open_set(&a, 1, spec("path=%s,ro", p)), 0, "%s", err);
	cr_assert_eq(open_set(&b, 1, spec("path=%s,ro", p)), 0, "%s", err);
	expect_err(open_set(&c, 1, spec("path=%s", p)), -EBUSY,
		   "in use by another process");
	disk_set_close(&a);
	disk_set_close(&b);
}

Test(disk_cfg, a_failure_closes_the_disks_opened_before_it)
{
	const char *p = image("ok.img", 4096);
	struct disk_set s;
	char missing[PATH_MAX];

	snprintf(missing, sizeof(missing), "%s/gone", dir);
	cr_assert_neq(
		open_set(&s, 2, spec("path=%s", p), spec("path=%s", missing)),
		0);
	cr_assert_eq(s.disk[0].fd, -1);
	/* And its lock is gone: the image opens again. */
	cr_assert_eq(open_set(&s, 1, spec("path=%s", p)), 0, "%s", err);
	disk_set_close(&s);
}
