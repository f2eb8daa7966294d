/*
 * sharing.c — may this backend be handed to this guest? Xen's block
 * hotplug check_sharing, done right (docs/vbd.md):
 *
 * A backend's identity is its block device number (st_rdev) and, for a loop
 * device, also the dev:ino of the file behind it; an image file is its
 * dev:ino. So /dev/loop0 and the file it is backed by are one device, which
 * QEMU's own image locking does not see (it locks per inode).
 *
 * Against the host's mounts: read-write refuses all but w!, read-only
 * refuses w. Against every other backend xmbackd accepted (hotplug-status
 * connected; it takes one backend at a time): r conflicts with writers, w
 * with anyone; w! skips the check. One guest may hold one device twice only
 * read-only.
 */
#include "sharing.h"
#include "dom.h"
#include "vbd.h"

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
 * where = the mount point. */
static int host_mount(const struct ident *me, char *where, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int worst = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned int maj, mnr;
		char mpoint[2048], opts[1024];
		if (sscanf(line, "%*u %*u %u:%u %*s %2047s %1023s", &maj, &mnr, mpoint, opts) != 4)
			continue;
		if (maj == 0)
			continue; /* not a block device */
		struct ident id;
		if (ident_of_devnum(maj, mnr, &id) < 0 || !ident_same(me, &id))
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

int sharing_check(struct xs_handle *h, unsigned int domid, unsigned long devid,
		  const char *target, const char *mode, char *err, size_t errlen)
{
	struct ident me;
	char where[2048];

	if (strcmp(mode, "w!") == 0)
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

	unsigned int nd = 0;
	char **doms = xs_directory(h, XBT_NULL, VBD_BACKEND_ROOT, &nd);
	int rc = 0;
	for (unsigned int i = 0; i < nd && rc == 0; i++) {
		unsigned int nv = 0;
		char path[256];
		snprintf(path, sizeof(path), VBD_BACKEND_ROOT "/%s", doms[i]);
		char **devs = xs_directory(h, XBT_NULL, path, &nv);
		for (unsigned int j = 0; j < nv && rc == 0; j++) {
			unsigned int od = (unsigned int)atoi(doms[i]);
			unsigned long ov = strtoul(devs[j], NULL, 10);
			if (od == domid && ov == devid)
				continue;
			/* holders are the backends xmbackd accepted (Xen: those
			 * whose hotplug script wrote physical-device); not one
			 * still waiting for this check, nor a refused one */
			char *hs = dom_readf(h, XBT_NULL, "%s/%s/hotplug-status", path, devs[j]);
			bool held = hs && strcmp(hs, "connected") == 0;
			free(hs);
			if (!held)
				continue;
			char *params = dom_readf(h, XBT_NULL, "%s/%s/params", path, devs[j]);
			char *omode = dom_readf(h, XBT_NULL, "%s/%s/mode", path, devs[j]);
			struct ident other;
			bool same = params && *params && ident_of(params, &other) == 0 &&
				    ident_same(&me, &other);
			bool conflict = same && (is_writer(mode) || is_writer(omode));
			if (conflict) {
				char *name = dom_readf(h, XBT_NULL, "/local/domain/%u/name", od);
				char *dev = dom_readf(h, XBT_NULL, "%s/%s/dev", path, devs[j]);
				if (is_writer(omode))
					snprintf(err, errlen, "Device %s is mounted read-write in a guest "
						 "domain (%s, %s), and so cannot be mounted now.", target,
						 name ? name : doms[i], dev ? dev : devs[j]);
				else
					snprintf(err, errlen, "Device %s is mounted in a guest domain "
						 "(%s, %s), and so cannot be mounted read-write now.",
						 target, name ? name : doms[i], dev ? dev : devs[j]);
				free(name);
				free(dev);
				rc = -1;
			}
			free(params);
			free(omode);
		}
		free(devs);
	}
	free(doms);
	return rc;
}
