/*
 * seccomp_policy.h: system-call allowlists as readable tables, and the one
 * function that turns a table into a seccomp filter (libseccomp).
 *
 * A policy is a table of rows, one per system call (or per allowed form of
 * one, when an argument is checked), each saying in a word what the
 * process uses it for. Anything not in the table kills the whole process
 * (SECCOMP_RET_KILL_PROCESS), or, in debug mode, is logged by name on
 * stderr and fails with ENOSYS so the next missing row shows up too.
 */
#ifndef ISOVM_SANDBOX_SECCOMP_POLICY_H
#define ISOVM_SANDBOX_SECCOMP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a row checks one argument of the call. */
enum sandbox_arg_check {
	SANDBOX_ARG_ANY = 0,   /* no check: every form of the call */
	SANDBOX_ARG_EQ,	       /* args[arg] == value */
	SANDBOX_ARG_MASKED_EQ, /* (args[arg] & mask) == value */
};

struct sandbox_syscall {
	const char *name; /* as libseccomp names it: "read", "ioctl" */
	const char *why;  /* what the process needs it for, briefly */
	enum sandbox_arg_check check;
	unsigned arg; /* 0..5, with check != SANDBOX_ARG_ANY */
	uint64_t mask;
	uint64_t value;
};

struct sandbox_policy {
	const char *name; /* "isovm-blk", "vcpu thread", ... */
	const struct sandbox_syscall *rows;
	size_t nrows;
};

#define SANDBOX_POLICY(n, table) \
	{.name = (n), .rows = (table), .nrows = sizeof(table) / sizeof((table)[0])}

/* Device servers. */
extern const struct sandbox_policy sandbox_policy_blk;
extern const struct sandbox_policy sandbox_policy_console;
/* The VMM itself, once it is set up. */
extern const struct sandbox_policy sandbox_policy_vcpu;
extern const struct sandbox_policy sandbox_policy_iothread;
extern const struct sandbox_policy sandbox_policy_vmm_main;

/*
 * Load policy p. all_threads: for every thread of the process (TSYNC),
 * else for the calling thread only (and the threads it creates later).
 * debug: log refused calls by name and fail them with ENOSYS instead of
 * killing. Returns 0, or -errno with one line in err (a row naming an
 * unknown system call is an error, not a silent hole).
 */
int sandbox_seccomp_install(const struct sandbox_policy *p, bool all_threads,
			    bool debug, char *err, size_t errlen);

#endif
