/* console_cfg.c: --console: parse it, open its backend, undo it at exit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vcpu/config/console_cfg.h"
#include "vcpu/log.h"

void console_cfg_default(struct console_cfg *cfg)
{
	cfg->kind = CTL_CONSOLE_STDIO;
	cfg->path = NULL;
}

int console_cfg_parse(const char *arg, struct console_cfg *cfg, char *err,
		      size_t errlen)
{
	struct sockaddr_un sun;

	if (strcmp(arg, "stdio") == 0 || strcmp(arg, "pty") == 0) {
		cfg->kind = arg[0] == 's' ? CTL_CONSOLE_STDIO : CTL_CONSOLE_PTY;
		cfg->path = NULL;
		return 0;
	}
	if (strncmp(arg, "file:", 5) == 0) {
		cfg->kind = CTL_CONSOLE_FILE;
		cfg->path = arg + 5;
	} else if (strncmp(arg, "socket:", 7) == 0) {
		cfg->kind = CTL_CONSOLE_SOCKET;
		cfg->path = arg + 7;
	} else {
		return errf(err, errlen, -EINVAL,
			    "--console: '%.64s' is not stdio, pty, "
			    "file:PATH or socket:PATH",
			    arg);
	}
	if (!*cfg->path)
		return errf(err, errlen, -EINVAL, "--console: %s needs a path",
			    cfg->kind == CTL_CONSOLE_FILE ? "file:"
							  : "socket:");
	if (strlen(cfg->path) >= PATH_MAX ||
	    (cfg->kind == CTL_CONSOLE_SOCKET &&
	     strlen(cfg->path) >= sizeof(sun.sun_path)))
		return errf(err, errlen, -EINVAL,
			    "--console: path '%.40s...' is too long",
			    cfg->path);
	return 0;
}

/*
 * Raw input and output, but Ctrl-C and friends still signal isovm: the
 * console server reads stdin, so there is no escape key to quit with.
 */
static void console_cfg_raw(struct console_res *r)
{
	struct termios t;

	if (!isatty(r->fd) || tcgetattr(r->fd, &r->tty_saved))
		return;
	t = r->tty_saved;
	cfmakeraw(&t);
	t.c_lflag |= ISIG;
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(r->fd, TCSAFLUSH, &t) == 0)
		r->tty_raw = true;
}

/*
 * The server makes its output fd non-blocking, a flag of the open file
 * description: give it a description of its own where one can be opened.
 * A regular file keeps the shared description instead, whose offset is
 * where the output must go on (non-blocking means nothing to a file).
 */
static int console_cfg_stdio(struct console_res *r, char *err, size_t errlen)
{
	struct stat st;

	r->fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0)
		return errf(err, errlen, -errno, "--console stdio: %s",
			    strerror(errno));
	r->out_fd = -1;
	if (fstat(1, &st) == 0 && !S_ISREG(st.st_mode))
		r->out_fd = open("/proc/self/fd/1",
				 O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (r->out_fd < 0)
		r->out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (r->out_fd < 0) {
		int e = errno;

		console_cfg_close(r);
		return errf(err, errlen, -e, "--console stdio: %s",
			    strerror(e));
	}
	console_cfg_raw(r);
	return 0;
}

static int console_cfg_pty(struct console_res *r, char *err, size_t errlen)
{
	struct termios t;
	char *name;

	r->fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (r->fd < 0)
		return errf(err, errlen, -errno, "--console pty: %s",
			    strerror(errno));
	if (grantpt(r->fd) || unlockpt(r->fd) || !(name = ptsname(r->fd)))
		goto err_close;
	snprintf(r->pty_name, sizeof(r->pty_name), "%s", name);
	/* The guest's bytes pass unchanged: no echo, no CR/LF mapping. */
	if (tcgetattr(r->fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(r->fd, TCSANOW, &t);
	}
	fprintf(stderr, "isovm: console pty: %s\n", r->pty_name);
	return 0;

err_close:
	errf(err, errlen, -errno, "--console pty: %s", strerror(errno));
	close(r->fd);
	r->fd = -1;
	return -EIO;
}

static int console_cfg_file(const char *path, struct console_res *r, char *err,
			    size_t errlen)
{
	r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		     0644);
	if (r->fd < 0)
		return errf(err, errlen, -errno, "--console file:%s: %s", path,
			    strerror(errno));
	return 0;
}

static int console_cfg_socket(const char *path, struct console_res *r,
			      char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int ret;

	/* Never take over or remove what is there: it may be someone's. */
	if (lstat(path, &st) == 0)
		return errf(err, errlen, -EEXIST,
			    "--console socket:%s: the path exists", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return errf(err, errlen, -errno, "--console socket:%s: %s",
			    path, strerror(errno));
	if (bind(r->fd, (struct sockaddr *)&sun, sizeof(sun)))
		goto err_close;
	snprintf(r->unlink_path, sizeof(r->unlink_path), "%s", path);
	if (listen(r->fd, 1))
		goto err_unlink;
	return 0;

err_unlink:
	ret = -errno;
	unlink(r->unlink_path);
	r->unlink_path[0] = '\0';
	errno = -ret;
err_close:
	ret = -errno;
	close(r->fd);
	r->fd = -1;
	return errf(err, errlen, ret, "--console socket:%s: %s", path,
		    strerror(-ret));
}

int console_cfg_open(const struct console_cfg *cfg, struct console_res *r,
		     char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->kind = cfg->kind;
	r->fd = -1;
	r->out_fd = -1;
	switch (cfg->kind) {
	case CTL_CONSOLE_STDIO:
		return console_cfg_stdio(r, err, errlen);
	case CTL_CONSOLE_PTY:
		return console_cfg_pty(r, err, errlen);
	case CTL_CONSOLE_FILE:
		return console_cfg_file(cfg->path, r, err, errlen);
	case CTL_CONSOLE_SOCKET:
		return console_cfg_socket(cfg->path, r, err, errlen);
	}
	return errf(err, errlen, -EINVAL, "--console: bad kind");
}

void console_cfg_close(struct console_res *r)
{
	if (r->tty_raw)
		tcsetattr(r->fd, TCSAFLUSH, &r->tty_saved);
	r->tty_raw = false;
	if (r->fd >= 0)
		close(r->fd);
	if (r->out_fd >= 0)
		close(r->out_fd);
	r->fd = r->out_fd = -1;
	if (r->unlink_path[0])
		unlink(r->unlink_path);
	r->unlink_path[0] = '\0';
}
