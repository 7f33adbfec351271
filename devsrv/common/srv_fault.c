/* srv_fault.c: the fault-injection table the core applies to requests. */
#include <string.h>

#include "devsrv/common/srv_core.h"

/* xorshift64*: cheap, no syscall, good enough to pick faults. */
static uint64_t srv_fault_rand(struct srv *s)
{
	uint64_t x = s->rng ? s->rng : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * Install @f (validated by ctl_msg_decode). CTL_FAULT_NONE clears the rule
 * of its op, or every rule when the op is CTL_OP_ANY.
 */
void srv_fault_set(struct srv *s, const struct ctl_fault *f)
{
	struct srv_fault_rule *r;

	if (f->op < CTL_OP_ANY || f->op > CTL_OP_MAX)
		return;
	r = &s->fault[f->op];
	if (f->kind == CTL_FAULT_NONE) {
		if (f->op == CTL_OP_ANY)
			memset(s->fault, 0, sizeof(s->fault));
		else
			memset(r, 0, sizeof(*r));
		return;
	}
	memset(r, 0, sizeof(*r));
	r->f = *f;
	r->active = true;
}

/*
 * A rule with a sector range sees only the reads and writes (of a block
 * device: the only ones with sectors) that touch it.
 */
static bool srv_fault_in_range(const struct ctl_fault *f, enum ctl_op cls,
			       const struct ipc_req *req)
{
	uint64_t first = req->args.blk.sector, n = req->args.blk.count;

	if (!f->sector_count)
		return true;
	if (cls != CTL_OP_READ && cls != CTL_OP_WRITE)
		return false;
	return first < f->sector_start + f->sector_count &&
	       f->sector_start < first + n;
}

static bool srv_fault_fires(struct srv *s, struct srv_fault_rule *r,
			    enum ctl_op cls, const struct ipc_req *req)
{
	bool hit;

	if (!r->active || !srv_fault_in_range(&r->f, cls, req))
		return false;
	r->seen++;
	if (r->f.trigger == CTL_TRIGGER_EVERY_NTH)
		hit = r->f.every_nth && r->seen % r->f.every_nth == 0;
	else
		hit = srv_fault_rand(s) % 1000000u < r->f.probability_ppm;
	if (!hit)
		return false;
	r->fired++;
	if (r->f.count && r->fired >= r->f.count)
		r->active = false; /* fired its last time */
	s->cst.faults_fired++;
	return true;
}

/* The rule srv_fault_pick() would ask first for class cls, fired or not. */
static const struct srv_fault_rule *srv_fault_rule_of(const struct srv *s,
						      enum ctl_op cls)
{
	if (cls > CTL_OP_ANY && cls <= CTL_OP_MAX && s->fault[cls].active)
		return &s->fault[cls];
	return s->fault[CTL_OP_ANY].active ? &s->fault[CTL_OP_ANY] : NULL;
}

bool srv_fault_on_frames(const struct srv *s, enum ctl_op cls)
{
	const struct srv_fault_rule *r;

	if (cls <= CTL_OP_ANY || cls > CTL_OP_MAX ||
	    !(s->ops->frame_fault_classes & (1u << cls)))
		return false;
	r = srv_fault_rule_of(s, cls);
	return r && (r->f.kind == CTL_FAULT_DROP ||
		     r->f.kind == CTL_FAULT_CORRUPT);
}

const struct ctl_fault *srv_frame_fault(struct srv *s, enum ctl_op cls)
{
	static const struct ipc_req none; /* no sectors */
	const struct ctl_fault *f;

	if (!srv_fault_on_frames(s, cls))
		return NULL;
	f = srv_fault_pick(s, cls, &none);
	if (f && f->kind != CTL_FAULT_DROP && f->kind != CTL_FAULT_CORRUPT)
		return NULL; /* the rule for every op: not a frame's */
	if (f)
		s->cst.faults_dropped += f->kind == CTL_FAULT_DROP;
	return f;
}

/* The op's own rule is asked first, then the rule for every op. */
const struct ctl_fault *srv_fault_pick(struct srv *s, enum ctl_op cls,
				       const struct ipc_req *req)
{
	struct srv_fault_rule *own = NULL, *any = &s->fault[CTL_OP_ANY];

	if (cls > CTL_OP_ANY && cls <= CTL_OP_MAX)
		own = &s->fault[cls];
	if (own && srv_fault_fires(s, own, cls, req))
		return &own->f;
	if (srv_fault_fires(s, any, cls, req))
		return &any->f;
	return NULL;
}
