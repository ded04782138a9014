// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the scull guest tests.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

const char *dev_path(int minor)
{
	static char paths[8][32];
	static unsigned int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "/dev/scull%d", minor);
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

void dev_reset_all(void)
{
	int i, fd;

	for (i = 0; i < SCULL_NR_DEVS; i++) {
		fd = dev_open(i, O_WRONLY | O_TRUNC);
		ASSERT_OK(ioctl(fd, SCULL_IOCRESET));
		close(fd);
		ASSERT_EQ(dev_size(i), 0);
	}
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
			FAIL("byte at offset %llu: 0x%02x, expected 0x%02x",
			     (unsigned long long)(off + i), p[i],
			     pattern_byte(off + i, seed));
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

void kmsg_since(const char *marker, char *buf, size_t size)
{
	char rec[8192];
	size_t len = 0;
	int fd, seen = 0;
	ssize_t n;

	buf[0] = '\0';
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		FAIL("open /dev/kmsg: %s", strerror(errno));
	for (;;) {
		char *msg, *nl;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
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

unsigned int scull_major(void)
{
	char out[64];

	if (run_sh(out, sizeof(out), "awk '$2 == \"scull\" { print $1 }' /proc/devices"))
		FAIL("no scull in /proc/devices");
	return atoi(out);
}

void nodes_check(unsigned int first_minor)
{
	unsigned int major = scull_major();
	gid_t gid = scull_gid();
	struct stat st;
	int i;

	ASSERT_TRUE(major > 0);
	for (i = 0; i < SCULL_NR_DEVS; i++) {
		ASSERT_OK(stat(dev_path(i), &st));
		ASSERT_TRUE(S_ISCHR(st.st_mode));
		ASSERT_EQ(major(st.st_rdev), major);
		ASSERT_EQ(minor(st.st_rdev), first_minor + i);
		ASSERT_EQ(st.st_mode & 07777, SCULL_MODE);
		ASSERT_EQ(st.st_gid, gid);
		ASSERT_EQ(st.st_uid, 0);
	}
}

int module_loaded(void)
{
	return access("/sys/module/scull", F_OK) == 0;
}

void nothing_registered(void)
{
	ASSERT_TRUE(!module_loaded());
	ASSERT_NE(run_sh(NULL, 0, "grep -qw scull /proc/devices"), 0);
	ASSERT_ERRNO(access("/sys/class/scull", F_OK), ENOENT);
	ASSERT_ERRNO(access("/proc/scullmem", F_OK), ENOENT);
	ASSERT_ERRNO(access("/proc/scullseq", F_OK), ENOENT);
	ASSERT_ERRNO(access("/dev/scull0", F_OK), ENOENT);
}

int scull_reload(const char *params)
{
	char out[4096];
	int ret;

	if (module_loaded()) {
		ret = run_sh(out, sizeof(out), SCULL_DIR "/scull_unload");
		if (ret) {
			scull_diag("scull_unload: %d: %s", ret, out);
			return ret;
		}
	}
	ret = run_sh(out, sizeof(out), SCULL_DIR "/scull_load %s", params);
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
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/scull/parameters/%s",
			 defaults[i].name);
		if (access(path, R_OK) || read_ll(path) != defaults[i].value)
			return 0;
	}
	for (i = 0; i < SCULL_NR_DEVS; i++)
		if (access(dev_path(i), F_OK))
			return 0;
	return 1;
}

void scull_restore(void)
{
	if (!module_loaded() || !scull_has_defaults())
		ASSERT_EQ(scull_reload(""), 0);
	dev_reset_all();
}
