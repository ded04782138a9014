// SPDX-License-Identifier: GPL-2.0
/*
 * mmap on the memory devices (src/mmap.c): a mapping and read()/write()
 * see the same pages; faults allocate holes inside the size and get SIGBUS
 * past it; trims reach every mapping, through any node of the device;
 * geometry changes wait for the mappings to go; the rest of mm (fork,
 * private copies, mprotect, mremap, madvise, msync, mlock, munmap of a
 * part, offsets past 4 GiB, NOWAIT) works as on a file; and a copy from or
 * into a mapping of the device being read or written does not deadlock.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scull.h"
#include "util.h"

static size_t pg;
static sigjmp_buf probe_jmp;

static void probe_signal(int sig)
{
	siglongjmp(probe_jmp, sig);
}

/* Catch SIGBUS and SIGSEGV in probe(); sets pg. */
static void probe_init(void)
{
	struct sigaction sa = { .sa_handler = probe_signal };

	pg = sysconf(_SC_PAGESIZE);
	ASSERT_OK(sigaction(SIGBUS, &sa, NULL));
	ASSERT_OK(sigaction(SIGSEGV, &sa, NULL));
}

/*
 * Read the byte at @p into *@seen, or with @seen NULL write @val there;
 * returns 0, or the signal the access got (SIGBUS, SIGSEGV).
 */
static int probe(volatile unsigned char *p, unsigned char *seen,
		 unsigned char val)
{
	int sig = sigsetjmp(probe_jmp, 1);

	if (sig)
		return sig;
	if (seen)
		*seen = *p;
	else
		*p = val;
	return 0;
}

static int probe_read(void *p)
{
	unsigned char c;

	return probe(p, &c, 0);
}

static unsigned char *map(int fd, size_t len, int prot, int flags, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		FAIL("mmap(%zu bytes at %lld): %s", len, (long long)off,
		     strerror(errno));
	return p;
}

#define RW	(PROT_READ | PROT_WRITE)

/* Write @len bytes of pattern @seed at @off through write(). */
static void fill(int fd, size_t len, off_t off, uint32_t seed)
{
	unsigned char *buf = xmalloc(len);

	pattern_fill(buf, len, off, seed);
	pwrite_exact(fd, buf, len, off);
	free(buf);
}

/* read() of @len bytes at @off holds pattern @seed of offset @pat. */
static void check_read_as(int fd, size_t len, off_t off, off_t pat,
			  uint32_t seed)
{
	unsigned char *buf = xmalloc(len);

	pread_exact(fd, buf, len, off);
	pattern_check(buf, len, pat, seed);
	free(buf);
}

/* read() of @len bytes at @off holds pattern @seed. */
static void check_read(int fd, size_t len, off_t off, uint32_t seed)
{
	check_read_as(fd, len, off, off, seed);
}

static void trim(int minor)
{
	close(ASSERT_OK(dev_open(minor, O_WRONLY)));
}

/* A byte written through one is read through the other at once. */
TEST(coherent_both_ways)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *m, c = 0;

	probe_init();
	fill(fd, 3 * pg, 0, 1);
	m = map(fd, 3 * pg, RW, MAP_SHARED, 0);
	pattern_check(m, 3 * pg, 0, 1);
	/* mapping -> read() */
	memset(m + pg + 10, 0xa5, 100);
	ASSERT_OK(pread(fd, &c, 1, pg + 109));
	ASSERT_EQ(0xa5, c);
	/* write() -> mapping */
	ASSERT_EQ(1, pwrite(fd, "Z", 1, 2 * pg + 7));
	ASSERT_EQ('Z', m[2 * pg + 7]);
	/* a mapping at an offset sees the same pages */
	ASSERT_EQ(0xa5, map(fd, pg, PROT_READ, MAP_SHARED, pg)[10]);
	ASSERT_EQ(3 * pg, dev_size(0));
	ASSERT_EQ(3, dev_quanta(0));
}

/*
 * A fault on a hole inside the size allocates a zeroed quantum, whether it
 * reads or writes; past the size it gets SIGBUS and nothing grows.
 */
