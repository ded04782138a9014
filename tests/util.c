// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the scull guest tests.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

/* What scull_dir() may hold: the tests give it to sh unquoted. */
#define SCULL_DIR_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.+-"

/* The folder this program is in. */
static const char *test_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		FAIL("readlink /proc/self/exe: %s", strerror(errno));
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	return dir;
}

const char *scull_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("SCULL_DIR");
	char given[PATH_MAX];

	if (dir[0])
		return dir;
	if (env && *env)
		snprintf(given, sizeof(given), "%s", env);
	else
		snprintf(given, sizeof(given), "%s/..", test_dir());
	/* absolute, as the scripts' messages name themselves */
	if (!realpath(given, dir))
		snprintf(dir, sizeof(dir), "%s", given);
	return dir;
}

/* "@dir/@name", in one of four buffers used in turn */
static const char *path_in(const char *dir, const char *name)
{
	static char paths[4][PATH_MAX];
	static unsigned int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

const char *scull_file(const char *name)
{
	return path_in(scull_dir(), name);
}

const char *scull_ko(void)
{
	char name[32];
	const char *path;

	snprintf(name, sizeof(name), "%s.ko", scull_module());
	path = scull_file(name);
	if (!access(path, R_OK))
		return path;
	/* the test guest has it: not a skip there (SCULL_TEST_STRICT) */
	if (scull_test_strict())
		FAIL("no %s (%s)", path, strerror(errno));
	SKIP("no %s (%s): build the module (make), or point SCULL_DIR at a tree with it",
	     path, strerror(errno));
}

const char *test_file(const char *name)
{
	return path_in(test_dir(), name);
}

void need_program(const char *name)
{
	if (!run_sh(NULL, 0, "command -v %s >/dev/null", name))
		return;
	/* the test guest has it: not a skip there (SCULL_TEST_STRICT) */
	if (scull_test_strict())
		FAIL("%s is not installed", name);
	SKIP("%s is not installed: this test runs it (Debian's package %s)", name, name);
}

#define SCULL_NEED_ROOT \
	"must be run as root: the tests reload scull, write its sysfs attributes and act as other users"
#define SCULL_NO_LOAD \
	"; the tests reload it with SCULL_DIR/scull_load, and SCULL_DIR has none: set it to the source tree"

/*
 * The whole program's precondition: root, a SCULL_DIR the shell can carry,
 * the driver loaded (the tests run against the module that is loaded).
 */
const char *scull_precheck(void)
{
	static char why[PATH_MAX + 256];
	const char *dir = scull_dir();
	int other, load;

	if (geteuid())
		return SCULL_NEED_ROOT;
	if (access(dir, F_OK)) {
		snprintf(why, sizeof(why), "SCULL_DIR=%s: %s", dir, strerror(errno));
		return why;
	}
	if (dir[strspn(dir, SCULL_DIR_CHARS)]) {
		snprintf(why, sizeof(why),
			 "SCULL_DIR=%s: the tests give it to sh unquoted: letters, digits and / _ . + - only",
			 dir);
		return why;
	}
	if (module_loaded())
		return NULL;
	other = !access(scull_is_rust() ? "/sys/module/scull" : "/sys/module/scull_rs", F_OK);
	load = !access(scull_file("scull_load"), X_OK);
	snprintf(why, sizeof(why), "%s is not loaded%s: load it first (sudo %s%s)%s",
		 scull_module(),
		 other ? (scull_is_rust() ? " (scull is: unset SCULL_IMPL to test it)" :
			  " (scull_rs is: set SCULL_IMPL=rust to test it)") : "",
		 load ? scull_file("") : "",
		 scull_is_rust() ? "scull_load --rust" : "scull_load", load ? "" : SCULL_NO_LOAD);
	return why;
}

int scull_cleanup(void)
{
	if (module_loaded())
		return 0;
	scull_diag("a test left %s unloaded: loading it back", scull_module());
	return scull_reload("");
}

const char *dev_path(int minor)
{
	static char paths[8][32];
	static unsigned int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "/dev/scull%d", minor);
	return p;
}

const char *pipe_path(int n)
{
	static char paths[8][32];
	static unsigned int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "/dev/scullpipe%d", n);
	return p;
}

