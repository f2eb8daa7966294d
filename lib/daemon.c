/*
 * daemon.c — detaching, the pid file, a pid file's liveness; see daemon.h.
 *
 * The pid files we take stay open (a few descriptors kept here) and locked
 * with flock for the process's life. A reader asks "locked?" by trying a
 * shared lock without waiting: it fails (EWOULDBLOCK) exactly while a live
 * process holds the file. Its shared lock lasts a few instructions; a
 * daemon that starts in that instant retries for a short while instead of
 * taking the prober for a second daemon.
 */
#include "daemon.h"

#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define HELD_MAX 8
static int held[HELD_MAX] = { -1, -1, -1, -1, -1, -1, -1, -1 };

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Our pid into the open pid file fd. 0 or -1. */
static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int daemonize(bool keep_stderr)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i] >= 0)
			write_pid(held[i]);
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		if (!keep_stderr)
			dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	return 0;
}

/* The number in the file at path; 0 if none. */
static long read_pid(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long pid = strtol(buf, NULL, 10);
	return pid > 0 ? pid : 0;
}

/* The pid a holder wrote, waiting briefly for one being written; -1 if
 * none came. */
static long holder_pid(const char *path)
{
	for (int i = 0; i < 40; i++) {
		long pid = read_pid(path);
		if (pid > 0)
			return pid;
		nap_ms(5);
	}
	return -1;
}

long pidfile_live(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int r = flock(fd, LOCK_SH | LOCK_NB), e = errno;
	close(fd); /* drops the shared lock if we got one */
	if (r == 0 || e != EWOULDBLOCK)
		return 0;
	return holder_pid(path);
}

/* Is the open fd the file path names now (not one unlinked meanwhile)? */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Our held descriptor for path, or -1. */
static int held_for(const char *path)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i] >= 0 && same_file(held[i], path))
			return held[i];
	return -1;
}

/* Lock fd without waiting, riding out a prober's instant shared lock. */
static int lock_ex(int fd)
{
	for (int i = 0; i < 20; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
		nap_ms(5);
	}
	errno = EWOULDBLOCK;
	return -1;
}

/* Keep fd for the process's life. 0, or -1 (EMFILE: too many held). */
static int keep(int fd)
{
	for (int i = 0; i < HELD_MAX; i++) {
		if (held[i] < 0) {
			held[i] = fd;
			return 0;
		}
	}
	errno = EMFILE;
	return -1;
}

int pidfile_take(const char *path, long *holder)
{
	*holder = 0;
	int mine = held_for(path);
	if (mine >= 0)
		return write_pid(mine);
	/* The holder may unlink the file as it stops: a lock on the unlinked
	 * file would be no lock at all, so check and start again. */
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		if (lock_ex(fd) < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				*holder = holder_pid(path);
			errno = e;
			return -1;
		}
		if (!same_file(fd, path)) {
			close(fd);
			continue;
		}
		if (write_pid(fd) < 0 || keep(fd) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		return 0;
	}
	errno = EAGAIN;
	return -1;
}

int pidfile_write(const char *path)
{
	long holder;
	return pidfile_take(path, &holder);
}

long lockfile_holder(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	int r = fcntl(fd, F_GETLK, &l);
	close(fd);
	if (r < 0 || l.l_type == F_UNLCK)
		return 0;
	return l.l_pid > 0 ? (long)l.l_pid : -1;
}

long raise_nofile(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return 0;
	rlim_t want = r.rlim_max == RLIM_INFINITY || r.rlim_max > (1 << 20) ? (1 << 20) : r.rlim_max;
	if (r.rlim_cur < want) {
		r.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			getrlimit(RLIMIT_NOFILE, &r);
	}
	return (long)r.rlim_cur;
}
