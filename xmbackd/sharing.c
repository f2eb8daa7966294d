/*
 * sharing.c — Xen's block hotplug check_sharing, done right (docs/vbd.md):
 * what a device is, the host's mounts, which modes may share, and Xen's
 * refusal texts. Who holds a device is the claim registry's (claims.c).
 *
 * A backend's identity is its block device number (st_rdev) and, for a loop
 * device, also the dev:ino of the file behind it; an image file is its
 * dev:ino. So /dev/loop0 and the file it is backed by are one device, which
 * QEMU's own image locking does not see (it locks per inode). The identity
 * is kept as text ("b7:0 f803:1a2b"), one token per way of naming the
 * device: two devices are one when they share a token.
 *
 * Against the host's mounts: read-write refuses all but w!, read-only
 * refuses w. Against other holders: r conflicts with writers, w with
 * anyone; w! skips the check. One guest may hold one device twice only
 * read-only.
 */
#include "sharing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOOP_MAJOR_NR 7

/* A backend's identity: its block device number, and for a file (or a
 * loop device's backing file) the file's device and inode. */
struct ident {
	bool has_rdev, has_file;
	dev_t rdev;             /* block device number */
	dev_t fdev;             /* the file's (or a loop device's backing file's) */
	ino_t fino;
};

/* Identity of a path. 0 or -1 (errno). */
static int ident_of(const char *path, struct ident *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) < 0)
		return -1;
	if (S_ISBLK(st.st_mode)) {
		id->has_rdev = true;
		id->rdev = st.st_rdev;
		if (major(st.st_rdev) == LOOP_MAJOR_NR) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			struct loop_info64 li;
			if (fd >= 0 && ioctl(fd, LOOP_GET_STATUS64, &li) == 0) {
				id->has_file = true;
				id->fdev = (dev_t)li.lo_device;
				id->fino = (ino_t)li.lo_inode;
			}
			if (fd >= 0)
				close(fd);
		}
	} else if (S_ISREG(st.st_mode)) {
		id->has_file = true;
		id->fdev = st.st_dev;
		id->fino = st.st_ino;
	}
	return 0;
}

static bool ident_same(const struct ident *a, const struct ident *b)
{
	return (a->has_rdev && b->has_rdev && a->rdev == b->rdev) ||
	       (a->has_file && b->has_file && a->fdev == b->fdev && a->fino == b->fino);
}

/* The identity of the block device maj:min (through its /dev node). */
static int ident_of_devnum(unsigned int maj, unsigned int mnr, struct ident *id)
{
	char path[160], line[256], name[128] = "";
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", maj, mnr);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "DEVNAME=%127s", name) == 1)
			break;
	fclose(f);
	if (!name[0])
		return -1;
	snprintf(path, sizeof(path), "/dev/%s", name);
	if (ident_of(path, id) == 0 && id->has_rdev && id->rdev == makedev(maj, mnr))
		return 0;
	/* No /dev node (a container): the number alone. */
	memset(id, 0, sizeof(*id));
	id->has_rdev = true;
	id->rdev = makedev(maj, mnr);
	return 0;
}

/* Is the device mounted on the host? 0 no, 1 read-only, 2 read-write;
 * where: the mount point of the worst. A mount is of me when its device
 * number is me's, or when it is a loop device backed by me's file: only
 * those lines cost more than their parsing (a host's mount table repeats
 * its disks in every bind mount, and most of its lines are no block
 * device at all). */
static int host_mount(const struct ident *me, char *where, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int worst = 0;

	if (!f)
		return 0;
	/* (stdio would read /proc in blocks of 1 KiB: one system call each) */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	while (fgets(line, sizeof(line), f)) {
		unsigned int maj, mnr;
		char mpoint[2048], opts[1024];
		if (sscanf(line, "%*u %*u %u:%u %*s %2047s %1023s", &maj, &mnr, mpoint, opts) != 4)
			continue;
		if (maj == 0)
			continue; /* not a block device */
		bool hit = me->has_rdev && me->rdev == makedev(maj, mnr);
		if (!hit && me->has_file && maj == LOOP_MAJOR_NR) {
			struct ident id;
			hit = ident_of_devnum(maj, mnr, &id) == 0 && ident_same(me, &id);
		}
		if (!hit)
			continue;
		int rw = (strncmp(opts, "rw", 2) == 0 && (opts[2] == ',' || !opts[2])) ? 2 : 1;
		if (rw > worst) {
			worst = rw;
			snprintf(where, len, "%s", mpoint);
		}
	}
	fclose(f);
	return worst;
}

static bool is_writer(const char *mode)
{
	return mode && mode[0] == 'w';
}

int sharing_ident(const char *target, char *out, size_t len)
{
	struct ident id;
	int n = 0;
	out[0] = '\0';
	if (!target || !*target)
		return 0;
	if (ident_of(target, &id) < 0)
		return -1;
	if (id.has_rdev)
		n = snprintf(out, len, "b%x:%x", major(id.rdev), minor(id.rdev));
	if (id.has_file && n >= 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, "%sf%llx:%llx", n ? " " : "",
			 (unsigned long long)id.fdev, (unsigned long long)id.fino);
	return 0;
}

/* Does the space-separated list s hold token t (of length n)? */
static bool has_token(const char *s, const char *t, size_t n)
{
	while (*s) {
		size_t m = strcspn(s, " ");
		if (m == n && strncmp(s, t, n) == 0)
			return true;
		s += m;
		while (*s == ' ')
			s++;
	}
	return false;
}

bool sharing_same(const char *a, const char *b)
{
	while (a && b && *a) {
		size_t m = strcspn(a, " ");
		if (m && has_token(b, a, m))
			return true;
		a += m;
		while (*a == ' ')
			a++;
	}
	return false;
}

int sharing_host_check(const char *target, const char *mode, char *err, size_t errlen)
{
	struct ident me;
	char where[2048];

	if (strcmp(mode, "w!") == 0 || !target || !*target)
		return 0;
	if (ident_of(target, &me) < 0) {
		snprintf(err, errlen, "%s: %s", target, strerror(errno));
		return -1;
	}
	int m = host_mount(&me, where, sizeof(where));
	if (m == 2) {
		snprintf(err, errlen, "Device %s is mounted read-write on the host (%s), "
			 "and so cannot be mounted now.", target, where);
		return -1;
	}
	if (m == 1 && is_writer(mode)) {
		snprintf(err, errlen, "Device %s is mounted on the host (%s), "
			 "and so cannot be mounted read-write now.", target, where);
		return -1;
	}
	return 0;
}

bool sharing_compatible(const char *mode, const char *omode)
{
	if (strcmp(mode, "w!") == 0)
		return true;
	return !is_writer(mode) && !is_writer(omode);
}

void sharing_refusal(const char *target, const char *omode, const char *name, const char *dev,
		     char *err, size_t errlen)
{
	if (is_writer(omode))
		snprintf(err, errlen, "Device %s is mounted read-write in a guest domain (%s, %s), "
			 "and so cannot be mounted now.", target, name, dev);
	else
		snprintf(err, errlen, "Device %s is mounted in a guest domain (%s, %s), "
			 "and so cannot be mounted read-write now.", target, name, dev);
}
