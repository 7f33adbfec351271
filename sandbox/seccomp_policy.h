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
	SANDBOX_ARG_EQ_SLOT,   /* args[arg] == slots[value]: a number known
				* only when the filter is installed (an fd
				* the process was given); the row allows
				* nothing when that slot is absent */
};

/* The slots of the device servers' policies (sandbox_srv_slots[]). */
enum sandbox_srv_slot {
	SANDBOX_SLOT_CTL,	  /* control socket */
	SANDBOX_SLOT_KICK,	  /* submission wake-ups (read) */
	SANDBOX_SLOT_CALL,	  /* completion wake-ups (write) */
	SANDBOX_SLOT_WAKE,	  /* the core's async-completion eventfd */
	SANDBOX_SLOT_BACKEND,	  /* CTL_FD_BACKEND: image, tty, listener */
	SANDBOX_SLOT_BACKEND_OUT, /* CTL_FD_BACKEND_OUT */
	SANDBOX_SLOT_OUT_PIPE,	  /* CTL_FD_OUT_PIPE: the console's output */
	SANDBOX_SLOT_IN_PIPE,	  /* CTL_FD_IN_PIPE: the console's input */
	SANDBOX_SRV_SLOTS,
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
	/* Rows every process of its kind needs, added before these (a
	 * layer: what any device server needs, then one device's); NULL
	 * for none. */
	const struct sandbox_policy *base;
};

/* One initializer a line reads better than clang-format's layout. */
/* clang-format off */
#define SANDBOX_POLICY(n, table) \
	{.name = (n), .rows = (table), .nrows = sizeof(table) / sizeof((table)[0])}
#define SANDBOX_POLICY_ON(n, b, table)                                       \
	{.name = (n), .rows = (table),                                       \
	 .nrows = sizeof(table) / sizeof((table)[0]), .base = (b)}

/* Rows of a table: the call by its bare name, then its checks, the why. */
#define SANDBOX_ROW(call, why_) {.name = #call, .why = (why_)}
#define SANDBOX_ROW_EQ(call, a, v, why_)                                     \
	{.name = #call, .why = (why_), .check = SANDBOX_ARG_EQ, .arg = (a),  \
	 .value = (v)}
#define SANDBOX_ROW_MASKED(call, a, m, v, why_)                              \
	{.name = #call, .why = (why_), .check = SANDBOX_ARG_MASKED_EQ,       \
	 .arg = (a), .mask = (m), .value = (v)}
#define SANDBOX_ROW_SLOT(call, a, slot, why_)                                \
	{.name = #call, .why = (why_), .check = SANDBOX_ARG_EQ_SLOT,         \
	 .arg = (a), .value = (slot)}
/* clang-format on */

/* Device servers: what every one needs after set-up (the base of the
 * others), and each device's own. */
extern const struct sandbox_policy sandbox_policy_srv;
extern const struct sandbox_policy sandbox_policy_blk;
extern const struct sandbox_policy sandbox_policy_console;
extern const struct sandbox_policy sandbox_policy_net;
/* The VMM itself, once it is set up. */
extern const struct sandbox_policy sandbox_policy_vcpu;
extern const struct sandbox_policy sandbox_policy_iothread;
extern const struct sandbox_policy sandbox_policy_vmm_main;

/*
 * Load policy p. all_threads: for every thread of the process (TSYNC),
 * else for the calling thread only (and the threads it creates later).
 * debug: log refused calls by name and fail them with ENOSYS instead of
 * killing: a SIGSYS handler (installed here, process-wide) writes
 *     seccomp: <policy name> refused <syscall name> (nr N)
 * to fd 2, and rt_sigreturn and write to fd 2 are allowed for it. Another
 * architecture's calls (x32, int 0x80) kill in both modes. Sets
 * PR_SET_NO_NEW_PRIVS. Returns 0, or -errno with one line in err (a row
 * naming an unknown system call is an error, not a silent hole). Nothing
 * is loaded on error.
 */
int sandbox_seccomp_install(const struct sandbox_policy *p, bool all_threads,
			    bool debug, char *err, size_t errlen);

/*
 * The same for a policy with SANDBOX_ARG_EQ_SLOT rows: slots[i] is the
 * value of slot i, negative when absent (as are slots past nslots).
 * In debug mode the policy's name is kept for the reports: p->name must
 * live as long as the process.
 */
int sandbox_seccomp_install_slots(const struct sandbox_policy *p,
				  const int64_t *slots, size_t nslots,
				  bool all_threads, bool debug, char *err,
				  size_t errlen);

#endif
