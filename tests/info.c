// SPDX-License-Identifier: GPL-2.0
/*
 * What the driver shows about itself: sysfs attributes, /proc/scullmem and
 * /proc/scullseq, module parameters, modinfo.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

/* A sysfs attribute's whole text: the value in decimal and a newline. */
static void attr_text_is(const char *dev, const char *attr, long long value)
{
	char path[128], text[64], want[32];

	snprintf(path, sizeof(path), "/sys/class/scull/%s/%s", dev, attr);
	read_text(path, text, sizeof(text));
	snprintf(want, sizeof(want), "%lld\n", value);
	if (strcmp(want, text))
		FAIL("%s: expected \"%lld\\n\", seen \"%s\"", path, value, text);
}

/*
 * What a device's sysfs directory holds, by name, sorted: all but the
 * driver core's power/, which only a kernel with CONFIG_PM makes (the
 * sanitizer kernel has none).
 */
static void sysfs_dir_is(const char *dev, const char *expected)
{
	char out[1024];

	ASSERT_EQ(0, run_sh(out, sizeof(out),
			    "ls /sys/class/scull/%s | grep -vx power | tr '\\n' ' '", dev));
	ASSERT_STR_EQ(expected, out);
}

TEST(sysfs_attributes)
{
	static const char *const attrs[] = { "size", "quantum", "qset", "size_limit" };
	char path[128];
	struct stat st;
	unsigned int i;
	int fd;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/sys/class/scull/scull1/%s", attrs[i]);
		ASSERT_OK(stat(path, &st));
		ASSERT_EQ(0444, st.st_mode & 07777);
	}
	sysfs_dir_is("scull1", "capacity dev qset quantum size size_limit subsystem uevent ");
	attr_text_is("scull1", "size", 0);
	attr_text_is("scull1", "quantum", SCULL_QUANTUM);
	attr_text_is("scull1", "qset", SCULL_QSET);
	attr_text_is("scull1", "size_limit", SCULL_LIMIT);
	attr_text_is("scull1", "capacity", 0);
	fd = dev_open(1, O_RDWR);
	pwrite_exact(fd, "x", 1, 123456);
	attr_text_is("scull1", "size", 123457);
	attr_text_is("scull0", "size", 0);
	close(fd);
	/* the attributes are read-only, even for root */
	ASSERT_ERRNO(open("/sys/class/scull/scull1/size", O_WRONLY), EACCES);
}

/*
 * scullsingle, sculluid and scullwuid have a memory device's attributes;
 * scullpriv the count of its terminals and the bytes they use; the pipes
 * only dev.
 */
TEST(sysfs_attributes_of_the_other_devices)
{
	static const char *const access[] = { "scullsingle", "sculluid", "scullwuid" };
	char path[64];
	unsigned int i;
	int fd;

	if (scull_is_rust())
		SKIP("the Rust twin has no pipes and no access devices (yet)");
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/dev/%s", access[i]);
		fd = open(path, O_WRONLY);	/* trims: size 0 */
		ASSERT_OK(fd);
		sysfs_dir_is(access[i],
			     "capacity dev qset quantum size size_limit subsystem uevent ");
		attr_text_is(access[i], "size", 0);
		attr_text_is(access[i], "quantum", SCULL_QUANTUM);
		attr_text_is(access[i], "qset", SCULL_QSET);
		attr_text_is(access[i], "size_limit", SCULL_LIMIT);
		attr_text_is(access[i], "capacity", 0);
		close(fd);
	}
	sysfs_dir_is("scullpriv", "dev subsystem terminals uevent used ");
	attr_text_is("scullpriv", "terminals", 0);
	attr_text_is("scullpriv", "used", 0);
	for (i = 0; i < SCULL_P_NR_DEVS; i++) {
		snprintf(path, sizeof(path), "scullpipe%u", i);
		sysfs_dir_is(path, "dev subsystem uevent ");
	}
}

