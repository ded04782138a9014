// SPDX-License-Identifier: GPL-2.0
/*
 * The harness behind harness.h: registration, filtering, one forked child
 * per test with a time limit, kselftest's TAP output, and main().
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SCULL_MAX_TESTS 256

static struct scull_test scull_tests[SCULL_MAX_TESTS];
static unsigned int scull_nr_tests;
static const char *scull_prog;
/* Shared with the child so a skip reason reaches the TAP line. */
static char *scull_skip_reason;
/* The running test's child: its process group is its own. */
static pid_t scull_child;

void scull_test_register(const char *name, void (*fn)(void),
			 unsigned int timeout, int kind)
{
	if (scull_nr_tests == SCULL_MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		exit(KSFT_FAIL);
	}
	scull_tests[scull_nr_tests++] = (struct scull_test){ name, fn, timeout, kind };
}

void scull_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void scull_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	_exit(KSFT_FAIL);
}

void scull_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(scull_skip_reason, 256, fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(KSFT_SKIP);
}

/* Whether a pattern is exactly the test's "prog.name". */
static int scull_named(const struct scull_test *t, int npat, char **pat)
{
	char full[256];
	int i;

	snprintf(full, sizeof(full), "%s.%s", scull_prog, t->name);
	for (i = 0; i < npat; i++)
		if (!strcmp(pat[i], full))
			return 1;
	return 0;
}

/*
 * SCULL_TEST_STRICT=1 (the test guest, tools/guest-init): what would skip
 * a whole program (not root, no SCULL_DIR, scull not loaded) fails it.
 */
int scull_test_strict(void)
{
	const char *strict = getenv("SCULL_TEST_STRICT");

	return strict && *strict && strcmp(strict, "0");
}

int scull_test_quick(void)
{
	const char *quick = getenv("SCULL_TEST_QUICK");

	return quick && *quick && strcmp(quick, "0");
}

/* Whether "prog" or "prog.name" matches the fnmatch() pattern. */
static int scull_matches(const char *pat, const char *full)
{
	return !fnmatch(pat, scull_prog, 0) || !fnmatch(pat, full, 0);
}

/*
 * Selected: named by a pattern, or by none when every pattern is an
 * exclusion ("!pattern"); never when an exclusion matches.
 */
static int scull_selected(const struct scull_test *t, int npat, char **pat)
{
	int i, includes = 0;
	char full[256];

	if (t->kind == SCULL_TEST_MANUAL)
		return scull_named(t, npat, pat);
	snprintf(full, sizeof(full), "%s.%s", scull_prog, t->name);
	for (i = 0; i < npat; i++)
		if (pat[i][0] == '!' && scull_matches(pat[i] + 1, full))
			return 0;
	for (i = 0; i < npat; i++) {
		if (pat[i][0] == '!')
			continue;
		includes = 1;
		if (scull_matches(pat[i], full))
			return 1;
	}
	return !includes;
}

static double scull_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Stopped from outside (the runner's timeout, ^C): the running test's
 * process group goes too, as it would at the test's own time limit.
 */
static void scull_stopped(int sig)
{
	pid_t pid = scull_child;

	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void scull_on_stop(void (*handler)(int))
{
	signal(SIGTERM, handler);
	signal(SIGINT, handler);
}

/* Run one test in a child; returns KSFT_PASS, KSFT_FAIL or KSFT_SKIP. */
static int scull_run_one(const struct scull_test *t)
{
	double start = scull_now();
	int status, ret = KSFT_FAIL;
	pid_t pid;

	scull_skip_reason[0] = '\0';
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		scull_diag("fork: %s", strerror(errno));
		return KSFT_FAIL;
	}
	if (!pid) {
		/* the test's signals as before main() changed them */
		scull_on_stop(SIG_DFL);
		setpgid(0, 0);
		scull_setup();
		t->fn();
		fflush(stdout);
		_exit(KSFT_PASS);
	}
	scull_child = pid;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (scull_now() - start > t->timeout) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			scull_diag("timed out after %u s", t->timeout);
			/* reap what the test left in its process group */
			kill(-pid, SIGKILL);
			scull_child = 0;
			return KSFT_FAIL;
		}
		usleep(2000);
	}
	/* a test's helpers must not outlive it */
	kill(-pid, SIGKILL);
	scull_child = 0;
	if (WIFEXITED(status)) {
		ret = WEXITSTATUS(status);
		if (ret != KSFT_PASS && ret != KSFT_SKIP)
			ret = KSFT_FAIL;
	} else if (WIFSIGNALED(status)) {
		scull_diag("killed by signal %d (%s)", WTERMSIG(status),
			   strsignal(WTERMSIG(status)));
	}
	scull_diag("%s: %.2f s", t->name, scull_now() - start);
	return ret;
}

