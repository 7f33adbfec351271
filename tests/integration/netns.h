/*
 * netns.h: a network namespace of a test's own, for the net tests: made
 * with `ip netns add`, entered by the test process (so isovm, the taps and
 * the host-side peer all live in it), removed with everything in it.
 */
#ifndef ISOVM_TEST_NETNS_H
#define ISOVM_TEST_NETNS_H

#include <stdbool.h>

/* "isovm-t<pid>-<tag>" made and entered; fails the test if it cannot. */
void netns_enter(const char *tag);

/* Leaves nothing behind (`ip netns del`); idempotent. */
void netns_remove(void);

/* Run `ip ARGS` (split by the shell) inside it; fails the test on error. */
void netns_ip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A persistent tap IFNAME, up, with ADDR (e.g. "10.0.0.1/24") or none. */
void netns_tap(const char *ifname, const char *addr);

/* Waits up to timeout_ms for IFNAME to have a carrier (an fd attached:
 * isovm took the tap). */
bool netns_wait_carrier(const char *ifname, int timeout_ms);

#endif
