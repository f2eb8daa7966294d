/*
 * disk.c — the guest side of the block frontend (vbd-int.h): which kernel
 * disk QEMU plugged for a vbd (virtio-blk by serial, a scsi cdrom by
 * model), its /dev/<xvd name> node and the partition nodes of a whole-disk
 * vbd, and whether the guest still uses it (mounts, exclusive holders,
 * holders/, loop devices, open files). Reads sysfs and /proc; no XenStore.
 */
#include "vbd-int.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
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

bool is_num(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}


int read_devnum(const char *path, dev_t *out)
{
	char buf[32];
	unsigned int ma, mi;
	if (read_small_file(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &ma, &mi) != 2)
		return -1;
	*out = makedev(ma, mi);
	return 0;
}

/* Is the virtio disk under the root port the backend put d's device on
 * (pci-root-port)? Its device path says, from the uevent (devpath) or
 * sysfs: no request to the device. A root port holds one device, and one
 * is only reused once QEMU has deleted the device it held. */
static bool on_slot(const struct vbd_dev *d, const char *kname, const char *devpath)
{
	const char *slot = d->val[B_SLOT];
	char link[320], want[48];
	if (!slot || !*slot || strlen(slot) > 32)
		return false;
	if (!devpath || !*devpath) {
		char sys[96];
		snprintf(sys, sizeof(sys), "/sys/block/%s", kname);
		ssize_t n = readlink(sys, link, sizeof(link) - 1);
		if (n < 0)
			return false;
		link[n] = '\0';
		devpath = link;
	}
	snprintf(want, sizeof(want), "/%s/", slot);
	return strstr(devpath, want) != NULL;
}

/* Is the kernel disk kname the one QEMU plugged for d? A virtio disk is
 * known by its root port (on_slot), else (not slot_only) by its serial
 * (= devid), a request to the device; a scsi cdrom by its model (= the
 * vdev name). a: kname's "add" uevent, or NULL. true with d->kname and
 * d->rdev. */
static bool match_disk(struct vbd_dev *d, const char *kname, const struct vbd_added *a,
		       bool slot_only)
{
	bool cdrom = vbd_is_cdrom(d);
	const char *want = cdrom ? d->val[B_DEV] : d->id;
	char want16[17], path[320], buf[128];
	if (!want || strncmp(kname, cdrom ? "sr" : "vd", 2) != 0 || strlen(kname) >= sizeof(d->kname))
		return false;
	if (cdrom) { /* a SCSI product id is 16 characters at most */
		snprintf(want16, sizeof(want16), "%s", want);
		want = want16;
	}
	bool slot = !cdrom && on_slot(d, kname, a ? a->path : NULL);
	if (!slot && slot_only)
		return false;
	if (!slot) {
		snprintf(path, sizeof(path), "/sys/block/%s/%s", kname,
			 cdrom ? "device/model" : "serial");
		if (read_small_file(path, buf, sizeof(buf)) < 0 || strcmp(buf, want) != 0)
			return false;
		log_debug("%s: %s has %s %s", d->name, kname, cdrom ? "model" : "serial", want);
	} else {
		log_debug("%s: %s is on root port %s", d->name, kname, d->val[B_SLOT]);
	}
	if (a && a->rdev) {
		d->rdev = a->rdev;
	} else {
		snprintf(path, sizeof(path), "/sys/block/%s/dev", kname);
		if (read_devnum(path, &d->rdev) < 0)
			return false;
	}
	snprintf(d->kname, sizeof(d->kname), "%s", kname);
	return true;
}

/* The kernel disk QEMU plugged for d: first among the disks whose "add"
 * uevent is being handled, then among all. true with d->kname and
 * d->rdev. */
