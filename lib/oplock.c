/* oplock.c — see oplock.h. */
#include "oplock.h"
#include "dom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void oplock_path(unsigned int domid, unsigned long devid, char *out, size_t len)
{
	char name[64];
	snprintf(name, sizeof(name), "vbd-%lu.lock", devid);
	dom_file(domid, name, out, len);
}

int oplock_take(const char *path)
{
	/* The file is removed on release: a taker that opened it just before
	 * would lock a file no longer at path. So lock, then check that path
	 * is still the file locked; if not, start again. */
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

void oplock_release(int fd, const char *path)
{
	if (fd < 0)
		return;
	unlink(path); /* while still held: nobody can take a removed file */
	close(fd);
}

bool oplock_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}