int dev_open(int minor, int flags)
{
	int fd = open(dev_path(minor), flags);

	if (fd < 0)
		FAIL("open %s (flags 0x%x): %s", dev_path(minor), flags,
		     strerror(errno));
	return fd;
}

/* Drain a pipe (as a writer too, so an empty pipe is -EAGAIN, not a
 * wait) and give it its load-time size back.
 */
static void pipe_reset(int n)
{
	char buf[4096];
	int fd = open(pipe_path(n), O_RDWR | O_NONBLOCK);

	if (fd < 0)
		FAIL("open %s: %s", pipe_path(n), strerror(errno));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	ASSERT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
	ASSERT_OK(ioctl(fd, SCULL_P_IOCTSIZE, SCULL_P_BUFFER));
	close(fd);
}

/* scullsingle, sculluid, scullwuid: empty, load-time geometry. */
static void access_reset(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	ASSERT_OK(ioctl(fd, SCULL_IOCRESET));
	close(fd);
}

void dev_reset_all(void)
{
	int i, fd;

	for (i = 0; i < SCULL_NR_DEVS; i++) {
		char path[64];

		/* file-like again, should a test have given it a capacity */
		snprintf(path, sizeof(path), "/sys/class/scull/scull%d/capacity", i);
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			FAIL("resetting %s: %s", path, strerror(errno));
		close(fd);
		fd = dev_open(i, O_WRONLY | O_TRUNC);
		ASSERT_OK(ioctl(fd, SCULL_IOCRESET));
		close(fd);
		ASSERT_EQ(0, dev_size(i));
	}
	/* the twin has no pipes and no access devices yet */
	if (scull_is_rust())
		return;
	for (i = 0; i < SCULL_P_NR_DEVS; i++)
		pipe_reset(i);
	access_reset("scullsingle");
	access_reset("sculluid");
	access_reset("scullwuid");
}

long long dev_size(int minor)
{
	return sysfs_attr(minor, "size");
}

unsigned char pattern_byte(uint64_t off, uint32_t seed)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return x;
}

void pattern_fill(void *buf, size_t len, uint64_t off, uint32_t seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(off + i, seed);
}

void pattern_check(const void *buf, size_t len, uint64_t off, uint32_t seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(off + i, seed))
			FAIL("byte at offset %llu: expected 0x%02x, seen 0x%02x",
			     (unsigned long long)(off + i),
			     pattern_byte(off + i, seed), p[i]);
}

void write_exact(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n != (ssize_t)len)
		FAIL("write of %zu bytes returned %zd (%s)", len, n,
		     n < 0 ? strerror(errno) : "short");
}

void read_exact(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n != (ssize_t)len)
		FAIL("read of %zu bytes returned %zd (%s)", len, n,
		     n < 0 ? strerror(errno) : "short");
}

void pwrite_exact(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	if (n != (ssize_t)len)
		FAIL("pwrite of %zu bytes at %lld returned %zd (%s)", len,
		     (long long)off, n, n < 0 ? strerror(errno) : "short");
}

void pread_exact(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n != (ssize_t)len)
		FAIL("pread of %zu bytes at %lld returned %zd (%s)", len,
		     (long long)off, n, n < 0 ? strerror(errno) : "short");
}

void *xmalloc(size_t len)
{
	void *p = malloc(len);

	if (!p)
		FAIL("malloc(%zu) failed", len);
	return p;
}

long scaled(long n)
{
	const char *env = getenv("SCULL_TEST_SCALE");
	long pct = env ? atol(env) : 100;

	n = n * (pct > 0 ? pct : 100) / 100;
	return n > 0 ? n : 1;
}

ssize_t read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0)
			FAIL("read %s: %s", path, strerror(errno));
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

long long read_ll(const char *path)
{
	char buf[64], *end;
	long long v;

	read_text(path, buf, sizeof(buf));
	errno = 0;
	v = strtoll(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n'))
		FAIL("%s: not a number: \"%s\"", path, buf);
	return v;
}

long long sysfs_attr(int minor, const char *attr)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/scull/scull%d/%s", minor,
		 attr);
	return read_ll(path);
}