bool find_disk(struct vbd_dev *d, bool slot_only)
{
	struct vbd_front *v = d->v;
	for (unsigned int i = 0; i < v->nadded; i++)
		if (match_disk(d, v->added[i].name, &v->added[i], slot_only))
			return true;
	/* on a disk's uevent, by its root port: the disk is one of those
	 * (one whose uevent came before was looked for then) */
	if (slot_only && v->nadded)
		return false;
	DIR *dir = opendir("/sys/block");
	if (!dir)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(dir))) {
		bool tried = false;
		for (unsigned int i = 0; i < v->nadded && !tried; i++)
			tried = strcmp(e->d_name, v->added[i].name) == 0;
		/* a disk another vbd has is not this one */
		for (struct vbd_dev *o = v->devs; o && !tried; o = o->next)
			tried = o != d && !o->forgotten && strcmp(o->kname, e->d_name) == 0;
		found = !tried && match_disk(d, e->d_name, NULL, slot_only);
	}
	closedir(dir);
	return found;
}

/* Is the disk still the one we matched? */
bool disk_present(const struct vbd_dev *d)
{
	char path[96];
	dev_t rdev;
	snprintf(path, sizeof(path), "/sys/block/%s/dev", d->kname);
	return read_devnum(path, &rdev) == 0 && rdev == d->rdev;
}

static void node_path(const struct vbd_dev *d, char *out, size_t len)
{
	snprintf(out, len, "/dev/%s", d->name);
}

/* p as a block node of rdev, mode 0660 (one that is already right is
 * kept). 0 or -1 (logged). */
static int put_node(const struct vbd_dev *d, const char *p, dev_t rdev)
{
	struct stat st;
	if (lstat(p, &st) == 0) {
		if (S_ISBLK(st.st_mode) && st.st_rdev == rdev)
			return 0;
		unlink(p);
	}
	if (mknod(p, S_IFBLK | 0660, rdev) < 0 || chmod(p, 0660) < 0) {
		log_warn("%s: cannot make %s: %s", d->name, p, strerror(errno));
		return -1;
	}
	return 0;
}

/* /dev/<name> as a block node of the disk. 0 or -1 (logged). */
int make_node(const struct vbd_dev *d)
{
	char p[64];
	node_path(d, p, sizeof(p));
	return put_node(d, p, d->rdev);
}

/* Remove /dev/<name> if it is a block node. true if one was removed. */
bool drop_node(const struct vbd_dev *d)
{
	char p[64];
	struct stat st;
	node_path(d, p, sizeof(p));
	if (lstat(p, &st) < 0 || !S_ISBLK(st.st_mode))
		return false;
	return unlink(p) == 0;
}

/* --- partition nodes of a whole-disk vbd --- */

static void part_path(const struct vbd_dev *d, unsigned int num, char *out, size_t len)
{
	snprintf(out, len, "/dev/%s%u", d->name, num);
}

/* Is name the vbd name of another device of ours (xvdb2 attached on its
 * own beside xvdb)? Its node is that device's, not a partition node. */
static bool name_taken(const struct vbd_dev *d, const char *name)
{
	for (const struct vbd_dev *e = d->v->devs; e; e = e->next)
		if (e != d && !e->forgotten && strcmp(e->name, name) == 0)
			return true;
	return false;
}

/* Each line of /proc/partitions ("major minor blocks name"): the block
 * devices the kernel has, partitions included, that have a size (an
 * unbound loop device has none). fn returns false to stop. */
static void each_partition(bool (*fn)(unsigned int ma, unsigned int mi, const char *name,
				      void *arg),
			   void *arg)
{
	FILE *f = fopen("/proc/partitions", "re");
	if (!f)
		return;
	char line[256], name[64];
	unsigned int ma, mi;
	unsigned long long blocks;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u %llu %63s", &ma, &mi, &blocks, name) == 4 &&
		    !fn(ma, mi, name, arg))
			break;
	fclose(f);
}

struct parts_of {
	const char *kname;
	size_t kl;
	bool sep;               /* kname ends in a digit: 'p' before the number */
	struct vbd_part *out;
	unsigned int n, max;
};

static bool part_of(unsigned int ma, unsigned int mi, const char *name, void *arg)
{
	struct parts_of *p = arg;
	if (strncmp(name, p->kname, p->kl) != 0)
		return true;
	const char *num = name + p->kl;
	if (p->sep && *num++ != 'p')
		return true;
	int k = is_num(num) && strlen(num) <= 3 ? atoi(num) : 0;
	if (k < 1 || k > 255)
		return true;
	p->out[p->n++] = (struct vbd_part){ .num = (unsigned int)k, .rdev = makedev(ma, mi) };
	return p->n < p->max;
}

