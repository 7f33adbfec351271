/*
 * coalesce_poll.h: the I/O-thread timer that replays the coalesced ring
 * when the guest writes the UART and then makes no exit (it halts, say).
 * It looks every millisecond while the guest uses the UART and every
 * COALESCE_POLL_SLOW_MS once it has been quiet for a while.
 */
#ifndef ISOVM_COALESCE_POLL_H
#define ISOVM_COALESCE_POLL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "vcpu/core/coalesce.h"
#include "vcpu/core/iothread.h"

#define COALESCE_POLL_FAST_US 1000
#define COALESCE_POLL_SLOW_MS 20
/* Quiet fast looks in a row before slowing down. */
#define COALESCE_POLL_QUIET   50

struct coalesce_poll {
	struct coalesce *c;
	struct event *timer;
	unsigned quiet; /* I/O thread only */
	atomic_bool slow;
};

/* Arms the timer on io (before iothread_start). 0 or -ENOMEM. */
int coalesce_poll_start(struct coalesce_poll *p, struct coalesce *c,
			struct iothread *io);

/* After iothread_stop(): frees the timer. Safe without a start. */
void coalesce_poll_stop(struct coalesce_poll *p);

/*
 * Any thread: the guest touched the UART, output may follow: look soon.
 * One atomic load when the poller is fast already.
 */
void coalesce_poll_hurry(struct coalesce_poll *p);

#endif
