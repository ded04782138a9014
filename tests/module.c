// SPDX-License-Identifier: GPL-2.0
/*
 * The module's life: parameters good and bad, load and unload through the
 * project's scripts (with udev, without it, with a stale node, with the
 * group missing, from the source tree and installed), refusing to unload
 * an open device, and giving all memory back.
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

/* udevd may have been stopped by a test: start it again. */
static void udevd_running(void)
{
	if (run_sh(NULL, 0, "udevadm control --ping"))
		ASSERT_EQ(0, run_sh(NULL, 0, "/usr/lib/systemd/systemd-udevd --daemon && udevadm settle"));
}

void scull_setup(void)
{
	udevd_running();
	scull_restore();
}

static void unload(void)
{
	char out[1024];

	if (module_loaded())
		ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_TRUE(!module_loaded());
}

/*
 * On the sanitizer kernel every reload takes 15-20 s (DEBUG_KOBJECT_RELEASE
 * delays each release of the module's kobjects and the devices', and the
 * unload waits for them).  The tests of the scripts' own logic (the same
 * shell code on every kernel, which make check runs on five kernels) and
 * of what the cycles below also vary (the device count) are TEST_LONG:
 * make check-debug runs them with FULL=1.  Those that reach scull_init()
 * or scull_exit() by another path run there always.
 */
TEST(rmmod_of_open_device_is_refused)
{
	char out[1024], buf[8];
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "stays", 5);
	ASSERT_NE(0, run_sh(out, sizeof(out), "rmmod scull"));
	ASSERT_TRUE(strstr(out, "in use"));
	ASSERT_TRUE(module_loaded());
	/* an open file holds the module (twice: the cdev and the fops) */
	ASSERT_EQ(2, read_ll("/sys/module/scull/refcnt"));
	/* the script refuses too, and changes nothing */
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_STR_EQ("scull_unload: scull is in use: close its devices first (fuser -v /dev/scull*)\n", out);
	ASSERT_OK(access("/dev/scull3", F_OK));
	ASSERT_OK(access("/dev/scull", F_OK));
	/* the open device still works */
	pread_exact(fd, buf, 5, 0);
	ASSERT_MEM_EQ("stays", buf, 5);
	write_exact(fd, "!", 1);
	ASSERT_EQ(6, dev_size(0));
	close(fd);
	ASSERT_EQ(0, read_ll("/sys/module/scull/refcnt"));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	nothing_registered();
	ASSERT_ERRNO(access("/dev/scull", F_OK), ENOENT);
}

/* The scripts pass parameters through; the devices follow them. */
TEST_LONG(load_with_fewer_devices, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];

	ASSERT_EQ(0, scull_reload("scull_nr_devs=2"));
	ASSERT_OK(access("/dev/scull1", F_OK));
	ASSERT_ERRNO(access("/dev/scull2", F_OK), ENOENT);
	ASSERT_ERRNO(access("/sys/class/scull/scull2", F_OK), ENOENT);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "ls /sys/class/scull | tr '\\n' ' '"));
	ASSERT_STR_EQ("scull0 scull1 scullpipe0 scullpipe1 scullpipe2 scullpipe3 "
		      "scullpriv scullsingle sculluid scullwuid ", out);
}

/* Fewer pipes: the minors after them move down; every node follows. */
TEST(load_with_fewer_pipes)
{
	static const char *const nodes[] = {
		"scull0 0", "scull1 1", "scull2 2", "scull3 3", "scullpipe0 4",
		"scullsingle 5", "sculluid 6", "scullwuid 7", "scullpriv 8",
	};
	char out[4096], expected[4096] = "";
	unsigned int i, major;
	struct stat st;

	ASSERT_EQ(0, scull_reload("scull_p_nr_devs=1 scull_p_buffer=10"));
	ASSERT_ERRNO(access("/dev/scullpipe1", F_OK), ENOENT);
	major = scull_major();
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		char name[32];
		unsigned int minor;

		ASSERT_EQ(2, sscanf(nodes[i], "%31s %u", name, &minor));
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
			 "%s %u:%u\n", name, major, minor);
	}
	ASSERT_EQ(0, run_sh(out, sizeof(out),
			    "for d in /sys/class/scull/*; do echo \"${d##*/} $(cat $d/dev)\"; done | "
			    "sort -t: -k2 -n"));
	ASSERT_STR_EQ(expected, out);
	ASSERT_OK(stat("/dev/scullpriv", &st));
	ASSERT_EQ(8, minor(st.st_rdev));
	{
		int fd = ASSERT_OK(open("/dev/scullpipe0", O_RDWR));

		ASSERT_EQ(10, ioctl(fd, SCULL_P_IOCQSIZE));
		close(fd);
	}
}

