/* oplock.c — see oplock.h. */
#include "oplock.h"
#include "dom.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void oplock_path(unsigned int domid, unsigned long devid, char *out, size_t len)
{
	char name[64];
	snprintf(name, sizeof(name), "vbd-%lu.lock", devid);
	dom_file(domid, name, out, len);
}

void oplock_vif_path(unsigned int domid, unsigned long devid, char *out, size_t len)
{
	char name[64];
	snprintf(name, sizeof(name), "vif-%lu.lock", devid);
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
	if (fd < 0) /* no file: nobody; else (out of descriptors...) not known:
		     * held, since a free lock's holder is taken for dead */
		return errno != ENOENT;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

void createlock_path(char *out, size_t len)
{
	snprintf(out, len, "%s/create/create-%ld-%ld.lock", xm_rundir(), (long)getpid(), now_ms());
}

/* "create-<digits>-<digits>.lock" */
static bool createlock_name_ok(const char *n)
{
	if (strncmp(n, "create-", 7) != 0)
		return false;
	n += 7;
	for (int part = 0; part < 2; part++) {
		if (!isdigit((unsigned char)*n))
			return false;
		while (isdigit((unsigned char)*n))
			n++;
		if (*n++ != (part == 0 ? '-' : '.'))
			return false;
	}
	return strcmp(n, "lock") == 0;
}

bool createlock_path_ok(const char *path)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/create/", xm_rundir());
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && createlock_name_ok(path + n);
}

void createlock_sweep(void)
{
	char dir[1024], path[1400];
	snprintf(dir, sizeof(dir), "%s/create", xm_rundir());
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!createlock_name_ok(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!oplock_held(path))
			unlink(path);
	}
	closedir(d);
}
