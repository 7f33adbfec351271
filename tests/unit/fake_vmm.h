/* fake_vmm.h: the VMM side of a device server, for tests of real servers. */
#ifndef ISOVM_TEST_FAKE_VMM_H
#define ISOVM_TEST_FAKE_VMM_H

#include <stdint.h>
#include <sys/types.h>

#include "ipc/dataplane.h"
#include "proto/ctl_msg.h"

struct fake_vmm {
	struct ipc_dp_vmm dp;
	int ctl;   /* our end of the control socket */
	pid_t pid; /* the server, 0 once reaped */
};

/* Region of @g (NULL: 64 entries, 64 slots of 4 KiB), socketpair, fork and
 * exec @bin --ctl-fd N [--log-level L]. Returns 0 or -errno. */
int fake_vmm_spawn(struct fake_vmm *v, const char *bin,
		   const struct ipc_geom *g, const char *level);

/* The same with @args (NULL-terminated, at most FAKE_VMM_ARGS_MAX words,
 * or NULL) after --ctl-fd N, and the server's stderr on @err_fd (-1: the
 * test's own). */
#define FAKE_VMM_ARGS_MAX 12
int fake_vmm_spawn_args(struct fake_vmm *v, const char *bin,
			const struct ipc_geom *g, const char *const *args,
			int err_fd);

/* Receive the server's HELLO (checked against @dev) and answer ours. */
int fake_vmm_hello(struct fake_vmm *v, enum ctl_dev_type dev);

/* Send SETUP (memfd, kick, call and @nbe backend fds of @roles) with
 * @setup's device config; wait for READY into *ready (may be NULL).
 * Returns 0, -EREMOTEIO when the server answered CTL_ERROR, or an error. */
int fake_vmm_setup(struct fake_vmm *v, const struct ctl_setup *setup,
		   const int *be, const enum ctl_fd_role *roles, unsigned nbe,
		   struct ctl_ready *ready);

/* Copy @len bytes (or reserve @len with data NULL) into the arena and post
 * request @op with args.raw[0] = @arg0, then kick. *id gets the id. */
int fake_vmm_post(struct fake_vmm *v, uint32_t op, uint8_t arg0,
		  const void *data, uint32_t len, uint64_t *id);

/* The same for a request of the caller's making (its op, flags and args):
 * its arena_off, arena_len and id are filled in here. */
int fake_vmm_post_req(struct fake_vmm *v, struct ipc_req *req, const void *data,
		      uint32_t len);

/* Wait up to @ms for one completion. Copies up to @cap bytes of its
 * arena buffer to @data (may be NULL) and frees the buffer. Returns 1,
 * 0 on time-out, or a negative error. */
int fake_vmm_reap(struct fake_vmm *v, struct ipc_dp_done *done, void *data,
		  size_t cap, int ms);

/* Receive one control message within @ms: 0, -ETIMEDOUT or an error. */
int fake_vmm_recv(struct fake_vmm *v, struct ctl_msg *m, int ms);

/* Wait up to @ms for the server to exit: its wait status, or -ETIMEDOUT
 * (then it is killed). */
int fake_vmm_wait(struct fake_vmm *v, int ms);

/*
 * A protocol error, as every server reports one: a CTL_ERROR within @ms,
 * then exit status 1. Returns 0, or -EPROTO (another message, or none)
 * or the wait status it ended with instead (> 0), or -ETIMEDOUT.
 */
int fake_vmm_protocol_error(struct fake_vmm *v, int ms);

/* Kill (if alive) and free everything. */
void fake_vmm_free(struct fake_vmm *v);

#endif
