// SPDX-License-Identifier: GPL-2.0
/*
 * The access-controlled devices: scullsingle (one open file at a time),
 * sculluid (one user at a time, compared as kernel uids: a user
 * namespace's root is not root), scullwuid (other users wait), scullpriv
 * (a device per controlling terminal, freed at its last close; none
 * without a terminal).  All of them are memory devices in every other way,
 * with the load-time geometry, size limit and capacity.  An open that
 * passed the rule and then fails gives its place back.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

/*
 * A second member of the scull group, besides USER_IN_UID: the nodes are
 * group scull, mode 0660, so only members open them at all.  No passwd
 * entry is needed: setgroups() gives it the group.
 */
#define USER_OTHER_UID	1002

#define SINGLE	"/dev/scullsingle"
#define UID	"/dev/sculluid"
#define WUID	"/dev/scullwuid"
#define PRIV	"/dev/scullpriv"

/* Become uid (real @uid, effective @euid) with the scull group. */
static void become_member(uid_t uid, uid_t euid)
{
	gid_t group = scull_gid();

	if (setgroups(1, &group) || setresgid(uid, uid, uid) ||
	    setresuid(uid, euid, uid))
		FAIL("becoming uid %u/%u: %s", uid, euid, strerror(errno));
}

/* open() as a member with real uid @uid and effective uid @euid, in a
 * child: returns 0 or the errno.
 */
static int open_as(uid_t uid, uid_t euid, const char *path, int flags)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		become_member(uid, euid);
		if (open(path, flags) < 0)
			_exit(errno);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A child that holds path open as uid until holder_stop(). */
struct holder {
	pid_t pid;
	int ctl;
};

static struct holder holder_start(const char *path, uid_t uid, int flags)
{
	struct holder h;
	int ready[2], ctl[2];
	char c;

	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(ctl));
	fflush(stdout);
	h.pid = fork();
	if (!h.pid) {
		int fd;

		close(ready[0]);
		close(ctl[1]);
		if (uid)
			become_member(uid, uid);
		fd = open(path, flags);
		if (fd < 0)
			FAIL("holder: open %s as %u: %s", path, uid, strerror(errno));
		ASSERT_EQ(1, write(ready[1], "r", 1));
		/* until told, or until the test is gone */
		(void)!read(ctl[0], &c, 1);
		close(fd);
		_exit(0);
	}
	close(ready[1]);
	close(ctl[0]);
	if (read(ready[0], &c, 1) != 1)
		FAIL("the holder of %s never opened it", path);
	close(ready[0]);
	h.ctl = ctl[1];
	return h;
}

/* A byte, not the pipe's end: children forked since hold its write end. */
static void holder_stop(struct holder *h)
{
	ASSERT_EQ(1, write(h->ctl, "s", 1));
	close(h->ctl);
	join_ok(h->pid);
}

static void drop_cap(int cap)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	ASSERT_OK(syscall(SYS_capget, &head, data));
	data[cap / 32].effective &= ~(1u << (cap % 32));
	data[cap / 32].permitted &= ~(1u << (cap % 32));
	ASSERT_OK(syscall(SYS_capset, &head, data));
}

static volatile sig_atomic_t signals_caught;

static void on_signal(int sig)
{
	(void)sig;
	signals_caught++;
}

/* scullsingle: one open file at a time, even root's; the bytes stay. */
TEST(single_one_open_at_a_time)
{
	int fd = ASSERT_OK(open(SINGLE, O_RDWR));
	char buf[16];

	ASSERT_ERRNO(open(SINGLE, O_RDONLY), EBUSY);
	ASSERT_EQ(EBUSY, open_as(USER_IN_UID, USER_IN_UID, SINGLE, O_RDONLY));
	write_exact(fd, "single", 6);
	close(fd);
	ASSERT_EQ(0, open_as(USER_IN_UID, USER_IN_UID, SINGLE, O_RDONLY));
	fd = ASSERT_OK(open(SINGLE, O_RDONLY));
	read_exact(fd, buf, 6);
	ASSERT_MEM_EQ("single", buf, 6);
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(6, read_ll("/sys/class/scull/scullsingle/size"));
	/* a refused open trims nothing; a failed one (O_DIRECT) frees it */
	ASSERT_ERRNO(open(SINGLE, O_WRONLY | O_DIRECT), EINVAL);
	fd = ASSERT_OK(open(SINGLE, O_RDWR));
	ASSERT_ERRNO(open(SINGLE, O_WRONLY), EBUSY);
	close(fd);
	ASSERT_EQ(6, read_ll("/sys/class/scull/scullsingle/size"));
}

