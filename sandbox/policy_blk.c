/*
 * policy_blk.c: isovm-blk once it is set up: the device-server base, and
 * I/O on the one image fd the VMM gave it, from its worker threads.
 */
#include "sandbox/seccomp_policy.h"

static const struct sandbox_syscall sandbox_blk_rows[] = {
	SANDBOX_ROW_SLOT(pread64, 0, SANDBOX_SLOT_BACKEND, "image reads"),
	SANDBOX_ROW_SLOT(pwrite64, 0, SANDBOX_SLOT_BACKEND, "image writes"),
	SANDBOX_ROW_SLOT(fdatasync, 0, SANDBOX_SLOT_BACKEND, "FLUSH"),
	SANDBOX_ROW_SLOT(fallocate, 0, SANDBOX_SLOT_BACKEND,
			 "DISCARD, WRITE_ZEROES"),
	/* The worker threads, started before the filter. */
	SANDBOX_ROW(exit, "a worker ends"),
};

const struct sandbox_policy sandbox_policy_blk =
	SANDBOX_POLICY_ON("isovm-blk", &sandbox_policy_srv, sandbox_blk_rows);
