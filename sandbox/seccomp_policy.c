/*
 * seccomp_policy.c: an allowlist table becomes a seccomp filter
 * (libseccomp); in debug mode a SIGSYS handler names each refused call.
 */
#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef __x86_64__
#error "the debug handler sets the x86-64 return register"
#endif

/* si_code of a seccomp trap; older glibc headers lack it. */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* x86-64 numbers its calls below 512; the debug handler names those. */
#define SANDBOX_NR_MAX	 512
#define SANDBOX_NAME_MAX 32

/*
 * Filled once, before the first filter is loaded, and only read after
 * (by the handler, which may not allocate or call into libseccomp).
 */
static char sandbox_names[SANDBOX_NR_MAX][SANDBOX_NAME_MAX];
static pthread_once_t sandbox_names_once = PTHREAD_ONCE_INIT;

/*
 * The policy a report names: the one installed for this thread alone,
 * else the last one installed for the whole process.
 */
static _Thread_local const char *sandbox_trap_thread;
static atomic_bool sandbox_handler_set;
static const char *volatile sandbox_trap_process;

static int sandbox_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sandbox_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static void sandbox_names_fill(void)
{
	for (int nr = 0; nr < SANDBOX_NR_MAX; nr++) {
		char *n =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (!n)
			continue;
		snprintf(sandbox_names[nr], SANDBOX_NAME_MAX, "%s", n);
		free(n);
	}
}

/* Append s to line[*n..cap) without libc formatting (signal context). */
static void sandbox_put(char *line, size_t *n, size_t cap, const char *s)
{
	while (*s && *n < cap)
		line[(*n)++] = *s++;
}

static void sandbox_put_u(char *line, size_t *n, size_t cap, unsigned v)
{
	char d[12];
	int i = (int)sizeof(d);

	d[--i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	sandbox_put(line, n, cap, d + i);
}

/*
 * SIGSYS of a SECCOMP_RET_TRAP: one line on fd 2, then the call returns
 * -ENOSYS. Async-signal-safe: the name table is filled already, the line
 * is built by hand and goes out in one write().
 */
static void sandbox_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const char *policy = sandbox_trap_thread;
	unsigned nr = (unsigned)si->si_syscall;
	char line[160];
	size_t n = 0;
	int saved = errno;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return; /* someone's kill(): no call to fail */
	if (!policy)
		policy = sandbox_trap_process;
	sandbox_put(line, &n, sizeof(line) - 1, "seccomp: ");
	sandbox_put(line, &n, sizeof(line) - 1, policy ? policy : "?");
	sandbox_put(line, &n, sizeof(line) - 1, " refused ");
	sandbox_put(line, &n, sizeof(line) - 1,
		    nr < SANDBOX_NR_MAX && sandbox_names[nr][0]
			    ? sandbox_names[nr]
			    : "?");
	sandbox_put(line, &n, sizeof(line) - 1, " (nr ");
	sandbox_put_u(line, &n, sizeof(line) - 1, nr);
	sandbox_put(line, &n, sizeof(line) - 1, ")");
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nothing to tell anyone. */
	}
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
	errno = saved;
}

/* The handler, unblocked in this thread, and the calls it needs. */
static int sandbox_debug_prepare(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	struct sigaction sa;
	sigset_t set;
	int ret;

	ret = pthread_once(&sandbox_names_once, sandbox_names_fill);
	if (ret)
		return sandbox_fail(err, errlen, -ret, "debug: name table: %s",
				    strerror(ret));
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigreturn), 0);
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				       SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO));
	if (ret)
		return sandbox_fail(err, errlen, ret,
				    "debug: rows of the handler: %s",
				    strerror(-ret));
	/* Once per process: a later install may already run under a filter
	 * that refuses rt_sigaction (a vCPU thread's under main's). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (!atomic_load(&sandbox_handler_set)) {
		if (sigaction(SIGSYS, &sa, NULL))
			return sandbox_fail(err, errlen, -errno,
					    "debug: SIGSYS handler: %s",
					    strerror(errno));
		atomic_store(&sandbox_handler_set, true);
	}
	/* A blocked SIGSYS would kill at the first refused call. */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	ret = pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (ret)
		return sandbox_fail(err, errlen, -ret,
				    "debug: unblock SIGSYS: %s", strerror(ret));
	return 0;
}

