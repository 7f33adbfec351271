/* test_console_cfg.c: --console values: parsing, opening, clean-up. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vcpu/config/console_cfg.h"

static char err[512];
static char dir[] = "/tmp/isovm-concfg-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	err[0] = '\0';
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(console_cfg, .init = setup, .fini = teardown);

static void expect_parse_error(const char *arg, const char *needle)
{
	struct console_cfg cfg;

	console_cfg_default(&cfg);
	cr_assert_eq(console_cfg_parse(arg, &cfg, err, sizeof(err)), -EINVAL,
		     "'%s' accepted", arg);
	cr_assert_not_null(strstr(err, needle), "'%s': '%s' lacks '%s'", arg,
			   err, needle);
	cr_assert_null(strchr(err, '\n'), "one line");
}

/* Count the entries of the test directory (nothing left behind). */
static int dir_entries(void)
{
	char cmd[600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static int open_value(const char *arg, struct console_res *r)
{
	struct console_cfg cfg;

	console_cfg_default(&cfg);
	cr_assert_eq(console_cfg_parse(arg, &cfg, err, sizeof(err)), 0, "%s",
		     err);
	return console_cfg_open(&cfg, r, err, sizeof(err));
}

Test(console_cfg, the_four_kinds_parse_and_stdio_is_the_default)
{
	struct console_cfg cfg;

	console_cfg_default(&cfg);
	cr_assert_eq(cfg.kind, CTL_CONSOLE_STDIO);
	cr_assert_eq(console_cfg_parse("pty", &cfg, err, sizeof(err)), 0);
	cr_assert_eq(cfg.kind, CTL_CONSOLE_PTY);
	cr_assert_eq(console_cfg_parse("stdio", &cfg, err, sizeof(err)), 0);
	cr_assert_eq(cfg.kind, CTL_CONSOLE_STDIO);
	cr_assert_eq(console_cfg_parse("file:/a/b", &cfg, err, sizeof(err)), 0);
	cr_assert_eq(cfg.kind, CTL_CONSOLE_FILE);
	cr_assert_str_eq(cfg.path, "/a/b");
	cr_assert_eq(console_cfg_parse("socket:x.sock", &cfg, err, sizeof(err)),
		     0);
	cr_assert_eq(cfg.kind, CTL_CONSOLE_SOCKET);
	cr_assert_str_eq(cfg.path, "x.sock");
}

Test(console_cfg, every_bad_value_is_one_clear_error)
{
	char longsock[200];

	expect_parse_error("tty", "'tty' is not stdio, pty");
	expect_parse_error("", "is not stdio");
	expect_parse_error("STDIO", "is not stdio");
	expect_parse_error("file", "is not stdio");
	expect_parse_error("pty:", "is not stdio");
	expect_parse_error("file:", "file: needs a path");
	expect_parse_error("socket:", "socket: needs a path");
	memset(longsock, 'a', sizeof(longsock));
	memcpy(longsock, "socket:", 7);
	longsock[sizeof(longsock) - 1] = '\0';
	expect_parse_error(longsock, "too long");
}

/* Appended to at its end, not O_APPEND: Linux splices into no O_APPEND
 * file, and the console server's splice is what a kill cannot break. */
Test(console_cfg, file_is_created_for_appending_with_mode_0644)
{
	struct console_res r;
	char arg[700], path[600];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/con.log", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("earlier\n", f);
	fclose(f);
	snprintf(arg, sizeof(arg), "file:%s", path);
	cr_assert_eq(open_value(arg, &r), 0, "%s", err);
	cr_assert_geq(r.fd, 3);
	cr_assert_eq(r.out_fd, -1);
	cr_assert(!(fcntl(r.fd, F_GETFL) & O_APPEND));
	cr_assert_eq(lseek(r.fd, 0, SEEK_CUR), 8, "not at the file's end");
	cr_assert(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	console_cfg_close(&r);
	cr_assert_eq(r.fd, -1);
	cr_assert_eq(stat(path, &st), 0, "a log file is kept");
}

Test(console_cfg, file_in_a_missing_directory_fails_and_creates_nothing)
{
	struct console_res r;
	char arg[600];

	snprintf(arg, sizeof(arg), "file:%s/nodir/con.log", dir);
	cr_assert_eq(open_value(arg, &r), -ENOENT);
	cr_assert_not_null(strstr(err, "nodir/con.log"), "%s", err);
	cr_assert_eq(dir_entries(), 0);
}

Test(console_cfg, unopenable_file_fails)
{
	struct console_res r;
	char arg[600];

	/* A directory cannot be opened for writing, even by root. */
	snprintf(arg, sizeof(arg), "file:%s", dir);
	cr_assert_eq(open_value(arg, &r), -EISDIR);
	cr_assert_not_null(strstr(err, "--console file:"), "%s", err);
}

Test(console_cfg, socket_listens_and_its_path_is_removed_at_close)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct console_res r;
	char arg[600];
	struct stat st;
	int c;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/con.sock", dir);
	snprintf(arg, sizeof(arg), "socket:%s", sun.sun_path);
	cr_assert_eq(open_value(arg, &r), 0, "%s", err);
	cr_assert_eq(stat(sun.sun_path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0,
		     "it listens");
	close(c);
	console_cfg_close(&r);
	cr_assert_neq(stat(sun.sun_path, &st), 0, "path removed");
	console_cfg_close(&r); /* idempotent */
}

Test(console_cfg, existing_socket_path_is_refused_and_left_alone)
{
	struct console_res r;
	char arg[700], path[600];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/taken", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "keep", 4), 4);
	close(fd);
	snprintf(arg, sizeof(arg), "socket:%s", path);
	cr_assert_eq(open_value(arg, &r), -EEXIST);
	cr_assert_not_null(strstr(err, "the path exists"), "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 4, "the file was not touched");
}

Test(console_cfg, socket_in_a_missing_directory_fails_cleanly)
{
	struct console_res r;
	char arg[600];

	snprintf(arg, sizeof(arg), "socket:%s/nodir/s", dir);
	cr_assert_eq(open_value(arg, &r), -ENOENT);
	cr_assert_eq(r.fd, -1);
	cr_assert_eq(dir_entries(), 0);
}

Test(console_cfg, pty_gives_a_master_and_names_its_slave)
{
	struct console_res r;
	int s;

	cr_assert_eq(open_value("pty", &r), 0, "%s", err);
	cr_assert_geq(r.fd, 0);
	cr_assert(strncmp(r.pty_name, "/dev/pts/", 9) == 0, "%s", r.pty_name);
	s = open(r.pty_name, O_RDWR | O_NOCTTY);
	cr_assert_geq(s, 0, "slave opens");
	cr_assert_eq(write(s, "x", 1), 1);
	close(s);
	console_cfg_close(&r);
}

Test(console_cfg, stdio_gives_its_own_output_description)
{
	struct console_res r;
	int fl;

	cr_assert_eq(open_value("stdio", &r), 0, "%s", err);
	cr_assert_geq(r.fd, 3);
	cr_assert_geq(r.out_fd, 3);
	/* A server's O_NONBLOCK on out_fd must not reach our stdout. */
	fl = fcntl(1, F_GETFL);
	if (fcntl(r.out_fd, F_SETFL, fcntl(r.out_fd, F_GETFL) | O_NONBLOCK) ==
		    0 &&
	    !(fl & O_NONBLOCK)) {
		struct stat a, b;

		fstat(1, &a);
		fstat(r.out_fd, &b);
		if (!S_ISSOCK(a.st_mode))
			cr_assert(!(fcntl(1, F_GETFL) & O_NONBLOCK),
				  "stdout became non-blocking");
	}
	console_cfg_close(&r);
}

/* Write n bytes of guest output into the master, as the server would. */
static void pty_fill(int master, size_t n)
{
	char buf[1024];

	memset(buf, 'g', sizeof(buf));
	for (size_t done = 0; done < n; done += sizeof(buf))
		cr_assert_eq(write(master, buf, sizeof(buf)), sizeof(buf));
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

/*
 * The master's last close hangs the slave up and the kernel drops what the
 * slave's reader had not read: the close waits for a reader that is late.
 */
Test(console_cfg, pty_close_waits_for_the_slaves_reader)
{
	struct console_res r;
	struct termios t;
	int s, st;
	pid_t pid;

	cr_assert_eq(open_value("pty", &r), 0, "%s", err);
	s = open(r.pty_name, O_RDONLY | O_NOCTTY);
	cr_assert_geq(s, 0);
	cr_assert_eq(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(s, TCSANOW, &t), 0);
	pty_fill(r.fd, 8192);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		char buf[4096];
		size_t got = 0;
		struct pollfd p = {.fd = s, .events = POLLIN};
		ssize_t n;

		close(r.fd); /* the parent's close is the master's last */
		usleep(300000);
		while (got < 8192 && poll(&p, 1, 3000) == 1 &&
		       (n = read(s, buf, sizeof(buf))) > 0)
			got += (size_t)n;
		_exit(got == 8192 ? 0 : 1);
	}
	close(s);
	console_cfg_close(&r);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "the reader lost output at the close");
}

/* Output no one can read any more does not hold the close up. */
Test(console_cfg, pty_close_does_not_wait_without_a_reader)
{
	struct console_res r;
	struct timespec t0;
	int s;

	/* A slave never opened. */
	cr_assert_eq(open_value("pty", &r), 0, "%s", err);
	pty_fill(r.fd, 4096);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	console_cfg_close(&r);
	cr_assert_lt(ms_since(&t0), 500);
	/* A slave opened, then closed again. */
	cr_assert_eq(open_value("pty", &r), 0, "%s", err);
	s = open(r.pty_name, O_RDONLY | O_NOCTTY);
	cr_assert_geq(s, 0);
	pty_fill(r.fd, 4096);
	close(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	console_cfg_close(&r);
	cr_assert_lt(ms_since(&t0), 500);
}