TEST(faults_allocate_holes_and_stop_at_the_size)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *m, c = 1;

	probe_init();
	ASSERT_EQ(1, pwrite(fd, "e", 1, 5 * pg));
	ASSERT_EQ(1, dev_quanta(0));
	m = map(fd, 8 * pg, RW, MAP_SHARED, 0);
	ASSERT_EQ(0, probe(m + 2 * pg + 3, &c, 0));
	ASSERT_EQ(0, c);
	ASSERT_EQ(2, dev_quanta(0));
	ASSERT_EQ(0, probe(m + 3 * pg, NULL, 'w'));
	ASSERT_EQ(3, dev_quanta(0));
	ASSERT_EQ(0, probe(m + 5 * pg + pg - 1, NULL, 'x'));	/* last page */
	ASSERT_EQ(3, dev_quanta(0));
	ASSERT_EQ(SIGBUS, probe_read(m + 6 * pg));
	ASSERT_EQ(SIGBUS, probe(m + 7 * pg, NULL, 'y'));
	ASSERT_EQ(5 * pg + 1, dev_size(0));
	ASSERT_EQ(3, dev_quanta(0));
	ASSERT_EQ(1, pread(fd, &c, 1, 3 * pg));
	ASSERT_EQ('w', c);
	/* the byte past the size in the last page is the device's, not read */
	ASSERT_EQ(0, pread(fd, &c, 1, 5 * pg + pg - 1));
}

/* A fixed-capacity device maps up to its capacity, and no further. */
TEST(faults_stop_at_the_capacity)
{
	unsigned char *m;
	int fd;

	probe_init();
	ASSERT_EQ(0, scull_reload("scull_capacity=64K"));
	fd = ASSERT_OK(dev_open(0, O_RDWR));
	m = map(fd, (65536 / pg + 4) * pg, RW, MAP_SHARED, 0);
	ASSERT_EQ(0, probe(m + 65535, NULL, 'c'));
	ASSERT_EQ(1, dev_quanta(0));
	ASSERT_EQ(SIGBUS, probe(m + 65536, NULL, 'd'));
	ASSERT_EQ(SIGBUS, probe_read(m + 65536 + pg));
	ASSERT_EQ(1, dev_quanta(0));
	ASSERT_EQ(65536, dev_size(0));
	/* a mapping wholly past the capacity: every page SIGBUS */
	ASSERT_EQ(SIGBUS, probe_read(map(fd, pg, PROT_READ, MAP_SHARED, 65536)));
	ASSERT_EQ(1, dev_quanta(0));
}

/*
 * A device whose capacity is its size limit, filled through a mapping:
 * every page up to the limit faults in, the next gets SIGBUS, write() there
 * is ENOSPC, and a trim gives every quantum back.
 */
TEST(faults_reach_the_limit)
{
	size_t i, pages;
	unsigned char *m;
	int fd;

	probe_init();
	ASSERT_EQ(0, scull_reload("scull_size_limit=64K scull_capacity=64K"));
	pages = 65536 / pg;
	fd = ASSERT_OK(dev_open(0, O_RDWR));
	m = map(fd, (pages + 2) * pg, RW, MAP_SHARED, 0);
	for (i = 0; i < pages; i++)
		ASSERT_EQ(0, probe(m + i * pg, NULL, 'L'));
	ASSERT_EQ(SIGBUS, probe(m + pages * pg, NULL, 'L'));
	ASSERT_EQ(SIGBUS, probe_read(m + (pages + 1) * pg));
	ASSERT_EQ(65536 / SCULL_QUANTUM, dev_quanta(0));
	ASSERT_ERRNO(pwrite(fd, "L", 1, 65536), ENOSPC);
	ASSERT_EQ('L', m[65535 & ~(pg - 1)]);
	trim(0);
	ASSERT_EQ(0, dev_quanta(0));
	ASSERT_EQ(65536, dev_size(0));
}

/*
 * A trim while mapped removes the mapping's view: past the new size
 * SIGBUS, and what write() stores next is what the mapping sees.
 */
TEST(trim_while_mapped_then_sigbus)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *m;

	probe_init();
	fill(fd, 2 * pg, 0, 2);
	m = map(fd, 2 * pg, RW, MAP_SHARED, 0);
	pattern_check(m, 2 * pg, 0, 2);
	trim(0);
	ASSERT_EQ(0, dev_quanta(0));
	ASSERT_EQ(SIGBUS, probe_read(m));
	ASSERT_EQ(SIGBUS, probe(m + pg, NULL, 1));
	ASSERT_EQ(0, dev_size(0));
	fill(fd, pg, 0, 3);
	pattern_check(m, pg, 0, 3);
	ASSERT_EQ(SIGBUS, probe_read(m + pg));
	/* O_TRUNC trims too, with any access mode */
	close(ASSERT_OK(dev_open(0, O_RDONLY | O_TRUNC)));
	ASSERT_EQ(SIGBUS, probe_read(m));
}

