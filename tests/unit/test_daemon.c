/*
 * test_daemon.c — pid files by lock (lib/daemon.c): a pid file is live only
 * while a process holds its lock, so a stale file, one naming a live but
 * unrelated process, a zombie's and a dead holder's are not; a second taker
 * is refused while the first lives and succeeds once it is killed. QEMU's
 * kind of pid file (a POSIX lock, lockf) likewise through lockfile_holder;
 * a pid file taken before daemonize() names and is held by the daemon.
 * Children do the taking (a pid file is held for a process's life) and
 * report through a pipe or their exit status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

struct tmp {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_daemon.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/x.pid", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void write_file(const char *path, long pid)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%ld\n", pid);
	fclose(f);
}

/* A child that takes path (lockf when posix, else pidfile_take), says "1"
 * (taken) or "0" on the pipe, then waits for SIGKILL if it took it and
 * linger is set, else exits at once (a zombie until reaped). Returns its
 * pid once it spoke; *taken says what it said. */
static pid_t holder(const char *path, bool posix, bool linger, bool *taken)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long h = 0;
		bool ok;
		if (posix) {
			int fd = open(path, O_RDWR | O_CREAT, 0644);
			ok = fd >= 0 && lockf(fd, F_TLOCK, 0) == 0;
		} else {
			ok = pidfile_take(path, &h) == 0;
		}
		if (write(p[1], ok ? "1" : "0", 1) != 1)
			_exit(2);
		if (linger && ok)
			for (;;)
				pause();
		_exit(0);
	}
	close(p[1]);
	char c = 0;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	*taken = c == '1';
	return pid;
}

static void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_taken_and_live(void **state)
{
	struct tmp *t = *state;
	bool taken;
	pid_t pid = holder(t->path, false, true, &taken);
	assert_true(taken);
	assert_int_equal(pidfile_live(t->path), pid);
	kill_reap(pid);
	/* The file is still there, naming the dead process: not live. */
	assert_int_equal(access(t->path, F_OK), 0);
	assert_int_equal(pidfile_live(t->path), 0);
}

static void test_ours_is_live(void **state)
{
	struct tmp *t = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long h = 1;
		int ok = pidfile_take(t->path, &h) == 0 && h == 0 &&
			 pidfile_live(t->path) == (long)getpid() && pidfile_take(t->path, &h) == 0 &&
			 pidfile_write(t->path) == 0;
		_exit(ok ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(pidfile_live(t->path), 0);
}

static void test_unlocked_live_pid_is_not_live(void **state)
{
	struct tmp *t = *state;
	write_file(t->path, (long)getppid());
	assert_int_equal(pidfile_live(t->path), 0);
	write_file(t->path, 1);
	assert_int_equal(pidfile_live(t->path), 0);
	write_file(t->path, (long)getpid());
	assert_int_equal(pidfile_live(t->path), 0);
	assert_int_equal(lockfile_holder(t->path), 0);
}

static void test_missing_or_empty(void **state)
{
	struct tmp *t = *state;
	assert_int_equal(pidfile_live(t->path), 0);
	assert_int_equal(lockfile_holder(t->path), 0);
	FILE *f = fopen(t->path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(pidfile_live(t->path), 0);
}

static void test_zombie_is_not_live(void **state)
{
	struct tmp *t = *state;
	bool taken;
	pid_t pid = holder(t->path, false, false, &taken);
	assert_true(taken);
	/* Not reaped: a zombie whose pid still answers kill(pid, 0). */
	for (int i = 0; i < 200 && pidfile_live(t->path) != 0; i++)
		usleep(5000);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(pidfile_live(t->path), 0);
	waitpid(pid, NULL, 0);
}

static void test_second_taker_refused_until_killed(void **state)
{
	struct tmp *t = *state;
	bool taken;
	pid_t first = holder(t->path, false, true, &taken);
	assert_true(taken);
	pid_t second = holder(t->path, false, false, &taken);
	waitpid(second, NULL, 0);
	assert_false(taken);
	long h = 0;
	assert_int_equal(pidfile_take(t->path, &h), -1);
	assert_int_equal(h, first);
	/* Killed and not reaped yet (a zombie): the file is free. */
	kill(first, SIGKILL);
	for (int i = 0; i < 200 && pidfile_live(t->path) != 0; i++)
		usleep(5000);
	second = holder(t->path, false, true, &taken);
	assert_true(taken);
	assert_int_equal(pidfile_live(t->path), second);
	kill_reap(second);
	waitpid(first, NULL, 0);
}

/* Taken before daemonize: the lock goes with the daemon, and so does the
 * pid in the file. */
static void test_take_then_daemonize(void **state)
{
	struct tmp *t = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long h = 0;
		if (pidfile_take(t->path, &h) < 0 || daemonize(true) < 0)
			_exit(1);
		int me = (int)getpid();
		if (write(p[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	int daemon_pid = 0;
	assert_int_equal(read(p[0], &daemon_pid, sizeof(daemon_pid)), (ssize_t)sizeof(daemon_pid));
	close(p[0]);
	waitpid(pid, NULL, 0); /* daemonize's parent exited at once */
	assert_int_not_equal(daemon_pid, pid);
	assert_int_equal(pidfile_live(t->path), daemon_pid);
	kill(daemon_pid, SIGKILL);
	for (int i = 0; i < 200 && pidfile_live(t->path) != 0; i++)
		usleep(5000);
	assert_int_equal(pidfile_live(t->path), 0);
}

static void test_posix_lock_holder(void **state)
{
	struct tmp *t = *state;
	bool taken;
	pid_t pid = holder(t->path, true, true, &taken);
	assert_true(taken);
	assert_int_equal(lockfile_holder(t->path), pid);
	kill(pid, SIGSTOP); /* a stopped process still holds it */
	assert_int_equal(lockfile_holder(t->path), pid);
	kill_reap(pid);
	assert_int_equal(lockfile_holder(t->path), 0);
	/* A zombie holds no lock. */
	pid = holder(t->path, true, false, &taken);
	assert_true(taken);
	for (int i = 0; i < 200 && lockfile_holder(t->path) != 0; i++)
		usleep(5000);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(lockfile_holder(t->path), 0);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_taken_and_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ours_is_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlocked_live_pid_is_not_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_or_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zombie_is_not_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_taker_refused_until_killed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_take_then_daemonize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posix_lock_holder, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
