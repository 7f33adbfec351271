/*
 * bench_netns.h: a network namespace per case of the net benchmark, named
 * "bnE-<pid>-<tag>": the calling thread enters it, so the VMMs it spawns,
 * their taps and the host's frame peers all live in it and nothing of the
 * host's own traffic mixes in. Not thread-safe: call from the main thread,
 * before any peer thread starts.
 */
#ifndef ISOVM_BENCH_NETNS_H
#define ISOVM_BENCH_NETNS_H

/*
 * Makes the namespace with `ip netns add` and enters it, loopback up.
 * SIGINT, SIGTERM and SIGHUP remove it before the process dies. One at a
 * time: leave the last before entering the next. 0 or -1 (printed).
 */
int bench_netns_enter(const char *tag);

/* Runs `ip ARGS` in the namespace; 0 or -1 (printed). */
int bench_netns_ip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Goes back to the namespace the process started in and removes the
 * bench's one; it and its interfaces go once no process uses it.
 * Idempotent.
 */
void bench_netns_leave(void);

#endif
