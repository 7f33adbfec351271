/*
 * escape.h: test-only attempts to break out of a device server's sandbox,
 * one system call (or two) each. A server makes one on the VMM's request
 * (CTL_ESCAPE) to prove its jail and filter refuse it; nothing else calls
 * them.
 */
#ifndef ISOVM_SANDBOX_ESCAPE_H
#define ISOVM_SANDBOX_ESCAPE_H

enum sandbox_escape {
	SANDBOX_ESCAPE_OPEN_PASSWD = 1, /* open("/etc/passwd") */
	SANDBOX_ESCAPE_SOCKET_INET,	/* socket(AF_INET) */
	SANDBOX_ESCAPE_CONNECT_UNIX,	/* a unix socket, connect() to a path */
	SANDBOX_ESCAPE_EXECVE,		/* execve("/bin/sh") */
	SANDBOX_ESCAPE_PTRACE,		/* PTRACE_ATTACH of the parent */
	SANDBOX_ESCAPE_MOUNT,		/* a tmpfs on "/" (undone at once) */
	SANDBOX_ESCAPE_UNSHARE,		/* unshare(CLONE_NEWUSER) */
	SANDBOX_ESCAPE_KEYCTL,		/* the session keyring's id */
	SANDBOX_ESCAPE_BPF,		/* a BPF array map */
	SANDBOX_ESCAPE_IO_URING,	/* io_uring_setup() */
	SANDBOX_ESCAPE_USERFAULTFD,	/* userfaultfd() */
	SANDBOX_ESCAPE_PERF_EVENT,	/* perf_event_open() of itself */
	SANDBOX_ESCAPE_KILL_PARENT,	/* SIGKILL to the parent */
	SANDBOX_ESCAPE_WRITE_FOREIGN_FD, /* write() to an fd never given */
	SANDBOX_ESCAPE_END,		 /* one past the last */
};

/* The fd of SANDBOX_ESCAPE_WRITE_FOREIGN_FD. */
#define SANDBOX_ESCAPE_FOREIGN_FD 100

/* Short name ("open-passwd", "io-uring", ...), or NULL for no attempt. */
const char *sandbox_escape_name(unsigned e);

/* The attempt of a short name, or 0 when there is none. */
enum sandbox_escape sandbox_escape_parse(const char *name);

/*
 * Make attempt e, if the sandbox lets the process live through it.
 * Returns the errno it failed with (ENOSYS in seccomp debug mode), 0 when
 * it SUCCEEDED (the sandbox is broken; what the attempt got, an fd or a
 * mount, is undone where that can be done), or -EINVAL for no attempt.
 * An execve that succeeds does not return.
 */
int sandbox_escape_try(unsigned e);

#endif
