/* api_validate.c: field checks shared by api_msg encode and decode. */
#include "proto/api_msg.h"

#include <errno.h>
#include <string.h>

#define API_ERRNO_MAX 4095u

static bool api_req_has_dev(enum api_req_type type)
{
	return type == API_REQ_STATS || type == API_REQ_RESTART ||
	       type == API_REQ_KILL || type == API_REQ_FAULT ||
	       type == API_REQ_TRACE || type == API_REQ_ESCAPE;
}

/* Canonical: no name where none applies, no fault outside API_REQ_FAULT. */
int api_req_validate(const struct api_req *req)
{
	static const struct ctl_fault no_fault;

	if (req->type < API_REQ_STATUS || req->type > API_REQ_TYPE_MAX)
		return -EINVAL;
	if (api_req_has_dev(req->type)) {
		if (!ctl_name_ok(req->dev, sizeof(req->dev)))
			return -EINVAL;
	} else if (strnlen(req->dev, sizeof(req->dev)) != 0) {
		return -EINVAL;
	}
	if ((req->type == API_REQ_ESCAPE) !=
	    (req->escape >= 1 && req->escape <= CTL_ESCAPE_MAX))
		return -EINVAL;
	if (req->type == API_REQ_FAULT)
		return ctl_fault_validate(&req->fault);
	return memcmp(&req->fault, &no_fault, sizeof(no_fault)) ? -EINVAL : 0;
}

static bool api_text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static int api_devices_validate(const struct api_devices *d)
{
	if (d->n > API_MAX_DEVICES)
		return -EINVAL;
	for (unsigned i = 0; i < d->n; i++) {
		const struct api_device *dev = &d->dev[i];

		if (!ctl_name_ok(dev->name, sizeof(dev->name)))
			return -EINVAL;
		if (dev->type < CTL_DEV_BLK || dev->type > CTL_DEV_CONSOLE)
			return -EINVAL;
		if (dev->state < API_DEV_STARTING ||
		    dev->state > API_DEV_FAILED)
			return -EINVAL;
		if (!api_text_ok(dev->last_cause, sizeof(dev->last_cause)))
			return -EINVAL;
	}
	return 0;
}

/* A word of the trace: [a-z_], non-empty. */
static bool api_word_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0 || n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
			return false;
	return true;
}

static int api_trace_validate(const struct api_trace *t)
{
	if (!ctl_name_ok(t->device, sizeof(t->device)) || t->seq == 0 ||
	    t->status > 255 || !api_word_ok(t->op, sizeof(t->op)) ||
	    !api_word_ok(t->syscall, sizeof(t->syscall)) ||
	    !api_text_ok(t->text, sizeof(t->text)))
		return -EINVAL;
	return 0;
}

int api_reply_validate(const struct api_reply *rep)
{
	const struct api_status *st = &rep->u.status;

	switch (rep->type) {
	case API_REPLY_OK:
		return 0;
	case API_REPLY_ERROR:
		if (rep->u.error.code == 0 || rep->u.error.code > API_ERRNO_MAX)
			return -EINVAL;
		return api_text_ok(rep->u.error.text,
				   sizeof(rep->u.error.text)) ? 0 : -EINVAL;
	case API_REPLY_STATUS:
		if (st->state < API_VM_STARTING ||
		    st->state > API_VM_SHUTTING_DOWN || st->vcpus == 0 ||
		    st->memory_bytes == 0)
			return -EINVAL;
		return 0;
	case API_REPLY_DEVICES:
		return api_devices_validate(&rep->u.devices);
	case API_REPLY_STATS:
		if (!ctl_name_ok(rep->u.stats.name, sizeof(rep->u.stats.name)))
			return -EINVAL;
		return ctl_stats_validate(&rep->u.stats.stats);
	case API_REPLY_TRACE:
		return api_trace_validate(&rep->u.trace);
	}
	return -EINVAL;
}

const char *api_req_name(enum api_req_type type)
{
	static const char *const names[] = {
		[API_REQ_STATUS] = "status",	[API_REQ_DEVICES] = "devices",
		[API_REQ_STATS] = "stats",	[API_REQ_RESTART] = "restart",
		[API_REQ_KILL] = "kill",	[API_REQ_FAULT] = "fault",
		[API_REQ_PAUSE] = "pause",	[API_REQ_RESUME] = "resume",
		[API_REQ_SHUTDOWN] = "shutdown", [API_REQ_TRACE] = "trace",
		[API_REQ_ESCAPE] = "escape",
	};

	return ctl_table_name(names, sizeof(names) / sizeof(names[0]), type);
}