/* A second node of /dev/scull0 at @copy, opened read-write and unlinked. */
static int open_node_copy(const char *copy)
{
	struct stat st;
	int fd;

	ASSERT_OK(stat(dev_path(0), &st));
	unlink(copy);
	ASSERT_OK(mknod(copy, S_IFCHR | 0600, st.st_rdev));
	fd = ASSERT_OK(open(copy, O_RDWR));
	ASSERT_OK(unlink(copy));
	return fd;
}

/*
 * Two nodes of one minor are one device: a trim through one removes the
 * mappings made through the other.
 */
TEST(trim_through_one_node_reaches_a_copy_of_it)
{
	const char *copy = "/tmp/scull0-copy";
	unsigned char *m;
	int fd;

	probe_init();
	fd = open_node_copy(copy);
	fill(fd, 2 * pg, 0, 4);
	m = map(fd, 2 * pg, RW, MAP_SHARED, 0);
	pattern_check(m, 2 * pg, 0, 4);
	trim(0);
	ASSERT_EQ(SIGBUS, probe_read(m));
	ASSERT_EQ(SIGBUS, probe_read(m + pg));
	ASSERT_EQ(0, dev_quanta(0));
}

/* A copy of the node and the node itself map the same pages. */
TEST(a_copy_of_the_node_maps_the_same_pages)
{
	const char *copy = "/tmp/scull0-copy2";
	int fd, fd0 = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *m, *m0;

	probe_init();
	fd = open_node_copy(copy);
	fill(fd0, pg, 0, 5);
	m = map(fd, pg, RW, MAP_SHARED, 0);
	m0 = map(fd0, pg, RW, MAP_SHARED, 0);
	pattern_check(m, pg, 0, 5);
	m[100] = 0x42;
	ASSERT_EQ(0x42, m0[100]);
}

/* The geometry cannot change while any mapping exists. */
TEST(geometry_change_while_mapped_is_ebusy)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR)), q = 8192;
	unsigned char *m;

	probe_init();
	m = map(fd, pg, PROT_READ, MAP_SHARED, 0);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQUANTUM, &q), EBUSY);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQSET, 64), EBUSY);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCRESET), EBUSY);
	ASSERT_EQ(SCULL_QUANTUM, ioctl(fd, SCULL_IOCQQUANTUM));
	/* a fork's copy of the mapping counts too */
	pid_t pid = fork();

	if (!pid) {
		sleep(30);
		_exit(0);
	}
	ASSERT_OK(munmap(m, pg));
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQUANTUM, &q), EBUSY);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCSQUANTUM, &q));
	ASSERT_EQ(8192, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
}

/*
 * Whole pages map, whatever their number (one, two, three); any other
 * quantum, and scullpriv, refuse with ENODEV.
 */
TEST(geometries_that_map_and_those_that_do_not)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR)), q, i;
	unsigned char *m;

	probe_init();
	for (i = 0; i < 2; i++) {
		q = (2 + i) * pg;	/* two pages, then three */
		ASSERT_EQ(0, ioctl(fd, SCULL_IOCSQUANTUM, &q));
		fill(fd, 4 * q, 0, 6 + i);
		m = map(fd, 4 * q, RW, MAP_SHARED, 0);
		pattern_check(m, 4 * q, 0, 6 + i);
		/* across a quantum's pages and into the next quantum */
		memset(m + q - 2, 0x77, 4);
		check_read(fd, q - 2, 0, 6 + i);
		ASSERT_OK(munmap(m, 4 * q));
		trim(0);
	}
	q = 4000;
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCSQUANTUM, &q));
	ASSERT_TRUE(mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	ASSERT_EQ(ENODEV, errno);
	q = 3 * pg + 1;
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCSQUANTUM, &q));
	ASSERT_TRUE(mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
}

/* scullpriv's per-terminal stores have no mapping: ENODEV. */
TEST(scullpriv_refuses_mmap)
{
	char slave[64];
	int m, fd;
	pid_t pid;

	/* a new session, with a new pseudo-terminal as its terminal */
	m = ASSERT_OK(posix_openpt(O_RDWR | O_NOCTTY));
	ASSERT_OK(grantpt(m));
	ASSERT_OK(unlockpt(m));
	ASSERT_OK(ptsname_r(m, slave, sizeof(slave)));
	pid = ASSERT_OK(fork());
	if (!pid) {
		ASSERT_OK(setsid());
		close(ASSERT_OK(open(slave, O_RDWR)));
		fd = ASSERT_OK(open("/dev/scullpriv", O_RDWR));
		ASSERT_EQ(1, write(fd, "p", 1));
		ASSERT_TRUE(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) ==
			    MAP_FAILED);
		ASSERT_EQ(ENODEV, errno);
		_exit(0);
	}
	join_ok(pid);
	close(m);
}

