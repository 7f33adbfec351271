/* fd_count.c: counting this process's open fds through /proc/self/fd. */
#include <criterion/criterion.h>
#include <dirent.h>

#include "tests/unit/fd_count.h"

int open_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}
