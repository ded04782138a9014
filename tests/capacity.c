// SPDX-License-Identifier: GPL-2.0
/*
 * Fixed-capacity devices (scull_capacity, /sys/class/scull/scull<n>/
 * capacity): a device that presents its whole capacity from the start, as
 * a RAM disk does.  Every byte below it reads as zeros until written, with
 * nothing allocated; reads at it return end of file, writes -ENOSPC; the
 * size is the capacity.  Trims free the data but keep the size.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define M (1 << 20)

static void zeros(const unsigned char *buf, size_t len, off_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i])
			FAIL("byte at %lld is 0x%02x, expected 0", (long long)(off + i),
			     buf[i]);
}

/* Write a value to a device's capacity attribute; errno or 0. */
static int set_capacity(int minor, const char *value)
{
	char path[64];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/class/scull/scull%d/capacity", minor);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, value, strlen(value)) < 0)
		err = errno;
	close(fd);
	return err;
}

TEST(fresh_device_reads_zeros_up_to_its_capacity)
{
	unsigned char *buf = xmalloc(M + 10);
	char text[4096];
	int fd;

	ASSERT_EQ(0, scull_reload("scull_capacity=1M"));
	ASSERT_EQ(M, sysfs_attr(0, "capacity"));
	ASSERT_EQ(M, dev_size(0));
	ASSERT_EQ(1048576, module_param("scull_capacity"));
	fd = dev_open(0, O_RDONLY);
	ASSERT_EQ(M, lseek(fd, 0, SEEK_END));
	memset(buf, 0xa5, M + 10);
	ASSERT_EQ(M, pread(fd, buf, M + 10, 0));
	zeros(buf, M, 0);
	ASSERT_EQ(0xa5, buf[M]);
	ASSERT_EQ(0, pread(fd, buf, 1, M));
	ASSERT_EQ(0, dev_quanta(0));
	/* a hole all through: SEEK_DATA finds nothing, SEEK_HOLE is here */
	ASSERT_ERRNO(lseek(fd, 0, SEEK_DATA), ENXIO);
	ASSERT_EQ(4096, lseek(fd, 4096, SEEK_HOLE));
	ASSERT_ERRNO(lseek(fd, M, SEEK_HOLE), ENXIO);
	close(fd);
	read_text("/proc/scullmem", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "Device 3: qset 512, q 4096, sz 1048576, limit 268435456, quanta 0\n"));
	free(buf);
}

TEST(writes_stop_at_the_capacity)
{
	unsigned char buf[100], back[100];
	int fd;

	ASSERT_EQ(0, scull_reload("scull_capacity=1M"));
	fd = dev_open(1, O_RDWR);
	pattern_fill(buf, sizeof(buf), M - 40, 61);
	ASSERT_ERRNO(pwrite(fd, buf, 1, M), ENOSPC);
	ASSERT_ERRNO(pwrite(fd, buf, 1, 5LL * M), ENOSPC);
	ASSERT_EQ(40, pwrite(fd, buf, sizeof(buf), M - 40));
	ASSERT_EQ(M, dev_size(1));
	ASSERT_EQ(40, pread(fd, back, sizeof(back), M - 40));
	ASSERT_MEM_EQ(buf, back, 40);
	/* O_APPEND writes at the end, which is the capacity */
	close(fd);
	fd = dev_open(1, O_WRONLY | O_APPEND);
	ASSERT_ERRNO(write(fd, buf, 1), ENOSPC);
	close(fd);
	ASSERT_EQ(1, dev_quanta(1));
}

/* Trims free the data; the device keeps presenting its capacity, zeros. */
TEST(trims_keep_the_capacity_and_forget_the_data)
{
	unsigned char buf[8192];
	int fd;

	ASSERT_EQ(0, scull_reload("scull_capacity=64K"));
	fd = dev_open(2, O_RDWR);
	pattern_fill(buf, sizeof(buf), 0, 62);
	pwrite_exact(fd, buf, sizeof(buf), 4000);
	close(fd);
	ASSERT_EQ(3, dev_quanta(2));
	close(dev_open(2, O_WRONLY));		/* LDD3's trim */
	ASSERT_EQ(65536, dev_size(2));
	ASSERT_EQ(0, dev_quanta(2));
	fd = dev_open(2, O_RDWR);
	memset(buf, 0xa5, sizeof(buf));
	pread_exact(fd, buf, sizeof(buf), 4000);
	zeros(buf, sizeof(buf), 4000);
	pwrite_exact(fd, "z", 1, 65535);
	close(fd);
	close(dev_open(2, O_RDONLY | O_TRUNC));
	ASSERT_EQ(65536, dev_size(2));
	ASSERT_EQ(0, dev_quanta(2));
	/* holding no data, the geometry may change and be reset */
	fd = dev_open(2, O_RDWR);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 1000));
	pwrite_exact(fd, "q", 1, 3000);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCRESET), EBUSY);
	ASSERT_EQ(65536, dev_size(2));
	close(fd);
}