TEST(sysfs_dev_matches_node)
{
	char path[64], text[32];
	struct stat st;
	int i;

	for (i = 0; i < SCULL_NR_DEVS; i++) {
		snprintf(path, sizeof(path), "/sys/class/scull/scull%d/dev", i);
		read_text(path, text, sizeof(text));
		ASSERT_OK(stat(dev_path(i), &st));
		snprintf(path, sizeof(path), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
		ASSERT_STR_EQ(path, text);
		ASSERT_EQ(i, minor(st.st_rdev));
	}
}

static const char expected_proc[] =
	"Device 0: qset 512, q 4096, sz 6291457, limit 268435456, quanta 3\n"
	"  qset 0: 2 quanta\n"
	"  qset 3: 1 quanta\n"
	"Device 1: qset 512, q 4096, sz 0, limit 268435456, quanta 0\n"
	"Device 2: qset 2, q 100, sz 250, limit 268435456, quanta 3\n"
	"  qset 0: 2 quanta\n"
	"  qset 1: 1 quanta\n"
	"Device 3: qset 512, q 4096, sz 0, limit 268435456, quanta 0\n";

static void proc_layout(void)
{
	char buf[250];
	int fd;

	/* device 0: quanta 0 and 1 of set 0, quantum 0 of set 3 (written
	 * first, so the list is kept in order whatever the write order)
	 */
	fd = dev_open(0, O_RDWR);
	pwrite_exact(fd, "c", 1, 3LL * SCULL_QUANTUM * SCULL_QSET);
	pwrite_exact(fd, "ab", 2, SCULL_QUANTUM - 1);
	close(fd);
	fd = dev_open(2, O_RDWR);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 100));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 2));
	memset(buf, 'z', sizeof(buf));
	write_exact(fd, buf, sizeof(buf));
	close(fd);
}

TEST(proc_scullmem)
{
	char text[4096];

	proc_layout();
	read_text("/proc/scullmem", text, sizeof(text));
	ASSERT_STR_EQ(expected_proc, text);
}

TEST(proc_scullseq)
{
	char text[4096];

	proc_layout();
	read_text("/proc/scullseq", text, sizeof(text));
	ASSERT_STR_EQ(expected_proc, text);
}

/* seq_file restarts: reading a byte at a time gives the same text. */
TEST(proc_scullseq_small_reads)
{
	char text[4096];
	size_t len = 0;
	int fd;

	proc_layout();
	fd = ASSERT_OK(open("/proc/scullseq", O_RDONLY));
	while (len < sizeof(text) - 1 && read(fd, text + len, 1) == 1)
		len++;
	text[len] = '\0';
	close(fd);
	ASSERT_STR_EQ(expected_proc, text);
}

/* A device with many quantum sets lists the first 32 and a count. */
TEST(proc_lists_at_most_32_sets)
{
	char text[8192], *p;
	int fd = dev_open(1, O_RDWR), i;

	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 1));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 1));
	for (i = 0; i < 40; i++)
		pwrite_exact(fd, "s", 1, 2 * i);
	close(fd);
	read_text("/proc/scullseq", text, sizeof(text));
	p = strstr(text, "Device 1: qset 1, q 1, sz 79, limit 268435456, quanta 40\n");
	ASSERT_TRUE(p);
	for (i = 0; i < 32; i++) {
		char line[64];

		snprintf(line, sizeof(line), "  qset %d: 1 quanta\n", 2 * i);
		p = strchr(p, '\n') + 1;
		ASSERT_EQ(0, strncmp(p, line, strlen(line)));
	}
	p = strchr(p, '\n') + 1;
	ASSERT_EQ(0, strncmp(p, "  ... 8 more quantum sets\nDevice 2:", 35));
}

/*
 * The /proc files show every device's layout: as private as the devices.
 * scull_load gives them to root and group scull, mode 0440; a member reads
 * them, anyone else gets EACCES.
 */
