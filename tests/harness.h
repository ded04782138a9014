/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small kselftest-style harness for the scull guest tests.
 *
 * Each test is a named function; each runs in a forked child with a time
 * limit, so a crash or a hang fails one test, not the program.  Results are
 * TAP lines: "ok - prog.name", "not ok - prog.name", "ok - prog.name # SKIP
 * reason".  The host renumbers them and counts.
 *
 *   prog --list [PATTERN...]    names of the tests that would run
 *   prog [PATTERN...]           run them; PATTERN is an fnmatch() pattern
 *                               matched against "prog" and "prog.name"
 *
 * A TEST_MANUAL test (a long soak) runs only when a pattern is exactly its
 * "prog.name", never by default or through a wildcard.
 *
 * Exit status: 0 when nothing failed, 1 otherwise.
 *
 * Assertions take the expected value first, as kselftest's do:
 * ASSERT_EQ(expected, seen).
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
	int manual;		/* only when named exactly */
};

void scull_test_register(const char *name, void (*fn)(void),
			 unsigned int timeout, int manual);
int scull_test_main(int argc, char **argv);

/*
 * Runs in each test's child before the test: a program defines it to bring
 * shared state (the module, the devices) to what its tests start from.  An
 * assertion failing in it fails the test.
 */
void scull_setup(void);

#define SCULL_TEST_DEFAULT_TIMEOUT	120

#define SCULL_TEST(name, secs, manual)					\
	static void name(void);						\
	static void __attribute__((constructor)) name##_register(void)	\
	{								\
		scull_test_register(#name, name, secs, manual);		\
	}								\
	static void name(void)

#define TEST(name) SCULL_TEST(name, SCULL_TEST_DEFAULT_TIMEOUT, 0)
#define TEST_TIMEOUT(name, secs) SCULL_TEST(name, secs, 0)
#define TEST_MANUAL(name, secs) SCULL_TEST(name, secs, 1)

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