/* The access devices share scull0's code, and map as it does. */
TEST(access_devices_map)
{
	const char *names[] = { "scullsingle", "sculluid", "scullwuid" };
	unsigned char *m;
	char path[64];
	int i, fd;

	probe_init();
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		fd = ASSERT_OK(open(path, O_RDWR | O_TRUNC));
		fill(fd, pg, 0, 8);
		m = map(fd, 2 * pg, RW, MAP_SHARED, 0);
		pattern_check(m, pg, 0, 8);
		ASSERT_EQ(SIGBUS, probe_read(m + pg));
		ASSERT_OK(munmap(m, 2 * pg));
		close(fd);
		close(ASSERT_OK(open(path, O_WRONLY)));
	}
}

/* Private: copy on write; the device does not change. */
TEST(map_private_copies_on_write)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *m, *s;

	probe_init();
	fill(fd, 2 * pg, 0, 9);
	m = map(fd, 2 * pg, RW, MAP_PRIVATE, 0);
	s = map(fd, 2 * pg, RW, MAP_SHARED, 0);
	pattern_check(m, 2 * pg, 0, 9);	/* read first: the device's page */
	memset(m, 0x11, 16);
	ASSERT_EQ(0x11, m[15]);
	check_read(fd, 2 * pg, 0, 9);
	pattern_check(s, 2 * pg, 0, 9);
	/* a write fault first: a copy at once */
	memset(m + pg, 0x22, 16);
	check_read(fd, 2 * pg, 0, 9);
	/* a page not copied still sees the device's writes */
	ASSERT_EQ(0, munmap(m, 2 * pg));
	m = map(fd, 2 * pg, RW, MAP_PRIVATE, 0);
	ASSERT_EQ(pattern_byte(5, 9), m[5]);
	ASSERT_EQ(1, pwrite(fd, "q", 1, 5));
	ASSERT_EQ('q', m[5]);
	m[pg] = 0x33;
	/* a trim drops the private copies too, as a file's truncate does */
	trim(0);
	ASSERT_EQ(SIGBUS, probe_read(m));
	ASSERT_EQ(SIGBUS, probe_read(m + pg));
	ASSERT_EQ(0, dev_quanta(0));
}

/* fork: the child's shared mapping is the device; its private one is not. */
TEST(fork_shares_and_copies)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *s, *p;
	pid_t pid;

	probe_init();
	fill(fd, pg, 0, 10);
	s = map(fd, pg, RW, MAP_SHARED, 0);
	p = map(fd, pg, RW, MAP_PRIVATE, 0);
	pattern_check(p, pg, 0, 10);
	p[1] = 0x44;	/* the parent's private copy */
	pid = fork();
	ASSERT_OK(pid);
	if (!pid) {
		s[0] = 0x55;
		p[2] = 0x66;
		_exit(p[1] == 0x44 ? 0 : 1);
	}
	join_ok(pid);
	ASSERT_EQ(0x55, s[0]);
	ASSERT_EQ(pattern_byte(2, 10), p[2]);
	ASSERT_EQ(0x44, p[1]);
	check_read(fd, pg - 1, 1, 10);
}

/* mprotect, mremap, madvise, msync, mlock, munmap of a part. */
TEST(mm_calls_behave)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	int ro = ASSERT_OK(dev_open(0, O_RDONLY));
	unsigned char *m, *r;

	probe_init();
	fill(fd, 4 * pg, 0, 11);
	m = map(fd, 4 * pg, RW, MAP_SHARED, 0);
	/* mprotect */
	ASSERT_OK(mprotect(m, pg, PROT_READ));
	ASSERT_EQ(SIGSEGV, probe(m, NULL, 1));
	ASSERT_OK(mprotect(m, pg, RW));
	ASSERT_EQ(0, probe(m, NULL, 0x12));
	r = map(ro, pg, PROT_READ, MAP_SHARED, 0);
	ASSERT_ERRNO(mprotect(r, pg, RW), EACCES);
	ASSERT_TRUE(mmap(NULL, pg, RW, MAP_SHARED, ro, 0) == MAP_FAILED);
	ASSERT_EQ(EACCES, errno);
	/* madvise(MADV_DONTNEED): the next access faults the same page in */
	ASSERT_OK(madvise(m, 4 * pg, MADV_DONTNEED));
	ASSERT_EQ(0x12, m[0]);
	pattern_check(m + 1, 4 * pg - 1, 1, 11);
	/* msync, mlock */
	ASSERT_OK(msync(m, 4 * pg, MS_SYNC));
	ASSERT_OK(msync(m, 4 * pg, MS_ASYNC | MS_INVALIDATE));
	ASSERT_OK(mlock(m, 4 * pg));
	ASSERT_OK(munlock(m, 4 * pg));
	/* munmap of the second page: the others stay */
	ASSERT_OK(munmap(m + pg, pg));
	ASSERT_EQ(SIGSEGV, probe_read(m + pg));
	pattern_check(m + 2 * pg, 2 * pg, 2 * pg, 11);
	m[3 * pg] = 0x13;
	check_read(fd, pg - 1, 1, 11);
	/* mremap: shrink, move, grow inside the size; the device's size stays */
	m = mremap(m + 2 * pg, 2 * pg, pg, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	m = mremap(m, pg, 3 * pg, MREMAP_MAYMOVE);
	ASSERT_TRUE(m != MAP_FAILED);
	ASSERT_EQ(0x13, m[pg]);
	ASSERT_EQ(SIGBUS, probe_read(m + 2 * pg));	/* offset 4 pages: the size */
	ASSERT_EQ(4 * pg, dev_size(0));
	ASSERT_EQ(4, dev_quanta(0));
}