/* The scull group's id, from /etc/group (no NSS in the guest tests). */
gid_t scull_gid(void)
{
	struct group *gr = getgrnam(SCULL_GROUP);

	if (!gr)
		FAIL("no group %s in /etc/group", SCULL_GROUP);
	return gr->gr_gid;
}

void become_user(uid_t uid)
{
	gid_t group = scull_gid();

	/* the in-group user has scull as a supplementary group */
	if (setgroups(uid == USER_IN_UID ? 1 : 0, &group) || setgid(uid) || setuid(uid))
		FAIL("becoming uid %u: %s", uid, strerror(errno));
}

int as_user(uid_t uid, void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (!pid) {
		if (uid)
			become_user(uid);
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int run_sh(char *out, size_t size, const char *fmt, ...)
{
	char cmd[4096];
	int pipefd[2], status;
	size_t len = 0;
	va_list ap;
	pid_t pid;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);

	if (pipe(pipefd))
		FAIL("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (!pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char sink[512];

		if (out && len < size - 1)
			n = read(pipefd[0], out + len, size - 1 - len);
		else
			n = read(pipefd[0], sink, sizeof(sink));
		if (n <= 0)
			break;
		if (out && len < size - 1)
			len += n;
	}
	close(pipefd[0]);
	if (out)
		out[len] = '\0';
	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

void kmsg_mark(char *marker, size_t size)
{
	static unsigned int seq;
	int fd;

	snprintf(marker, size, "scull-test-mark-%d-%u", getpid(), seq++);
	fd = open("/dev/kmsg", O_WRONLY);
	if (fd < 0)
		FAIL("open /dev/kmsg: %s", strerror(errno));
	if (write(fd, marker, strlen(marker)) < 0)
		FAIL("write /dev/kmsg: %s", strerror(errno));
	close(fd);
}

/*
 * The text of the next record of the kernel log (fd reads /dev/kmsg), in
 * rec; NULL at the end of the log.
 */
static const char *kmsg_next(int fd, char *rec, size_t size)
{
	char *msg, *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, size - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip on */
		if (n <= 0)
			return NULL;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		return msg;
	}
}

static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		FAIL("open /dev/kmsg: %s", strerror(errno));
	return fd;
}

void kmsg_since(const char *marker, char *buf, size_t size)
{
	char rec[8192];
	const char *msg;
	size_t len = 0;
	int fd, seen = 0;

	buf[0] = '\0';
	fd = kmsg_open();
	while ((msg = kmsg_next(fd, rec, sizeof(rec)))) {
		if (!seen) {
			seen = !strcmp(msg, marker);
			continue;
		}
		len += snprintf(buf + len, len < size ? size - len : 0,
				"%s\n", msg);
	}
	close(fd);
	if (!seen)
		FAIL("marker %s not found in the kernel log", marker);
}

void kmsg_find(const char *needle, char *line, size_t size)
{
	char rec[8192];
	const char *msg;
	int fd = kmsg_open();

	while ((msg = kmsg_next(fd, rec, sizeof(rec))) && !strstr(msg, needle))
		;
	close(fd);
	if (!msg)
		FAIL("no \"%s\" in the kernel log", needle);
	snprintf(line, size, "%s", msg);
}

/* Whether pid sits asleep (state S) in system call nr. */
static int blocked_in(pid_t pid, long nr)
{
	char path[64], text[512], *state;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	read_text(path, text, sizeof(text));
	if (!strncmp(text, "running", 7) || atol(text) != nr)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	read_text(path, text, sizeof(text));
	state = strrchr(text, ')');
	return state && state[1] == ' ' && state[2] == 'S';
}

void wait_blocked(pid_t pid, long nr)
{
	int i;

	for (i = 0; i < 1000 && !blocked_in(pid, nr); i++)
		usleep(10000);
	if (i == 1000)
		FAIL("process %d never slept in system call %ld", pid, nr);
	usleep(50000);
	if (!blocked_in(pid, nr))
		FAIL("process %d left system call %ld after 50 ms", pid, nr);
}

