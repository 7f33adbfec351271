/*
 * spawner.h: the VMM's one launcher (sandbox/launcher.h), through which
 * every device server is started, jailed.
 *
 * main() starts it before guest memory exists; from then on the VMM
 * itself never forks or execs. A server's death signal follows the thread
 * that forked the launcher, so that must be the main thread, which lives
 * as long as the process.
 */
#ifndef ISOVM_SPAWNER_H
#define ISOVM_SPAWNER_H

#include <stddef.h>
#include <sys/types.h>

#include "sandbox/launcher.h"

/* Start the launcher (once; later calls return 0). 0 or -errno, err set. */
int spawner_init(char *err, size_t errlen);

/*
 * Any thread: start a server through the launcher (started here on first
 * use when spawner_init() was not called: unit tests). Its pid, or -errno
 * with one line in err; warn lists skipped jail steps.
 */
pid_t spawner_spawn(const struct sandbox_spawn *sp, int *pidfd, char *warn,
		    size_t warnlen, char *err, size_t errlen);

/* Stop the launcher (at exit; the servers are already stopped). */
void spawner_fini(void);

#endif
