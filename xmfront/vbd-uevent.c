/*
 * vbd-uevent.c — the block frontend's uevents (see vbd.h): a disk appeared
 * (the devices that wait for one look again: vbd.c's vbd_disk_added), a
 * partition table was read again, the host asks for a cdrom's tray.
 */
#include "frontend.h"
#include "vbd.h"
#include "vbd-int.h"
#include "uevent.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The host wants the tray of a cdrom: release it unless it is mounted. */
static void eject_request(struct vbd_front *v, const char *kname)
{
	struct vbd_dev *d = NULL;
	for (struct vbd_dev *e = v->devs; e; e = e->next)
		if (!e->forgotten && strcmp(e->kname, kname) == 0)
			d = e;
	const char *name = d ? d->name : kname;
	dev_t rdev;
	char path[96], where[512];
	snprintf(path, sizeof(path), "/sys/block/%s/dev", kname);
	if (read_devnum(path, &rdev) < 0)
		return;
	if (mounted(&rdev, 1, where, sizeof(where))) {
		log_info("%s: eject request: mounted on %s, kept", name, where);
		return;
	}
	snprintf(path, sizeof(path), "/dev/%s", kname);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	ioctl(fd, CDROM_LOCKDOOR, 0);
	ioctl(fd, CDROMEJECT, 0);
	close(fd);
	log_info("%s: eject request: released", name);
}

void vbd_readable(struct vbd_front *v)
{
	char buf[4096];
	bool kick = false, parts = false;
	for (;;) {
		ssize_t n = recv(v->nl, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* overrun: look at everything */
				kick = parts = v->net_added = true;
				continue;
			}
			break;
		}
		struct uevent u;
		if (uevent_parse(buf, (size_t)n, &u) < 0)
			continue;
		if (strcmp(u.subsys, "net") == 0 && strcmp(u.action, "add") == 0)
			v->net_added = true; /* for the network frontend (netfront.h) */
		if (uevent_cpu_online(&u) || strcmp(u.subsys, "block") != 0)
			continue;
		log_debug("uevent %s %s %s", u.action, u.devname ? u.devname : "-",
			  u.devtype ? u.devtype : "-");
		if (u.eject && u.devname && strncmp(u.devname, "sr", 2) == 0)
			eject_request(v, u.devname);
		if (strcmp(u.action, "add") == 0) {
			kick = true;
			if (u.devname && u.devtype && strcmp(u.devtype, "disk") == 0 &&
			    v->nadded < sizeof(v->added) / sizeof(v->added[0]) &&
			    strlen(u.devname) < sizeof(v->added[0].name)) {
				struct vbd_added *a = &v->added[v->nadded++];
				snprintf(a->name, sizeof(a->name), "%s", u.devname);
				a->path[0] = '\0';
				if (u.devpath && strlen(u.devpath) < sizeof(a->path))
					snprintf(a->path, sizeof(a->path), "%s", u.devpath);
				a->rdev = u.major > 0 && u.minor >= 0
						  ? makedev((unsigned int)u.major, (unsigned int)u.minor)
						  : 0;
			}
		}
		/* a partition table read again: partitions removed and added */
		if (u.devtype && strcmp(u.devtype, "partition") == 0)
			parts = true;
	}
	if (parts)
		for (struct vbd_dev *d = v->devs; d; d = d->next)
			if (!d->forgotten && d->parts_tracked)
				sync_parts(d, false);
	if (kick)
		for (struct vbd_dev *d = v->devs, *next; d; d = next) {
			next = d->next; /* vbd_disk_added() may free d */
			vbd_disk_added(d);
		}
	v->nadded = 0;
}

int vbd_fd(const struct vbd_front *v)
{
	return v->nl;
}