TEST(load_with_fixed_major_and_minor)
{
	char text[64];
	struct stat st;

	ASSERT_EQ(0, scull_reload("scull_major=240 scull_minor=8"));
	ASSERT_EQ(0, run_sh(text, sizeof(text), "grep -w scull /proc/devices"));
	ASSERT_STR_EQ("240 scull\n", text);
	ASSERT_OK(stat("/dev/scull3", &st));
	ASSERT_EQ(240, major(st.st_rdev));
	ASSERT_EQ(11, minor(st.st_rdev));
	ASSERT_EQ(SCULL_MODE, st.st_mode & 07777);
	read_text("/sys/class/scull/scull0/dev", text, sizeof(text));
	ASSERT_STR_EQ("240:8\n", text);
	/* the pipes and the access-controlled devices follow */
	nodes_check(8);
	read_text("/sys/class/scull/scullpriv/dev", text, sizeof(text));
	ASSERT_STR_EQ("240:19\n", text);
}

/* Load-time geometry is each device's default, and RESET returns to it. */
TEST(load_with_geometry)
{
	int fd;

	ASSERT_EQ(0, scull_reload("scull_quantum=1000 scull_qset=10"));
	fd = dev_open(0, O_RDWR);
	ASSERT_EQ(1000, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(10, ioctl(fd, SCULL_IOCQQSET));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 4096));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
	ASSERT_EQ(1000, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(10, ioctl(fd, SCULL_IOCQQSET));
	close(fd);
}

/* A device node's geometry, limit and capacity as it answers them. */
static void node_is(const char *node, int quantum, int qset, long long limit,
		    long long capacity)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", node);
	fd = ASSERT_OK(open(path, O_RDWR));
	ASSERT_EQ(quantum, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(qset, ioctl(fd, SCULL_IOCQQSET));
	ASSERT_EQ(capacity, lseek(fd, 0, SEEK_END));
	close(fd);
	snprintf(path, sizeof(path), "/sys/class/scull/%s/size_limit", node);
	ASSERT_EQ(limit, read_ll(path));
	snprintf(path, sizeof(path), "/sys/class/scull/%s/capacity", node);
	ASSERT_EQ(capacity, read_ll(path));
}

/*
 * The bounds of README's table load: 256 devices and 256 pipes ending at
 * the last minor of major 511, a 1 GiB set of 65536 quanta; then 4 MiB
 * quanta, a 1 MiB pipe buffer and a 1-byte limit.  The access-controlled
 * devices take the memory devices' geometry, limit and capacity.
 */
TEST_LONG(load_at_the_bounds, 600)
{
	char text[64];
	int fd;

	ASSERT_EQ(0, scull_reload("scull_major=511 scull_minor=1048060 scull_nr_devs=256 "
				  "scull_p_nr_devs=256 scull_quantum=16384 scull_qset=65536"));
	read_text("/sys/class/scull/scull0/dev", text, sizeof(text));
	ASSERT_STR_EQ("511:1048060\n", text);
	read_text("/sys/class/scull/scullpipe255/dev", text, sizeof(text));
	ASSERT_STR_EQ("511:1048571\n", text);
	read_text("/sys/class/scull/scullpriv/dev", text, sizeof(text));
	ASSERT_STR_EQ("511:1048575\n", text);
	node_is("scull255", 16384, 65536, SCULL_LIMIT, 0);
	node_is("scullsingle", 16384, 65536, SCULL_LIMIT, 0);
	node_is("sculluid", 16384, 65536, SCULL_LIMIT, 0);
	node_is("scullwuid", 16384, 65536, SCULL_LIMIT, 0);

	ASSERT_EQ(0, scull_reload("scull_p_nr_devs=1 scull_p_buffer=1048576 scull_quantum=4194304 "
				  "scull_qset=256 scull_size_limit=1"));
	fd = ASSERT_OK(open("/dev/scullpipe0", O_RDWR));
	ASSERT_EQ(1048576, ioctl(fd, SCULL_P_IOCQSIZE));
	close(fd);
	node_is("scull0", 4194304, 256, 1, 0);
	node_is("scullsingle", 4194304, 256, 1, 0);
	fd = ASSERT_OK(open("/dev/sculluid", O_RDWR));
	ASSERT_EQ(1, write(fd, "ab", 2));
	ASSERT_ERRNO(write(fd, "b", 1), ENOSPC);
	close(fd);

	ASSERT_EQ(0, scull_reload("scull_quantum=1000 scull_qset=10 scull_capacity=64K"));
	node_is("scull3", 1000, 10, SCULL_LIMIT, 65536);
	node_is("scullsingle", 1000, 10, SCULL_LIMIT, 65536);
	node_is("sculluid", 1000, 10, SCULL_LIMIT, 65536);
	node_is("scullwuid", 1000, 10, SCULL_LIMIT, 65536);
	fd = ASSERT_OK(open("/dev/scullwuid", O_RDWR));
	ASSERT_EQ(1, pread(fd, text, sizeof(text), 65535));
	ASSERT_EQ(0, text[0]);
	ASSERT_ERRNO(pwrite(fd, "c", 1, 65536), ENOSPC);
	close(fd);
}

