// SPDX-License-Identifier: GPL-2.0
/*
 * A call that fails changes nothing: an open the VFS will refuse does not
 * trim first, and a write that stores no byte leaves no storage behind
 * (so the size, the memory held and the geometry rules stay exact).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

/* Device @minor's part of /proc/scullmem: its summary and set lines. */
static void proc_lines(int minor, char *out, size_t size)
{
	char text[8192], key[32], *p, *end;

	read_text("/proc/scullmem", text, sizeof(text));
	snprintf(key, sizeof(key), "Device %d: ", minor);
	p = strstr(text, key);
	if (!p)
		FAIL("no device %d in /proc/scullmem:\n%s", minor, text);
	snprintf(key, sizeof(key), "Device %d: ", minor + 1);
	end = strstr(p, key);
	if (end)
		*end = '\0';
	snprintf(out, size, "%s", p);
}

/* Two pages of which only the first is mapped, filled with a pattern. */
static unsigned char *half_mapped(uint32_t seed)
{
	unsigned char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p + 4096, 4096))
		FAIL("mmap: %s", strerror(errno));
	pattern_fill(p, 4096, 0, seed);
	return p;
}

TEST(o_direct_open_is_refused_before_any_trim)
{
	char buf[8];
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "survive", 7);
	ASSERT_ERRNO(open("/dev/scull0", O_WRONLY | O_DIRECT), EINVAL);
	ASSERT_ERRNO(open("/dev/scull0", O_RDWR | O_TRUNC | O_DIRECT), EINVAL);
	ASSERT_ERRNO(open("/dev/scull0", O_RDONLY | O_DIRECT), EINVAL);
	ASSERT_EQ(7, dev_size(0));
	pread_exact(fd, buf, 7, 0);
	ASSERT_MEM_EQ("survive", buf, 7);
	close(fd);
}

/* From NULL on an empty device: EFAULT, and not a byte of storage held. */
TEST(failed_write_to_empty_device_leaves_nothing)
{
	char lines[4096];
	void *volatile null_buf = NULL;
	int fd = dev_open(0, O_RDWR);

	ASSERT_ERRNO(pwrite(fd, null_buf, 1, 0), EFAULT);
	ASSERT_ERRNO(pwrite(fd, null_buf, 5000, (4 << 20) + 7), EFAULT);
	ASSERT_EQ(0, dev_size(0));
	proc_lines(0, lines, sizeof(lines));
	ASSERT_STR_EQ("Device 0: qset 512, q 4096, sz 0, limit 268435456, quanta 0\n",
		      lines);
	/* holding no data, the geometry may change */
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 1000));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
	close(fd);
}

/*
 * A source that faults exactly where a new quantum begins: the first page
 * is stored, the quantum allocated for the second keeps no byte and goes.
 */
TEST(write_that_faults_at_a_new_quantum_frees_it)
{
	unsigned char back[4096];
	char lines[4096];
	int fd = dev_open(1, O_RDWR);

	ASSERT_EQ(4096, pwrite(fd, half_mapped(41), 8192, 0));
	ASSERT_EQ(4096, dev_size(1));
	proc_lines(1, lines, sizeof(lines));
	ASSERT_STR_EQ("Device 1: qset 512, q 4096, sz 4096, limit 268435456, quanta 1\n"
		      "  qset 0: 1 quanta\n", lines);
	pread_exact(fd, back, 4096, 0);
	pattern_check(back, 4096, 0, 41);
	close(fd);
}

