/*
 * test_jail.c: the real servers started by the real launcher, read back
 * from /proc: namespaces, empty root, ids, capabilities, no_new_privs,
 * seccomp, fds, environment, session, rlimits; the errors and warnings of
 * a jail that cannot be made whole; and the same as an unprivileged user.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vcpu/supervisor/supervisor.h"

static char backing[] = "/tmp/isovm-jail-XXXXXX";
static int backend = -1;
static int con_out[2] = {-1, -1}, con_in[2] = {-1, -1}; /* console pipes */

static void setup(void)
{
	backend = mkstemp(backing);
	cr_assert_geq(backend, 0);
	cr_assert_eq(ftruncate(backend, 1 << 20), 0);
	cr_assert_eq(pipe2(con_out, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(pipe2(con_in, O_CLOEXEC | O_NONBLOCK), 0);
}

static void teardown(void)
{
	if (backend >= 0)
		close(backend);
	unlink(backing);
	for (int i = 0; i < 2; i++) {
		close(con_out[i]);
		close(con_in[i]);
	}
}

/* The mode a server binary of this build can have: the sanitizers'
 * servers are dynamic and cannot run in an empty root. */
static enum sandbox_mode jail_mode(void)
{
#ifdef ISOVM_SANITIZE
	return SANDBOX_RELAXED;
#else
	return SANDBOX_ON;
#endif
}

static void spec_console(struct supervisor_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->dev = "console";
	sp->bindir = SERVER_BINDIR;
	sp->type = CTL_DEV_CONSOLE;
	sp->setup.cfg.console.backend = CTL_CONSOLE_FILE;
	sp->geom = (struct ipc_geom){8, 8, 4096, 4};
	supervisor_spec_fd(sp, CTL_FD_BACKEND, backend);
	supervisor_spec_fd(sp, CTL_FD_OUT_PIPE, con_out[0]);
	supervisor_spec_fd(sp, CTL_FD_IN_PIPE, con_in[1]);
	sp->ready_timeout_ms = 5000;
	sp->policy.sandbox = jail_mode();
	sp->limits = (struct sandbox_limits){
		.as_bytes = SANDBOX_AS(1ull << 30), .nofile = 64, .nproc = 16};
}

static void spec_blk(struct supervisor_spec *sp)
{
	struct ctl_blk_config *c = &sp->setup.cfg.blk;

	memset(sp, 0, sizeof(*sp));
	sp->dev = "blk";
	sp->bindir = SERVER_BINDIR;
	sp->type = CTL_DEV_BLK;
	sp->setup.dev_type = CTL_DEV_BLK;
	c->capacity_sectors = (1 << 20) / 512;
	c->block_size = 512;
	c->cache = CTL_CACHE_WRITEBACK;
	snprintf(c->id, sizeof(c->id), "jail");
	sp->geom = (struct ipc_geom){8, 8, 4096, 4};
	supervisor_spec_fd(sp, CTL_FD_BACKEND, backend);
	sp->ready_timeout_ms = 5000;
	sp->policy.sandbox = jail_mode();
	sp->limits = (struct sandbox_limits){
		.as_bytes = SANDBOX_AS(4ull << 30), .nofile = 128, .nproc = 80};
}

/* The value of "Key:" in /proc/pid/status, or "" */
static void status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			snprintf(out, len, "%s", line + klen + 1);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

static void expect_status(pid_t pid, const char *key, const char *want)
{
	char got[128];

	status_field(pid, key, got, sizeof(got));
	cr_expect_str_eq(got, want, "%s of the server: '%s', want '%s'", key,
			 got, want);
}

static void expect_new_namespaces(pid_t pid)
{
	static const char *const ns[] = {"user", "mnt", "pid",
					 "net",	 "ipc", "uts"};
	char path[64], mine[64], theirs[64];

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		ssize_t a, b;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		a = readlink(path, mine, sizeof(mine) - 1);
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns[i]);
		b = readlink(path, theirs, sizeof(theirs) - 1);
		cr_assert(a > 0 && b > 0, "readlink %s", path);
		mine[a] = theirs[b] = '\0';
		cr_expect_str_neq(mine, theirs, "%s namespace shared: %s", ns[i],
				  mine);
	}
}

