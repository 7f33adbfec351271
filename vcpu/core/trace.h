/*
 * trace.h: a live stream of what the devices do, request by request, and
 * of the virtqueue rules guest drivers break, for the management API's
 * trace call. Costs one atomic load per event while nobody listens.
 */
#ifndef ISOVM_TRACE_H
#define ISOVM_TRACE_H

#include <stdint.h>

#define TRACE_TEXT_MAX 159

struct trace_event {
	const char *op;	     /* read, write, flush, ..., violation */
	const char *syscall; /* pread, pwrite, fdatasync, fallocate, none */
	unsigned queue, head;
	uint64_t sector;
	uint32_t bytes;
	uint64_t file_offset;
	uint8_t status;	     /* what the guest got */
	uint64_t latency_us;
	const char *text;    /* a violation's rule, or NULL */
};

/* Called with each event of device 'dev', on the thread that made it. */
typedef void trace_sink_fn(void *opaque, const char *dev,
			   const struct trace_event *e);

/* One sink (the API server); NULL fn removes it. Before or after the
 * threads that emit run, or while they may emit (a sink must stay valid
 * until trace_set_sink(NULL, NULL) returned and they stopped). */
void trace_set_sink(trace_sink_fn *fn, void *opaque);

/* The sink says how many clients listen (0: events are not even made). */
void trace_set_listeners(unsigned n);

/* Any thread: whether anyone listens now; check before making an event. */
int trace_on(void);

/* Any thread: hand e of dev to the sink, if any. */
void trace_emit(const char *dev, const struct trace_event *e);

#endif