/*
 * sculluid: the user of the open files (real or effective uid) may open
 * it again, another user gets EBUSY, CAP_DAC_OVERRIDE passes; once all
 * are closed the next user takes it.
 */
TEST(uid_one_user_at_a_time)
{
	struct holder h = holder_start(UID, USER_IN_UID, O_RDWR);
	pid_t pid;

	ASSERT_EQ(0, open_as(USER_IN_UID, USER_IN_UID, UID, O_RDWR));
	ASSERT_EQ(EBUSY, open_as(USER_OTHER_UID, USER_OTHER_UID, UID, O_RDWR));
	/* the effective uid counts, and the real one */
	ASSERT_EQ(0, open_as(USER_OTHER_UID, USER_IN_UID, UID, O_RDWR));
	ASSERT_EQ(0, open_as(USER_IN_UID, USER_OTHER_UID, UID, O_RDWR));
	/* root passes with CAP_DAC_OVERRIDE, not without it */
	ASSERT_EQ(0, open_as(0, 0, UID, O_RDWR));
	pid = fork();
	if (!pid) {
		drop_cap(CAP_DAC_OVERRIDE);
		ASSERT_ERRNO(open(UID, O_RDWR), EBUSY);
		_exit(0);
	}
	join_ok(pid);
	holder_stop(&h);
	/* free: the other user takes it, and the first is refused */
	h = holder_start(UID, USER_OTHER_UID, O_RDONLY);
	ASSERT_EQ(EBUSY, open_as(USER_IN_UID, USER_IN_UID, UID, O_RDWR));
	ASSERT_EQ(0, open_as(USER_OTHER_UID, USER_OTHER_UID, UID, O_RDWR));
	holder_stop(&h);
}

/*
 * Users are kernel uids: uid 0 inside a user namespace (uid 1002
 * outside) is not the root that holds sculluid, so it gets EBUSY -- a
 * comparison of the uids' numbers as the namespace sees them would let
 * it in.  It has no CAP_DAC_OVERRIDE outside its namespace either.
 */
TEST(uid_compares_kernel_uids)
{
	int fd;
	pid_t pid;

	/* the sanitizer kernel of make check-debug is built without them */
	if (access("/proc/self/ns/user", F_OK))
		SKIP("the kernel has no user namespaces (CONFIG_USER_NS)");
	fd = ASSERT_OK(open(UID, O_RDWR));
	/* Debian's switch for unprivileged user namespaces, where it exists */
	run_sh(NULL, 0, "[ ! -e /proc/sys/kernel/unprivileged_userns_clone ] || "
			"echo 1 > /proc/sys/kernel/unprivileged_userns_clone");
	pid = fork();
	if (!pid) {
		char map[32];
		int m;

		become_member(USER_OTHER_UID, USER_OTHER_UID);
		/* setuid() made it undumpable: /proc/self would be root's */
		ASSERT_OK(prctl(PR_SET_DUMPABLE, 1));
		ASSERT_OK(unshare(CLONE_NEWUSER));
		m = ASSERT_OK(open("/proc/self/uid_map", O_WRONLY));
		snprintf(map, sizeof(map), "0 %d 1\n", USER_OTHER_UID);
		write_exact(m, map, strlen(map));
		close(m);
		ASSERT_EQ(0, getuid());
		ASSERT_EQ(0, geteuid());
		ASSERT_ERRNO(open(UID, O_RDWR), EBUSY);
		/* the node itself is open to it: scull0 is not held */
		ASSERT_OK(open("/dev/scull0", O_RDWR));
		_exit(0);
	}
	join_ok(pid);
	close(fd);
}

/*
 * scullwuid: another user waits in open until the last file of the
 * holder's is closed (EAGAIN with O_NONBLOCK); the holder's user and
 * CAP_DAC_OVERRIDE do not wait.
 */