static void expect_empty_root(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	d = opendir(path);
	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			cr_expect_fail("the root holds '%s'", e->d_name);
			n++;
		}
	closedir(d);
	cr_expect_eq(n, 0);
}

/*
 * 0 /dev/null, 1 and 2 a pipe (the log), 3 the control socket; the rest
 * is what set-up sent and the server made: the memfd, eventfds, pipes,
 * epoll, and the backend file. Nothing else: no other file, no other
 * socket.
 */
static void expect_fds(pid_t pid)
{
	char dir[64], path[352], to[256];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, to, sizeof(to) - 1);
		cr_assert_gt(n, 0);
		to[n] = '\0';
		if (fd == 0)
			cr_expect_str_eq(to, "/dev/null");
		else if (fd == 1 || fd == 2)
			cr_expect(strncmp(to, "pipe:", 5) == 0, "fd %d: %s", fd,
				  to);
		else if (fd == 3)
			cr_expect(strncmp(to, "socket:", 7) == 0, "fd 3: %s",
				  to);
		else
			cr_expect(strncmp(to, "anon_inode:", 11) == 0 ||
					  strncmp(to, "pipe:", 5) == 0 ||
					  strncmp(to, "/memfd:", 7) == 0 ||
					  strcmp(to, backing) == 0,
				  "fd %d is %s", fd, to);
	}
	closedir(d);
}

/* Fields 6 and 7 of /proc/pid/stat: session and controlling tty. */
static void expect_own_session(pid_t pid)
{
	char path[64], buf[1024], *p;
	long sid = -1, tty = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	cr_assert_not_null(p);
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %ld %ld", &sid, &tty), 2);
	cr_expect_eq(sid, pid, "session %ld, not its own", sid);
	cr_expect_eq(tty, 0, "a controlling terminal");
}

static void expect_empty_environment(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	cr_expect_eq(n, 0, "the environment is not empty");
}

/* "Max open files  64  64  files" */
static void expect_limit(pid_t pid, const char *name, unsigned long long v)
{
	char path[64], line[256], want[64];
	bool seen = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	snprintf(want, sizeof(want), "%llu", v);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char soft[32], hard[32];

		if (strncmp(line, name, strlen(name)))
			continue;
		seen = sscanf(line + 26, "%31s %31s", soft, hard) == 2;
		cr_expect_str_eq(soft, want, "%s soft %s", name, soft);
		cr_expect_str_eq(hard, want, "%s hard %s", name, hard);
	}
	fclose(f);
	cr_expect(seen, "no %s line", name);
}

/* uid: the one the jail's root maps to (nobody for root, else the
 * user). */
static void expect_jailed(pid_t pid, const struct supervisor_spec *sp,
			  unsigned id)
{
	char uid[64];

	snprintf(uid, sizeof(uid), "\t%u\t%u\t%u\t%u", id, id, id, id);
	expect_status(pid, "Uid", uid);
	expect_status(pid, "NoNewPrivs", "\t1");
	expect_status(pid, "CapInh", "\t0000000000000000");
	expect_status(pid, "CapPrm", "\t0000000000000000");
	expect_status(pid, "CapEff", "\t0000000000000000");
	expect_status(pid, "CapBnd", "\t0000000000000000");
	expect_status(pid, "CapAmb", "\t0000000000000000");
	expect_status(pid, "Seccomp", "\t2");
	expect_new_namespaces(pid);
	/* The sanitizers' servers are dynamic: the host's root, no AS limit. */
	if (jail_mode() == SANDBOX_ON) {
		expect_empty_root(pid);
		expect_limit(pid, "Max address space", sp->limits.as_bytes);
	}
	expect_fds(pid);
	expect_own_session(pid);
	expect_empty_environment(pid);
	expect_limit(pid, "Max core file size", 0);
	expect_limit(pid, "Max locked memory", 0);
	expect_limit(pid, "Max open files", sp->limits.nofile);
	expect_limit(pid, "Max processes", sp->limits.nproc);
}