/* Switching modes at run time, with and without data. */
TEST(capacity_attribute_switches_modes)
{
	unsigned char buf[100], back[4096];
	int fd = dev_open(0, O_RDWR);

	ASSERT_EQ(0, sysfs_attr(0, "capacity"));
	pattern_fill(buf, sizeof(buf), 0, 63);
	pwrite_exact(fd, buf, sizeof(buf), 0);
	ASSERT_EQ(100, dev_size(0));
	/* file-like -> 4 KiB: the data stays, the rest reads as zeros */
	ASSERT_EQ(0, set_capacity(0, "4096"));
	ASSERT_EQ(4096, sysfs_attr(0, "capacity"));
	ASSERT_EQ(4096, dev_size(0));
	ASSERT_EQ(4096, pread(fd, back, sizeof(back), 0));
	ASSERT_MEM_EQ(buf, back, 100);
	zeros(back + 100, 4096 - 100, 100);
	/* suffixes, as for the parameter */
	ASSERT_EQ(0, set_capacity(0, "1K\n"));
	ASSERT_EQ(1024, dev_size(0));
	/* below the data's end: refused, nothing changes */
	ASSERT_EQ(EBUSY, set_capacity(0, "99"));
	ASSERT_EQ(1024, dev_size(0));
	/* above the size limit, or not a size: refused */
	ASSERT_EQ(EINVAL, set_capacity(0, "256M1"));
	ASSERT_EQ(EINVAL, set_capacity(0, "268435457"));
	ASSERT_EQ(EINVAL, set_capacity(0, "-1"));
	ASSERT_EQ(EINVAL, set_capacity(0, "lots"));
	ASSERT_EQ(1024, sysfs_attr(0, "capacity"));
	/* exactly the data's end is fine, and 0 is file-like again */
	ASSERT_EQ(0, set_capacity(0, "100"));
	ASSERT_EQ(100, dev_size(0));
	ASSERT_EQ(0, set_capacity(0, "0"));
	ASSERT_EQ(100, dev_size(0));
	pread_exact(fd, back, 100, 0);
	ASSERT_MEM_EQ(buf, back, 100);
	/* an empty device switches to any capacity up to the limit */
	close(fd);
	close(dev_open(0, O_WRONLY));
	ASSERT_EQ(0, set_capacity(0, "256M"));
	ASSERT_EQ(256 * M, dev_size(0));
	ASSERT_EQ(0, dev_quanta(0));
}

static void member_writes_capacity(void *arg)
{
	(void)arg;
	ASSERT_EQ(EACCES, set_capacity(1, "4096"));
}

TEST(only_root_sets_the_capacity)
{
	struct stat st;

	ASSERT_OK(stat("/sys/class/scull/scull1/capacity", &st));
	ASSERT_EQ(0644, st.st_mode & 07777);
	ASSERT_EQ(0, as_user(USER_IN_UID, member_writes_capacity, NULL));
	ASSERT_EQ(0, sysfs_attr(1, "capacity"));
}

/* A capacity costs nothing until written: memory follows the writes. */
TEST(capacity_allocates_only_what_is_written)
{
	long long before, after;
	int fd;

	before = mem_free_kb();
	ASSERT_EQ(0, scull_reload("scull_capacity=1G scull_size_limit=1G"));
	after = mem_free_kb();
	scull_diag("free kB before loading %lld, after (4 x 1 GiB capacity) %lld",
		   before, after);
	/*
	 * 4 GiB if the capacity were allocated; the load itself costs under
	 * 1 MiB on Debian's kernels and more on the sanitizer kernel (1.6 MiB
	 * seen: KASAN shadow, kmemleak and lockdep records of the module)
	 */
	ASSERT_TRUE(before - after < 8192);
	fd = dev_open(3, O_RDWR);
	pwrite_exact(fd, "m", 1, 512 * M);
	ASSERT_EQ(1, dev_quanta(3));
	ASSERT_EQ(1LL << 30, dev_size(3));
	close(fd);
}