TEST(wuid_waits_until_free)
{
	struct holder h = holder_start(WUID, USER_IN_UID, O_RDWR);
	int fd;
	pid_t pid;

	ASSERT_EQ(EAGAIN, open_as(USER_OTHER_UID, USER_OTHER_UID, WUID,
				  O_RDWR | O_NONBLOCK));
	ASSERT_EQ(0, open_as(USER_IN_UID, USER_IN_UID, WUID, O_RDWR));
	ASSERT_EQ(0, open_as(0, 0, WUID, O_RDWR));
	fflush(stdout);
	pid = fork();
	if (!pid) {
		become_member(USER_OTHER_UID, USER_OTHER_UID);
		fd = ASSERT_OK(open(WUID, O_WRONLY));
		write_exact(fd, "woke", 4);
		close(fd);
		_exit(0);
	}
	wait_blocked(pid, SYS_openat);
	holder_stop(&h);
	join_ok(pid);
	fd = ASSERT_OK(open(WUID, O_RDONLY));
	ASSERT_EQ(4, lseek(fd, 0, SEEK_END));
	close(fd);
}

/* The wait in open is interruptible: EINTR without SA_RESTART. */
TEST(wuid_wait_is_interruptible)
{
	struct holder h = holder_start(WUID, USER_IN_UID, O_RDONLY);
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_signal };

		become_member(USER_OTHER_UID, USER_OTHER_UID);
		ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
		ASSERT_ERRNO(open(WUID, O_RDONLY), EINTR);
		ASSERT_EQ(1, signals_caught);
		_exit(0);
	}
	wait_blocked(pid, SYS_openat);
	ASSERT_OK(kill(pid, SIGUSR1));
	join_ok(pid);
	/* the holder still holds it */
	ASSERT_EQ(EAGAIN, open_as(USER_OTHER_UID, USER_OTHER_UID, WUID,
				  O_RDONLY | O_NONBLOCK));
	holder_stop(&h);
	ASSERT_EQ(0, open_as(USER_OTHER_UID, USER_OTHER_UID, WUID,
			     O_RDONLY | O_NONBLOCK));
}

/*
 * With SA_RESTART the handler runs and the open goes on waiting, then
 * succeeds once the device is free.
 */
TEST(wuid_wait_restarts_with_sa_restart)
{
	struct holder h = holder_start(WUID, USER_IN_UID, O_RDONLY);
	pid_t pid;
	int i;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_signal,
					.sa_flags = SA_RESTART };
		int fd;

		become_member(USER_OTHER_UID, USER_OTHER_UID);
		ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
		fd = ASSERT_OK(open(WUID, O_RDONLY));
		ASSERT_EQ(1, signals_caught);
		close(fd);
		_exit(0);
	}
	wait_blocked(pid, SYS_openat);
	ASSERT_OK(kill(pid, SIGUSR1));
	for (i = 0; i < 200 && !no_signal_pending(pid); i++)
		usleep(10000);
	ASSERT_TRUE(no_signal_pending(pid));
	/* the handler ran, and the open sleeps again */
	wait_blocked(pid, SYS_openat);
	holder_stop(&h);
	join_ok(pid);
}

static long long priv_terminals(void)
{
	return read_ll("/sys/class/scull/scullpriv/terminals");
}

/* A new pseudo-terminal; returns the master, its slave's path in slave. */
static int pty_new(char *slave, size_t size)
{
	int m = ASSERT_OK(posix_openpt(O_RDWR | O_NOCTTY));

	ASSERT_OK(grantpt(m));
	ASSERT_OK(unlockpt(m));
	ASSERT_OK(ptsname_r(m, slave, size));
	return m;
}

/*
 * In a new session whose controlling terminal is @slave: write @text to
 * /dev/scullpriv, say so on @ready, wait for @go, then check that the
 * device holds @text -- and that another process of the session sees it
 * too.  Exits 0 when all held.
 */
static void priv_session(const char *slave, const char *text, int ready,
			 int go)
{
	size_t len = strlen(text);
	char buf[32], c;
	pid_t pid;
	int t, fd;

	ASSERT_OK(setsid());
	t = ASSERT_OK(open(slave, O_RDWR));	/* becomes the ctty */
	fd = ASSERT_OK(open("/dev/tty", O_RDWR));
	close(fd);
	fd = ASSERT_OK(open(PRIV, O_RDWR));
	write_exact(fd, text, len);
	ASSERT_EQ(1, write(ready, "r", 1));
	ASSERT_EQ(1, read(go, &c, 1));
	pread_exact(fd, buf, len, 0);
	ASSERT_MEM_EQ(text, buf, len);
	ASSERT_EQ((off_t)len, lseek(fd, 0, SEEK_END));
	pid = fork();
	if (!pid) {
		int fd2 = ASSERT_OK(open(PRIV, O_RDONLY));

		ASSERT_EQ((ssize_t)len, read(fd2, buf, sizeof(buf)));
		ASSERT_MEM_EQ(text, buf, len);
		_exit(0);
	}
	join_ok(pid);
	close(fd);
	close(t);
	_exit(0);
}

