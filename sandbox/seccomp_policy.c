/*
 * seccomp_policy.c: sandbox_seccomp_install(), a policy table turned into a
 * libseccomp filter and loaded. A minimal stand-in, to be replaced by the
 * full installer; it keeps only the contract of seccomp_policy.h.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "sandbox/seccomp_policy.h"

/* Names of the native system calls for the debug handler, made before any
 * filter is loaded (the handler itself must not allocate). */
#define SECCOMP_NAMES_MAX 512
static const char *seccomp_names[SECCOMP_NAMES_MAX];

static int seccomp_errf(char *err, size_t errlen, int ret, const char *fmt,
			const char *a, const char *b)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a, b);
	return ret;
}

/* Debug mode: one line on stderr, and the call fails with ENOSYS. */
static void seccomp_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int nr = si->si_syscall;
	const char *name =
		nr >= 0 && nr < SECCOMP_NAMES_MAX && seccomp_names[nr]
			? seccomp_names[nr]
			: "?";
	char line[160];
	int n;

	(void)sig;
	/* Only write(): the handler itself runs under the filter. */
	n = snprintf(line, sizeof(line),
		     "isovm: seccomp: refused system call %s (%d)\n", name, nr);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		n = 0;
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

static int seccomp_debug_handler(void)
{
	static int done;
	struct sigaction sa;

	if (done)
		return 0;
	for (int nr = 0; nr < SECCOMP_NAMES_MAX; nr++)
		seccomp_names[nr] =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = seccomp_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	done = 1;
	return 0;
}

static int seccomp_add_row(scmp_filter_ctx ctx, const struct sandbox_syscall *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	struct scmp_arg_cmp cmp;

	if (nr == __NR_SCMP_ERROR)
		return -ENOENT;
	switch (r->check) {
	case SANDBOX_ARG_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case SANDBOX_ARG_EQ:
		cmp = (struct scmp_arg_cmp)SCMP_CMP(r->arg, SCMP_CMP_EQ,
						    r->value);
		break;
	case SANDBOX_ARG_MASKED_EQ:
		cmp = (struct scmp_arg_cmp)SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ,
						    r->mask, r->value);
		break;
	default:
		return -EINVAL;
	}
	if (r->arg > 5)
		return -EINVAL;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
}

int sandbox_seccomp_install(const struct sandbox_policy *p, bool all_threads,
			    bool debug, char *err, size_t errlen)
{
	uint32_t deny = debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	int ret;

	if (debug) {
		ret = seccomp_debug_handler();
		if (ret)
			return seccomp_errf(err, errlen, ret,
					    "%s: SIGSYS handler: %s", p->name,
					    strerror(-ret));
	}
	ctx = seccomp_init(deny);
	if (!ctx)
		return seccomp_errf(err, errlen, -ENOMEM, "%s: %s", p->name,
				    "seccomp_init failed");
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	if (!ret && all_threads)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret) {
		seccomp_errf(err, errlen, ret, "%s: filter attributes: %s",
			     p->name, strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < p->nrows; i++) {
		ret = seccomp_add_row(ctx, &p->rows[i]);
		if (ret) {
			if (err && errlen)
				snprintf(err, errlen, "%s: row %s: %s", p->name,
					 p->rows[i].name,
					 ret == -ENOENT ? "no such system call"
							: strerror(-ret));
			goto out;
		}
	}
	ret = seccomp_load(ctx);
	if (ret)
		seccomp_errf(err, errlen, ret, "%s: seccomp_load: %s", p->name,
			     strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}