/* scull_capacity is checked like the other parameters. */
TEST(bad_capacity_parameters_fail_the_load)
{
	static const struct {
		const char *params, *message;
	} bad[] = {
		{ "scull_capacity=2G", "scull: invalid scull_capacity=2147483648: above scull_size_limit=268435456" },
		{ "scull_capacity=1M scull_size_limit=64K", "scull: invalid scull_capacity=1048576: above scull_size_limit=65536" },
		{ "scull_capacity=12Q", "scull: invalid scull_capacity=12Q: expected a size from 0 to 9223372036854775807 bytes, with an optional K, M or G" },
	};
	char out[1024], marker[64], log[8192], message[256];
	unsigned int i;

	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kmsg_mark(marker, sizeof(marker));
		ASSERT_NE(0, run_sh(out, sizeof(out), "insmod %s %s",
				    scull_ko(), bad[i].params));
		kmsg_since(marker, log, sizeof(log));
		/* the loaded driver's name first (scull, or the twin's) */
		snprintf(message, sizeof(message), "%s%s", scull_module(),
			 bad[i].message + strlen("scull"));
		if (!strstr(log, message))
			FAIL("insmod %s: kernel log lacks \"%s\"; it has:\n%s",
			     bad[i].params, message, log);
		nothing_registered();
	}
}

/* fio's results as jobs, errors, jobs that moved some bytes and at most
 * their 1 MiB, short and dropped I/Os: one tab-separated line
 */
static const char ramdisk_summary[] =
	"jq -r '[(.jobs | length), ([.jobs[].error] | add), "
	"([.jobs[] | .read.io_bytes + .write.io_bytes | select(. > 0 and . <= 1048576)] | length), "
	"([.jobs[] | .read.short_ios + .write.short_ios + .read.drop_ios + .write.drop_ios] | add)] "
	"| @tsv'";

/*
 * The RAM-disk job of the project scull grew from, unmodified but for the
 * device: 1024 jobs of 1 KiB random read/write over 1 MiB, on a freshly
 * loaded 1 MiB device.  No error, no short I/O, every job's bytes moved.
 * Six minutes on the sanitizer kernel (its 1024 processes): TEST_LONG.
 */
TEST_LONG(ramdisk_fio_job_runs_unmodified, 900)
{
	char out[256];
	int ret;

	need_program("fio");
	need_program("jq");
	ASSERT_EQ(0, scull_reload("scull_capacity=1M"));
	ret = run_sh(out, sizeof(out),
		     "fio --output-format=json --output=/tmp/ramdisk.json %s "
		     ">/tmp/ramdisk.log 2>&1; rc=$?; sed -n '/^{/,$p' /tmp/ramdisk.json | %s; exit $rc",
		     scull_file("fio/ramdisk.fio"), ramdisk_summary);
	if (ret) {
		char log[4096];

		read_text("/tmp/ramdisk.log", log, sizeof(log));
		FAIL("fio exit %d: %s\n%s", ret, out, log);
	}
	/*
	 * jobs, errors, jobs that moved some bytes and at most their 1 MiB
	 * (a randrw job need not move exactly its size: 976 KiB on average
	 * here), short and dropped I/Os
	 */
	ASSERT_STR_EQ("1024\t0\t1024\t0\n", out);
	ASSERT_EQ(M, dev_size(0));
	/* fio's own totals, for the record */
	ASSERT_EQ(0, run_sh(out, sizeof(out),
			    "sed -n '/^{/,$p' /tmp/ramdisk.json | jq -j '\"\\(.jobs | length) jobs, "
			    "err=\\([.jobs[].error] | add), read \\([.jobs[].read.io_bytes] | add) B "
			    "in \\([.jobs[].read.total_ios] | add) I/Os, write \\([.jobs[].write.io_bytes] | add) B "
			    "in \\([.jobs[].write.total_ios] | add) I/Os\"'"));
	scull_diag("fio/ramdisk.fio on scull_capacity=1M: %s", out);
}