/* The partitions of disk kname, from /proc/partitions: one short read,
 * where listing /sys/block/<kname> costs a walk of its sysfs path and a
 * directory of some thirty entries (~0.4 ms of the guest's vCPU under
 * TCG, between the disk's uevent and the Connected write). A partition
 * is named as the kernel's disk_name() names it: kname, then 'p' if
 * kname ends in a digit, then its number. Partitions of no size are not
 * listed there (nor announced by a uevent). */
static unsigned int disk_parts(const struct vbd_dev *d, struct vbd_part *out, unsigned int max)
{
	size_t kl = strlen(d->kname);
	struct parts_of p = { .kname = d->kname, .kl = kl, .out = out, .max = max,
			      .sep = kl && isdigit((unsigned char)d->kname[kl - 1]) };
	if (kl && max)
		each_partition(part_of, &p);
	return p.n;
}

/* Take over the partition nodes an earlier agent made: /dev/<name><N>
 * block nodes that are not another device's node nor a whole disk. */
void adopt_parts(struct vbd_dev *d)
{
	d->parts_adopted = true;
	if (!d->whole_disk)
		return;
	DIR *dir = opendir("/dev");
	if (!dir)
		return;
	size_t nl = strlen(d->name);
	struct dirent *e;
	while (d->nparts < MAX_PARTS && (e = readdir(dir))) {
		const char *num = e->d_name + nl;
		if (strncmp(e->d_name, d->name, nl) != 0 || !is_num(num) || num[0] == '0' ||
		    strlen(num) > 3 || atoi(num) > 255 || name_taken(d, e->d_name))
			continue;
		char p[320];
		struct stat st;
		snprintf(p, sizeof(p), "/dev/%s", e->d_name);
		if (lstat(p, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
		if (access(p, F_OK) == 0) {
			char pp[340];
			snprintf(pp, sizeof(pp), "%s/partition", p);
			if (access(pp, F_OK) < 0)
				continue; /* a whole disk: not ours */
		}
		bool dup = false;
		for (unsigned int i = 0; i < d->nparts; i++)
			dup = dup || d->parts[i].num == (unsigned int)atoi(num);
		if (!dup)
			d->parts[d->nparts++] = (struct vbd_part){ (unsigned int)atoi(num), st.st_rdev };
	}
	closedir(dir);
}

/* Remove a partition node if it is still the one made. */
static void drop_part(const struct vbd_dev *d, const struct vbd_part *pt)
{
	char p[64];
	struct stat st;
	part_path(d, pt->num, p, sizeof(p));
	if (lstat(p, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == pt->rdev)
		unlink(p);
}

/* Remove all partition nodes (close, forced removal). */
void drop_parts(struct vbd_dev *d)
{
	d->parts_tracked = false;
	if (!d->parts_adopted)
		adopt_parts(d);
	for (unsigned int i = 0; i < d->nparts; i++)
		drop_part(d, &d->parts[i]);
	d->nparts = 0;
}

/* Bring the partition nodes in line with the kernel's partitions of the
 * disk: make the new, remove those gone or renumbered. Changes are logged
 * unless quiet (at connect). */
void sync_parts(struct vbd_dev *d, bool quiet)
{
	if (!d->whole_disk || !d->kname[0])
		return;
	if (!d->parts_adopted)
		adopt_parts(d);
	struct vbd_part now[MAX_PARTS];
	unsigned int n = disk_parts(d, now, MAX_PARTS);
	char p[64];
	for (unsigned int i = 0; i < d->nparts;) {
		bool keep = false;
		for (unsigned int j = 0; j < n && !keep; j++)
			keep = now[j].num == d->parts[i].num && now[j].rdev == d->parts[i].rdev;
		if (keep) {
			i++;
			continue;
		}
		drop_part(d, &d->parts[i]);
		if (!quiet)
			log_info("%s: partition %s%u removed", d->name, d->name, d->parts[i].num);
		d->parts[i] = d->parts[--d->nparts];
	}
	for (unsigned int j = 0; j < n; j++) {
		bool have = false;
		for (unsigned int i = 0; i < d->nparts && !have; i++)
			have = d->parts[i].num == now[j].num;
		if (have || d->nparts >= MAX_PARTS)
			continue;
		part_path(d, now[j].num, p, sizeof(p));
		if (name_taken(d, p + 5) || put_node(d, p, now[j].rdev) < 0)
			continue;
		d->parts[d->nparts++] = now[j];
		if (!quiet)
			log_info("%s: partition %s added (%u:%u)", d->name, p + 5,
				 major(now[j].rdev), minor(now[j].rdev));
	}
}

/* The disk's numbers: the whole disk, then its partitions. */
static unsigned int disk_numbers(const struct vbd_dev *d, dev_t *out, unsigned int max)
{
	struct vbd_part parts[MAX_PARTS];
	unsigned int n = 0, np = disk_parts(d, parts, max > 0 ? max - 1 : 0);
	out[n++] = d->rdev;
	for (unsigned int i = 0; i < np; i++)
		out[n++] = parts[i].rdev;
	return n;
}

static bool in_set(dev_t x, const dev_t *set, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (set[i] == x)
			return true;
	return false;
}

/* A mount of the disk or a partition: its mount point in where. */
bool mounted(const dev_t *set, unsigned int n, char *where, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char line[1024], mnt[512];
	unsigned int ma, mi;
	bool hit = false;
	while (!hit && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %*s %511s", &ma, &mi, mnt) == 3 &&
		    in_set(makedev(ma, mi), set, n)) {
			snprintf(where, len, "%s", mnt);
			hit = true;
		}
	}
	fclose(f);
	return hit;
}

#define KTHREADS_MAX 1024

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* The kernel's threads, which hold no files: every one is a child of
 * kthreadd (pid 2), and /proc/2/task/2/children lists them in one read.
 * Their pids, sorted, into out; 0 when the kernel does not say (no
 * CONFIG_PROC_CHILDREN, more than max, or pid 2 is not kthreadd: it has
 * an executable, as in a pid namespace). */
static unsigned int kthreads(long *out, unsigned int max)
{
	char buf[8192], exe[8];
	unsigned int n = 0;
	if (readlink("/proc/2/exe", exe, sizeof(exe)) >= 0 || errno != ENOENT ||
	    read_small_file("/proc/2/task/2/children", buf, sizeof(buf)) < 0 ||
	    strlen(buf) >= sizeof(buf) - 16) /* (cut short: not all of them) */
		return 0;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p || pid <= 0 || n == max)
			return 0;
		out[n++] = pid;
		while (*end == ' ')
			end++;
	}
	qsort(out, n, sizeof(*out), cmp_long);
	return n;
}

