/*
 * console_cfg.h: `--console stdio|pty|file:PATH|socket:PATH`: parse it,
 * and open the backend's resources in the VMM before any VM exists (the
 * console server never opens a path: it gets these fds in SETUP).
 */
#ifndef ISOVM_CONSOLE_CFG_H
#define ISOVM_CONSOLE_CFG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "proto/ctl_msg.h"

#define CONSOLE_CFG_PTY_DRAIN_MS 2000 /* at exit, for the pty's reader */
#define CONSOLE_CFG_PTY_POLL_MS	 10   /* how often it is looked at */

struct console_cfg {
	enum ctl_console_backend kind; /* CTL_CONSOLE_STDIO by default */
	const char *path;	       /* file or socket; points into argv */
};

/* What console_cfg_open() opened; console_cfg_close() undoes all of it. */
struct console_res {
	enum ctl_console_backend kind;
	int fd;	      /* CTL_FD_BACKEND: stdin, pty master, file, socket */
	int out_fd;   /* CTL_FD_BACKEND_OUT (stdio: stdout), or -1 */
	bool tty_raw; /* stdin was put in raw mode */
	struct termios tty_saved;   /* its mode before */
	char unlink_path[PATH_MAX]; /* socket to remove at close, or "" */
	char pty_name[64];
};

/* The default: stdio. */
void console_cfg_default(struct console_cfg *cfg);

/*
 * Parse the value of --console ('arg' must outlive cfg). Returns 0, or
 * -EINVAL with one line in err (unknown kind, empty or over-long path).
 */
int console_cfg_parse(const char *arg, struct console_cfg *cfg, char *err,
		      size_t errlen);

/*
 * Open the resources: stdio = its own descriptions of stdin and stdout
 * (a tty stdin in raw mode, Ctrl-C still stops isovm); pty = a new master
 * (its name printed on stderr); file = opened for appending, created 0644;
 * socket = a listening unix stream socket bound to a path that must not
 * exist yet. Returns 0, or -errno with one line in err and nothing left
 * open or created.
 */
int console_cfg_open(const struct console_cfg *cfg, struct console_res *r,
		     char *err, size_t errlen);

/*
 * Close fds, restore the terminal, remove the socket path. Idempotent.
 * A pty whose slave someone holds with output unread waits for it first,
 * up to CONSOLE_CFG_PTY_DRAIN_MS (the master's last close would discard
 * it): call after the console server stopped.
 */
void console_cfg_close(struct console_res *r);

#endif