static const char *const proc_files[] = { "/proc/scullmem", "/proc/scullseq" };

static void proc_owner_check(mode_t mode, gid_t gid)
{
	struct stat st;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (stat(proc_files[i], &st))
			FAIL("stat %s: %s", proc_files[i], strerror(errno));
		scull_diag("%s: mode %04o, uid %u, gid %u", proc_files[i],
			   st.st_mode & 07777, st.st_uid, st.st_gid);
		ASSERT_EQ(S_IFREG | mode, st.st_mode);
		ASSERT_EQ(0, st.st_uid);
		ASSERT_EQ(gid, st.st_gid);
	}
}

static void proc_refused(void *arg)
{
	unsigned int i;

	(void)arg;
	for (i = 0; i < 2; i++)
		ASSERT_ERRNO(open(proc_files[i], O_RDONLY), EACCES);
}

static void proc_readable(void *arg)
{
	char text[4096];
	unsigned int i;

	(void)arg;
	for (i = 0; i < 2; i++) {
		read_text(proc_files[i], text, sizeof(text));
		ASSERT_EQ(0, strncmp(text, "Device 0: qset 512, q 4096, sz 0,", 33));
	}
}

TEST(proc_files_are_for_root_and_group_scull)
{
	proc_owner_check(0440, scull_gid());
	ASSERT_EQ(0, as_user(USER_OUT_UID, proc_refused, NULL));
	ASSERT_EQ(0, as_user(USER_IN_UID, proc_readable, NULL));
	ASSERT_EQ(0, as_user(0, proc_readable, NULL));
}

/* Loaded without scull_load, the module keeps them root's alone. */
TEST(proc_files_are_root_only_until_scull_load)
{
	char out[1024];

	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "insmod %s", scull_ko()));
	proc_owner_check(0400, 0);
	ASSERT_EQ(0, as_user(USER_OUT_UID, proc_refused, NULL));
	ASSERT_EQ(0, as_user(USER_IN_UID, proc_refused, NULL));
	ASSERT_EQ(0, as_user(0, proc_readable, NULL));
	/* the script's load: the devices' group, as above */
	ASSERT_EQ(0, scull_reload(""));
	proc_owner_check(0440, scull_gid());
}

TEST(module_parameters)
{
	static const struct {
		const char *name;
		long long value;
	} params[] = {
		{ "scull_major", 0 }, { "scull_minor", 0 }, { "scull_nr_devs", 4 },
		{ "scull_quantum", 4096 }, { "scull_qset", 512 },
		{ "scull_size_limit", 268435456 }, { "scull_capacity", 0 },
		{ "scull_priv_limit", 268435456 }, { "scull_p_nr_devs", 4 },
		{ "scull_p_buffer", 4000 },
	};
	/* the Rust twin has the first seven, those of the memory devices */
	unsigned int n = scull_is_rust() ? 7 : sizeof(params) / sizeof(params[0]);
	char path[128], out[1024];
	struct stat st;
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
			 scull_module(), params[i].name);
		ASSERT_EQ(params[i].value, read_ll(path));
		ASSERT_OK(stat(path, &st));
		ASSERT_EQ(0444, st.st_mode & 07777);
	}
	/* and no other */
	ASSERT_EQ(0, run_sh(out, sizeof(out), "ls /sys/module/%s/parameters | wc -l",
			    scull_module()));
	ASSERT_EQ(n, atoi(out));
}

