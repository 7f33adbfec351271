/* harness.c: spawn-with-timeout and output matching for integration tests. */
#include "tests/integration/harness.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_MAX_ARGS 64

struct harness_buf {
	char *data;
	size_t len, cap;
};

static int harness_buf_read(struct harness_buf *b, int fd)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : (int)n;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		char *p;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, chunk, (size_t)n);
	b->len += (size_t)n;
	b->data[b->len] = '\0';
	return 1;
}

static double harness_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t harness_spawn(char *const argv[], int in_fd, int out_fd,
			   int err_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setpgid(0, 0);
	if (in_fd < 0)
		in_fd = open("/dev/null", O_RDONLY);
	if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0)
		_exit(127);
	execv(argv[0], argv);
	fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static bool harness_all_seen(const struct harness_buf *out,
			     const struct harness_buf *err,
			     const char *const until[])
{
	for (unsigned i = 0; until[i]; i++)
		if (!(out->data && strstr(out->data, until[i])) &&
		    !(err->data && strstr(err->data, until[i])))
			return false;
	return true;
}

int vmrun(struct vmrun *r, int timeout_ms, char *const argv[])
{
	return vmrun_opts(r, timeout_ms, NULL, argv);
}

int vmrun_until(struct vmrun *r, int timeout_ms, const char *const until[],
		int stop_ms, char *const argv[])
{
	struct vmrun_opts o = { .until = until, .stop_ms = stop_ms };

	return vmrun_opts(r, timeout_ms, &o, argv);
}

/* Live views of the buffers, so hooks can look at output so far. */
static void harness_publish(struct vmrun *r, struct harness_buf *b)
{
	r->out = b[0].data ? b[0].data : "";
	r->out_len = b[0].len;
	r->err = b[1].data ? b[1].data : "";
	r->err_len = b[1].len;
	r->extra = b[2].data ? b[2].data : "";
	r->extra_len = b[2].len;
}

static char *harness_take(struct harness_buf *b)
{
	return b->data ? b->data : strdup("");
}

int vmrun_opts(struct vmrun *r, int timeout_ms, const struct vmrun_opts *o,
	       char *const argv[])
{
	static const struct vmrun_opts none;
	struct harness_buf buf[3] = { { 0 } };
	int po[2], pe[2], pi[2] = { -1, -1 }, wstatus = 0;
	double start, deadline;
	pid_t pid;

	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	r->first_out = -1;
	r->in_fd = r->extra_fd = -1;
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0 ||
	    (o->stdin_pipe && pipe2(pi, O_CLOEXEC) < 0)) {
		close(po[0]);
		close(po[1]);
		return -errno;
	}
	start = harness_now();
	deadline = start + timeout_ms / 1000.0;
	r->start_mono = start;
	pid = harness_spawn(argv, pi[0], po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	if (pi[0] >= 0)
		close(pi[0]);
	r->in_fd = pi[1];
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		return -errno;
	}
	setpgid(pid, pid);
	r->pid = pid;
	harness_publish(r, buf);

	struct pollfd pfd[3] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 },
				 { -1, POLLIN, 0 } };
	int open_fds = 2;

	while (open_fds > 0) {
		int left = (int)((deadline - harness_now()) * 1000);

		if (left <= 0) {
			r->timed_out = !r->stopped;
			kill(-pid, SIGKILL);
			break;
		}
		if (pfd[2].fd < 0 && r->extra_fd >= 0)
			pfd[2].fd = r->extra_fd;
		if (poll(pfd, 3, o->hook && left > 50 ? 50 : left) < 0 &&
		    errno != EINTR)
			break;
		for (int i = 0; i < 3; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (!i && r->first_out < 0)
				r->first_out = harness_now() - start;
			if (harness_buf_read(&buf[i], pfd[i].fd) <= 0) {
				if (i < 2) {
					close(pfd[i].fd);
					open_fds--;
				}
				pfd[i].fd = -1; /* the hook owns extra_fd */
				if (i == 2)
					r->extra_fd = -1;
			}
		}
		harness_publish(r, buf);
		if (o->hook)
			o->hook(r, o->arg);
		if (o->until && !r->stopped &&
		    harness_all_seen(&buf[0], &buf[1], o->until)) {
			r->stopped = true;
			kill(pid, SIGTERM);
			deadline = harness_now() + o->stop_ms / 1000.0;
		}
	}
	/* The VMM must leave nothing behind; stray children are killed here. */
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	/* Output a hook's fd still holds (a pty, a socket) is collected too. */
	while (r->extra_fd >= 0 && harness_buf_read(&buf[2], r->extra_fd) > 0)
		;
	if (kill(-pid, 0) == 0)
		r->strays = true;
	kill(-pid, SIGKILL);
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	if (r->in_fd >= 0)
		close(r->in_fd);
	r->in_fd = -1;
	r->seconds = harness_now() - start;
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
					 128 + WTERMSIG(wstatus);
	r->out = harness_take(&buf[0]);
	r->out_len = buf[0].len;
	r->err = harness_take(&buf[1]);
	r->err_len = buf[1].len;
	r->extra = harness_take(&buf[2]);
	r->extra_len = buf[2].len;
	return 0;
}

