/*
 * port.c — locate and open the xenbus port; see port.h.
 *
 * Linux's virtio_console tells a port's user whether the host side is open:
 * while QEMU's chardev is disconnected, poll() reports POLLHUP, read()
 * returns 0 and writes would block. So EOF on the port means "the host went
 * away" and the port is kept open; the host is back once POLLHUP clears.
 */
#include "port.h"
#include "sock.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define VPORT_CLASS "/sys/class/virtio-ports"

/* /dev/<dev> as a character node major:minor (from sysfs "dev"). */
static int ensure_node(const char *node, const char *devnum)
{
	unsigned int maj, min;
	struct stat st;

	if (sscanf(devnum, "%u:%u", &maj, &min) != 2) {
		errno = EINVAL;
		return -1;
	}
	if (stat(node, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(maj, min))
		return 0;
	unlink(node);
	if (mknod(node, S_IFCHR | 0600, makedev(maj, min)) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int port_locate(struct port *p, const char *name)
{
	DIR *d = opendir(VPORT_CLASS);
	struct dirent *e;
	int rc = -1;

	if (!d) {
		errno = ENOENT;
		return -1;
	}
	errno = ENOENT;
	while ((e = readdir(d))) {
		char path[512], val[256], dev[32];
		if (e->d_name[0] == '.')
			continue;
		if (strlen(e->d_name) > 64)
			continue; /* not a vportNpM */
		snprintf(path, sizeof(path), VPORT_CLASS "/%.64s/name", e->d_name);
		if (read_small_file(path, val, sizeof(val)) < 0 || strcmp(val, name) != 0)
			continue;
		snprintf(path, sizeof(path), VPORT_CLASS "/%.64s/dev", e->d_name);
		if (read_small_file(path, dev, sizeof(dev)) < 0)
			break;
		snprintf(p->path, sizeof(p->path), "/dev/%.64s", e->d_name);
		if (ensure_node(p->path, dev) < 0) {
			log_err("cannot create %s (%s): %s", p->path, dev, strerror(errno));
			break;
		}
		p->is_socket = false;
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

int port_set_path(struct port *p, const char *path)
{
	struct stat st;

	if (strlen(path) >= sizeof(p->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(p->path, path);
	/* a socket that does not exist yet is a socket (the daemon is late) */
	p->is_socket = stat(path, &st) < 0 || S_ISSOCK(st.st_mode);
	return 0;
}

int port_open(struct port *p)
{
	if (p->fd >= 0)
		return 0;
	if (p->is_socket) {
		p->fd = unix_connect(p->path);
		if (p->fd < 0)
			return -1;
		if (fd_nonblock(p->fd) < 0) {
			close(p->fd);
			p->fd = -1;
			return -1;
		}
		return 0;
	}
	p->fd = open(p->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	return p->fd < 0 ? -1 : 0;
}

bool port_host_up(struct port *p)
{
	if (p->is_socket)
		return p->fd >= 0 || port_open(p) == 0;
	if (p->fd < 0)
		return false;
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };
	if (poll(&pfd, 1, 0) < 0)
		return false;
	return !(pfd.revents & (POLLHUP | POLLERR));
}

void port_lost(struct port *p)
{
	if (p->is_socket && p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
}