/* VmLck of this process, in kB. */
static long vm_locked_kb(void)
{
	char text[4096], *p;

	read_text("/proc/self/status", text, sizeof(text));
	p = strstr(text, "\nVmLck:");
	ASSERT_TRUE(p != NULL);
	return strtol(p + strlen("\nVmLck:"), NULL, 10);
}

/*
 * mlock faults every page of its range in, as for a file: a hole inside
 * the size gets its quantum (zeroed), a page past the size fails the call
 * with ENOMEM.  The mapping holds the driver's own pages (VM_MIXEDMAP),
 * which are never reclaimed: the kernel does not count it as locked
 * (VmLck, RLIMIT_MEMLOCK), as for every such mapping, and msync has
 * nothing to write back (0, the bytes already the device's).
 */
TEST(mlock_faults_holes_in_and_stops_at_the_size)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	long locked = vm_locked_kb();
	unsigned char *m, c = 0;
	size_t i;

	probe_init();
	fill(fd, pg, 0, 15);
	ASSERT_EQ(1, pwrite(fd, "", 1, 4 * pg - 1));	/* size 4 pages */
	ASSERT_EQ(2, dev_quanta(0));
	m = map(fd, 6 * pg, RW, MAP_SHARED, 0);
	ASSERT_OK(mlock(m, 4 * pg));
	ASSERT_EQ(4, dev_quanta(0));
	for (i = pg; i < 4 * pg; i++)
		ASSERT_EQ(0, m[i]);
	pattern_check(m, pg, 0, 15);
	ASSERT_EQ(locked, vm_locked_kb());
	ASSERT_OK(munlock(m, 4 * pg));
	ASSERT_ERRNO(mlock(m, 6 * pg), ENOMEM);
	ASSERT_EQ(4, dev_quanta(0));
	ASSERT_EQ(4 * pg, dev_size(0));
	memset(m + pg, 0x16, 8);
	ASSERT_OK(msync(m, 4 * pg, MS_SYNC));
	check_read_as(fd, pg, 0, 0, 15);
	ASSERT_EQ(1, pread(fd, &c, 1, pg + 7));
	ASSERT_EQ(0x16, c);
	ASSERT_OK(munlock(m, 6 * pg));
}

/*
 * read() into a mapping of the device being read, and write() from one,
 * holes included: no deadlock (the copies fault with the lock let go).
 */
TEST_TIMEOUT(copies_through_a_mapping_of_the_same_device, 60)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	unsigned char *m;

	probe_init();
	fill(fd, 2 * pg, 0, 12);
	ASSERT_EQ(1, pwrite(fd, "", 1, 8 * pg - 1));	/* size 8 pages */
	m = map(fd, 8 * pg, RW, MAP_SHARED, 0);
	/* into pages 4..5, holes, not mapped yet */
	ASSERT_EQ((ssize_t)(2 * pg), pread(fd, m + 4 * pg, 2 * pg, 0));
	check_read_as(fd, 2 * pg, 4 * pg, 0, 12);
	ASSERT_OK(munmap(m, 8 * pg));
	m = map(fd, 8 * pg, RW, MAP_SHARED, 0);
	/* from pages 0..1, not mapped in this mapping, into holes 2..3 */
	ASSERT_EQ((ssize_t)(2 * pg), pwrite(fd, m, 2 * pg, 2 * pg));
	check_read_as(fd, 2 * pg, 2 * pg, 0, 12);
	pattern_check(m + 2 * pg, 2 * pg, 0, 12);
	/* overlapping, and through readv into a NOWAIT read */
	struct iovec iov = { .iov_base = m + 6 * pg, .iov_len = pg };

	ASSERT_OK(madvise(m, 8 * pg, MADV_DONTNEED));
	ASSERT_EQ((ssize_t)pg, preadv2(fd, &iov, 1, 0, RWF_NOWAIT));
	ASSERT_EQ(0, memcmp(m, m + 6 * pg, pg));
	pattern_check(m + 6 * pg, pg, 0, 12);
	ASSERT_EQ(8 * pg, dev_size(0));
}

