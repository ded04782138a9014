// SPDX-License-Identifier: GPL-2.0
/*
 * Large quanta when memory is fragmented.  A 4 MiB quantum is one order-10
 * allocation when contiguous memory is to be had; when it is not, scull
 * falls back to memory that needs no contiguous pages, and writes go on
 * instead of failing with ENOMEM while plenty of memory is free.
 *
 * The fragmentation is real: a helper process locks nearly all free memory
 * (mlock, with compaction turned off, so nothing can be moved to make
 * room), then unlocks and frees all of it but one page in
 * every physical MiB.  Nearly all that memory is free again, but in pieces
 * smaller than 1 MiB: fewer 4 MiB blocks are left than a 64 MiB write
 * needs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define CHUNK		(4 << 20)
#define MAX_CHUNKS	1024

/*
 * Whether ZONE_DMA is x86's: the first 16 MiB, kept from user allocations
 * (lowmem_reserve), so taking memory cannot empty it, and left out of the
 * counts below.  arm64's ZONE_DMA is all memory below 4 GiB (the whole of
 * a 2 GiB guest's, with DMA32 and Normal empty): user memory comes from it,
 * and leaving it out left nothing to fragment (the test passed, 0 MiB
 * locked).
 */
static int dma_zone_reserved(void)
{
	static char text[65536];
	char *p;

	read_text("/proc/zoneinfo", text, sizeof(text));
	p = strstr(text, "zone      DMA\n");
	if (!p || !(p = strstr(p, "spanned")))
		return 0;
	return atol(p + 7) <= (16 << 20) / 4096;
}

/*
 * Free blocks of order >= @order in the zones user memory comes from
 * (/proc/buddyinfo): x86's ZONE_DMA left out (dma_zone_reserved()).
 */
static long free_blocks_from(int order)
{
	char text[4096], *line, *save;
	long n = 0;

	read_text("/proc/buddyinfo", text, sizeof(text));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "zone");
		int o = 0;

		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		if (!strncmp(p, "DMA ", 4) && dma_zone_reserved())
			continue;
		while (*p && *p != ' ')	/* the zone's name */
			p++;
		for (;;) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (o++ >= order)
				n += v;
			p = end;
		}
	}
	return n;
}

/*
 * Pages free above the min watermark in the zones user memory comes from
 * (/proc/zoneinfo): how much more a process can take before the OOM killer.
 */
static long free_over_min(void)
{
	static char text[65536];
	char *line, *save;
	long total = 0, free = 0;
	int counting = 0;

	read_text("/proc/zoneinfo", text, sizeof(text));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		long v;

		if (!strncmp(line, "Node ", 5)) {
			char *zone = strstr(line, "zone");

			if (!zone)
				continue;
			for (zone += 4; *zone == ' '; zone++)
				;
			counting = strcmp(zone, "DMA") != 0 || !dma_zone_reserved();
			continue;
		}
		if (!counting)
			continue;
		if (sscanf(line, " pages free %ld", &v) == 1)
			free = v;
		else if (sscanf(line, " min %ld", &v) == 1)
			total += free - v;
	}
	return total;
}

/* The page frame behind a virtual address of ours (/proc/self/pagemap). */
static uint64_t pfn_of(int pagemap, const void *addr)
{
	uint64_t entry;

	if (pread(pagemap, &entry, 8, (uintptr_t)addr / 4096 * 8) != 8)
		FAIL("pagemap: %s", strerror(errno));
	if (!(entry >> 63))
		FAIL("page at %p not present", addr);
	return entry & ((1ULL << 55) - 1);
}

/* Unlock and free [from, to) of a locked chunk. */
static void free_run(char *from, char *to)
{
	if (from < to && (munlock(from, to - from) ||
			  madvise(from, to - from, MADV_DONTNEED)))
		FAIL("freeing pages: %s", strerror(errno));
}

/*
 * In a child: take free memory in locked 4 MiB chunks (no huge pages, so
 * every page is its own) until 16 MiB above the min watermark is left.
 * Then, by physical address, keep one page in every 1 MiB of memory they
 * cover and free all the others: no free block of 1 MiB or more can form
 * there.  Memory freed meanwhile (page cache reclaimed under the pressure,
 * a program before) can still form large blocks elsewhere: while 16 free
 * blocks of 4 MiB remain, another pass takes and fragments them (at most
 * four passes; seen once on 6.12: 16 blocks left after one).  Writes one
 * byte to @ready when done, then waits to be killed.
 */