int no_signal_pending(pid_t pid)
{
	char path[64], text[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	read_text(path, text, sizeof(text));
	p = strstr(text, "\nSigPnd:\t");
	if (!p || strtoull(p + 9, NULL, 16))
		return 0;
	p = strstr(text, "\nShdPnd:\t");
	return p && !strtoull(p + 9, NULL, 16);
}

void join_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid %d: %s", pid, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		FAIL("child %d: %s %d", pid,
		     WIFEXITED(status) ? "exit status" : "killed by signal",
		     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

unsigned int scull_major(void)
{
	char out[64];

	if (run_sh(out, sizeof(out), "awk '$2 == \"scull\" { print $1 }' /proc/devices"))
		FAIL("no scull in /proc/devices");
	return atoi(out);
}

static void node_check(const char *path, unsigned int major,
		       unsigned int minor, gid_t gid)
{
	struct stat st;

	if (stat(path, &st))
		FAIL("stat %s: %s", path, strerror(errno));
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != major ||
	    minor(st.st_rdev) != minor || (st.st_mode & 07777) != SCULL_MODE ||
	    st.st_gid != gid || st.st_uid != 0)
		FAIL("%s: %s %u:%u mode %o uid %u gid %u, expected a char device %u:%u mode %o uid 0 gid %u",
		     path, S_ISCHR(st.st_mode) ? "char device" : "not a char device",
		     major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777,
		     st.st_uid, st.st_gid, major, minor, SCULL_MODE, gid);
}

void nodes_check(unsigned int first_minor)
{
	static const char *const access_names[] = SCULL_ACCESS_NAMES;
	unsigned int major = scull_major(), minor = first_minor;
	gid_t gid = scull_gid();
	char path[64];
	int i;

	ASSERT_TRUE(major > 0);
	for (i = 0; i < SCULL_NR_DEVS; i++)
		node_check(dev_path(i), major, minor++, gid);
	if (scull_is_rust()) {
		/* the twin's devices are the memory devices alone */
		ASSERT_ERRNO(open(pipe_path(0), O_RDONLY), ENOENT);
		ASSERT_ERRNO(open("/dev/scullsingle", O_RDONLY), ENOENT);
		return;
	}
	for (i = 0; i < SCULL_P_NR_DEVS; i++)
		node_check(pipe_path(i), major, minor++, gid);
	for (i = 0; i < SCULL_ACCESS_NR_DEVS; i++) {
		snprintf(path, sizeof(path), "/dev/%s", access_names[i]);
		node_check(path, major, minor++, gid);
	}
}

int kernel_is_32bit(void)
{
	struct utsname u;

	ASSERT_OK(uname(&u));
	return !strcmp(u.machine, "i686") || !strcmp(u.machine, "i586") ||
	       !strcmp(u.machine, "i386") || !strncmp(u.machine, "armv", 4);
}

/*
 * MemFree, plus the pages waiting on the per-CPU lists, which MemFree
 * leaves out (pages freed lately sit there): /proc/zoneinfo's "count:"
 * lines.  The bench counts the same (tools/guest/free-kb.sh).
 */
long long mem_free_kb(void)
{
	long long pcp = 0, kb = -1, n;
	char line[256];
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		FAIL("open /proc/zoneinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lld", &n) == 1)
			pcp += n;
	fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		FAIL("open /proc/meminfo: %s", strerror(errno));
	while (kb < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %lld kB", &n) == 1)
			kb = n;
	fclose(f);
	if (kb < 0)
		FAIL("/proc/meminfo has no MemFree line");
	return kb + pcp * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * Whether the suite runs against the Rust twin (make check IMPL=rust, which
 * loads scull_rs.ko: the memory devices only, so far).
 */
int scull_is_rust(void)
{
	const char *impl = getenv("SCULL_IMPL");

	return impl && !strcmp(impl, "rust");
}

/* The module's name: scull, or scull_rs for the Rust twin. */
const char *scull_module(void)
{
	return scull_is_rust() ? "scull_rs" : "scull";
}

long long module_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", scull_module(), name);
	return read_ll(path);
}

int module_loaded(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", scull_module());
	return access(path, F_OK) == 0;
}

void nothing_registered(void)
{
	ASSERT_TRUE(!module_loaded());
	ASSERT_NE(0, run_sh(NULL, 0, "grep -qw scull /proc/devices"));
	ASSERT_ERRNO(access("/sys/class/scull", F_OK), ENOENT);
	ASSERT_ERRNO(access("/proc/scullmem", F_OK), ENOENT);
	ASSERT_ERRNO(access("/proc/scullseq", F_OK), ENOENT);
	ASSERT_ERRNO(access("/dev/scull0", F_OK), ENOENT);
	/* no node, no link: nothing named /dev/scull* */
	ASSERT_EQ(0, run_sh(NULL, 0, "test \"$(echo /dev/scull*)\" = '/dev/scull*'"));
}

