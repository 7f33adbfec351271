/*
 * harness.h: runs isovm (or any program) for the integration tests: spawns
 * it in its own process group with stdin from /dev/null, captures stdout and
 * stderr, and kills the whole group when a timeout passes.
 */
#ifndef ISOVM_TEST_HARNESS_H
#define ISOVM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vmrun {
	int status;        /* exit code, or 128 + signal number */
	bool timed_out;
	bool strays;       /* processes of its group outlived it */
	bool stopped;      /* the harness sent SIGTERM (vmrun_until) */
	char *out;         /* stdout, NUL-terminated */
	size_t out_len;
	char *err;         /* stderr, NUL-terminated */
	size_t err_len;
	double seconds;    /* wall-clock time from spawn to exit */
	double first_out;  /* seconds from spawn to the first stdout byte, or -1 */
	double start_mono; /* CLOCK_MONOTONIC seconds just before the spawn */
	char *extra;       /* output of extra_fd (see struct vmrun_opts) */
	size_t extra_len;
	/* While it runs (for hooks): */
	int pid;
	int in_fd;         /* write end of its stdin, with opts->stdin_pipe */
	int extra_fd;      /* a hook may set it: its output goes to extra */
};

struct vmrun_opts {
	/* SIGTERM once all of these appeared; stop_ms to exit after. */
	const char *const *until;
	int stop_ms;
	/* stdin is a pipe (r->in_fd) instead of /dev/null. */
	bool stdin_pipe;
	/*
	 * Called after output arrives and at least every 50 ms, with r->out,
	 * r->err and r->extra showing the output so far. It may write to
	 * r->in_fd and set r->extra_fd (it keeps owning that fd).
	 */
	void (*hook)(struct vmrun *r, void *arg);
	void *arg;
};

/*
 * Runs argv (argv[0] a path) for at most timeout_ms. Returns 0 when the
 * program was run (whatever its status), -errno when it could not be.
 * Free the result with vmrun_free().
 */
int vmrun(struct vmrun *r, int timeout_ms, char *const argv[]);

/*
 * Like vmrun(), but once every string of until[] (NULL-terminated) has
 * appeared in stdout+stderr, sends SIGTERM to the program (r->stopped is
 * set) and gives it stop_ms to exit before it is killed.
 */
int vmrun_until(struct vmrun *r, int timeout_ms, const char *const until[],
		int stop_ms, char *const argv[]);

/* The general form of vmrun(); o may be NULL. */
int vmrun_opts(struct vmrun *r, int timeout_ms, const struct vmrun_opts *o,
	       char *const argv[]);

/* Like vmrun() with isovm's path first: vmrun_isovm(&r, t, "run", ..., NULL). */
int vmrun_isovm(struct vmrun *r, int timeout_ms, ...);

void vmrun_free(struct vmrun *r);

/* The line of stdout+stderr that contains needle, copied into line, or NULL. */
const char *vmrun_line(const struct vmrun *r, const char *needle, char *line,
		       size_t cap);

/* Number of times needle occurs in stdout+stderr. */
unsigned vmrun_count(const struct vmrun *r, const char *needle);

/* Integer value of "key=" in the line, or -1. */
long long vmrun_key(const char *line, const char *key);

/* Prints what the program said, for a failing test's log. */
void vmrun_dump(const struct vmrun *r, const char *what);

/*
 * The pid of a child of parent whose command name (comm, at most 15
 * characters) is comm, read from /proc; -1 when there is none.
 */
pid_t harness_child_pid(pid_t parent, const char *comm);

/*
 * Fail the calling Criterion test (never skip it) when /dev/kvm cannot be
 * opened, or, for the second, when the CPU has no vmx/svm either.
 */
void harness_need_kvm(void);
void harness_need_hw_virt(void);

/*
 * Kills a device server again and again while a guest runs, from a vmrun
 * hook: once 'after' appeared in stdout and until 'until' does (NULL: no
 * end but 'want'), SIGKILL isovm's child named 'comm' every gap_ms plus a
 * random 0..jitter_ms, up to 'want' times; never the same process twice
 * (a restart may still be on its way). at_ns[] (when not NULL, 'want'
 * entries) gets the CLOCK_MONOTONIC time of each kill.
 */
struct harness_killer {
	const char *comm, *after, *until;
	unsigned want, gap_ms, jitter_ms, seed;
	double *at_ns;
	/* Kept by harness_kill_tick(). */
	unsigned kills;
	double next; /* seconds since the spawn; 0: 1 s after 'after' */
	pid_t last;
};

void harness_kill_tick(struct vmrun *r, struct harness_killer *k);

/*
 * A test's files in a folder of their own: mkdtemp(tmpl) and chdir there
 * (failing the test if either fails); then removed with all in it.
 */
void harness_enter_tmpdir(char *tmpl);

/* isovmctl's output (stdout and stderr together) and exit status. */
struct harness_ctl {
	char text[4096];
	int status;
};

/* Run `isovmctl --socket SOCK ARGS` (ARGS split by the shell) into o. */
void harness_isovmctl(struct harness_ctl *o, const char *sock,
		      const char *args);

/* The same until its output holds want (a restarted server is on its
 * way), every 10 ms, at most 3 s. */
void harness_isovmctl_until(struct harness_ctl *o, const char *sock,
			    const char *args, const char *want);
void harness_remove_tmpdir(const char *dir);

/* Paths of the build, from compile definitions. */
#define HARNESS_ISOVM ISOVM_BIN_DIR "/isovm"
#define HARNESS_TESTGUEST ISOVM_BIN_DIR "/isovm-testguest"
#define HARNESS_GUEST_DIR ISOVM_GUEST_DIR

#endif
