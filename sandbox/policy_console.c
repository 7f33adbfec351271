/*
 * policy_console.c: isovm-console once it is set up: the device-server
 * base, and its backend's bytes both ways. No ioctl: terminal modes are
 * the VMM's; no fstat, fcntl: a socket client comes non-blocking from
 * accept4 and needs no probing.
 */
#include "sandbox/seccomp_policy.h"

static const struct sandbox_syscall sandbox_console_rows[] = {
	/* Any fd: a socket backend's client comes after the filter. */
	SANDBOX_ROW(read, "guest input from the backend or its client"),
	SANDBOX_ROW(writev, "guest output to the backend or its client"),
	SANDBOX_ROW_SLOT(accept4, 0, SANDBOX_SLOT_BACKEND,
			 "socket backend: a client"),
	SANDBOX_ROW_EQ(poll, 1, 1, "output drained at exit"),
};

const struct sandbox_policy sandbox_policy_console = SANDBOX_POLICY_ON(
	"isovm-console", &sandbox_policy_srv, sandbox_console_rows);