/*
 * Two writers, each copying into one device from a mapping of the other
 * that is not faulted in: each fault takes the other device's lock, which
 * the other writer holds while it copies.  Neither may wait for the other
 * (a writer lets its lock go to fault its source in): both finish, and
 * each byte is one of the two patterns.
 */
#define CROSS_LEN	(4 << 20)
#define CROSS_ROUNDS	20

static void cross_writer(int to, int from)
{
	int fd = ASSERT_OK(dev_open(to, O_RDWR));
	int src = ASSERT_OK(dev_open(from, O_RDONLY));
	unsigned char *m = map(src, CROSS_LEN, PROT_READ, MAP_SHARED, 0);
	int i;

	for (i = 0; i < CROSS_ROUNDS; i++) {
		ASSERT_OK(madvise(m, CROSS_LEN, MADV_DONTNEED));
		ASSERT_EQ(CROSS_LEN, pwrite(fd, m, CROSS_LEN, 0));
	}
	_exit(0);
}

TEST_TIMEOUT(writers_copying_from_each_others_mapping, 120)
{
	int fd0 = ASSERT_OK(dev_open(0, O_RDWR));
	int fd1 = ASSERT_OK(dev_open(1, O_RDWR));
	unsigned char *buf = xmalloc(CROSS_LEN);
	pid_t pid[2];
	int i, left = 2, status;
	size_t j;

	fill(fd0, CROSS_LEN, 0, 16);
	fill(fd1, CROSS_LEN, 0, 17);
	for (i = 0; i < 2; i++) {
		pid[i] = ASSERT_OK(fork());
		if (!pid[i])
			cross_writer(i, 1 - i);
	}
	for (j = 0; left && j < 6000; j++) {	/* 60 s */
		for (i = 0; i < 2; i++) {
			if (pid[i] <= 0 || waitpid(pid[i], &status, WNOHANG) != pid[i])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				FAIL("writer %d failed (status %#x)", i, status);
			pid[i] = 0;
			left--;
		}
		if (left)
			usleep(10000);
	}
	if (left) {
		for (i = 0; i < 2; i++) {
			if (pid[i] > 0) {
				kill(pid[i], SIGKILL);
				waitpid(pid[i], NULL, 0);
			}
		}
		FAIL("%d writer(s) still copying after 60 s: waiting for each other's lock", left);
	}
	for (i = 0; i < 2; i++) {
		pread_exact(i ? fd1 : fd0, buf, CROSS_LEN, 0);
		for (j = 0; j < CROSS_LEN; j++) {
			if (buf[j] != pattern_byte(j, 16) &&
			    buf[j] != pattern_byte(j, 17))
				FAIL("scull%d, byte %zu: 0x%02x, of neither pattern", i, j, buf[j]);
		}
		ASSERT_EQ(CROSS_LEN, dev_size(i));
	}
	free(buf);
}

/* An offset past 4 GiB (pgoff), on 32-bit kernels too. */
TEST(offset_past_4g)
{
	const off_t off = (4LL << 30) + 2 * 4096;
	unsigned char c = 1, *m;
	int fd;

	probe_init();
	ASSERT_EQ(0, scull_reload("scull_size_limit=8G scull_capacity=8G"));
	fd = ASSERT_OK(dev_open(0, O_RDWR));
	m = map(fd, pg, RW, MAP_SHARED, off);
	memcpy(m, "high", 4);
	ASSERT_EQ(1, pread(fd, &c, 1, off + 3));
	ASSERT_EQ('h', c);
	/* not at the offset's low 32 bits */
	ASSERT_EQ(1, pread(fd, &c, 1, off & 0xffffffffLL));
	ASSERT_EQ(0, c);
	ASSERT_EQ(1, dev_quanta(0));
	ASSERT_EQ(8LL << 30, dev_size(0));
}