static void fragmenter(int ready)
{
	static char *chunks[MAX_CHUNKS];
	static unsigned char kept[1 << 20];	/* by physical MiB */
	long i, n = 0, first, off, pass;
	int pagemap;

	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap < 0)
		FAIL("/proc/self/pagemap: %s", strerror(errno));
	for (pass = 0; pass < 4 && (!pass || free_blocks_from(10) >= 16); pass++) {
		first = n;
		while (free_over_min() > (16 << 20) / 4096 && n < MAX_CHUNKS) {
			chunks[n] = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			/* a kernel without transparent huge pages (the
			 * sanitizer kernel) refuses MADV_NOHUGEPAGE with
			 * EINVAL, needing none
			 */
			if (chunks[n] == MAP_FAILED ||
			    (madvise(chunks[n], CHUNK, MADV_NOHUGEPAGE) && errno != EINVAL) ||
			    mlock(chunks[n], CHUNK))
				FAIL("chunk %ld: %s", n, strerror(errno));
			n++;
		}
		for (i = first; i < n; i++) {
			char *run = chunks[i];

			for (off = 0; off < CHUNK; off += 4096) {
				uint64_t mib = pfn_of(pagemap, chunks[i] + off) >> 8;

				if (mib >= sizeof(kept))
					FAIL("page frame beyond %zu MiB", sizeof(kept));
				if (kept[mib])
					continue;
				kept[mib] = 1;
				free_run(run, chunks[i] + off);
				run = chunks[i] + off + 4096;
			}
			free_run(run, chunks[i] + CHUNK);
		}
	}
	close(pagemap);
	scull_diag("locked %ld MiB in %ld passes, kept one page in each physical MiB; free blocks of order >= 10: %ld",
		   n * (CHUNK >> 20), pass, free_blocks_from(10));
	if (write(ready, "r", 1) != 1)
		FAIL("write: %s", strerror(errno));
	pause();
}

/*
 * No compaction while the test runs: the locked pages must stay where
 * they are (compact_unevictable_allowed), and no other movable page may be
 * moved into the gaps to free whole blocks elsewhere -- what scattered
 * unmovable kernel allocations do to a long-running machine, here made
 * quickly.  extfrag_threshold 1000 makes every fragmentation index look
 * like a lack of memory, which compaction does not try to fix.  (A kernel
 * built without compaction has none of these files, and needs none.)
 */
static const char compaction_off[] =
	"cd /proc/sys/vm && for f in compact_unevictable_allowed compaction_proactiveness; do "
	"[ ! -e $f ] || echo 0 > $f; done; [ ! -e extfrag_threshold ] || echo 1000 > extfrag_threshold";
static const char compaction_on[] =
	"cd /proc/sys/vm && [ ! -e compact_unevictable_allowed ] || echo 1 > compact_unevictable_allowed; "
	"[ ! -e compaction_proactiveness ] || echo 20 > compaction_proactiveness; "
	"[ ! -e extfrag_threshold ] || echo 500 > extfrag_threshold";

/* Four minutes on the sanitizer kernel: TEST_LONG, run there with FULL=1. */
TEST_LONG(four_mib_quanta_in_fragmented_memory, 600)
{
	size_t len = 64 << 20;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	int p[2], fd, status;
	char c;
	pid_t child;

	/*
	 * A 32-bit kernel's quanta come from lowmem, but user memory comes
	 * from highmem first, and a lowmem reserve keeps the rest of it from
	 * user allocations: a process cannot fragment what scull allocates.
	 */
	if (kernel_is_32bit())
		SKIP("a 32-bit kernel's lowmem cannot be fragmented from user space");
	pattern_fill(buf, len, 0, 51);
	ASSERT_EQ(0, run_sh(NULL, 0, "%s", compaction_off));
	ASSERT_OK(pipe(p));
	child = fork();
	if (!child) {
		close(p[0]);
		fragmenter(p[1]);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		waitpid(child, &status, 0);
		FAIL("the fragmenter failed (status %#x)", status);
	}
	/* too few contiguous 4 MiB blocks for a 64 MiB write */
	ASSERT_TRUE(free_blocks_from(10) < 16);

	fd = dev_open(0, O_RDWR);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 16));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 4 << 20));
	ASSERT_EQ(len, pwrite(fd, buf, len, 0));
	ASSERT_EQ(len, pread(fd, back, len, 0));
	ASSERT_MEM_EQ(buf, back, len);

	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	run_sh(NULL, 0, "%s", compaction_on);
	/* with memory back, the same device still reads what it holds */
	ASSERT_EQ(len, pread(fd, back, len, 0));
	ASSERT_MEM_EQ(buf, back, len);
	close(fd);
	free(buf);
	free(back);
}