int scull_reload(const char *params)
{
	char out[4096];
	int ret;

	if (module_loaded()) {
		ret = run_sh(out, sizeof(out), "%s/scull_unload", scull_dir());
		if (ret) {
			scull_diag("scull_unload: %d: %s", ret, out);
			return ret;
		}
	}
	ret = run_sh(out, sizeof(out), "%s/scull_load %s", scull_dir(), params);
	if (ret)
		scull_diag("scull_load %s: %d: %s", params, ret, out);
	return ret;
}

/* Whether the loaded module runs with the default parameters. */
static int scull_has_defaults(void)
{
	static const struct {
		const char *name;
		long long value;
	} defaults[] = {
		{ "scull_major", 0 },
		{ "scull_minor", 0 },
		{ "scull_nr_devs", SCULL_NR_DEVS },
		{ "scull_quantum", SCULL_QUANTUM },
		{ "scull_qset", SCULL_QSET },
		{ "scull_size_limit", SCULL_LIMIT },
		{ "scull_capacity", 0 },
		{ "scull_priv_limit", SCULL_PRIV_LIMIT },
		{ "scull_p_nr_devs", SCULL_P_NR_DEVS },
		{ "scull_p_buffer", SCULL_P_BUFFER },
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		/* the twin has the memory devices' parameters only */
		if (scull_is_rust() && (strstr(defaults[i].name, "_p_") ||
					strstr(defaults[i].name, "_priv_")))
			continue;
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
			 scull_module(), defaults[i].name);
		if (access(path, R_OK) || read_ll(path) != defaults[i].value)
			return 0;
	}
	for (i = 0; i < SCULL_NR_DEVS; i++)
		if (access(dev_path(i), F_OK))
			return 0;
	for (i = 0; i < SCULL_P_NR_DEVS && !scull_is_rust(); i++)
		if (access(pipe_path(i), F_OK))
			return 0;
	return 1;
}

void scull_restore(void)
{
	if (!module_loaded() || !scull_has_defaults())
		ASSERT_EQ(0, scull_reload(""));
	dev_reset_all();
}

/* Three pages of a pattern, the middle one registered with userfaultfd
 * and not present.
 */
void stall_init(struct stall *s)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	s->uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (s->uffd < 0)
		FAIL("userfaultfd: %s", strerror(errno));
	ASSERT_OK(ioctl(s->uffd, UFFDIO_API, &api));
	s->buf = mmap(NULL, 3 * STALL_PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(s->buf != MAP_FAILED);
	pattern_fill(s->buf, STALL_PAGE, 0, 5);
	pattern_fill(s->buf + 2 * STALL_PAGE, STALL_PAGE, 2 * STALL_PAGE, 5);
	reg.range.start = (unsigned long)s->buf + STALL_PAGE;
	reg.range.len = STALL_PAGE;
	ASSERT_OK(ioctl(s->uffd, UFFDIO_REGISTER, &reg));
}