/*
 * A page offset past LLONG_MAX bytes: x86_64's mmap() takes the offset
 * as unsigned and maps a char device at any page below 2^64 bytes
 * (file_mmap_ok()); such an offset is no device offset (loff_t), so every
 * access gets SIGBUS, as past the size, and allocates nothing (not a
 * quantum at a negative position, which no size limit would count).
 * arm64's mmap() takes it as signed and refuses it (EOVERFLOW); a 32-bit
 * process cannot name it (mmap2's page offset has 32 bits).
 */
static void probe_far_offset(int fd, off_t off)
{
	void *m = mmap(NULL, pg, RW, MAP_SHARED, fd, off);

	if (m == MAP_FAILED) {
		ASSERT_EQ(EOVERFLOW, errno);
		scull_diag("mmap at %#llx: EOVERFLOW (an offset this kernel's mmap() takes as signed)",
			   (unsigned long long)off);
		return;
	}
	ASSERT_EQ(SIGBUS, probe_read(m));
	ASSERT_EQ(SIGBUS, probe((unsigned char *)m + 1, NULL, 'n'));
	ASSERT_OK(munmap(m, pg));
}

TEST(offset_past_the_largest_loff_t)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));

	if (sizeof(long) < 8)
		SKIP("a 32-bit process maps offsets below 2^44 only (mmap2)");
	probe_init();
	fill(fd, pg, 0, 14);
	probe_far_offset(fd, (off_t)(1ULL << 63));
	/* the last page mmap() takes: file_mmap_ok() keeps one below 2^64 */
	probe_far_offset(fd, -(off_t)(2 * pg));
	ASSERT_EQ(1, dev_quanta(0));
	ASSERT_EQ(pg, dev_size(0));
	check_read(fd, pg, 0, 14);
}

/* Faulted pages are charged to the faulting task's memory cgroup. */
static void fault_in_all(int fd, void *arg)
{
	size_t len = *(size_t *)arg;
	unsigned char *m = map(fd, len, RW, MAP_SHARED, 0);

	memset(m, 0x5a, len);
	ASSERT_OK(munmap(m, len));
}

static void trim_0(void)
{
	trim(0);
}

TEST(faulted_pages_are_charged_to_the_memcg)
{
	size_t len = 16 << 20;
	struct memcg_use use[3], cost;

	ASSERT_EQ(0, scull_reload("scull_capacity=16M"));
	memcg_run(0, fault_in_all, &len, trim_0, use);
	scull_cost(len, &cost);
	memcg_check(use, &cost);
}

/* The module stays while a mapping holds its file. */
TEST(unload_with_a_live_mapping_is_refused)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR)), st;
	unsigned char *m;
	char out[512];

	fill(fd, 4096, 0, 13);
	m = map(fd, 4096, PROT_READ, MAP_SHARED, 0);
	close(fd);
	st = run_sh(out, sizeof(out), "rmmod scull");
	ASSERT_NE(0, st);
	ASSERT_TRUE(module_loaded());
	pattern_check(m, 4096, 0, 13);
	ASSERT_OK(munmap(m, 4096));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "rmmod scull"));
	ASSERT_EQ(0, module_loaded());
}

/* LDD3's mapper prints a range of scull0 through a mapping. */
TEST(ldd3_mapper_prints_a_range)
{
	int fd = ASSERT_OK(dev_open(0, O_RDWR));
	char out[256];

	ASSERT_EQ(17, pwrite(fd, "hello from scull\n", 17, 8192 + 100));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s %s %d 17", test_file("mapper"),
			    dev_path(0), 8192 + 100));
	ASSERT_STR_EQ("hello from scull\n", out);
	/* past the size (scull1 is empty), the mapper gets SIGBUS */
	ASSERT_EQ(128 + SIGBUS, run_sh(out, sizeof(out), "%s %s 0 1",
				       test_file("mapper"), dev_path(1)));
}

/*
 * Writers through a mapping and through write(), readers through read()
 * and through a mapping, and a thread trimming, on a fixed-capacity device
 * (a trim keeps its size, so no access is past it), against a model of
 * what a 32-bit word may hold: zero (a trimmed or new quantum), or a stamp
 * of its own page from one of the writers -- never another page's bytes,
 * never freed memory.  Then, quiet again, a mapping and read() agree on
 * every byte, and a trim leaves no quantum.
 */
#define RACE_PAGES	64
#define RACE_WRITERS	3	/* two through mappings, one through write() */

struct race {
	int fd;
	uint32_t *map;		/* RACE_PAGES pages, shared */
	volatile int stop;
	long long bad;		/* words the model refused */
	long long checked;
};

static uint32_t stamp(unsigned int page, unsigned int writer, uint32_t seq)
{
	return (uint32_t)page << 24 | (writer + 1) << 20 | (seq & 0xfffff);
}

