/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small harness for the scull guest tests, printing what kselftest
 * prints (tests/README says why it is not kselftest_harness.h).
 *
 * Each test is a named function; each runs in a forked child with a time
 * limit, so a crash or a hang fails one test, not the program.  Before the
 * test the child runs scull_setup(): util.c's default brings the module
 * and the devices to their load-time state (scull_restore()); a program
 * that needs more defines its own scull_setup().  Before any test the
 * program asks scull_precheck() (util.c) whether the machine can run them
 * at all (root, scull loaded); when not, it skips whole, saying why.
 * After them scull_cleanup() loads scull back should a test have left it
 * unloaded, so that the next program finds it as this one did.  The
 * harness provides main().
 *
 *   prog --list [PATTERN...]    names of the tests that would run
 *   prog [PATTERN...]           run them; PATTERN is an fnmatch() pattern
 *                               matched against "prog" and "prog.name";
 *                               "!PATTERN" leaves out what it matches (alone,
 *                               exclusions leave every other test selected)
 *
 * Output is kselftest's TAP:
 *
 *   TAP version 13
 *   1..3
 *   # diagnostics, and why a test failed
 *   ok 1 prog.name
 *   not ok 2 prog.other
 *   ok 3 prog.third # SKIP reason
 *   # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0
 *
 * A TEST_MANUAL test (a long soak) runs only when a pattern is exactly its
 * "prog.name", never by default or through a wildcard.  A TEST_LONG test
 * (minutes on the sanitizer kernel) runs like any other, except with
 * SCULL_TEST_QUICK=1 in the environment (`make check-debug` without
 * FULL=1, which CI runs): then it reports "# SKIP", unless a pattern names
 * it exactly.  When no test is selected, or the machine cannot run them,
 * the plan is "1..0 # SKIP <why>" and the program exits KSFT_SKIP.
 *
 * Exit status, kselftest's: KSFT_FAIL when a test failed (or scull could
 * not be loaded back after the tests), KSFT_SKIP when none passed and some
 * were skipped (or none was selected, or the machine cannot run them),
 * KSFT_PASS otherwise.
 *
 * Assertions take the expected value first, as kselftest's do:
 * ASSERT_EQ(expected, seen).  They may be called from any depth (helpers
 * in util.c use them): a failure prints where and why, and ends the test's
 * child process.
 */
#ifndef SCULL_HARNESS_H
#define SCULL_HARNESS_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

struct scull_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds */
	int kind;		/* SCULL_TEST_AUTO, _MANUAL or _LONG */
};

enum {
	SCULL_TEST_AUTO,	/* runs whenever selected */
	SCULL_TEST_MANUAL,	/* only when named exactly */
	SCULL_TEST_LONG,	/* skipped under SCULL_TEST_QUICK unless named */
};

void scull_test_register(const char *name, void (*fn)(void),
			 unsigned int timeout, int kind);

/*
 * Runs in each test's child before the test, to bring shared state (the
 * module, the devices) to what the tests start from.  util.c's default is
 * scull_restore(); a program overrides it by defining its own.  An
 * assertion failing in it fails the test.
 */
void scull_setup(void);

/*
 * Runs once, in the program, before its selected tests (never for
 * --list): NULL when they can run here, else why none can.
 */
const char *scull_precheck(void);
/*
 * Runs once, in the program, after its tests: leaves the machine as the
 * precheck found it (scull loaded; the module tests unload it).  Nonzero
 * when it could not, having said why: the program then fails.
 */
int scull_cleanup(void);

#define SCULL_TEST_DEFAULT_TIMEOUT	120

#define SCULL_TEST(name, secs, kind)					\
	static void name(void);						\
	static void __attribute__((constructor)) name##_register(void)	\
	{								\
		scull_test_register(#name, name, secs, kind);		\
	}								\
	static void name(void)

#define TEST(name) SCULL_TEST(name, SCULL_TEST_DEFAULT_TIMEOUT, SCULL_TEST_AUTO)
#define TEST_TIMEOUT(name, secs) SCULL_TEST(name, secs, SCULL_TEST_AUTO)
#define TEST_MANUAL(name, secs) SCULL_TEST(name, secs, SCULL_TEST_MANUAL)
#define TEST_LONG(name, secs) SCULL_TEST(name, secs, SCULL_TEST_LONG)

/* Whether SCULL_TEST_STRICT makes a program's skip-all a failure. */
int scull_test_strict(void);
/* Whether SCULL_TEST_QUICK asks for the quick profile (set, not "0"). */
int scull_test_quick(void);

void scull_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void scull_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void scull_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define FAIL(...) scull_fail(__FILE__, __LINE__, __VA_ARGS__)
#define SKIP(...) scull_skip(__VA_ARGS__)

#define ASSERT_EQ(expected, seen) do {					\
	long long _e = (long long)(expected), _s = (long long)(seen);	\
	if (_e != _s)							\
		FAIL("%s == %s: expected %lld, seen %lld", #expected,	\
		     #seen, _e, _s);					\
} while (0)

#define ASSERT_NE(expected, seen) do {					\
	long long _e = (long long)(expected), _s = (long long)(seen);	\
	if (_e == _s)							\
		FAIL("%s != %s: expected anything but %lld, seen it",	\
		     #expected, #seen, _e);				\
} while (0)

#define ASSERT_TRUE(c) do {						\
	if (!(c))							\
		FAIL("%s is false", #c);				\
} while (0)

/* A call that must succeed (return >= 0); reports errno otherwise. */
#define ASSERT_OK(call) ({						\
	long long _r = (long long)(call);				\
	if (_r < 0)							\
		FAIL("%s failed: %s", #call, strerror(errno));		\
	_r;								\
})

/* A call that must fail with -1 and errno e. */
#define ASSERT_ERRNO(call, e) do {					\
	errno = 0;							\
	long long _r = (long long)(call);				\
	int _e = errno;							\
	if (_r != -1 || _e != (e))					\
		FAIL("%s: expected -1 (%s), seen %lld (%s)", #call,	\
		     strerror(e), _r,					\
		     _r == -1 ? strerror(_e) : "no error");		\
} while (0)

#define ASSERT_STR_EQ(expected, seen) do {				\
	const char *_e = (expected), *_s = (seen);			\
	if (strcmp(_e, _s))						\
		FAIL("%s == %s: expected \"%s\", seen \"%s\"",		\
		     #expected, #seen, _e, _s);				\
} while (0)

/* Compare buffers and name the first differing offset. */
#define ASSERT_MEM_EQ(expected, seen, len) do {				\
	const unsigned char *_e = (const void *)(expected);		\
	const unsigned char *_s = (const void *)(seen);			\
	size_t _n = (len), _i;						\
	for (_i = 0; _i < _n && _e[_i] == _s[_i]; _i++)			\
		;							\
	if (_i < _n)							\
		FAIL("%s == %s (%zu bytes): first difference at %zu: "	\
		     "expected 0x%02x, seen 0x%02x", #expected, #seen,	\
		     _n, _i, _e[_i], _s[_i]);				\
} while (0)

#endif /* SCULL_HARNESS_H */
