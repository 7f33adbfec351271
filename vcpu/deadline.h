/* deadline.h: an absolute time ms from now, for pthread_cond_timedwait. */
#ifndef ISOVM_DEADLINE_H
#define ISOVM_DEADLINE_H

#include <time.h>

/* clock must be the one the condition variable waits on. */
static inline struct timespec deadline_after_ms(clockid_t clock, unsigned ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

#endif