/*
 * Two terminals, two private devices, each seen by every process of its
 * session; a terminal's device is freed at its last close, so the next
 * open from that terminal finds it empty.
 */
TEST(priv_device_per_terminal)
{
	static const char *const texts[] = { "first terminal", "second" };
	char slave[2][64];
	int m[2], ready[2], go[2], i;
	pid_t pid[2];
	char c;

	ASSERT_EQ(0, priv_terminals());
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	for (i = 0; i < 2; i++) {
		m[i] = pty_new(slave[i], sizeof(slave[i]));
		fflush(stdout);
		pid[i] = fork();
		if (!pid[i]) {
			close(ready[0]);
			close(go[1]);
			priv_session(slave[i], texts[i], ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	/* both have written before either reads back */
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(2, priv_terminals());
	ASSERT_EQ(2, write(go[1], "gg", 2));
	for (i = 0; i < 2; i++)
		join_ok(pid[i]);
	ASSERT_EQ(0, priv_terminals());

	/* the first terminal again: a fresh, empty device */
	pid[0] = fork();
	if (!pid[0]) {
		char buf[8];
		int fd;

		ASSERT_OK(setsid());
		ASSERT_OK(open(slave[0], O_RDWR));
		fd = ASSERT_OK(open(PRIV, O_RDONLY));
		ASSERT_EQ(1, priv_terminals());
		ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
		_exit(0);
	}
	join_ok(pid[0]);
	ASSERT_EQ(0, priv_terminals());
	close(m[0]);
	close(m[1]);
}

/* Without a controlling terminal: ENXIO, as /dev/tty gives. */
TEST(priv_needs_a_terminal)
{
	pid_t pid = fork();

	if (!pid) {
		ASSERT_OK(setsid());
		ASSERT_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
		ASSERT_ERRNO(open(PRIV, O_RDWR), ENXIO);
		ASSERT_ERRNO(open(PRIV, O_RDONLY), ENXIO);
		_exit(0);
	}
	join_ok(pid);
	ASSERT_EQ(0, priv_terminals());
}

static const char priv_secret[] = "first-session-secret";

/*
 * In a child: close every file but @keep1 and @keep2, so it holds no
 * terminal's master nor another child's pipe (an end of file must come
 * when the test closes its end).
 */
static void close_all_but(int keep1, int keep2)
{
	int fd;

	for (fd = 3; fd < 1024; fd++)
		if (fd != keep1 && fd != keep2)
			close(fd);
}

/*
 * In a new session whose controlling terminal is @slave: /dev/scullpriv
 * must be a fresh device, empty, while the first session's (the
 * secret's) still lives: two devices.  @rdev is the first terminal's
 * device number, which @slave's must equal (the number today's key was).
 */
static void priv_fresh_session(const char *slave, dev_t rdev)
{
	struct stat st;
	char buf[32];
	pid_t pid;
	int t, fd;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		ASSERT_OK(setsid());
		t = ASSERT_OK(open(slave, O_RDWR));	/* becomes the ctty */
		ASSERT_OK(fstat(t, &st));
		ASSERT_EQ((long long)rdev, (long long)st.st_rdev);
		fd = ASSERT_OK(open(PRIV, O_RDWR));
		ASSERT_EQ(0, lseek(fd, 0, SEEK_END));
		ASSERT_EQ(0, pread(fd, buf, sizeof(buf), 0));
		ASSERT_EQ(2, priv_terminals());
		_exit(0);
	}
	join_ok(pid);
}

/*
 * The first session: writes the secret from the terminal @slave, hangs
 * the terminal up when @hangup (vhangup(), as getty does before the next
 * login), closes it, says so on @ready, then keeps the device (and ignores
 * the SIGHUP of its terminal's hangup) until @go, and finds the secret
 * still there.
 */
static pid_t priv_keeper_start(const char *slave, int hangup, int ready[2],
			       int go[2])
{
	char buf[sizeof(priv_secret)], c;
	pid_t pid;
	int t, fd;

	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	fflush(stdout);
	pid = fork();
	if (!pid) {
		close_all_but(ready[1], go[0]);
		signal(SIGHUP, SIG_IGN);
		ASSERT_OK(setsid());
		t = ASSERT_OK(open(slave, O_RDWR));
		fd = ASSERT_OK(open(PRIV, O_RDWR));
		write_exact(fd, priv_secret, sizeof(priv_secret));
		if (hangup)
			ASSERT_OK(vhangup());
		close(t);
		ASSERT_EQ(1, write(ready[1], "r", 1));
		ASSERT_EQ(1, read(go[0], &c, 1));
		pread_exact(fd, buf, sizeof(buf), 0);
		ASSERT_MEM_EQ(priv_secret, buf, sizeof(buf));
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1)
		FAIL("the first session never wrote its secret");
	close(ready[0]);
	return pid;
}

static void priv_keeper_stop(pid_t pid, int go[2])
{
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	join_ok(pid);
	ASSERT_EQ(0, priv_terminals());
}

/*
 * A pseudo-terminal closed while a file of its device stays open, and a
 * new one that gets the same number (the same device number, /dev/pts/N):
 * a new terminal, with a fresh device that does not show the secret.
 */
TEST(priv_reused_pty_number_is_a_new_terminal)
{
	char slave[64], slave2[64];
	int m, ready[2], go[2];
	struct stat st;
	pid_t keeper;

	m = pty_new(slave, sizeof(slave));
	ASSERT_OK(stat(slave, &st));
	keeper = priv_keeper_start(slave, 0, ready, go);
	ASSERT_EQ(1, priv_terminals());
	/* the last file of the pty: its number is free again */
	close(m);
	m = pty_new(slave2, sizeof(slave2));
	ASSERT_STR_EQ(slave, slave2);
	priv_fresh_session(slave2, st.st_rdev);
	priv_keeper_stop(keeper, go);
	close(m);
}

/*
 * A pts of another devpts instance (a container's) has the same number as
 * one of the first instance: in a mount namespace of its own, a new devpts
 * instance over /dev/pts, whose pty of the same index is a new terminal.
 */
TEST(priv_other_devpts_instance_is_a_new_terminal)
{
	int m, ready[2], go[2], idx;
	char slave[64];
	struct stat st;
	pid_t keeper, pid;

	m = pty_new(slave, sizeof(slave));
	ASSERT_OK(stat(slave, &st));
	ASSERT_EQ(1, sscanf(slave, "/dev/pts/%d", &idx));
	keeper = priv_keeper_start(slave, 0, ready, go);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		int n = -1, unlock = 0, pm;

		ASSERT_OK(unshare(CLONE_NEWNS));
		ASSERT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		ASSERT_OK(mount("devpts", "/dev/pts", "devpts", 0,
				"newinstance,ptmxmode=0666,mode=0620"));
		/* masters until one has the same index; they stay open */
		while (n < idx) {
			pm = ASSERT_OK(open("/dev/pts/ptmx", O_RDWR | O_NOCTTY));
			ASSERT_OK(ioctl(pm, TIOCGPTN, &n));
			ASSERT_OK(ioctl(pm, TIOCSPTLCK, &unlock));
		}
		ASSERT_EQ(idx, n);
		priv_fresh_session(slave, st.st_rdev);
		_exit(0);
	}
	join_ok(pid);
	priv_keeper_stop(keeper, go);
	close(m);
}

/*
 * A terminal hung up (vhangup(), as getty does before the next login) and
 * opened by a new session while a file still holds it open: the same
 * tty_struct, but the next user's device is a fresh one.
 */
TEST(priv_new_session_after_hangup_is_new)
{
	int m, t, ready[2], go[2];
	char slave[64];
	struct stat st;
	pid_t keeper;

	m = pty_new(slave, sizeof(slave));
	ASSERT_OK(stat(slave, &st));
	/* holds the terminal open across the hangup, as getty does */
	t = ASSERT_OK(open(slave, O_RDWR | O_NOCTTY));
	keeper = priv_keeper_start(slave, 1, ready, go);
	priv_fresh_session(slave, st.st_rdev);
	priv_keeper_stop(keeper, go);
	close(t);
	close(m);
}

/*
 * A session of its own on a new pseudo-terminal, in a child that holds
 * /dev/scullpriv open and writes to it when asked (term_call()).
 */
struct term {
	int master;
	pid_t pid;
	int cmd;	/* to the child: a byte count, > 0 appends, < 0 rewrites */
	int reply;	/* from it: what write() returned, or -errno */
};

static long long term_call(struct term *t, long long len)
{
	long long ret;

	ASSERT_EQ((ssize_t)sizeof(len), write(t->cmd, &len, sizeof(len)));
	if (read(t->reply, &ret, sizeof(ret)) != sizeof(ret))
		FAIL("the session on pty %d died", t->master);
	return ret;
}

static void term_start(struct term *t)
{
	int cmd[2], reply[2];
	char slave[64];
	long long ret;

	t->master = pty_new(slave, sizeof(slave));
	ASSERT_OK(pipe(cmd));
	ASSERT_OK(pipe(reply));
	fflush(stdout);
	t->pid = fork();
	if (!t->pid) {
		static char buf[1 << 20];
		long long len;
		int fd;

		close_all_but(cmd[0], reply[1]);
		ASSERT_OK(setsid());
		ASSERT_OK(open(slave, O_RDWR));	/* becomes the ctty */
		fd = ASSERT_OK(open(PRIV, O_RDWR));
		memset(buf, 0x5a, sizeof(buf));
		ret = 0;
		ASSERT_EQ(8, write(reply[1], &ret, sizeof(ret)));
		while (read(cmd[0], &len, sizeof(len)) == sizeof(len)) {
			if (len > 0)
				ret = write(fd, buf, len);
			else
				ret = pwrite(fd, buf, -len, 0);
			if (ret < 0)
				ret = -errno;
			ASSERT_EQ(8, write(reply[1], &ret, sizeof(ret)));
		}
		_exit(0);
	}
	close(cmd[0]);
	close(reply[1]);
	t->cmd = cmd[1];
	t->reply = reply[0];
	/* it has the device open */
	if (read(t->reply, &ret, sizeof(ret)) != sizeof(ret))
		FAIL("the session on %s never opened %s", slave, PRIV);
	ASSERT_EQ(0, ret);
}

/* Its device closed with the session: the terminal's store is freed. */
static void term_stop(struct term *t)
{
	close(t->cmd);
	join_ok(t->pid);
	close(t->reply);
	close(t->master);
}

static long long priv_used(void)
{
	return read_ll("/sys/class/scull/scullpriv/used");
}

/*
 * scull_priv_limit bounds the quanta of every terminal's device together:
 * a write that needs a quantum past it stores what fits, the next gets
 * ENOSPC, whichever terminal writes; rewriting stored bytes needs no room;
 * a terminal's last close gives its quanta back.  The memory devices are
 * not bound by it.
 */
TEST(priv_limit_bounds_all_terminals)
{
	static char scull0_bytes[65536];
	struct term t[3];
	int fd, i;

	/* ten quanta of 4 KiB */
	ASSERT_EQ(0, scull_reload("scull_priv_limit=40K"));
	ASSERT_EQ(40960, read_ll("/sys/module/scull/parameters/scull_priv_limit"));
	for (i = 0; i < 3; i++)
		term_start(&t[i]);
	ASSERT_EQ(3, priv_terminals());
	ASSERT_EQ(0, priv_used());
	ASSERT_EQ(16384, term_call(&t[0], 16384));
	ASSERT_EQ(16384, term_call(&t[1], 16384));
	ASSERT_EQ(32768, priv_used());
	/* two quanta left: a short write, then ENOSPC */
	ASSERT_EQ(8192, term_call(&t[2], 16384));
	ASSERT_EQ(40960, priv_used());
	ASSERT_EQ(-ENOSPC, term_call(&t[2], 1));
	ASSERT_EQ(-ENOSPC, term_call(&t[0], 4096));
	ASSERT_EQ(-ENOSPC, term_call(&t[1], 1));
	/* what is stored can be rewritten */
	ASSERT_EQ(16384, term_call(&t[0], -16384));
	ASSERT_EQ(40960, priv_used());

	/* a memory device is bound by its own limit only */
	fd = dev_open(0, O_WRONLY);
	write_exact(fd, scull0_bytes, sizeof(scull0_bytes));
	close(fd);

	/* the first terminal goes: its four quanta are free again */
	term_stop(&t[0]);
	ASSERT_EQ(2, priv_terminals());
	ASSERT_EQ(24576, priv_used());
	ASSERT_EQ(16384, term_call(&t[2], 16384));
	ASSERT_EQ(40960, priv_used());
	ASSERT_EQ(-ENOSPC, term_call(&t[2], 1));
	term_stop(&t[1]);
	term_stop(&t[2]);
	ASSERT_EQ(0, priv_terminals());
	ASSERT_EQ(0, priv_used());
}

/*
 * The memory device's behaviour, on an empty, file-like device opened at
 * @path, with the geometry and limit expected: the ioctls, poll's mask,
 * write, read (a hole as zeros), every lseek, the geometry -EBUSY while
 * data is stored, the pipes' ioctl refused, the size limit; then a
 * write-only open trims it (the caller keeps another file open where the
 * last close would free the device anyway: scullpriv).
 */
static int mem_quantum, mem_qset;
static long long mem_limit;

static void behaves_as_memory_device(const char *path)
{
	struct pollfd p = { .events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLPRI };
	int fd = ASSERT_OK(open(path, O_RDWR));
	char buf[8];

	scull_diag("%s", path);
	ASSERT_EQ(mem_quantum, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(mem_qset, ioctl(fd, SCULL_IOCQQSET));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_END));
	p.fd = fd;
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, p.revents);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 100));
	pwrite_exact(fd, "abc", 3, 1000);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 200), EBUSY);
	ASSERT_EQ(1003, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(1000, lseek(fd, 0, SEEK_DATA));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_HOLE));
	ASSERT_EQ(1003, lseek(fd, 1000, SEEK_HOLE));
	ASSERT_ERRNO(lseek(fd, 1003, SEEK_DATA), ENXIO);
	pread_exact(fd, buf, 4, 999);
	ASSERT_MEM_EQ("\0abc", buf, 4);
	ASSERT_EQ(1000, lseek(fd, 1000, SEEK_SET));
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	ASSERT_MEM_EQ("abc", buf, 3);
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCQSIZE), ENOTTY);
	/* the size limit: what fits, then -ENOSPC */
	ASSERT_EQ(2, pwrite(fd, "wxyz", 4, mem_limit - 2));
	ASSERT_ERRNO(pwrite(fd, "w", 1, mem_limit), ENOSPC);
	ASSERT_EQ(mem_limit, lseek(fd, 0, SEEK_END));
	pread_exact(fd, buf, 2, mem_limit - 2);
	ASSERT_MEM_EQ("wx", buf, 2);
	close(fd);
	/* write-only trims, as for scull0; the geometry stays */
	fd = ASSERT_OK(open(path, O_WRONLY));
	close(fd);
	fd = ASSERT_OK(open(path, O_RDONLY));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(100, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

/* A fixed-capacity device of @mem_limit bytes (the capacity), as scull0. */
static void behaves_as_fixed_capacity_device(const char *path)
{
	int fd = ASSERT_OK(open(path, O_RDWR));
	char buf[4] = "zzz";

	scull_diag("%s", path);
	ASSERT_EQ(mem_quantum, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(mem_qset, ioctl(fd, SCULL_IOCQQSET));
	ASSERT_EQ(mem_limit, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(1, pread(fd, buf, sizeof(buf), mem_limit - 1));
	ASSERT_MEM_EQ("\0zz", buf, 3);
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), mem_limit));
	ASSERT_EQ(2, pwrite(fd, "wxyz", 4, mem_limit - 2));
	ASSERT_ERRNO(pwrite(fd, "w", 1, mem_limit), ENOSPC);
	close(fd);
	/* a trim keeps the size and forgets the data */
	fd = ASSERT_OK(open(path, O_WRONLY));
	close(fd);
	fd = ASSERT_OK(open(path, O_RDONLY));
	ASSERT_EQ(mem_limit, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(2, pread(fd, buf, sizeof(buf), mem_limit - 2));
	ASSERT_MEM_EQ("\0\0", buf, 2);
	close(fd);
}

/*
 * check() on scullsingle, sculluid, scullwuid, then on scullpriv from a
 * session of its own on a new pty (which keeps a file of its device open,
 * so that its device outlives check()'s closes).
 */
static void each_access_device(void (*check)(const char *path))
{
	static const char *const paths[] = { SINGLE, UID, WUID };
	char slave[64];
	unsigned int i;
	pid_t pid;
	int m;

	for (i = 0; i < 3; i++)
		check(paths[i]);
	m = pty_new(slave, sizeof(slave));
	fflush(stdout);
	pid = fork();
	if (!pid) {
		ASSERT_OK(setsid());
		ASSERT_OK(open(slave, O_RDWR));	/* becomes the ctty */
		ASSERT_OK(open(PRIV, O_RDONLY));
		check(PRIV);
		_exit(0);
	}
	join_ok(pid);
	close(m);
	ASSERT_EQ(0, priv_terminals());
}

/*
 * The access devices read, write, seek, poll and answer the ioctls as
 * scull0, with the default geometry and limit.
 */
TEST(access_devices_are_memory_devices)
{
	mem_quantum = SCULL_QUANTUM;
	mem_qset = SCULL_QSET;
	mem_limit = SCULL_LIMIT;
	each_access_device(behaves_as_memory_device);
}

/*
 * ... and take the memory devices' load parameters: quantum, qset and
 * size limit (sysfs shows them), then a capacity.  Two reloads: 15-20 s
 * each on the sanitizer kernel, so TEST_LONG.
 */
TEST_LONG(access_devices_take_the_load_parameters, SCULL_TEST_DEFAULT_TIMEOUT)
{
	static const char *const names[] = { "scullsingle", "sculluid", "scullwuid" };
	char path[96];
	unsigned int i;

	ASSERT_EQ(0, scull_reload("scull_quantum=1000 scull_qset=10 scull_size_limit=100000"));
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/sys/class/scull/%s/quantum", names[i]);
		ASSERT_EQ(1000, read_ll(path));
		snprintf(path, sizeof(path), "/sys/class/scull/%s/qset", names[i]);
		ASSERT_EQ(10, read_ll(path));
		snprintf(path, sizeof(path), "/sys/class/scull/%s/size_limit", names[i]);
		ASSERT_EQ(100000, read_ll(path));
	}
	mem_quantum = 1000;
	mem_qset = 10;
	mem_limit = 100000;
	each_access_device(behaves_as_memory_device);

	ASSERT_EQ(0, scull_reload("scull_quantum=1000 scull_qset=10 scull_capacity=50000"));
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/sys/class/scull/%s/capacity", names[i]);
		ASSERT_EQ(50000, read_ll(path));
	}
	mem_limit = 50000;
	each_access_device(behaves_as_fixed_capacity_device);
}

