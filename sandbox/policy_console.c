/*
 * policy_console.c: isovm-console once it is set up: the device-server
 * base, and the bytes between the VMM's two pipes and the backend (or a
 * socket backend's client, which comes after the filter: those rows take
 * any fd). No open, no socket: the pipes and backend fds were probed and
 * made non-blocking during set-up; a client is probed as it comes.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "sandbox/seccomp_policy.h"

static const struct sandbox_syscall sandbox_console_rows[] = {
	SANDBOX_ROW_SLOT(splice, 0, SANDBOX_SLOT_OUT_PIPE,
			 "guest output: OUT pipe -> backend"),
	SANDBOX_ROW_SLOT(splice, 2, SANDBOX_SLOT_IN_PIPE,
			 "guest input: backend -> IN pipe"),
	SANDBOX_ROW(read, "the read/write fallback where splice is refused; "
			  "output dropped without a client"),
	SANDBOX_ROW_SLOT(write, 0, SANDBOX_SLOT_BACKEND,
			 "the read/write fallback where splice is refused"),
	SANDBOX_ROW_SLOT(write, 0, SANDBOX_SLOT_BACKEND_OUT,
			 "the same, stdout (a stdout redirected with >>)"),
	SANDBOX_ROW_EQ(ioctl, 1, FIONREAD,
		       "bytes waiting in the OUT pipe (kept output, the "
		       "drain at exit)"),
	SANDBOX_ROW_EQ(poll, 1, 1,
		       "which side of a blocked splice to wait for; the drain "
		       "at exit"),
	SANDBOX_ROW_SLOT(accept4, 0, SANDBOX_SLOT_BACKEND,
			 "socket backend: a client"),
	SANDBOX_ROW(fstat, "a new client's kind (its root is empty: no path "
			   "names anything)"),
	SANDBOX_ROW_EQ(newfstatat, 3, AT_EMPTY_PATH, "fstat, as glibc makes it"),
	SANDBOX_ROW_EQ(fcntl, 1, F_GETFL, "a new client is non-blocking"),
	SANDBOX_ROW_EQ(fcntl, 1, F_SETFL, "...or made so"),
};

const struct sandbox_policy sandbox_policy_console = SANDBOX_POLICY_ON(
	"isovm-console", &sandbox_policy_srv, sandbox_console_rows);