int vmrun_isovm(struct vmrun *r, int timeout_ms, ...)
{
	char *argv[HARNESS_MAX_ARGS];
	unsigned n = 0;
	va_list ap;

	argv[n++] = (char *)HARNESS_ISOVM;
	va_start(ap, timeout_ms);
	while (n < HARNESS_MAX_ARGS - 1) {
		char *a = va_arg(ap, char *);

		if (!a)
			break;
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return vmrun(r, timeout_ms, argv);
}

void vmrun_free(struct vmrun *r)
{
	free(r->out);
	free(r->err);
	free(r->extra);
	r->out = r->err = r->extra = NULL;
}

static const char *harness_line_in(const char *text, const char *needle,
				   char *line, size_t cap)
{
	const char *hit = strstr(text, needle), *start, *end;
	size_t n;

	if (!hit)
		return NULL;
	start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	end = strchr(hit, '\n');
	n = end ? (size_t)(end - start) : strlen(start);
	if (n >= cap)
		n = cap - 1;
	memcpy(line, start, n);
	line[n] = '\0';
	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return line;
}

const char *vmrun_line(const struct vmrun *r, const char *needle, char *line,
		       size_t cap)
{
	const char *l = harness_line_in(r->out, needle, line, cap);

	return l ? l : harness_line_in(r->err, needle, line, cap);
}

static unsigned harness_count_in(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(text, needle); p;
	     p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

unsigned vmrun_count(const struct vmrun *r, const char *needle)
{
	return harness_count_in(r->out, needle) +
	       harness_count_in(r->err, needle);
}

long long vmrun_key(const char *line, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=')
			return strtoll(p + klen + 1, NULL, 0);
	}
	return -1;
}

void vmrun_dump(const struct vmrun *r, const char *what)
{
	fprintf(stderr,
		"--- %s: status %d%s after %.2fs\n--- stdout:\n%.*s\n--- stderr:\n%.*s\n---\n",
		what, r->status, r->timed_out ? " (timed out)" : "",
		r->seconds, (int)(r->out_len > 8000 ? 8000 : r->out_len),
		r->out, (int)(r->err_len > 8000 ? 8000 : r->err_len), r->err);
}

pid_t harness_child_pid(pid_t parent, const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	while (d && found < 0 && (e = readdir(d))) {
		char path[300], buf[512], name[64];
		int pid, ppid;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* "pid (comm) state ppid": comm has no ')' in our children. */
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%d (%63[^)]) %*c %d", &pid, name, &ppid) == 3 &&
		    ppid == parent && !strcmp(name, comm))
			found = pid;
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

void harness_need_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		cr_assert_fail("no usable /dev/kvm here (%s): scripts/test.sh runs "
			 "this test inside scripts/kvm-lab.sh on such hosts",
			 strerror(errno));
	close(fd);
}

void harness_need_hw_virt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) &&
		    (strstr(line, " vmx") || strstr(line, " svm")))
			found = true;
	if (f)
		fclose(f);
	if (!found)
		cr_assert_fail("no hardware virtualization here (no vmx/svm in "
			 "/proc/cpuinfo), so guest ring 0 would be emulated and "
			 "Linux cannot boot: scripts/test.sh runs this test "
			 "inside scripts/kvm-lab.sh on such hosts");
	harness_need_kvm();
}

void harness_enter_tmpdir(char *tmpl)
{
	cr_assert_not_null(mkdtemp(tmpl), "mkdtemp %s", tmpl);
	cr_assert_eq(chdir(tmpl), 0);
}

void harness_remove_tmpdir(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static double harness_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void harness_kill_tick(struct vmrun *r, struct harness_killer *k)
{
	double t = harness_now_s() - r->start_mono;
	unsigned jitter;
	pid_t pid;

	if (k->kills >= k->want || !strstr(r->out, k->after) ||
	    (k->until && strstr(r->out, k->until)))
		return;
	if (!k->next)
		k->next = t + 1.0;
	if (t < k->next)
		return;
	pid = harness_child_pid(r->pid, k->comm);
	if (pid <= 0 || pid == k->last)
		return; /* between a death and its restart */
	if (k->at_ns)
		k->at_ns[k->kills] = harness_now_s() * 1e9;
	if (kill(pid, SIGKILL) == 0) {
		k->kills++;
		k->last = pid;
	}
	jitter = k->jitter_ms ? (unsigned)rand_r(&k->seed) % k->jitter_ms : 0;
	k->next = t + (k->gap_ms + jitter) / 1000.0;
}

void harness_isovmctl(struct harness_ctl *o, const char *sock,
		      const char *args)
{
	char cmd[1024];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/isovmctl --socket %s %s 2>&1",
		 ISOVM_BIN_DIR, sock, args);
	o->text[0] = '\0';
	o->status = -1;
	p = popen(cmd, "r");
	if (!p)
		return;
	n = fread(o->text, 1, sizeof(o->text) - 1, p);
	o->text[n] = '\0';
	o->status = WEXITSTATUS(pclose(p));
}

void harness_isovmctl_until(struct harness_ctl *o, const char *sock,
			    const char *args, const char *want)
{
	for (int i = 0; i < 300; i++) {
		harness_isovmctl(o, sock, args);
		if (strstr(o->text, want))
			return;
		usleep(10000);
	}
}
