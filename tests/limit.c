// SPDX-License-Identifier: GPL-2.0
/*
 * The per-device size limit: writes stop there with -ENOSPC, a write that
 * crosses it stores what fits, and nothing before it is lost.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

TEST(default_limit_is_256mib)
{
	int i;

	for (i = 0; i < SCULL_NR_DEVS; i++)
		ASSERT_EQ(SCULL_LIMIT, sysfs_attr(i, "size_limit"));
	ASSERT_EQ(SCULL_LIMIT, module_param("scull_size_limit"));
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

/* Undo a store on minor 1 the way a user does: open it with O_TRUNC. */
static void trim_1(void)
{
	close(dev_open(1, O_RDWR | O_TRUNC));
}

/*
 * 16 MiB stored from a process in a fresh memory cgroup are charged to it,
 * exactly what the geometry says (the quanta, eight pointer arrays, eight
 * sets), and a trim gives every byte back.
 */
TEST(writes_are_charged_to_the_memory_cgroup)
{
	struct memcg_use use[3], cost;

	scull_cost(16 << 20, &cost);
	memcg_store(1, 16 << 20, trim_1, use);
	memcg_check(use, &cost);
}

/* A counter of @file (/proc/meminfo in kB, /proc/vmstat); -1 if none. */
static long long proc_counter(const char *file, const char *name)
{
	char text[16384], key[64], *p;

	read_text(file, text, sizeof(text));
	snprintf(key, sizeof(key), "\n%s", name);
	p = strstr(text, key);
	return p ? atoll(p + strlen(key)) : -1;
}

static long long meminfo_kb(const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "%s:", name);
	return proc_counter("/proc/meminfo", key);
}

/*
 * A 32-bit kernel maps less than 1 GiB of its memory for good (lowmem);
 * the rest is highmem.  The default four devices of 256 MiB hold 1 GiB:
 * filled, their quanta come from highmem, and lowmem keeps all but what
 * the quantum sets' tables take (at most LOWMEM_SLACK_KB), so the OOM
 * killer never starts while highmem is free.  A 64-bit kernel has no
 * highmem: a SKIP there.  The i386 row's guest has 3 GiB, highmem enough.
 */
#define LOWMEM_SLACK_KB	(64 << 10)

TEST_TIMEOUT(default_devices_filled_from_highmem, 300)
{
	const size_t chunk = 1 << 20;
	long long high = meminfo_kb("HighFree"), low, low_used, off, ooms;
	char *buf, *back;
	int i, fd[SCULL_NR_DEVS];

	if (high <= 0)
		SKIP("no highmem in this kernel (a 64-bit one, or less memory than lowmem)");
	if (high < (long long)SCULL_NR_DEVS * (SCULL_LIMIT >> 10) + LOWMEM_SLACK_KB)
		FAIL("HighFree %lld kB: the guest needs %lld kB more for the test",
		     high, (long long)SCULL_NR_DEVS * (SCULL_LIMIT >> 10) + LOWMEM_SLACK_KB - high);
	buf = xmalloc(chunk);
	back = xmalloc(chunk);
	ooms = proc_counter("/proc/vmstat", "oom_kill ");
	low = meminfo_kb("LowFree");
	for (i = 0; i < SCULL_NR_DEVS; i++) {
		fd[i] = dev_open(i, O_RDWR | O_TRUNC);
		for (off = 0; off < SCULL_LIMIT; off += chunk) {
			pattern_fill(buf, chunk, off, i);
			pwrite_exact(fd[i], buf, chunk, off);
		}
	}
	low_used = low - meminfo_kb("LowFree");
	scull_diag("%d devices of %lld MiB filled: lowmem %lld kB less, highmem %lld kB less",
		   SCULL_NR_DEVS, (long long)SCULL_LIMIT >> 20, low_used,
		   high - meminfo_kb("HighFree"));
	ooms = proc_counter("/proc/vmstat", "oom_kill ") - ooms;
	if (ooms)
		FAIL("the OOM killer killed %lld processes while the devices were filled", ooms);
	if (low_used > LOWMEM_SLACK_KB)
		FAIL("filling %d devices of %lld MiB took %lld kB of lowmem, expected at most %d kB (quanta from highmem)",
		     SCULL_NR_DEVS, (long long)SCULL_LIMIT >> 20, low_used, LOWMEM_SLACK_KB);
	for (i = 0; i < SCULL_NR_DEVS; i++) {
		ASSERT_EQ(SCULL_LIMIT, dev_size(i));
		for (off = 0; off < SCULL_LIMIT; off += SCULL_LIMIT / 4 - chunk) {
			pread_exact(fd[i], back, chunk, off);
			pattern_check(back, chunk, off, i);
		}
		close(fd[i]);
	}
	dev_reset_all();
	free(buf);
	free(back);
}