/* Whether process @pid sleeps killably (state D) in openat. */
static int killable_in_open(pid_t pid)
{
	char path[64], text[512], *state;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	read_text(path, text, sizeof(text));
	if (!strncmp(text, "running", 7) || atol(text) != SYS_openat)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	read_text(path, text, sizeof(text));
	state = strrchr(text, ')');
	return state && state[1] == ' ' && state[2] == 'D';
}

struct owner_write {
	int fd;
	struct stall s;
	ssize_t ret;
};

static void *owner_write(void *p)
{
	struct owner_write *w = p;

	w->ret = pwrite(w->fd, w->s.buf, 3 * STALL_PAGE, 0);
	return NULL;
}

/*
 * An open that passed the rule and then dies waiting to trim (SIGKILL,
 * while a write of another file holds the device's lock) gives its place
 * back: once that file is closed the device is free for another user, and
 * nothing was trimmed.  On sculluid, where the owner's second open can
 * wait to trim (scullsingle refuses a second open before).
 */
TEST(uid_open_killed_waiting_to_trim_gives_the_device_back)
{
	static struct owner_write w;
	gid_t group = scull_gid();
	int status = 0, i;
	pthread_t t;
	pid_t pid;

	/* the owner's file, opened as USER_IN_UID; root again (saved uid) */
	ASSERT_OK(setgroups(1, &group));
	ASSERT_OK(setresuid(USER_IN_UID, USER_IN_UID, 0));
	w.fd = open(UID, O_RDWR);
	ASSERT_OK(setresuid(0, 0, 0));
	ASSERT_OK(w.fd);
	/* root writes through it, stalled with the lock held */
	stall_init(&w.s);
	ASSERT_EQ(0, pthread_create(&t, NULL, owner_write, &w));
	stall_wait(&w.s);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		become_member(USER_IN_UID, USER_IN_UID);
		open(UID, O_WRONLY);
		_exit(3);
	}
	/* a killable sleep: state D, which wait_blocked() does not take */
	for (i = 0; i < 1000 && !killable_in_open(pid); i++)
		usleep(10000);
	if (i == 1000)
		FAIL("the owner's O_WRONLY open never waited to trim");
	usleep(50000);
	ASSERT_TRUE(killable_in_open(pid));
	ASSERT_OK(kill(pid, SIGKILL));
	for (i = 0; i < 200 && !waitpid(pid, &status, WNOHANG); i++)
		usleep(10000);
	if (i == 200)
		FAIL("an open waiting to trim outlived SIGKILL by 2 s");
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	stall_release(&w.s);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(3 * STALL_PAGE, w.ret);
	close(w.fd);
	/* nothing trimmed, and no file left: another user opens it */
	ASSERT_EQ(3 * STALL_PAGE, read_ll("/sys/class/scull/sculluid/size"));
	ASSERT_EQ(0, open_as(USER_OTHER_UID, USER_OTHER_UID, UID, O_RDONLY));
}
