/*
 * launcher.h: the process that starts every device server, jailed.
 *
 * The VMM forks the launcher once, at start, before guest memory exists
 * and before it opens anything a server should not see; after that the
 * VMM never forks or execs (its own seccomp filter forbids both). A spawn
 * request travels over a unix socket with the server's control socket and
 * log pipe; the launcher clones the server into its jail (jail.h) as a
 * child of the VMM itself (CLONE_PARENT), so the VMM reaps it, watches it
 * with a pidfd and is the parent its death signal follows.
 */
#ifndef ISOVM_SANDBOX_LAUNCHER_H
#define ISOVM_SANDBOX_LAUNCHER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sandbox_mode {
	SANDBOX_ON,	 /* every step of the jail, or no server */
	SANDBOX_RELAXED, /* a step the host cannot do is skipped, with a warning */
	SANDBOX_OFF,	 /* fds, environment and session only */
};

/* Resource limits of one server; 0: that limit is left as it is. */
struct sandbox_limits {
	uint64_t as_bytes;	/* RLIMIT_AS */
	uint64_t memlock_bytes; /* RLIMIT_MEMLOCK (0 is set as 0) */
	unsigned nofile;	/* RLIMIT_NOFILE */
	unsigned nproc;		/* RLIMIT_NPROC: processes and threads */
};

/* An address-space limit, except under AddressSanitizer, whose shadow
 * memory is terabytes of address space. */
#ifdef ISOVM_SANITIZE
#define SANDBOX_AS(bytes) 0
#else
#define SANDBOX_AS(bytes) (bytes)
#endif

#define SANDBOX_ARGS_MAX 16
#define SANDBOX_TEXT_MAX 512 /* what a spawn reports: error or warnings */

struct sandbox_spawn {
	const char *path;	 /* absolute path of the server binary */
	const char *const *argv; /* argv[0] first, NULL-terminated */
	int ctl_fd;		 /* the server's fd 3 */
	int log_fd;		 /* its fds 1 and 2 (fd 0 is /dev/null) */
	enum sandbox_mode mode;
	struct sandbox_limits limits;
};

struct sandbox_launcher {
	int sock;	     /* our end; -1 when not started */
	pid_t pid;	     /* the launcher */
	int pidfd;	     /* ...to reap it without wait4 */
	pthread_mutex_t lock; /* one request at a time */
};

/*
 * Fork the launcher. Call early: from the thread that lives as long as
 * the process (servers die with it), before guest memory is mapped. 0, or
 * -errno with one line in err.
 */
int sandbox_launcher_start(struct sandbox_launcher *l, char *err,
			   size_t errlen);

/*
 * Any thread: start a server. Returns its pid (a child of this process:
 * reap it) and its pidfd in *pidfd (the launcher opens it, so that a
 * confined caller needs neither pidfd_open nor a fallback), or -errno
 * with one line in err naming the step that failed (a server that failed
 * a step is reaped here). Skipped steps (SANDBOX_RELAXED) are listed in
 * warn ("" when none).
 */
pid_t sandbox_launcher_spawn(struct sandbox_launcher *l,
			     const struct sandbox_spawn *sp, int *pidfd,
			     char *warn, size_t warnlen, char *err,
			     size_t errlen);

/* Close the socket (the launcher then exits) and reap the launcher. */
void sandbox_launcher_stop(struct sandbox_launcher *l);

#endif