/* Wait until someone faults on the missing page. */
void stall_wait(struct stall *s)
{
	struct pollfd p = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	ASSERT_EQ(1, poll(&p, 1, 10000));
	ASSERT_EQ(sizeof(msg), read(s->uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ((unsigned long)s->buf + STALL_PAGE, msg.arg.pagefault.address & ~(STALL_PAGE - 1UL));
}

/* Supply the missing page: the pattern's middle page. */
void stall_release(struct stall *s)
{
	static unsigned char page[STALL_PAGE] __attribute__((aligned(STALL_PAGE)));
	struct uffdio_copy copy = {
		.dst = (unsigned long)s->buf + STALL_PAGE,
		.src = (unsigned long)page,
		.len = STALL_PAGE,
	};

	pattern_fill(page, STALL_PAGE, STALL_PAGE, 5);
	ASSERT_OK(ioctl(s->uffd, UFFDIO_COPY, &copy));
}

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define MEMCG_TEST	"scull-memcg"
#define MEMCG_DRAIN	"scull-drain"

static void cgroup_join(const char *name)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (run_sh(NULL, 0, "echo %s > " CGROUP_ROOT "/%s/cgroup.procs", pid, name))
		FAIL("cannot join the cgroup %s", name);
}

/*
 * Each CPU keeps a little of one cgroup's slab charges and statistics
 * (under a page) until another cgroup allocates there: allocate from
 * MEMCG_DRAIN on every CPU, so what the test's cgroup holds is all
 * counted.
 */
static void memcg_drain(void)
{
	long cpu, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int status, p[2];
	pid_t pid;

	for (cpu = 0; cpu < ncpu; cpu++) {
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			FAIL("fork: %s", strerror(errno));
		if (!pid) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			cgroup_join(MEMCG_DRAIN);
			if (sched_setaffinity(0, sizeof(set), &set) || pipe(p))
				_exit(1);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) != pid || status)
			FAIL("draining the memory cgroup charges on CPU %ld failed", cpu);
	}
}

static void memcg_read(struct memcg_use *u)
{
	char text[8192], *line;

	memcg_drain();
	/* reading cpu.stat flushes the cgroup's statistics (rstat) */
	read_text(CGROUP_ROOT "/" MEMCG_TEST "/cpu.stat", text, sizeof(text));
	read_text(CGROUP_ROOT "/" MEMCG_TEST "/memory.stat", text, sizeof(text));
	u->kernel = u->slab = -1;
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "kernel ", 7))
			u->kernel = atoll(line + 7);
		else if (!strncmp(line, "slab ", 5))
			u->slab = atoll(line + 5);
	}
	if (u->kernel < 0 || u->slab < 0)
		FAIL(CGROUP_ROOT "/" MEMCG_TEST "/memory.stat lacks kernel or slab");
}

/* The writer's side of memcg_run(): each step waits for a byte on in. */
static void memcg_writer(int minor, void (*work)(int fd, void *arg), void *arg,
			 int in, int out)
{
	int fd = dev_open(minor, O_RDWR);
	char c;

	cgroup_join(MEMCG_TEST);
	if (write(out, "r", 1) != 1 || read(in, &c, 1) != 1)
		_exit(1);
	work(fd, arg);
	if (write(out, "w", 1) != 1 || read(in, &c, 1) != 1)
		_exit(1);
	close(fd);
	if (write(out, "c", 1) != 1 || read(in, &c, 1) != 1)
		_exit(1);
	_exit(0);
}

/* Let the writer take its next step, and wait until it has. */
static void memcg_step(int in, int out, char expect)
{
	char c = 0;

	if (write(out, "g", 1) != 1)
		FAIL("write to the writer: %s", strerror(errno));
	if (read(in, &c, 1) != 1 || c != expect)
		FAIL("the writer stopped before step '%c'", expect);
}