/*
 * A pipe's buffer is allocated at load, not at its first open: 32 pipes
 * of 1 MiB take their 32 MiB before any of them is opened.
 */
TEST(pipe_buffers_allocated_at_load)
{
	long long before, after;

	before = mem_free_kb();
	ASSERT_EQ(0, scull_reload("scull_p_nr_devs=32 scull_p_buffer=1048576"));
	after = mem_free_kb();
	if (before - after < 28 * 1024)
		FAIL("free memory went from %lld to %lld KiB at load: expected 32 MiB less",
		     before, after);
}

/*
 * make demo stops at the first command that fails, naming it: here its
 * first, ./scull_load, while scull is loaded (which changes nothing).
 * The demo's script is the test guest's (tools/vm.sh puts it in
 * SCULL_DIR/guest); elsewhere there is none to run.
 */
TEST(demo_stops_at_a_failed_command)
{
	char out[4096];

	if (access(scull_file("guest/demo.sh"), F_OK))
		SKIP("no %s: make demo's script runs in the project's test guest only (make check)",
		     scull_file("guest/demo.sh"));
	ASSERT_EQ(1, run_sh(out, sizeof(out),
			    "cd %s && sh guest/demo.sh >/tmp/demo-failed.out 2>&1; "
			    "rc=$?; tail -n 1 /tmp/demo-failed.out; exit $rc", scull_dir()));
	ASSERT_STR_EQ("demo: FAILED at command 1 (./scull_load): exit status 1\n", out);
	ASSERT_TRUE(module_loaded());
}

TEST_LONG(load_refuses_when_loaded, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];

	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_load", scull_dir()));
	ASSERT_STR_EQ("scull_load: scull is already loaded (unload it first with scull_unload)\n", out);
	ASSERT_TRUE(module_loaded());
}

TEST_LONG(unload_refuses_when_not_loaded, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];

	unload();
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	ASSERT_STR_EQ("scull_unload: scull is not loaded\n", out);
}

static void scripts_as_user(void *arg)
{
	char out[1024], want[PATH_MAX + 64];

	(void)arg;
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	snprintf(want, sizeof(want), "scull_unload: must be run as root (sudo %s/scull_unload)\n",
		 scull_dir());
	ASSERT_STR_EQ(want, out);
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_load", scull_dir()));
	snprintf(want, sizeof(want), "scull_load: must be run as root (sudo %s/scull_load)\n",
		 scull_dir());
	ASSERT_STR_EQ(want, out);
}

TEST(scripts_need_root)
{
	ASSERT_EQ(0, as_user(USER_IN_UID, scripts_as_user, NULL));
	ASSERT_TRUE(module_loaded());
}

TEST(load_bad_parameter_fails_cleanly)
{
	char out[1024];

	unload();
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_load scull_qset=0", scull_dir()));
	ASSERT_TRUE(strstr(out, "scull_load: loading scull failed; see the kernel log (dmesg | tail)\n"));
	nothing_registered();
	ASSERT_ERRNO(access("/dev/scull", F_OK), ENOENT);
}

