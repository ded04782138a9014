// SPDX-License-Identifier: GPL-2.0
/*
 * Device nodes and who may use them: what scull_load and the udev rule
 * make (group scull, mode 0660, for the memory devices, the pipes and the
 * access-controlled devices; the /dev/scull and /dev/scullpipe links), a
 * member of the group reads and writes, anyone else gets EACCES.  Against
 * the Rust twin (make check IMPL=rust) the same, for the memory devices
 * and /dev/scull: the twin has no other device, and none of their nodes
 * or links may exist.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

TEST(nodes_exist_with_group_and_mode)
{
	struct stat st;

	nodes_check(0);
	ASSERT_ERRNO(stat("/dev/scull4", &st), ENOENT);
	ASSERT_ERRNO(stat("/dev/scullpipe4", &st), ENOENT);
	/* and nothing else of the class */
	ASSERT_EQ(0, run_sh(NULL, 0, "test \"$(ls /sys/class/scull | tr '\\n' ' ')\" = '%s'",
			    scull_is_rust() ? "scull0 scull1 scull2 scull3 " :
			    "scull0 scull1 scull2 scull3 scullpipe0 scullpipe1 scullpipe2 "
			    "scullpipe3 scullpriv scullsingle sculluid scullwuid "));
}

TEST(scull_link_points_at_scull0)
{
	char target[64];
	ssize_t n = readlink("/dev/scull", target, sizeof(target) - 1);

	ASSERT_EQ(6, n);
	target[n] = '\0';
	ASSERT_STR_EQ("scull0", target);
}

TEST(scullpipe_link_points_at_scullpipe0)
{
	char target[64];
	ssize_t n = readlink("/dev/scullpipe", target, sizeof(target) - 1);

	if (scull_is_rust()) {
		/* no pipes, no link: not even one left by the C driver */
		ASSERT_ERRNO(readlink("/dev/scullpipe", target, sizeof(target) - 1), ENOENT);
		return;
	}
	ASSERT_EQ(10, n);
	target[n] = '\0';
	ASSERT_STR_EQ("scullpipe0", target);
}

/* The rule itself, not scull_load, sets group and mode: undo them, send
 * a change event, and udev puts them back.
 */
TEST(udev_rule_sets_group_and_mode)
{
	static const char *const names[] = { "scull1", "scull3", "scullpipe1", "scullsingle",
					     "scullpriv" };
	/* the twin's: the memory devices */
	unsigned int i, n = scull_is_rust() ? 2 : 5;
	char path[64];
	struct stat st;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		ASSERT_OK(chmod(path, 0600));
		ASSERT_OK(chown(path, 0, 0));
		ASSERT_EQ(0, run_sh(NULL, 0, "udevadm trigger --action=change --settle /sys/class/scull/%s",
				    names[i]));
		ASSERT_OK(stat(path, &st));
		ASSERT_EQ(SCULL_MODE, st.st_mode & 07777);
		ASSERT_EQ(scull_gid(), st.st_gid);
	}
}

static void member_reads_and_writes(void *arg)
{
	char buf[16];
	int fd;

	(void)arg;
	fd = dev_open(0, O_RDWR);
	write_exact(fd, "member", 6);
	pread_exact(fd, buf, 6, 0);
	ASSERT_MEM_EQ("member", buf, 6);
	close(fd);
	fd = dev_open(0, O_WRONLY);	/* trims */
	write_exact(fd, "w", 1);
	close(fd);
	fd = dev_open(0, O_RDONLY);
	ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ('w', buf[0]);
	close(fd);
	if (scull_is_rust())
		return;
	/* a pipe, and an access-controlled device */
	fd = ASSERT_OK(open("/dev/scullpipe0", O_RDWR));
	write_exact(fd, "pipe", 4);
	read_exact(fd, buf, 4);
	ASSERT_MEM_EQ("pipe", buf, 4);
	close(fd);
	fd = ASSERT_OK(open("/dev/scullsingle", O_RDWR));
	close(fd);
}

TEST(group_member_can_read_and_write)
{
	ASSERT_EQ(0, as_user(USER_IN_UID, member_reads_and_writes, NULL));
	ASSERT_EQ(1, dev_size(0));
}

