/* srv_args.c: the command line of a device server (see srv.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "devsrv/common/srv_core.h"

static int srv_args_fd(const char *s, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 3 || v > INT_MAX)
		return -EINVAL;
	*fd = (int)v;
	return 0;
}

static int srv_args_word(const char *s, const char *const *names, unsigned n,
			 unsigned *out)
{
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int srv_args_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > INT_MAX)
		return -EINVAL;
	*pid = (int)v;
	return 0;
}

static int srv_args_level(const char *s, enum srv_log_level *l)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	unsigned i;
	int ret = srv_args_word(s, names, sizeof(names) / sizeof(names[0]), &i);

	if (!ret)
		*l = (enum srv_log_level)i;
	return ret;
}

static int srv_args_seccomp(const char *s, enum srv_seccomp *m)
{
	static const char *const names[] = {
		[SRV_SECCOMP_ON] = "on",
		[SRV_SECCOMP_DEBUG] = "debug",
		[SRV_SECCOMP_OFF] = "off",
	};
	unsigned i;
	int ret = srv_args_word(s, names, sizeof(names) / sizeof(names[0]), &i);

	if (!ret)
		*m = (enum srv_seccomp)i;
	return ret;
}

/* Returns 0 or -EINVAL (unknown word, missing value, no --ctl-fd). */
int srv_args_parse(int argc, char **argv, const struct srv_dev_ops *ops,
		   void *dev, struct srv_args *a)
{
	a->ctl_fd = -1;
	a->level = SRV_LOG_WARN;
	a->outer_pid = 0;
	a->seccomp = SRV_SECCOMP_ON;
	/* Every option takes a value: they come in pairs. */
	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int ret;

		if (!v)
			ret = -EINVAL;
		else if (!strcmp(argv[i], "--ctl-fd"))
			ret = srv_args_fd(v, &a->ctl_fd);
		else if (!strcmp(argv[i], "--log-level"))
			ret = srv_args_level(v, &a->level);
		else if (!strcmp(argv[i], "--outer-pid") && v)
			ret = srv_args_pid(v, &a->outer_pid);
		else if (!strcmp(argv[i], "--seccomp"))
			ret = srv_args_seccomp(v, &a->seccomp);
		else if (ops->option)
			ret = ops->option(dev, argv[i], v);
		else
			ret = -EINVAL;
		if (ret)
			return ret;
	}
	return a->ctl_fd < 0 ? -EINVAL : 0;
}