/* Copied away from scull.ko, the script uses the installed module. */
TEST_LONG(load_installed_module_with_modprobe, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];

	unload();
	ASSERT_EQ(0, run_sh(out, sizeof(out),
			     "mkdir -p /tmp/inst && cp %s/scull_load %s/scull_unload /tmp/inst/ && "
			     "/tmp/inst/scull_load scull_nr_devs=3", scull_dir(), scull_dir()));
	ASSERT_STR_EQ("", out);
	ASSERT_OK(access("/dev/scull2", F_OK));
	ASSERT_ERRNO(access("/dev/scull3", F_OK), ENOENT);
	ASSERT_EQ(0, run_sh(out, sizeof(out), "modinfo -n scull"));
	ASSERT_TRUE(strstr(out, "/updates/scull.ko\n"));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "/tmp/inst/scull_unload"));
	nothing_registered();
}

TEST_LONG(load_fails_when_module_not_built, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];

	unload();
	ASSERT_EQ(0, run_sh(out, sizeof(out),
			     "mkdir -p /tmp/inst /tmp/hidden && cp %s/scull_load /tmp/inst/ && "
			     "mv /lib/modules/$(uname -r)/updates/scull.ko /tmp/hidden/ && depmod -a",
			     scull_dir()));
	ASSERT_EQ(1, run_sh(out, sizeof(out), "/tmp/inst/scull_load"));
	ASSERT_EQ(0, run_sh(NULL, 0, "mv /tmp/hidden/scull.ko /lib/modules/$(uname -r)/updates/ && depmod -a"));
	ASSERT_STR_EQ("scull_load: scull.ko is not built: run make in the source tree (or make install)\n", out);
	nothing_registered();
}

/* Without udevd the script sets group and mode on devtmpfs's nodes, and
 * replaces a stale node (here one with /dev/null's numbers) with mknod.
 */
TEST_LONG(load_without_udev, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];
	int fd;

	unload();
	ASSERT_EQ(0, run_sh(NULL, 0, "udevadm control --exit"));
	ASSERT_NE(0, run_sh(NULL, 0, "udevadm control --ping"));
	ASSERT_EQ(0, run_sh(NULL, 0, "mknod -m 666 /dev/scull2 c 1 3"));
	ASSERT_EQ(0, run_sh(NULL, 0, "mknod -m 666 /dev/scullwuid c 1 3"));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_load", scull_dir()));
	ASSERT_STR_EQ("", out);
	nodes_check(0);
	fd = ASSERT_OK(open("/dev/scullpipe3", O_RDWR));
	write_exact(fd, "p", 1);
	close(fd);
	fd = dev_open(2, O_RDWR);
	write_exact(fd, "mknod", 5);
	close(fd);
	ASSERT_EQ(5, dev_size(2));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	nothing_registered();
	/* the mknod'ed nodes are the script's to remove, and it did */
	ASSERT_ERRNO(access("/dev/scull2", F_OK), ENOENT);
	ASSERT_ERRNO(access("/dev/scullwuid", F_OK), ENOENT);
	ASSERT_ERRNO(access("/dev/scull", F_OK), ENOENT);
	ASSERT_ERRNO(access("/dev/scullpipe", F_OK), ENOENT);
}

/*
 * A load with the group scull missing: the script creates it.  With
 * forget, udevd first reads its rules again without the group (as a udevd
 * started before the group existed); otherwise it keeps the id it resolved
 * at its start, which the new group does not have (990 in the guest;
 * groupadd picks another).  With trigger, a change event goes to every
 * node of the class after the load (udevadm trigger, as any coldplug does).
 * Everything is put back (the group and udevd's rules) before any check.
 */
struct group_load {
	int ret;
	char out[8192];
	gid_t created;
	struct stat st[3];
};

/* udevd (252 on) reads its rules again only when a rules file changed */
#define UDEV_RELOAD	"touch /usr/lib/udev/rules.d/60-scull.rules && udevadm control --reload"

static const char *const group_nodes[3] = { "/dev/scull0", "/dev/scullpipe0", "/dev/scullpriv" };

