/*
 * spawner.h: fork+exec of device servers from one thread that lives as
 * long as the process.
 *
 * A server asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG), and
 * Linux means the parent *thread*: a server forked by the I/O thread (a
 * restart) would be killed the moment that thread is joined at shutdown,
 * before it could flush and exit cleanly. So every fork happens on the
 * spawner thread, which is never joined: the signal then comes exactly
 * when the VMM process ends.
 */
#ifndef ISOVM_SPAWNER_H
#define ISOVM_SPAWNER_H

#include <sys/types.h>

/*
 * Any thread: run fn(arg) on the spawner thread (started on first use)
 * and return what it returned. fn forks; it must not block. -errno when
 * the thread cannot be started.
 */
pid_t spawner_call(pid_t (*fn)(void *arg), void *arg);

#endif
