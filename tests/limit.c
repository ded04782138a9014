// SPDX-License-Identifier: GPL-2.0
/*
 * The per-device size limit: writes stop there with -ENOSPC, a write that
 * crosses it stores what fits, and nothing before it is lost.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

TEST(default_limit_is_256mib)
{
	int i;

	for (i = 0; i < SCULL_NR_DEVS; i++)
		ASSERT_EQ(SCULL_LIMIT, sysfs_attr(i, "size_limit"));
	ASSERT_EQ(SCULL_LIMIT, read_ll("/sys/module/scull/parameters/scull_size_limit"));
}

TEST(write_at_limit_is_enospc)
{
	char buf[16];
	int fd = dev_open(0, O_RDWR);

	pwrite_exact(fd, "L", 1, SCULL_LIMIT - 1);
	ASSERT_EQ(SCULL_LIMIT, dev_size(0));
	ASSERT_ERRNO(pwrite(fd, "x", 1, SCULL_LIMIT), ENOSPC);
	ASSERT_ERRNO(pwrite(fd, "x", 1, SCULL_LIMIT + 12345), ENOSPC);
	ASSERT_ERRNO(pwrite(fd, "x", 1, 1LL << 62), ENOSPC);
	ASSERT_EQ(SCULL_LIMIT, lseek(fd, 0, SEEK_END));
	ASSERT_ERRNO(write(fd, "x", 1), ENOSPC);
	/* a zero-length write is no write: 0, not an error */
	ASSERT_EQ(0, write(fd, "x", 0));
	ASSERT_EQ(SCULL_LIMIT, dev_size(0));
	pread_exact(fd, buf, 1, SCULL_LIMIT - 1);
	ASSERT_EQ('L', buf[0]);
	close(fd);
}

TEST(write_across_limit_is_partial)
{
	unsigned char buf[10000], back[10000];
	struct iovec iov[2] = { { buf, 6000 }, { buf + 6000, 4000 } };
	int fd = dev_open(0, O_RDWR);

	pattern_fill(buf, sizeof(buf), 0, 5);
	ASSERT_EQ(100, pwrite(fd, buf, sizeof(buf), SCULL_LIMIT - 100));
	ASSERT_EQ(SCULL_LIMIT, dev_size(0));
	pread_exact(fd, back, 100, SCULL_LIMIT - 100);
	ASSERT_MEM_EQ(buf, back, 100);
	/* vectors too */
	ASSERT_EQ(7000, pwritev(fd, iov, 2, SCULL_LIMIT - 7000));
	pread_exact(fd, back, 7000, SCULL_LIMIT - 7000);
	ASSERT_MEM_EQ(buf, back, 7000);
	close(fd);
}

/* With a 64 KiB limit (memparse suffix), fill a device to the brim. */
TEST(small_limit_fills_exactly)
{
	size_t limit = 64 << 10;
	unsigned char *buf = xmalloc(limit + 4096), *back = xmalloc(limit);
	int fd;

	ASSERT_EQ(0, scull_reload("scull_size_limit=64K"));
	ASSERT_EQ(limit, sysfs_attr(2, "size_limit"));
	pattern_fill(buf, limit + 4096, 0, 6);
	fd = dev_open(2, O_RDWR);
	write_exact(fd, buf, 40000);
	ASSERT_EQ(limit - 40000, write(fd, buf + 40000, limit + 4096 - 40000));
	ASSERT_ERRNO(write(fd, buf, 1), ENOSPC);
	ASSERT_EQ(limit, dev_size(2));
	pread_exact(fd, back, limit, 0);
	ASSERT_MEM_EQ(buf, back, limit);
	/* after a trim the whole limit is free again */
	close(fd);
	fd = dev_open(2, O_WRONLY);
	write_exact(fd, buf, limit);
	close(fd);
	free(buf);
	free(back);
}

static long long cg_current(void)
{
	return read_ll("/sys/fs/cgroup/scull-test/memory.current");
}

/* Run in a fresh memory cgroup: 16 MiB stored are charged to it, and the
 * charge goes when the data does.
 */
static void charged_writer(void *arg)
{
	size_t chunk = 1 << 20, i;
	char *buf = xmalloc(chunk);
	long long before, stored, trimmed;
	int fd;

	(void)arg;
	memset(buf, 0x42, chunk);
	fd = dev_open(1, O_RDWR);
	before = cg_current();
	for (i = 0; i < 16; i++)
		write_exact(fd, buf, chunk);
	stored = cg_current();
	close(fd);
	close(dev_open(1, O_RDWR | O_TRUNC));
	trimmed = cg_current();
	scull_diag("memory.current: %lld before, %lld with 16 MiB stored, %lld after the trim",
		   before, stored, trimmed);
	/* the 16 MiB were charged, and all but a page of noise went back */
	ASSERT_TRUE(stored - before >= 16 << 20);
	ASSERT_TRUE(trimmed - before < 64 << 10);
}

TEST(writes_are_charged_to_the_memory_cgroup)
{
	char pid[32];
	int status;
	pid_t child;

	ASSERT_EQ(0, run_sh(NULL, 0, "mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup"));
	ASSERT_EQ(0, run_sh(NULL, 0, "echo +memory > /sys/fs/cgroup/cgroup.subtree_control && "
			     "mkdir -p /sys/fs/cgroup/scull-test"));
	child = fork();
	if (!child) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (run_sh(NULL, 0, "echo %s > /sys/fs/cgroup/scull-test/cgroup.procs", pid))
			FAIL("cannot join the cgroup");
		charged_writer(NULL);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, run_sh(NULL, 0, "rmdir /sys/fs/cgroup/scull-test"));
	ASSERT_EQ(0, status);
}