static void load_without_group(int forget, int trigger, struct group_load *g)
{
	char group[256] = "";
	int i;

	unload();
	ASSERT_EQ(0, run_sh(NULL, 0, "cp /etc/group /tmp/group.saved && sed -i '/^scull:/d' /etc/group"));
	if (forget)
		ASSERT_EQ(0, run_sh(NULL, 0, UDEV_RELOAD));
	g->ret = run_sh(g->out, sizeof(g->out), "%s/scull_load", scull_dir());
	run_sh(group, sizeof(group), "grep '^scull:' /etc/group");
	if (trigger)
		run_sh(NULL, 0, "udevadm trigger --action=change --subsystem-match=scull && udevadm settle");
	for (i = 0; i < 3; i++)
		if (stat(group_nodes[i], &g->st[i]))
			memset(&g->st[i], 0, sizeof(g->st[i]));
	/* put the original group back, and udevd's view of it, before anything can fail */
	ASSERT_EQ(0, run_sh(NULL, 0, "cp /tmp/group.saved /etc/group && " UDEV_RELOAD));
	unload();
	scull_diag("scull_load: %d: %s", g->ret, g->out);
	ASSERT_EQ(0, strncmp(group, "scull:x:", 8));
	g->created = strtoul(group + 8, NULL, 10);
	scull_diag("group scull created with id %u; /dev/scull0 has group %u", g->created,
		   g->st[0].st_gid);
	ASSERT_EQ(0, g->ret);
	ASSERT_TRUE(strstr(g->out, "scull_load: created the group scull\n"));
}

static void group_nodes_check(const struct group_load *g)
{
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(S_IFCHR | SCULL_MODE, g->st[i].st_mode);
		ASSERT_EQ(g->created, g->st[i].st_gid);
	}
}

/*
 * The script has udevd read its rules again once it has made the group:
 * udev itself gives the nodes the new group, and the script needs no
 * fix-up ("setting them here").
 */
TEST_LONG(load_creates_missing_group, SCULL_TEST_DEFAULT_TIMEOUT)
{
	struct group_load g;

	load_without_group(0, 0, &g);
	group_nodes_check(&g);
	ASSERT_TRUE(!strstr(g.out, "setting them here"));
}

/*
 * A later change event for the nodes (udevadm trigger) keeps the group the
 * script made, whether udevd had resolved an old id or no group at all.
 */
TEST_LONG(udev_trigger_keeps_the_group_made_at_load, SCULL_TEST_DEFAULT_TIMEOUT)
{
	struct group_load g;

	load_without_group(0, 1, &g);
	group_nodes_check(&g);
	load_without_group(1, 1, &g);
	group_nodes_check(&g);
}

/* A misspelt parameter would be ignored by the kernel: the script stops. */
TEST_LONG(load_refuses_unknown_parameter, SCULL_TEST_DEFAULT_TIMEOUT)
{
	char out[1024];

	unload();
	ASSERT_EQ(1, run_sh(out, sizeof(out), "%s/scull_load scull_quantm=100", scull_dir()));
	ASSERT_STR_EQ("scull_load: unknown parameter 'scull_quantm' (known: scull_major "
		      "scull_minor scull_nr_devs scull_quantum scull_qset scull_size_limit "
		      "scull_capacity scull_priv_limit scull_p_nr_devs scull_p_buffer)\n", out);
	nothing_registered();
}

/*
 * 64 MiB stored from a process in a fresh memory cgroup cost exactly what
 * the geometry says, and unloading the module gives every byte back.
 */
TEST(unload_gives_memory_back)
{
	struct memcg_use use[3], cost;

	scull_cost(64 << 20, &cost);
	memcg_store(1, 64 << 20, unload, use);
	memcg_check(use, &cost);
	nothing_registered();
}

static const char *const cycle_params[] = {
	"",
	"scull_nr_devs=1 scull_quantum=1000 scull_qset=7",
	"scull_nr_devs=8 scull_quantum=65536 scull_qset=16 scull_size_limit=64M",
	"scull_nr_devs=2 scull_quantum=1 scull_qset=1 scull_size_limit=1M",
	"scull_nr_devs=3 scull_capacity=1M",
	"scull_nr_devs=5 scull_quantum=4194304 scull_qset=4 scull_capacity=64M scull_size_limit=64M",
};

#define NR_CYCLE_PARAMS	(int)(sizeof(cycle_params) / sizeof(cycle_params[0]))

/* Cycle i: load with its parameters, store a pattern, read it back. */
static void load_cycle(int i)
{
	unsigned char buf[20000], back[sizeof(buf)];
	off_t off = (i * 7919) % 100000;
	int fd, minor;

	ASSERT_EQ(0, scull_reload(cycle_params[i % NR_CYCLE_PARAMS]));
	minor = i % (int)read_ll("/sys/module/scull/parameters/scull_nr_devs");
	fd = dev_open(minor, O_RDWR);
	pattern_fill(buf, sizeof(buf), off, i);
	pwrite_exact(fd, buf, sizeof(buf), off);
	pread_exact(fd, back, sizeof(back), off);
	ASSERT_MEM_EQ(buf, back, sizeof(buf));
	close(fd);
}

