/* confine.c: the seccomp filter of each VMM thread, as --sandbox says. */
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "sandbox/seccomp_policy.h"
#include "vcpu/core/confine.h"
#include "vcpu/log.h"

static enum confine_mode confine_mode = CONFINE_OFF;
static bool confine_debug;

void confine_init(enum confine_mode mode, bool debug)
{
	confine_mode = mode;
	confine_debug = debug;
}

static const struct sandbox_policy *confine_policy(enum confine_role role)
{
	switch (role) {
	case CONFINE_MAIN:
		return &sandbox_policy_vmm_main;
	case CONFINE_IOTHREAD:
		return &sandbox_policy_iothread;
	case CONFINE_VCPU:
		return &sandbox_policy_vcpu;
	}
	return NULL;
}

/*
 * clone3 takes its flags in memory a filter cannot read, so no table row
 * can tell a thread from a process there. This filter fails every clone3
 * with ENOSYS; pthread_create then falls back to clone, whose flags the
 * main thread's policy checks (it allows clone3 only for this one's answer
 * to stand: an error outranks an allow).
 */
static int confine_refuse_clone3(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return errf(err, errlen, -ENOMEM,
			    "clone3 filter: out of memory");
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
			       0);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return errf(err, errlen, ret, "clone3 filter: %s",
			    strerror(-ret));
	return 0;
}

int confine_thread(enum confine_role role, const char *who, char *err,
		   size_t errlen)
{
	const struct sandbox_policy *p = confine_policy(role);
	char why[256] = "";
	int ret = 0;

	if (confine_mode == CONFINE_OFF || !p)
		return 0;
	if (role == CONFINE_MAIN)
		ret = confine_refuse_clone3(why, sizeof(why));
	if (!ret)
		ret = sandbox_seccomp_install(p, false, confine_debug, why,
					      sizeof(why));
	if (!ret) {
		log_info("%s: seccomp filter loaded (%s policy, %zu rows%s)",
			 who, p->name, p->nrows,
			 confine_debug ? ", debug: refused calls fail" : "");
		return 0;
	}
	if (confine_mode == CONFINE_RELAXED) {
		log_warn("%s: runs without its seccomp filter (--sandbox "
			 "relaxed): %s",
			 who, why);
		return 0;
	}
	return errf(err, errlen, ret,
		    "%s: cannot load its seccomp filter (--sandbox on): %s",
		    who, why);
}