void memcg_run(int minor, void (*work)(int fd, void *arg), void *arg,
	       void (*undo)(void), struct memcg_use use[3])
{
	int to[2], from[2], status, i, cpu;
	cpu_set_t all, one;
	pid_t pid;

	/*
	 * Every charge and uncharge on one CPU (the writer inherits it, and
	 * so does @undo's shell): each CPU caches under a page of a cgroup's
	 * charges, and on 7.2 memcg_drain() does not empty those caches, so
	 * a writer and an undo spread over two CPUs left up to a page on each.
	 */
	ASSERT_OK(sched_getaffinity(0, sizeof(all), &all));
	for (cpu = 0; !CPU_ISSET(cpu, &all); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_OK(sched_setaffinity(0, sizeof(one), &one));

	ASSERT_EQ(0, run_sh(NULL, 0, "[ -e " CGROUP_ROOT "/cgroup.controllers ] || "
			     "mount -t cgroup2 none " CGROUP_ROOT));
	ASSERT_EQ(0, run_sh(NULL, 0, "echo +memory > " CGROUP_ROOT "/cgroup.subtree_control && "
			     "mkdir -p " CGROUP_ROOT "/" MEMCG_TEST " " CGROUP_ROOT "/" MEMCG_DRAIN));
	ASSERT_OK(pipe(to));
	ASSERT_OK(pipe(from));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (!pid)
		memcg_writer(minor, work, arg, to[0], from[1]);
	if (read(from[0], &status, 1) != 1)
		FAIL("the writer did not start");
	memcg_read(&use[0]);
	memcg_step(from[0], to[1], 'w');	/* it wrote */
	memcg_read(&use[1]);
	memcg_step(from[0], to[1], 'c');	/* it closed its file */
	undo();
	for (i = 0; i < 40; i++) {
		memcg_read(&use[2]);
		if (use[2].kernel <= use[0].kernel && use[2].slab <= use[0].slab)
			break;
		usleep(50000);
	}
	if (write(to[1], "e", 1) != 1 || waitpid(pid, &status, 0) != pid)
		FAIL("the writer did not end");
	ASSERT_EQ(0, status);
	close(to[0]);
	close(to[1]);
	close(from[0]);
	close(from[1]);
	ASSERT_EQ(0, run_sh(NULL, 0, "rmdir " CGROUP_ROOT "/" MEMCG_TEST " " CGROUP_ROOT "/" MEMCG_DRAIN));
	ASSERT_OK(sched_setaffinity(0, sizeof(all), &all));
	scull_diag("memory cgroup kernel/slab bytes: before %lld/%lld, stored %lld/%lld, after %lld/%lld",
		   use[0].kernel, use[0].slab, use[1].kernel, use[1].slab,
		   use[2].kernel, use[2].slab);
}

/*
 * memcg_store()'s work: len bytes of 0x5a from offset 0, 1 MiB a call, from
 * a buffer filled before the writer forks (it touches no new page of its
 * own, so no page table is charged to the cgroup).
 */
static char store_buf[1 << 20];

static void store_5a(int fd, void *arg)
{
	char *buf = store_buf;
	size_t len = *(size_t *)arg, done;

	for (done = 0; done < len; done += sizeof(store_buf))
		write_exact(fd, buf, len - done < sizeof(store_buf) ?
			    len - done : sizeof(store_buf));
}

void memcg_store(int minor, size_t len, void (*undo)(void),
		 struct memcg_use use[3])
{
	memset(store_buf, 0x5a, sizeof(store_buf));
	memcg_run(minor, store_5a, &len, undo, use);
}

/*
 * What one kmalloc(size, GFP_KERNEL_ACCOUNT) object is charged: the slab
 * size of the smallest kmalloc-cg cache it fits (the smallest there is
 * depends on the architecture: 8 bytes on x86, 128 on arm64), and its
 * cgroup pointer.
 */
static long long slab_cost(size_t size)
{
	static const char *const names[] = {
		"8", "16", "32", "64", "96", "128", "192", "256", "512",
		"1k", "2k", "4k", "8k",
	};
	static const size_t sizes[] = {
		8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/kmalloc-cg-%s/slab_size",
			 names[i]);
		if (sizes[i] >= size && !access(path, R_OK))
			return read_ll(path) + sizeof(void *);
	}
	FAIL("no kmalloc-cg cache for %zu bytes", size);
}

/*
 * The store's table of sets (src/storage.c: SCULL_TABLE_MIN, _MAX): a
 * pointer for each set number up to the furthest set, rounded up to a
 * power of two, at least 16 and at most 4096 of them.
 */
static long long table_bytes(long long sets)
{
	long long n = 16;

	if (!sets)
		return 0;
	while (n < sets && n < 4096)
		n *= 2;
	return n * sizeof(void *);
}

