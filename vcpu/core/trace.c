/* trace.c: the one sink of trace events, and whether anyone listens. */
#include <stdatomic.h>
#include <stddef.h>

#include "vcpu/core/trace.h"

static trace_sink_fn *trace_fn;
static void *trace_opaque;
static atomic_uint trace_listeners;

void trace_set_sink(trace_sink_fn *fn, void *opaque)
{
	trace_fn = fn;
	trace_opaque = opaque;
}

void trace_set_listeners(unsigned n)
{
	atomic_store(&trace_listeners, n);
}

int trace_on(void)
{
	return atomic_load_explicit(&trace_listeners, memory_order_relaxed) &&
	       trace_fn;
}

void trace_emit(const char *dev, const struct trace_event *e)
{
	if (trace_on())
		trace_fn(trace_opaque, dev, e);
}