static void outsider_is_refused(void *arg)
{
	int i;

	static const char *const others[] = {
		"/dev/scull", "/dev/scullpipe", "/dev/scullsingle",
		"/dev/sculluid", "/dev/scullwuid", "/dev/scullpriv",
	};

	(void)arg;
	for (i = 0; i < SCULL_NR_DEVS; i++) {
		ASSERT_ERRNO(open(dev_path(i), O_RDONLY), EACCES);
		ASSERT_ERRNO(open(dev_path(i), O_WRONLY), EACCES);
		ASSERT_ERRNO(open(dev_path(i), O_RDWR), EACCES);
	}
	ASSERT_ERRNO(open("/dev/scull", O_RDWR), EACCES);
	if (scull_is_rust())
		return;
	for (i = 0; i < SCULL_P_NR_DEVS; i++) {
		ASSERT_ERRNO(open(pipe_path(i), O_RDONLY), EACCES);
		ASSERT_ERRNO(open(pipe_path(i), O_WRONLY), EACCES);
	}
	for (i = 0; i < 6; i++)
		ASSERT_ERRNO(open(others[i], O_RDWR), EACCES);
}

TEST(outsider_gets_eacces)
{
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "secret", 6);
	close(fd);
	ASSERT_EQ(0, as_user(USER_OUT_UID, outsider_is_refused, NULL));
	/* and its attempts trimmed nothing */
	ASSERT_EQ(6, dev_size(0));
}

#define RULE	"/usr/lib/udev/rules.d/60-scull.rules"
/* udevd 252 and later reread only rules files that changed */
#define RULE_BACK	"mv /tmp/60-scull.rules " RULE " && touch " RULE " && udevadm control --reload"

/*
 * udev runs but has no rule for scull (not installed): scull_load gives
 * every node group scull and mode 0660 itself, and says so for each.  The
 * scripts' logic, with a reload: TEST_LONG.
 */
TEST_LONG(load_without_the_rule_sets_group_and_mode, SCULL_TEST_DEFAULT_TIMEOUT)
{
	static const char *const nodes[] = {
		"scull0", "scull1", "scull2", "scull3", "scullpipe0", "scullpipe1",
		"scullpipe2", "scullpipe3", "scullpriv", "scullsingle", "sculluid",
		"scullwuid",
	};
	/* the twin's: the memory devices, the first four */
	unsigned int i, n = scull_is_rust() ? 4 : 12, notes = 0;
	char out[8192], note[256];
	const char *p;
	int ret;

	ASSERT_EQ(0, run_sh(NULL, 0, "%s/scull_unload", scull_dir()));
	ASSERT_EQ(0, run_sh(NULL, 0, "mv " RULE " /tmp/60-scull.rules && udevadm control --reload"));
	ret = run_sh(out, sizeof(out), "%s/scull_load", scull_dir());
	/* the rule back, and udevd's view of it, before anything can fail */
	ASSERT_EQ(0, run_sh(NULL, 0, RULE_BACK));
	scull_diag("scull_load: %d: %s", ret, out);
	ASSERT_EQ(0, ret);
	for (i = 0; i < n; i++) {
		snprintf(note, sizeof(note), "scull_load: udev did not set group scull, mode 660 "
			 "on /dev/%s (is 60-scull.rules installed, and did the group exist when "
			 "udevd started?); setting them here\n", nodes[i]);
		if (strstr(out, note))
			continue;
		/* what udevd and devtmpfs show, for the report */
		run_sh(out, sizeof(out), "udevadm control --ping; echo ping $?; ls -ln /dev/%s; "
		       "ls -l --full-time /usr/lib/udev/rules.d /etc/udev/rules.d /run/udev/rules.d; "
		       "udevadm info /dev/%s", nodes[i], nodes[i]);
		scull_diag("%s", out);
		FAIL("no note for /dev/%s", nodes[i]);
	}
	for (p = out; (p = strstr(p, "setting them here")); p++)
		notes++;
	ASSERT_EQ(n, notes);
	nodes_check(0);
}