/* One row: its call resolved by name, its argument check, OR-ed in. */
static int sandbox_row_add(scmp_filter_ctx ctx, const struct sandbox_policy *p,
			   const struct sandbox_syscall *r,
			   const int64_t *slots, size_t nslots, char *err,
			   size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	struct scmp_arg_cmp cmp;
	int ret;

	if (nr == __NR_SCMP_ERROR)
		return sandbox_fail(err, errlen, -EINVAL,
				    "%s: unknown system call \"%s\"", p->name,
				    r->name);
	/* libseccomp's numbers for calls of other architectures only. */
	if (nr < 0)
		return sandbox_fail(err, errlen, -EINVAL,
				    "%s: \"%s\" is no system call of this "
				    "architecture",
				    p->name, r->name);
	if (r->check != SANDBOX_ARG_ANY && r->arg > 5)
		return sandbox_fail(err, errlen, -EINVAL,
				    "%s: %s checks argument %u (0..5)", p->name,
				    r->name, r->arg);
	switch (r->check) {
	case SANDBOX_ARG_ANY:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		break;
	case SANDBOX_ARG_EQ:
		cmp = SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
		break;
	case SANDBOX_ARG_MASKED_EQ:
		cmp = SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->mask, r->value);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
		break;
	case SANDBOX_ARG_EQ_SLOT:
		/* An absent fd or pid: there is nothing to allow. */
		if (r->value >= nslots || slots[r->value] < 0)
			return 0;
		cmp = SCMP_CMP(r->arg, SCMP_CMP_EQ,
			       (scmp_datum_t)slots[r->value]);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
		break;
	default:
		return sandbox_fail(err, errlen, -EINVAL,
				    "%s: %s: unknown argument check %d",
				    p->name, r->name, (int)r->check);
	}
	if (ret)
		return sandbox_fail(err, errlen, ret, "%s: row %s: %s", p->name,
				    r->name, strerror(-ret));
	return 0;
}

/* The rows of p's base layers, then its own. */
static int sandbox_rows_add(scmp_filter_ctx ctx, const struct sandbox_policy *p,
			    const int64_t *slots, size_t nslots, unsigned depth,
			    char *err, size_t errlen)
{
	int ret;

	/* A loop of bases would never end. */
	if (depth > 8)
		return sandbox_fail(err, errlen, -ELOOP, "%s: bases too deep",
				    p->name);
	if (p->base) {
		ret = sandbox_rows_add(ctx, p->base, slots, nslots, depth + 1,
				       err, errlen);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < p->nrows; i++) {
		ret = sandbox_row_add(ctx, p, &p->rows[i], slots, nslots, err,
				      errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int sandbox_build(scmp_filter_ctx ctx, const struct sandbox_policy *p,
			 const int64_t *slots, size_t nslots, bool all_threads,
			 char *err, size_t errlen)
{
	int ret;

	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			       SCMP_ACT_KILL_PROCESS);
	if (!ret && all_threads)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret)
		return sandbox_fail(err, errlen, ret,
				    "%s: filter attributes: %s", p->name,
				    strerror(-ret));
	return sandbox_rows_add(ctx, p, slots, nslots, 0, err, errlen);
}

int sandbox_seccomp_install_slots(const struct sandbox_policy *p,
				  const int64_t *slots, size_t nslots,
				  bool all_threads, bool debug, char *err,
				  size_t errlen)
{
	scmp_filter_ctx ctx;
	int ret;

	ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return sandbox_fail(err, errlen, -ENOMEM,
				    "%s: seccomp_init failed", p->name);
	ret = sandbox_build(ctx, p, slots, nslots, all_threads, err, errlen);
	if (!ret && debug)
		ret = sandbox_debug_prepare(ctx, err, errlen);
	if (ret)
		goto out;
	if (debug) {
		/* Before the load: the first trap may come right after. */
		sandbox_trap_thread = all_threads ? NULL : p->name;
		if (all_threads || !sandbox_trap_process)
			sandbox_trap_process = p->name;
	}
	ret = seccomp_load(ctx);
	if (ret)
		sandbox_fail(err, errlen, ret, "%s: loading the filter: %s",
			     p->name, strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}

int sandbox_seccomp_install(const struct sandbox_policy *p, bool all_threads,
			    bool debug, char *err, size_t errlen)
{
	return sandbox_seccomp_install_slots(p, NULL, 0, all_threads, debug,
					     err, errlen);
}