/* The line that ends a test, kselftest's way; counts it. */
static void scull_report(unsigned int num, const struct scull_test *t, int ret,
			 unsigned int cnt[])
{
	if (ret == KSFT_SKIP)
		printf("ok %u %s.%s # SKIP %s\n", num, scull_prog, t->name,
		       scull_skip_reason);
	else
		printf("%s %u %s.%s\n", ret == KSFT_PASS ? "ok" : "not ok",
		       num, scull_prog, t->name);
	cnt[ret]++;
}

int main(int argc, char **argv)
{
	unsigned int cnt[KSFT_SKIP + 1] = { 0 }, plan = 0, num = 0, i;
	int list = 0, npat, left;
	const char *why;
	char **pat;

	scull_prog = basename(argv[0]);
	if (argc > 1 && !strcmp(argv[1], "--list")) {
		list = 1;
		argc--;
		argv++;
	}
	npat = argc - 1;
	pat = argv + 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < scull_nr_tests; i++) {
		if (!scull_selected(&scull_tests[i], npat, pat))
			continue;
		plan++;
		if (list)
			printf("%s.%s\n", scull_prog, scull_tests[i].name);
	}
	if (list)
		return KSFT_PASS;

	printf("TAP version 13\n");
	if (!plan) {
		printf("1..0 # SKIP no test of %s selected\n", scull_prog);
		return KSFT_SKIP;
	}
	why = scull_precheck();
	if (why && scull_test_strict()) {
		/* the guest has all a program needs: not a skip there */
		printf("1..1\n# %s\nnot ok 1 %s.precheck\n", why, scull_prog);
		return KSFT_FAIL;
	}
	if (why) {
		printf("1..0 # SKIP %s\n", why);
		return KSFT_SKIP;
	}
	printf("1..%u\n", plan);

	scull_skip_reason = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (scull_skip_reason == MAP_FAILED) {
		perror("mmap");
		return KSFT_FAIL;
	}
	scull_on_stop(scull_stopped);
	for (i = 0; i < scull_nr_tests; i++) {
		const struct scull_test *t = &scull_tests[i];

		if (!scull_selected(t, npat, pat))
			continue;
		if (t->kind == SCULL_TEST_LONG && scull_test_quick() &&
		    !scull_named(t, npat, pat)) {
			snprintf(scull_skip_reason, 256,
				 "long here: SCULL_TEST_QUICK=%s (make check runs it; on the sanitizer kernel, make check-debug FULL=1)",
				 getenv("SCULL_TEST_QUICK"));
			scull_report(++num, t, KSFT_SKIP, cnt);
			continue;
		}
		scull_report(++num, t, scull_run_one(t), cnt);
	}
	left = scull_cleanup();
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	       cnt[KSFT_PASS], cnt[KSFT_FAIL], cnt[KSFT_SKIP]);
	if (cnt[KSFT_FAIL] || left)
		return KSFT_FAIL;
	return cnt[KSFT_PASS] ? KSFT_PASS : KSFT_SKIP;
}