/* Open file descriptors of other processes on the disk or its partitions:
 * how many; the first holder's pid in *pid. */
static unsigned int open_count(const dev_t *set, unsigned int n, long *pid)
{
	DIR *proc = opendir("/proc");
	if (!proc)
		return 0;
	unsigned int count = 0;
	long self = (long)getpid();
	/* The guest has ~100 kernel threads and a few processes: the kernel
	 * threads are skipped by their list (four system calls), not by a
	 * readlink each (a syscall on /proc costs tens of microseconds under
	 * TCG, and most of a detach's check was these). One started since is
	 * not in the list: the readlink below finds it. */
	static long kt[KTHREADS_MAX];
	unsigned int nk = kthreads(kt, KTHREADS_MAX);
	struct dirent *e;
	while ((e = readdir(proc))) {
		if (!is_num(e->d_name))
			continue;
		long p = atol(e->d_name);
		if (p == self || (nk && (p == 2 || bsearch(&p, kt, nk, sizeof(*kt), cmp_long))))
			continue;
		char path[300];
		/* a kernel thread has no executable and holds no files: one
		 * readlink instead of a directory's open, reads and close */
		char exe[8];
		snprintf(path, sizeof(path), "/proc/%.20s/exe", e->d_name);
		if (readlink(path, exe, sizeof(exe)) < 0 && errno == ENOENT)
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", e->d_name);
		DIR *fds = opendir(path);
		if (!fds)
			continue;
		struct dirent *f;
		while ((f = readdir(fds))) {
			if (!is_num(f->d_name))
				continue;
			struct stat st;
			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s", e->d_name, f->d_name);
			if (stat(path, &st) == 0 && S_ISBLK(st.st_mode) &&
			    in_set(st.st_rdev, set, n)) {
				if (!count++)
					*pid = atol(e->d_name);
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return count;
}

struct loops {
	const dev_t *set;
	unsigned int n;
	char *name;
	size_t len;
	bool found;
};

/* Is this bound loop device backed by one of l's set? The kernel's own
 * answer (the backing inode's rdev, whatever its path), else the path it
 * shows. */
static bool loop_on(unsigned int ma, unsigned int mi, const char *name, void *arg)
{
	struct loops *l = arg;
	char path[320], file[4096];
	struct stat st;
	struct loop_info64 li;
	(void)ma;
	(void)mi;
	if (strncmp(name, "loop", 4) != 0 || !is_num(name + 4))
		return true;
	snprintf(path, sizeof(path), "/dev/%.32s", name);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, LOOP_GET_STATUS64, &li) == 0) {
		l->found = in_set((dev_t)li.lo_rdevice, l->set, l->n);
	} else {
		snprintf(path, sizeof(path), "/sys/block/%.32s/loop/backing_file", name);
		l->found = read_small_file(path, file, sizeof(file)) == 0 && stat(file, &st) == 0 &&
			   S_ISBLK(st.st_mode) && in_set(st.st_rdev, l->set, l->n);
	}
	if (fd >= 0)
		close(fd);
	if (l->found)
		snprintf(l->name, l->len, "%.32s", name);
	return !l->found;
}

/* Is a loop device of the guest backed by one of these? A loop device
 * holds its backing device open in the kernel: no process has it open, it
 * is not an exclusive holder and it is not in holders/. Only the bound
 * ones are looked at: those /proc/partitions lists (an unbound one has
 * no size), where a look at each /sys/block/loopN/loop cost ~0.1 ms of
 * the guest's vCPU apiece under TCG, eight of them in a stock guest.
 * true with its name. */
static bool loop_backed(const dev_t *set, unsigned int n, char *name, size_t len)
{
	struct loops l = { .set = set, .n = n, .name = name, .len = len };
	each_partition(loop_on, &l);
	return l.found;
}

/* Is the disk in use in the guest? true with a reason for the log. */
bool in_use(const struct vbd_dev *d, char *why, size_t len)
{
	dev_t set[MAX_PARTS];
	unsigned int n = disk_numbers(d, set, MAX_PARTS);
	char where[512], path[320];

	if (mounted(set, n, where, sizeof(where))) {
		snprintf(why, len, "mounted on %s", where);
		return true;
	}
	/* Held exclusively (a mount elsewhere, swap, a file system driver,
	 * O_EXCL): the kernel says EBUSY. */
	snprintf(path, sizeof(path), "/dev/%s", d->kname);
	int fd = open(path, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		char mine[64];
		node_path(d, mine, sizeof(mine));
		if (errno == ENOENT)
			fd = open(mine, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0 && errno == EBUSY) {
		snprintf(why, len, "held exclusively");
		return true;
	}
	/* A holder (dm, md, bcache: holders/) claims the disk exclusively,
	 * so an exclusive open that worked says there is none; holders/ (a
	 * walk of the disk's sysfs path, ~0.2 ms of the vCPU under TCG) is
	 * asked only when the open could not be made. */
	DIR *h = NULL;
	if (fd >= 0) {
		close(fd);
	} else {
		snprintf(path, sizeof(path), "/sys/block/%s/holders", d->kname);
		h = opendir(path);
	}
	if (h) {
		struct dirent *e;
		bool held = false;
		while (!held && (e = readdir(h)))
			held = e->d_name[0] != '.';
		closedir(h);
		if (held) {
			snprintf(why, len, "held by another block device");
			return true;
		}
	}
	char loop[64];
	if (loop_backed(set, n, loop, sizeof(loop))) {
		snprintf(why, len, "backs /dev/%s", loop);
		return true;
	}
	long pid = 0;
	unsigned int c = open_count(set, n, &pid);
	if (c) {
		snprintf(why, len, "open %u time%s (pid %ld)", c, c == 1 ? "" : "s", pid);
		return true;
	}
	return false;
}

