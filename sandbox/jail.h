/*
 * jail.h: the steps between the launcher's clone() and the server's exec.
 *
 * The launcher clones the child into new user, mount, pid, network, ipc
 * and uts namespaces (jail_clone), maps its ids (jail_map_ids), then lets
 * it go; the child (jail_child) pivots into an empty read-only tmpfs,
 * keeps only the fds it was given, starts a session, sets its rlimits,
 * drops every capability and sets no_new_privs, then execs the server by
 * fd with an empty environment. The server installs its seccomp filter
 * itself, after set-up (devsrv/common). Each step has a name, and a failed
 * step is reported by it: in SANDBOX_ON it stops the spawn, in
 * SANDBOX_RELAXED it becomes a warning.
 */
#ifndef ISOVM_SANDBOX_JAIL_H
#define ISOVM_SANDBOX_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox/launcher.h"

/* Every namespace a jailed server gets. */
#define JAIL_NS_ALL                                                      \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |     \
	 CLONE_NEWIPC | CLONE_NEWUTS)

/* What the child needs; every fd is above JAIL_FD_LOW. */
struct jail_job {
	const char *const *argv;
	enum sandbox_mode mode;
	struct sandbox_limits limits;
	unsigned long ns;     /* the namespaces it was cloned into */
	bool static_binary;   /* can run in an empty root */
	int bin_fd;	      /* the server binary, for execveat */
	int go_fd;	      /* read: the child's pid outside, once ids map */
	int report_fd;	      /* write: 'E' or 'W' records; closes on exec */
	int null_fd, ctl_fd, log_fd;
	int vmm_pidfd;	      /* readable once the VMM is gone */
};

/* The launcher keeps its fds at or above this, so the child's moves
 * to 0..5 never overwrite one it still needs. */
#define JAIL_FD_LOW 16

/*
 * Launcher: clone a child of our parent (CLONE_PARENT) into the
 * namespaces the mode allows. *ns gets the ones it has. In SANDBOX_ON a
 * namespace that cannot be made is an error naming it; in
 * SANDBOX_RELAXED fewer are tried (warn says which were left out). Returns
 * the pid in the parent, 0 in the child, or -errno.
 */
pid_t jail_clone(enum sandbox_mode mode, unsigned long *ns, char *warn,
		 size_t warnlen, char *err, size_t errlen);

/* Launcher: map the child's root to an unprivileged id (nobody when we
 * are root, else ourselves). 0 or -errno with err set. */
int jail_map_ids(pid_t pid, char *err, size_t errlen);

/* Whether the ELF binary at fd has no program interpreter. */
bool jail_binary_is_static(int fd);

/* Child: the steps, then exec. Never returns. */
_Noreturn void jail_child(const struct jail_job *j);

#endif