static int stamp_ok(uint32_t w, unsigned int page)
{
	unsigned int writer = (w >> 20) & 0xf;

	return !w || ((w >> 24) == page && writer >= 1 &&
		      writer <= RACE_WRITERS);
}

static void race_check(struct race *r, const uint32_t *words, size_t n,
		       unsigned int first_page)
{
	size_t per = pg / 4, i;

	for (i = 0; i < n; i++) {
		if (!stamp_ok(words[i], first_page + i / per))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&r->checked, n, __ATOMIC_RELAXED);
}

static struct race race;

static void *race_map_writer(void *arg)
{
	unsigned int id = (unsigned long)arg, page, i;
	uint32_t seq = 0;

	while (!race.stop) {
		page = (seq * 7 + id * 13) % RACE_PAGES;
		for (i = 0; i < pg / 4; i++)
			race.map[page * (pg / 4) + i] = stamp(page, id, seq);
		seq++;
	}
	return NULL;
}

static void *race_write_writer(void *arg)
{
	uint32_t *buf = xmalloc(pg), seq = 0;
	unsigned int page, i;

	(void)arg;
	while (!race.stop) {
		page = (seq * 5) % RACE_PAGES;
		for (i = 0; i < pg / 4; i++)
			buf[i] = stamp(page, 2, seq);
		pwrite_exact(race.fd, buf, pg, (off_t)page * pg);
		seq++;
	}
	free(buf);
	return NULL;
}

static void *race_reader(void *arg)
{
	size_t len = RACE_PAGES * pg;
	uint32_t *buf = xmalloc(len);

	while (!race.stop) {
		if (arg) {
			/* through a mapping of its own */
			memcpy(buf, race.map, len);
		} else {
			pread_exact(race.fd, buf, len, 0);
		}
		race_check(&race, buf, len / 4, 0);
	}
	free(buf);
	return NULL;
}

static void *race_trimmer(void *arg)
{
	long *trims = arg;

	while (!race.stop) {
		trim(0);
		__atomic_fetch_add(trims, 1, __ATOMIC_RELAXED);
		usleep(2000);
	}
	return NULL;
}

TEST_TIMEOUT(writers_readers_and_trims_against_a_model, 90)
{
	pthread_t t[RACE_WRITERS + 3];
	size_t len = RACE_PAGES * 4096, i;
	long trims = 0, waited;
	uint32_t *buf;

	probe_init();
	len = RACE_PAGES * pg;
	ASSERT_EQ(0, scull_reload("scull_capacity=1M"));
	race.fd = ASSERT_OK(dev_open(0, O_RDWR));
	race.map = (uint32_t *)map(race.fd, len, RW, MAP_SHARED, 0);
	ASSERT_EQ(0, pthread_create(&t[0], NULL, race_map_writer, (void *)0));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, race_map_writer, (void *)1));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, race_write_writer, NULL));
	ASSERT_EQ(0, pthread_create(&t[3], NULL, race_reader, NULL));
	ASSERT_EQ(0, pthread_create(&t[4], NULL, race_reader, (void *)1));
	ASSERT_EQ(0, pthread_create(&t[5], NULL, race_trimmer, &trims));
	/*
	 * 2 s (scaled), and at least until the trimmer has trimmed 11 times:
	 * the sanitizer kernel (5%) does few trims in 100 ms.  Up to 60 s.
	 */
	for (waited = 0; waited < 60000; waited += 10) {
		if (waited >= scaled(2000) && __atomic_load_n(&trims, __ATOMIC_RELAXED) > 10)
			break;
		usleep(10000);
	}
	race.stop = 1;
	for (i = 0; i < RACE_WRITERS + 3; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	scull_diag("%ld trims, %lld words checked", trims, race.checked);
	ASSERT_EQ(0, race.bad);
	ASSERT_TRUE(trims > 10);
	ASSERT_TRUE(race.checked > 0);
	/* quiet: every byte the same both ways, the device its capacity */
	for (i = 0; i < len / 4; i++)
		race.map[i] = stamp(i / (pg / 4), 0, i);
	buf = xmalloc(len);
	pread_exact(race.fd, buf, len, 0);
	ASSERT_MEM_EQ(race.map, buf, len);
	ASSERT_EQ(1 << 20, dev_size(0));
	ASSERT_EQ(RACE_PAGES, dev_quanta(0));
	trim(0);
	ASSERT_EQ(0, dev_quanta(0));
	for (i = 0; i < len / 4; i++)
		ASSERT_EQ(0, race.map[i]);
	ASSERT_EQ(RACE_PAGES, dev_quanta(0));
}
