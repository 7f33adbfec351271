/*
 * srv_sandbox.c: a server confines itself once set up (not dumpable, the
 * device's seccomp allowlist for every thread), and the test-only escape
 * attempts that prove it.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "devsrv/common/srv_core.h"
#include "ipc/ctl_channel.h"
#include "sandbox/escape.h"
#include "sandbox/seccomp_policy.h"

_Static_assert(SANDBOX_ESCAPE_END - 1 <= CTL_ESCAPE_MAX,
	       "every escape attempt fits CTL_ESCAPE");

#ifdef ISOVM_SANITIZE
/*
 * LeakSanitizer's check at exit stops the world with clone and ptrace and
 * reads /proc: a filter may not allow that (the escape tests try ptrace).
 * A server under seccomp skips the check (LSan asks this hook); one run
 * with --seccomp off keeps it.
 */
static volatile int srv_sandbox_lsan_off;

int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
	return srv_sandbox_lsan_off;
}
#endif

/* The numbers the policy's rows may pin their arguments to. */
static void srv_sandbox_slots(const struct srv *s,
			      int64_t slots[SANDBOX_SRV_SLOTS])
{
	slots[SANDBOX_SLOT_CTL] = s->ctl_fd;
	slots[SANDBOX_SLOT_KICK] = s->kick_fd;
	slots[SANDBOX_SLOT_CALL] = s->call_fd;
	slots[SANDBOX_SLOT_WAKE] = s->aq_efd;
	slots[SANDBOX_SLOT_BACKEND] = s->fds.backend;
	slots[SANDBOX_SLOT_BACKEND_OUT] = s->fds.backend_out;
	slots[SANDBOX_SLOT_OUT_PIPE] = s->fds.out_pipe;
	slots[SANDBOX_SLOT_IN_PIPE] = s->fds.in_pipe;
}

int srv_sandbox_apply(struct srv *s)
{
	int64_t slots[SANDBOX_SRV_SLOTS];
	char err[160];
	int ret;

	/* Exec made it dumpable again: no core, no ptrace by our uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		ret = -errno;
		srv_fail(s, -ret, "PR_SET_DUMPABLE: %s", strerror(-ret));
		return ret;
	}
	if (s->seccomp == SRV_SECCOMP_OFF) {
		srv_warn("seccomp off: every system call is allowed");
		return 0;
	}
	if (!s->ops->policy) {
		srv_fail(s, ENOSYS, "seccomp: no policy for %s", s->ops->name);
		return -ENOSYS;
	}
	srv_sandbox_slots(s, slots);
	ret = sandbox_seccomp_install_slots(
		s->ops->policy, slots, SANDBOX_SRV_SLOTS, true,
		s->seccomp == SRV_SECCOMP_DEBUG, err, sizeof(err));
	if (ret) {
		srv_fail(s, -ret, "seccomp: %s", err);
		return ret;
	}
#ifdef ISOVM_SANITIZE
	srv_sandbox_lsan_off = 1;
#endif
	if (s->seccomp == SRV_SECCOMP_DEBUG)
		srv_warn("seccomp debug: refused calls are logged and fail");
	return 0;
}

int srv_sandbox_escape(struct srv *s, const struct ctl_escape *e)
{
	struct ctl_msg r = {.type = CTL_ESCAPE_RESULT};
	const char *name = sandbox_escape_name(e->attempt);
	int err;

	/* A number this build does not know is the VMM's error. */
	if (!name)
		return -EINVAL;
	srv_info("escape attempt %s, on the VMM's request", name);
	err = sandbox_escape_try(e->attempt);
	if (err < 0)
		return err;
	if (err == 0)
		srv_err("ESCAPE ATTEMPT %s SUCCEEDED: the sandbox let it "
			"through",
			name);
	else
		srv_info("escape attempt %s failed: %s", name, strerror(err));
	r.u.escape_result.attempt = e->attempt;
	r.u.escape_result.error = (uint32_t)err;
	return ctl_send(s->ctl_fd, &r, NULL, 0);
}