void scull_cost(size_t len, struct memcg_use *cost)
{
	long long span = (long long)SCULL_QUANTUM * SCULL_QSET;
	long long quanta = (len + SCULL_QUANTUM - 1) / SCULL_QUANTUM;
	long long sets = (len + span - 1) / span;
	long long table = table_bytes(sets);

	/*
	 * A quantum of SCULL_QUANTUM bytes is a page.  A set's array of
	 * SCULL_QSET pointers (4096 bytes on 64-bit, 2048 on 32-bit) and
	 * struct scull_qset (a pointer, a list_head, an unsigned long and an
	 * unsigned int: 40 bytes on 64-bit, 20 on 32-bit) are kmalloc'ed
	 * __GFP_ACCOUNT, so from the kmalloc-cg-* caches.  The index's
	 * xarray nodes are not charged: the xarray is not XA_FLAGS_ACCOUNT,
	 * and xa_store() tries GFP_NOWAIT without __GFP_ACCOUNT first.  The
	 * table of sets is kvcalloc()ed __GFP_ACCOUNT too: from a kmalloc-cg
	 * cache up to 8 KiB, and beyond that pages of its own (a large
	 * kmalloc, or vmalloc() when that fails), charged as kernel memory
	 * but not as slab.  The tests here store 8 and 32 sets: 16- and
	 * 32-entry tables.
	 */
	if (scull_is_rust()) {
		/*
		 * The Rust twin (rust/store.rs), all GFP_KERNEL_ACCOUNT: a
		 * quantum is a KVVec<u8> of SCULL_QUANTUM bytes (kmalloc-cg-4k);
		 * a set is an RBTree node of 64 bytes (rb_node, the index,
		 * QSet: a KVVec and a count) and a KVVec of SCULL_QSET
		 * Option<KVVec<u8>>, 24 bytes each: 12 KiB, a large kmalloc
		 * of four pages, which 7.x counts as slab (measured: 16 KiB
		 * a set above the rest, 16941632 bytes for 16 MiB).  The twin
		 * runs on 7.x only.
		 */
		long long array = SCULL_QSET * 3 * sizeof(void *);
		long long pages = sysconf(_SC_PAGESIZE);

		while (pages < array)
			pages *= 2;
		cost->slab = quanta * slab_cost(SCULL_QUANTUM) +
			     sets * (slab_cost(64) + pages);
		cost->kernel = cost->slab;
		return;
	}
	cost->slab = sets * (slab_cost(SCULL_QSET * sizeof(void *)) +
			     slab_cost(3 * sizeof(void *) + sizeof(unsigned long) +
				       sizeof(unsigned int)));
	if (table && table <= 8192)
		cost->slab += slab_cost(table);
	cost->kernel = quanta * SCULL_QUANTUM + cost->slab;
	if (table > 8192)
		cost->kernel += table;
}

/*
 * How far "after" may be from "before" in a cgroup's kernel memory for
 * reasons other than scull: a page either way on 6.x (the noise measured);
 * two pages on 7.x, which charges the cgroup pages of its own during a run
 * and keeps them ("before 0, after 8192" seen with a writer that allocates
 * nothing in the cgroup).
 */
long long memcg_slack(void)
{
	long long page = sysconf(_SC_PAGESIZE);
	struct utsname u;

	if (uname(&u) || atoi(u.release) < 7)
		return page;
	return 2 * page;
}

void memcg_check(const struct memcg_use use[3], const struct memcg_use *cost)
{
	long long page = sysconf(_SC_PAGESIZE);

	/* slab is counted in bytes, exactly */
	ASSERT_EQ(cost->slab, use[1].slab - use[0].slab);
	ASSERT_EQ(0, use[2].slab - use[0].slab);
	/*
	 * kernel counts the pages charged: slab charges whole pages and
	 * keeps the rest of the last one (under a page) for the next object;
	 * and the kernel's own (memcg_slack()).
	 */
	if (llabs(use[1].kernel - use[0].kernel - cost->kernel) >=
	    page + memcg_slack())
		FAIL("kernel memory stored: expected %lld bytes (%lld in slab), seen %lld",
		     cost->kernel, cost->slab, use[1].kernel - use[0].kernel);
	if (llabs(use[2].kernel - use[0].kernel) > memcg_slack())
		FAIL("kernel memory after: expected what it was before (%lld bytes), seen %lld",
		     use[0].kernel, use[2].kernel);
}

/* The harness's setup, unless a program defines its own: see harness.h. */
void __attribute__((weak)) scull_setup(void)
{
	scull_restore();
}

/* The quanta a minor holds: its line in /proc/scullmem ("... quanta N"). */
long long dev_quanta(int minor)
{
	char text[8192], key[32], *p;

	read_text("/proc/scullmem", text, sizeof(text));
	snprintf(key, sizeof(key), "Device %d: ", minor);
	p = strstr(text, key);
	if (!p || !(p = strstr(p, "quanta ")))
		FAIL("no line for device %d in /proc/scullmem:\n%s", minor, text);
	return atoll(p + 7);
}