Test(jail, the_console_server_is_jailed, .init = setup, .fini = teardown)
{
	struct supervisor_spec sp;
	struct supervisor s;
	char err[512];

	spec_console(&sp);
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	expect_jailed(s.pid, &sp, 65534);
	supervisor_stop(&s, 0);
}

Test(jail, the_block_server_is_jailed, .init = setup, .fini = teardown)
{
	struct supervisor_spec sp;
	struct supervisor s;
	char err[512];

	spec_blk(&sp);
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	expect_jailed(s.pid, &sp, 65534);
	supervisor_stop(&s, 0);
}

/* A server that cannot run in the empty root (dynamically linked, like
 * the test peer) is refused by name in SANDBOX_ON ... */
Test(jail, on_refuses_a_dynamic_server_and_says_why, .init = setup,
     .fini = teardown)
{
	struct supervisor_spec sp;
	struct supervisor s;
	char err[512];

	spec_console(&sp);
	sp.dev = "ctlpeer";
	sp.bindir = PEER_BINDIR;
	sp.policy.sandbox = SANDBOX_ON;
	cr_assert_lt(supervisor_start(&s, &sp, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "exec"), "%s", err);
	cr_assert_not_null(strstr(err, "not statically linked"), "%s", err);
	cr_assert_not_null(strstr(err, "--sandbox relaxed"), "%s", err);
}

/* ... and run in the host's root with one warning in SANDBOX_RELAXED. */
Test(jail, relaxed_runs_it_and_names_the_skipped_step, .init = setup,
     .fini = teardown)
{
	struct supervisor_spec sp;
	struct supervisor s;
	char err[512], line[512];
	bool warned = false;
	FILE *f;

	cr_redirect_stderr();
	spec_console(&sp);
	sp.dev = "ctlpeer";
	sp.bindir = PEER_BINDIR;
	sp.policy.sandbox = SANDBOX_RELAXED;
	cr_assert_eq(supervisor_start(&s, &sp, err, sizeof(err)), 0, "%s", err);
	expect_new_namespaces(s.pid);
	expect_status(s.pid, "CapEff", "\t0000000000000000");
	supervisor_stop(&s, 0);
	fflush(stderr);
	f = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), f))
		warned |= strstr(line, "sandbox relaxed: empty root: the "
				       "server is not statically linked: "
				       "skipped") != NULL;
	cr_assert(warned, "no warning naming the skipped step");
}

/*
 * Not root: the launcher maps the jail's root to the user itself, and
 * the rest holds; where the host forbids unprivileged user namespaces,
 * the refusal names them. The child (the unprivileged "VMM") starts the
 * server and waits; we read its server from /proc.
 */
Test(jail, an_unprivileged_user_gets_the_same_jail, .init = setup,
     .fini = teardown)
{
	struct supervisor_spec sp;
	int up[2], down[2], st;
	pid_t pid, srv = 0;
	char c = 0;

	spec_console(&sp);
	cr_assert_eq(pipe(up), 0);
	cr_assert_eq(pipe(down), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct supervisor s;
		char err[512];
		pid_t none = 0;

		close(up[0]);
		close(down[1]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		/* As a user's own process is: setresuid cleared it, and the
		 * launcher must be able to write its child's id maps. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		if (supervisor_start(&s, &sp, err, sizeof(err))) {
			fprintf(stderr, "unprivileged: %s\n", err);
			if (write(up[1], &none, sizeof(none)) < 0)
				_exit(11);
			_exit(strstr(err, "namespaces: cannot make user") ? 20
									 : 11);
		}
		if (write(up[1], &s.pid, sizeof(s.pid)) < 0 ||
		    read(down[0], &c, 1) < 0)
			_exit(12);
		supervisor_stop(&s, 0);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	cr_assert_eq(read(up[0], &srv, sizeof(srv)), (ssize_t)sizeof(srv));
	if (srv > 0) {
		expect_jailed(srv, &sp, 65534);
		cr_assert_eq(write(down[1], &c, 1), 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "status %#x", st);
	cr_assert(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 20,
		  "unprivileged jail: exit %d", WEXITSTATUS(st));
	if (WEXITSTATUS(st) == 20)
		cr_log_warn("this host forbids unprivileged user namespaces: "
			    "the refusal was checked, not the jail");
}