TEST(modinfo_describes_module)
{
	const char *m = scull_module(), *ko = scull_ko();
	char out[4096];

	ASSERT_EQ(0, run_sh(out, sizeof(out), "modinfo -F license %s", ko));
	ASSERT_STR_EQ("GPL\n", out);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "modinfo -F version %s", ko));
	ASSERT_STR_EQ("1.0.0\n", out);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "modinfo -F description %s", ko));
	ASSERT_STR_EQ(scull_is_rust() ? "LDD3's scull memory devices, in Rust\n" :
		      "LDD3's scull: memory devices, pipes and access-controlled devices\n", out);
	/* the Rust twin's in another order (rustc places them): sorted */
	ASSERT_EQ(0, run_sh(out, sizeof(out), "modinfo -F parm %s | cut -d: -f1%s",
			    ko, scull_is_rust() ? " | sort" : ""));
	ASSERT_STR_EQ(scull_is_rust() ?
		      "scull_capacity\nscull_major\nscull_minor\nscull_nr_devs\n"
		      "scull_qset\nscull_quantum\nscull_size_limit\n" :
		      "scull_major\nscull_minor\nscull_nr_devs\nscull_quantum\n"
		      "scull_qset\nscull_size_limit\nscull_capacity\n"
		      "scull_priv_limit\nscull_p_nr_devs\nscull_p_buffer\n", out);
	/* every parameter states its default */
	ASSERT_EQ(1, run_sh(out, sizeof(out), "modinfo -F parm %s | grep -vc default", ko));
	ASSERT_STR_EQ("0\n", out);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "cat /sys/module/%s/refcnt", m));
	ASSERT_STR_EQ("0\n", out);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "cat /sys/module/%s/version", m));
	ASSERT_STR_EQ("1.0.0\n", out);
}

/*
 * One loader for both drivers: ./scull_load loads scull.ko, or the Rust
 * twin scull_rs.ko with --rust or SCULL_IMPL=rust, and refuses while the
 * other one is loaded (they share the class, the region's name and the
 * nodes).  Where the twin is not in the guest (a C run), only the refusal.
 */
TEST(loaders_refuse_the_other_driver)
{
	const char *other = scull_is_rust() ? "scull" : "scull_rs";
	char out[4096], want[256], path[64];

	/* loaded now: the other is refused, and nothing of it loads */
	ASSERT_EQ(1, run_sh(out, sizeof(out),
			    scull_is_rust() ? "SCULL_IMPL=c %s/scull_load 2>&1" :
					      "env -u SCULL_IMPL %s/scull_load --rust 2>&1",
			    scull_dir()));
	snprintf(want, sizeof(want),
		 "scull_load: %s is loaded: the two drivers share their nodes (unload it first with scull_unload)\n",
		 scull_module());
	ASSERT_STR_EQ(want, out);
	snprintf(path, sizeof(path), "/sys/module/%s", other);
	ASSERT_ERRNO(access(path, F_OK), ENOENT);
	ASSERT_TRUE(module_loaded());

	ASSERT_EQ(1, run_sh(out, sizeof(out), "SCULL_IMPL=go %s/scull_load 2>&1", scull_dir()));
	ASSERT_STR_EQ("scull_load: SCULL_IMPL must be c or rust, not 'go'\n", out);

	if (!scull_is_rust())
		return;
	/* the twin's two ways in; scull_unload finds whichever is loaded */
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "env -u SCULL_IMPL %s/scull_load --rust", scull_dir()));
	ASSERT_OK(access("/sys/module/scull_rs", F_OK));
	ASSERT_ERRNO(access("/sys/module/scull", F_OK), ENOENT);
	ASSERT_OK(access("/dev/scull0", F_OK));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_ERRNO(access("/sys/module/scull_rs", F_OK), ENOENT);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "SCULL_IMPL=rust %s/scull_load", scull_dir()));
	ASSERT_OK(access("/sys/module/scull_rs", F_OK));
	/* and the C driver, refused while the twin is there, loads after */
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "SCULL_IMPL=c %s/scull_load", scull_dir()));
	ASSERT_OK(access("/sys/module/scull", F_OK));
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_load --rust 2>&1", scull_dir()));
	ASSERT_STR_EQ("scull_load: scull is loaded: the two drivers share their nodes (unload it first with scull_unload)\n", out);
	ASSERT_ERRNO(access("/sys/module/scull_rs", F_OK), ENOENT);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_EQ(0, scull_reload(""));
}
