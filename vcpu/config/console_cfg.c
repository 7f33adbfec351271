/* console_cfg.c: --console: parse it, open its backend, undo it at exit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
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
	/*
	 * Appended to, but not O_APPEND: Linux splices into no O_APPEND
	 * file, and a splice is what makes a console server's death lose
	 * and double nothing. Opened at its end instead (a second writer
	 * of the same file would interleave at our offset).
	 */
	r->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (r->fd < 0)
		return errf(err, errlen, -errno, "--console file:%s: %s", path,
			    strerror(errno));
	if (lseek(r->fd, 0, SEEK_END) < 0) {
		int ret = -errno;

		close(r->fd);
		r->fd = -1;
		return errf(err, errlen, ret, "--console file:%s: %s", path,
			    strerror(-ret));
	}
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

/* A master reports POLLHUP once the last holder of its slave has gone. */
static bool console_cfg_pty_hup(int master)
{
	struct pollfd p = {.fd = master};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/*
 * 1 while the slave's reader has output left to read, 0 when it has read
 * all, -1 when no one but us holds the slave (also when it was never
 * opened: only our own close then makes the master report POLLHUP) or we
 * cannot tell.
 */
static int console_cfg_pty_unread(const struct console_res *r)
{
	struct pollfd p = {.events = POLLIN};
	int queued = 0, left = 0;

	if (console_cfg_pty_hup(r->fd))
		return -1;
	p.fd = ioctl(r->fd, TIOCGPTPEER,
		     O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p.fd < 0)
		p.fd = open(r->pty_name,
			    O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p.fd < 0)
		return -1;
	/*
	 * The slave's input queue holds 4 KiB; the kernel keeps the rest in
	 * a buffer that its work moves into the queue as the reader makes
	 * room. FIONREAD waits for a read in progress to end (the read then
	 * has restarted that work); poll() waits for that work to finish and
	 * reports what it moved; FIONREAD counts the queue once more.
	 */
	if (ioctl(p.fd, FIONREAD, &queued) < 0 || poll(&p, 1, 0) < 0 ||
	    ioctl(p.fd, FIONREAD, &left) < 0)
		queued = left = -1;
	close(p.fd);
	if (queued < 0 || console_cfg_pty_hup(r->fd))
		return -1;
	return queued || left || (p.revents & POLLIN);
}

/*
 * The last close of a pty master hangs the slave up, and Linux then
 * flushes the slave's input queue: guest output the server wrote but the
 * reader has not read yet would be lost, and the guest may power off right
 * after its last write. While someone holds the slave and has output left
 * to read, wait for it, up to CONSOLE_CFG_PTY_DRAIN_MS. A reader may take
 * the queue's last bytes while we look and leave more on their way: only
 * two empty looks in a row, CONSOLE_CFG_PTY_POLL_MS apart, count. Call
 * after the server stopped (nothing more is written).
 */
static void console_cfg_pty_drain(const struct console_res *r)
{
	struct timespec nap = {0, CONSOLE_CFG_PTY_POLL_MS * 1000000L};
	int naps = CONSOLE_CFG_PTY_DRAIN_MS / CONSOLE_CFG_PTY_POLL_MS;
	int quiet = 0, unread;

	while ((unread = console_cfg_pty_unread(r)) >= 0) {
		quiet = unread ? 0 : quiet + 1;
		if (quiet == 2)
			return;
		if (naps-- <= 0) {
			if (unread)
				log_warn("console pty: output the reader had "
					 "not read at exit is lost");
			return;
		}
		nanosleep(&nap, NULL);
	}
}

void console_cfg_close(struct console_res *r)
{
	if (r->kind == CTL_CONSOLE_PTY && r->fd >= 0)
		console_cfg_pty_drain(r);
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
