// SPDX-License-Identifier: GPL-2.0
/*
 * The job files in fio/, run as they are: every job finishes without an
 * error, moves exactly the bytes its size asks for, and no I/O comes back
 * short (a short transfer would also corrupt fio's figures).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

/*
 * One line per job group: name, fio's error, bytes read + written, short
 * and dropped I/Os.
 */
static const char summary[] =
	"jq -r '.jobs[] | \"\\(.jobname) \\(.error) \\(.read.io_bytes + .write.io_bytes) "
	"\\(.read.short_ios + .write.short_ios + .read.drop_ios + .write.drop_ios)\"'";

/* fio runs the jobs, jq reads its results; then the usual state */
void scull_setup(void)
{
	need_program("fio");
	need_program("jq");
	scull_restore();
}

static void run_job(const char *file, const char *expected)
{
	static char out[16384];
	char tmp[32];
	int ret;

	/* per user: root's files in /tmp are not another user's to replace */
	snprintf(tmp, sizeof(tmp), "/tmp/fio-%u", (unsigned int)getuid());
	/* fio may put warnings before the JSON in its output file */
	ret = run_sh(out, sizeof(out),
		     "fio --output-format=json --output=%s.json %s/fio/%s "
		     ">%s.log 2>&1; rc=$?; sed -n '/^{/,$p' %s.json | %s; exit $rc",
		     tmp, scull_dir(), file, tmp, tmp, summary);
	if (ret || strcmp(out, expected)) {
		char log[8192];

		strcat(tmp, ".log");
		read_text(tmp, log, sizeof(log));
		FAIL("fio %s: exit %d, summary:\n%s\nexpected:\n%s\nfio said:\n%s",
		     file, ret, out, expected, log);
	}
}

#define M (1 << 20)
#define LINE(name, bytes) name " 0 " #bytes " 0\n"

TEST(seq_job)
{
	run_job("seq.fio",
		LINE("write-4k", 67108864) LINE("read-4k", 67108864)
		LINE("write-64k", 67108864) LINE("read-64k", 67108864)
		LINE("write-1m", 67108864) LINE("read-1m", 67108864));
	ASSERT_EQ(64 * M, dev_size(0));
}

TEST(rand_job)
{
	run_job("rand.fio",
		LINE("prefill", 67108864) LINE("randread", 67108864)
		LINE("randwrite", 67108864) LINE("randrw-70-30", 67108864));
}

/* README: the jobs run as root or as a member of the scull group */
static void rand_job_as_member(void *arg)
{
	(void)arg;
	run_job("rand.fio",
		LINE("prefill", 67108864) LINE("randread", 67108864)
		LINE("randwrite", 67108864) LINE("randrw-70-30", 67108864));
}

TEST(rand_job_as_a_group_member)
{
	ASSERT_EQ(0, as_user(USER_IN_UID, rand_job_as_member, NULL));
}

TEST(minors_job)
{
	run_job("minors.fio",
		LINE("write-1", 33554432) LINE("randread-1", 33554432)
		LINE("write-2", 67108864) LINE("randread-2", 67108864)
		LINE("write-4", 134217728) LINE("randread-4", 134217728));
	ASSERT_EQ(32 * M, dev_size(3));
}

TEST(many_jobs_job)
{
	char out[64];
	long long jobs;

	ASSERT_EQ(0, run_sh(out, sizeof(out), "nproc"));
	jobs = atoll(out) * 16;
	snprintf(out, sizeof(out), "prefill 0 %d 0\nrandrw 0 %lld 0\n", M, jobs * M);
	run_job("many-jobs.fio", out);
	ASSERT_EQ(M, dev_size(0));
}

/* verify: each job writes its bytes and reads them all back to check */
TEST(verify_job)
{
	run_job("verify.fio",
		LINE("all-minors", 268435456) LINE("one-minor-disjoint", 268435456));
	ASSERT_EQ(128 * M, dev_size(0));
	ASSERT_EQ(32 * M, dev_size(3));
}

TEST(engines_job)
{
	run_job("engines.fio",
		LINE("prefill", 33554432)
		LINE("psync-qd1", 33554432) LINE("psync-qd8", 33554432)
		LINE("psync-qd32", 33554432) LINE("libaio-qd1", 33554432)
		LINE("libaio-qd8", 33554432) LINE("libaio-qd32", 33554432)
		LINE("io_uring-qd1", 33554432) LINE("io_uring-qd8", 33554432)
		LINE("io_uring-qd32", 33554432));
}

/* fio's mmap engine on a fixed-capacity device, its bytes verified */
TEST(mmap_job)
{
	if (scull_is_rust())
		SKIP("the Rust twin has no mmap (yet)");
	ASSERT_EQ(0, scull_reload("scull_capacity=16M"));
	run_job("mmap.fio",
		LINE("mmap-seq-write", 33554432) LINE("mmap-rand-write", 33554432));
	ASSERT_EQ(16 * M, dev_size(0));
}

/* a writer and a reader at once through scullpipe0; nothing left in it */
TEST(pipe_job)
{
	char c;
	int fd;

	if (scull_is_rust())
		SKIP("the Rust twin has no pipes (yet)");
	run_job("pipe.fio", LINE("writer", 4000000) LINE("reader", 4000000));
	fd = ASSERT_OK(open("/dev/scullpipe0", O_RDWR | O_NONBLOCK));
	ASSERT_ERRNO(read(fd, &c, 1), EAGAIN);
	close(fd);
}