/* The same where the second page would start a new quantum set. */
TEST(write_that_faults_at_a_new_set_frees_it)
{
	off_t set = (off_t)SCULL_QUANTUM * SCULL_QSET;
	char lines[4096];
	int fd = dev_open(2, O_RDWR);

	ASSERT_EQ(4096, pwrite(fd, half_mapped(42), 8192, set - 4096));
	ASSERT_EQ(set, dev_size(2));
	proc_lines(2, lines, sizeof(lines));
	ASSERT_STR_EQ("Device 2: qset 512, q 4096, sz 2097152, limit 268435456, quanta 1\n"
		      "  qset 0: 1 quanta\n", lines);
	/* a second vector that faults at once stores nothing either */
	{
		struct iovec iov[2] = { { NULL, 100 }, { NULL, 100 } };

		ASSERT_ERRNO(pwritev(fd, iov, 2, 3 * set), EFAULT);
	}
	proc_lines(2, lines, sizeof(lines));
	ASSERT_STR_EQ("Device 2: qset 512, q 4096, sz 2097152, limit 268435456, quanta 1\n"
		      "  qset 0: 1 quanta\n", lines);
	close(fd);
}

/*
 * A fault part-way into a fresh quantum keeps the bytes that arrived:
 * 100..4095 in the first quantum, 4096..4195 in the second (or as many of
 * those 100 as the user copy took before the fault: util.h's COPY_SLACK).
 */
TEST(write_that_faults_inside_a_quantum_keeps_what_arrived)
{
	unsigned char back[4096];
	int fd = dev_open(3, O_RDWR);
	long long r = pwrite(fd, half_mapped(43), 8192, 100);

	if (r < 4096 - (long long)COPY_SLACK || r > 4096)
		FAIL("pwrite returned %lld, expected 4096 (at least %u)", r, 4096 - COPY_SLACK);
	ASSERT_EQ(100 + r, dev_size(3));
	pread_exact(fd, back, r, 100);
	pattern_check(back, r, 0, 43);
	ASSERT_EQ(0, run_sh(NULL, 0, "grep -q '^Device 3: .* quanta %d$' /proc/scullmem",
			    r > 3996 ? 2 : 1));
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 1000), EBUSY);
	close(fd);
}

/*
 * The tests above read the driver's own counters, which a quantum that was
 * never freed would not show (nor would kmemleak: quanta are pages, not
 * slab objects).  The memory cgroup does: 512 writes from NULL, each at a
 * quantum that does not exist yet (quanta 1 to 32 of sets 0 to 15; set 0
 * already holds quantum 0, and its table reaches set 15), each allocating
 * a quantum and, past set 0, a set, and freeing them again.  The kernel
 * memory charged must come back to what it was, the slab bytes exactly.
 */
#define UNDO_SETS	16
#define UNDO_QUANTA	32

static void faulting_writes(int fd, void *arg)
{
	void *volatile null_buf = NULL;
	off_t set = (off_t)SCULL_QUANTUM * SCULL_QSET;
	int s, q;

	(void)arg;
	for (q = 1; q <= UNDO_QUANTA; q++)
		for (s = 0; s < UNDO_SETS; s++)
			ASSERT_ERRNO(pwrite(fd, null_buf, SCULL_QUANTUM,
					    s * set + q * SCULL_QUANTUM), EFAULT);
}

static void nothing(void)
{
}

TEST(failed_writes_give_back_every_page)
{
	struct memcg_use use[3];
	char lines[4096];
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "q", 1);
	memcg_run(0, faulting_writes, NULL, nothing, use);
	ASSERT_EQ(0, use[1].slab - use[0].slab);
	/* the noise memcg_check() allows: a page either way, two on 7.x */
	if (llabs(use[1].kernel - use[0].kernel) > memcg_slack())
		FAIL("kernel memory after %d failed writes: expected what it was before (%lld bytes), seen %lld",
		     UNDO_SETS * UNDO_QUANTA, use[0].kernel, use[1].kernel);
	ASSERT_EQ(0, use[2].slab - use[0].slab);
	proc_lines(0, lines, sizeof(lines));
	ASSERT_STR_EQ("Device 0: qset 512, q 4096, sz 1, limit 268435456, quanta 1\n"
		      "  qset 0: 1 quanta\n", lines);
	close(fd);
}