/*
 * Memory after the kernel's caches are emptied: every slab cache shrunk
 * (its empty slabs and per-CPU partial slabs given back), dentries and
 * inodes dropped.  Two figures, in kB, read here rather than by a child
 * process whose own pages would count meanwhile:
 *  - kernel: what the kernel's allocators hold (/proc/meminfo's
 *    SUnreclaim, which counts large kmalloc()s too, and VmallocUsed, which
 *    counts a module's own text and data).  A kmalloc(), kvmalloc() or
 *    vmalloc() that is never freed stays in it; processes hardly move it
 *    once they have exited.
 *  - free: MemFree and the pages on the per-CPU lists (which MemFree
 *    leaves out): everything, a page that is never freed too, but moved by
 *    any process (udevd's workers come and go: about 50 kB either way).
 * Each the median of three reads 20 ms apart: objects freed after an RCU
 * grace period come back between them.
 */
struct mem_kb {
	long long kernel, free;
};

static long long meminfo_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (!p)
		FAIL("no %s in /proc/meminfo", key);
	return atoll(p + strlen(key));
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static struct mem_kb mem_settled(void)
{
	long long kernel[3], free_kb[3];
	struct mem_kb m;
	int i;

	ASSERT_EQ(0, run_sh(NULL, 0, "for f in /sys/kernel/slab/*/shrink; do "
			    "echo 1 >$f; done 2>/dev/null; "
			    "echo 3 >/proc/sys/vm/drop_caches"));
	for (i = 0; i < 3; i++) {
		char text[65536], *p;
		long long pcp = 0;

		usleep(20000);
		read_text("/proc/zoneinfo", text, sizeof(text));
		for (p = strstr(text, "count:"); p; p = strstr(p + 6, "count:"))
			pcp += atoll(p + 6);
		read_text("/proc/meminfo", text, sizeof(text));
		kernel[i] = meminfo_kb(text, "\nSUnreclaim:") + meminfo_kb(text, "\nVmallocUsed:");
		free_kb[i] = meminfo_kb(text, "MemFree:") + pcp * (sysconf(_SC_PAGESIZE) / 1024);
	}
	qsort(kernel, 3, sizeof(kernel[0]), cmp_ll);
	qsort(free_kb, 3, sizeof(free_kb[0]), cmp_ll);
	m.kernel = kernel[1];
	m.free = free_kb[1];
	return m;
}

/*
 * What a cycle takes from @v (one figure per cycle, from the cycle before
 * the first on), in kB: the median over every window of @period cycles of
 * the drop across it (the rise with @up), over @period.  A leak in one parameter set's load
 * counts once in every window; a step -- a kernel cache growing once, a
 * page table for a new module address -- falls in fewer than half of them
 * and moves the median little.
 */
static double cycle_slope(const long long *v, int cycles, int period, int up,
			  const char *what)
{
	long long *window = xmalloc(cycles * sizeof(*window));
	char line[4096] = "";
	double slope;
	int i, n = 0;

	for (i = 0; i <= cycles; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %lld",
			 v[i] - v[0]);
	for (i = 0; i + period <= cycles; i++)
		window[n++] = up ? v[i + period] - v[i] : v[i] - v[i + period];
	qsort(window, n, sizeof(*window), cmp_ll);
	slope = (double)window[n / 2] / period;
	scull_diag("%s kB after each cycle, against before:%s; %s %.1f kB a cycle",
		   what, line, up ? "up" : "down", slope);
	free(window);
	return slope;
}

/*
 * The sanitizer kernel (make check-debug): DEBUG_KOBJECT_RELEASE's delayed
 * releases, KASAN's quarantine of freed objects and kmemleak's metadata
 * move the kernel's own allocations by megabytes as they drain (seen: 8 MB
 * down over unload_with_data_everywhere's minute, after the loads of
 * load_unload_cycles), so the kB figures of mem_settled() are reported
 * there, not asserted; kmemleak checks for leaks instead
 * (debug.kmemleak_after_suite, _after_unload), and the memory cgroup's
 * figures, which only scull's charges move, stay exact.
 */
static int sanitizer_kernel(void)
{
	return !access("/sys/kernel/debug/kmemleak", F_OK);
}

/*
 * Load, write, read, unload, again and again, with the parameters varying:
 * device counts, geometries, limits and capacities.  Each cycle stores a
 * pattern across quanta and sets on one of its minors and reads it back.
 * 100 cycles on the sanitizer kernel (make check-debug FULL=1: about 35
 * minutes there), where kmemleak and debug-objects watch every release;
 * there under SCULL_TEST_QUICK (make check-debug, which CI runs) each
 * parameter set once, unmeasured (kmemleak and debug-objects watch them;
 * 13 measured loads took 326 s there, where every other kernel measures
 * the slope); 18 elsewhere.  One unmeasured cycle per parameter set
 * comes first: the kernel's caches (slabs, sysfs and devtmpfs nodes for
 * each of the module's devices) grow at the first loads and then stay.
 * Nothing stays registered, and memory does not go down from cycle to
 * cycle: the kernel's allocations grow by at most 8 kB a cycle, where a
 * load's 4 pipe buffers of 4000 bytes never freed take 16 kB (20 seen);
 * the free memory, noisier, goes down by at most 32 kB (the quanta of a
 * memory device's store that an unload forgot are checked to the byte by
 * unload_gives_memory_back).  udevd is stopped meanwhile (scull_load makes
 * the nodes): its workers, each some 30 kB of slab objects, come and go
 * with each load's events, and would be measured with it.
 */
#define CYCLE_KERNEL_MAX_KB	8
#define CYCLE_FREE_MAX_KB	32

TEST_TIMEOUT(load_unload_cycles, 3000)
{
	int sanitizer = sanitizer_kernel();
	int cycles = sanitizer ? 100 : 3 * NR_CYCLE_PARAMS;
	long long *kernel, *free_kb;
	double kernel_slope, free_slope;
	struct mem_kb m;
	int i;

	if (sanitizer && scull_test_quick()) {
		for (i = 0; i < NR_CYCLE_PARAMS; i++) {
			load_cycle(i);
			unload();
		}
		nothing_registered();
		scull_diag("%d loads, one per parameter set, left to kmemleak (the slope: other kernels, FULL=1)",
			   NR_CYCLE_PARAMS);
		return;
	}
	kernel = xmalloc((cycles + 1) * sizeof(*kernel));
	free_kb = xmalloc((cycles + 1) * sizeof(*free_kb));
	ASSERT_EQ(0, run_sh(NULL, 0, "udevadm control --exit"));
	for (i = 0; i < NR_CYCLE_PARAMS; i++)
		load_cycle(i);
	unload();
	for (i = 0;; i++) {
		m = mem_settled();
		kernel[i] = m.kernel;
		free_kb[i] = m.free;
		if (i == cycles)
			break;
		load_cycle(i);
		unload();
	}
	nothing_registered();
	udevd_running();
	kernel_slope = cycle_slope(kernel, cycles, NR_CYCLE_PARAMS, 1,
				   "kernel allocations (SUnreclaim + VmallocUsed)");
	free_slope = cycle_slope(free_kb, cycles, NR_CYCLE_PARAMS, 0, "free memory");
	if (kernel_slope > CYCLE_KERNEL_MAX_KB)
		FAIL("the kernel's allocations grew %.1f kB a cycle over %d cycles (at most %d allowed)",
		     kernel_slope, cycles, CYCLE_KERNEL_MAX_KB);
	if (free_slope > CYCLE_FREE_MAX_KB)
		FAIL("free memory went down %.1f kB a cycle over %d cycles (at most %d allowed)",
		     free_slope, cycles, CYCLE_FREE_MAX_KB);
	free(kernel);
	free(free_kb);
}

/*
 * Unloading with data everywhere: 256 KiB in every memory device and in
 * scullsingle, sculluid and scullwuid (which keep their bytes after the
 * last close), written from a process in a memory cgroup of its own; and
 * every pipe resized to 1 MiB and holding 512 KiB.  The quanta are
 * charged to that cgroup: after the unload it holds what it held before.
 * The pipes' buffers are charged to no cgroup (src/pipe.c): they are
 * large kmalloc()s or vmalloc() memory, counted in the kernel's
 * allocations (mem_settled()), 4 MiB more while loaded and back within
 * 256 kB after the unload.  scullpriv's store lives only while its
 * terminal's session has it open (and an open file keeps the module
 * in): it is written, closed, and gone before the unload.
 */
#define DATA_LEN	(256 << 10)

static void write_data(int fd)
{
	static char buf[DATA_LEN];

	memset(buf, 0xa5, sizeof(buf));
	write_exact(fd, buf, sizeof(buf));
}

static void store_everywhere(int fd, void *arg)
{
	static const char *const access_nodes[] = {
		"/dev/scullsingle", "/dev/sculluid", "/dev/scullwuid",
	};
	unsigned int i;

	(void)arg;
	write_data(fd);
	for (i = 1; i < SCULL_NR_DEVS; i++) {
		fd = dev_open(i, O_WRONLY);
		write_data(fd);
		close(fd);
	}
	for (i = 0; i < sizeof(access_nodes) / sizeof(access_nodes[0]); i++) {
		fd = ASSERT_OK(open(access_nodes[i], O_WRONLY));
		write_data(fd);
		close(fd);
	}
}

/* In a session of its own with @slave as its terminal: scullpriv written. */
static void priv_store(const char *slave)
{
	int t, fd;

	ASSERT_OK(setsid());
	t = ASSERT_OK(open(slave, O_RDWR));
	fd = ASSERT_OK(open("/dev/scullpriv", O_RDWR));
	write_data(fd);
	ASSERT_EQ(DATA_LEN, read_ll("/sys/class/scull/scullpriv/used"));
	close(fd);
	close(t);
}

TEST(unload_with_data_everywhere)
{
	struct mem_kb before, loaded, after;
	struct memcg_use use[3];
	char *buf = xmalloc(DATA_LEN * 2), slave[64];
	int i, fd, m;
	pid_t pid;

	/* without udevd's workers in the measure, as load_unload_cycles */
	ASSERT_EQ(0, run_sh(NULL, 0, "udevadm control --exit"));
	unload();
	before = mem_settled();
	ASSERT_EQ(0, scull_reload(""));
	memset(buf, 0x3c, DATA_LEN * 2);
	for (i = 0; i < SCULL_P_NR_DEVS; i++) {
		fd = ASSERT_OK(open(pipe_path(i), O_WRONLY | O_NONBLOCK));
		ASSERT_OK(ioctl(fd, SCULL_P_IOCTSIZE, 1 << 20));
		write_exact(fd, buf, DATA_LEN * 2);
		close(fd);
	}
	free(buf);
	m = ASSERT_OK(posix_openpt(O_RDWR | O_NOCTTY));
	ASSERT_OK(grantpt(m));
	ASSERT_OK(unlockpt(m));
	ASSERT_OK(ptsname_r(m, slave, sizeof(slave)));
	fflush(stdout);
	pid = fork();
	if (!pid) {
		priv_store(slave);
		_exit(0);
	}
	join_ok(pid);
	close(m);
	ASSERT_EQ(0, read_ll("/sys/class/scull/scullpriv/used"));
	ASSERT_EQ(0, read_ll("/sys/class/scull/scullpriv/terminals"));
	loaded = mem_settled();
	memcg_run(0, store_everywhere, NULL, unload, use);
	nothing_registered();
	after = mem_settled();
	udevd_running();
	scull_diag("kernel allocations, free memory (kB): before the load %lld, %lld; "
		   "loaded, the pipes full %lld, %lld; after the unload %lld, %lld",
		   before.kernel, before.free, loaded.kernel, loaded.free,
		   after.kernel, after.free);
	/*
	 * the measure sees the buffers: 4 MiB, within the same 256 kB the
	 * kernel's other allocations may move by (seen on i386: 4040 kB)
	 */
	if (!sanitizer_kernel())
		ASSERT_TRUE(loaded.kernel - before.kernel >= 4 * 1024 - 256);
	if (use[1].kernel - use[0].kernel < 7 * DATA_LEN)
		FAIL("the cgroup was charged %lld bytes for 7 stores of %d",
		     use[1].kernel - use[0].kernel, DATA_LEN);
	if (llabs(use[2].kernel - use[0].kernel) > memcg_slack())
		FAIL("kernel memory after the unload: expected what it was before (%lld bytes), seen %lld",
		     use[0].kernel, use[2].kernel);
	ASSERT_EQ(0, use[2].slab - use[0].slab);
	if (!sanitizer_kernel() && after.kernel - before.kernel > 256)
		FAIL("the kernel's allocations after the unload: %lld kB, %lld kB more than before the load",
		     after.kernel, after.kernel - before.kernel);
}
