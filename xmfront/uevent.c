/*
 * uevent.c — see uevent.h. No library does this for a static busybox guest:
 * libudev needs udevd's database, and the kernel side is a plain netlink
 * multicast of "KEY=value" strings.
 */
#include "uevent.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int uevent_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A device number's decimal digits, or -1. */
static long num(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 || v > 0xfffff ? -1 : v;
}

int uevent_parse(char *buf, size_t n, struct uevent *u)
{
	memset(u, 0, sizeof(*u));
	u->major = u->minor = -1;
	buf[n] = '\0';
	for (const char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (strncmp(p, "ACTION=", 7) == 0)
			u->action = p + 7;
		else if (strncmp(p, "SUBSYSTEM=", 10) == 0)
			u->subsys = p + 10;
		else if (strncmp(p, "DEVNAME=", 8) == 0)
			u->devname = p + 8;
		else if (strncmp(p, "DEVTYPE=", 8) == 0)
			u->devtype = p + 8;
		else if (strncmp(p, "DEVPATH=", 8) == 0)
			u->devpath = p + 8;
		else if (strncmp(p, "INTERFACE=", 10) == 0)
			u->ifname = p + 10;
		else if (strncmp(p, "MAJOR=", 6) == 0)
			u->major = num(p + 6);
		else if (strncmp(p, "MINOR=", 6) == 0)
			u->minor = num(p + 6);
		else if (strcmp(p, "DISK_EJECT_REQUEST=1") == 0)
			u->eject = true;
	}
	return u->action && u->subsys ? 0 : -1;
}

int uevent_cpu_online(const struct uevent *u)
{
	static const char dir[] = "/devices/system/cpu/cpu";
	if (strcmp(u->subsys, "cpu") != 0 || strcmp(u->action, "add") != 0 || !u->devpath ||
	    strncmp(u->devpath, dir, sizeof(dir) - 1) != 0)
		return 0;
	const char *n = u->devpath + sizeof(dir) - 1;
	if (!*n || strspn(n, "0123456789") != strlen(n) || strlen(n) > 5)
		return 0;
	char path[96];
	snprintf(path, sizeof(path), "/sys%s/online", u->devpath);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("cpu%s plugged in: %s: %s", n, path, strerror(errno));
		return 0;
	}
	ssize_t w = write(fd, "1", 1);
	int e = errno;
	close(fd);
	if (w != 1) {
		log_warn("cpu%s plugged in: cannot bring it online: %s", n, strerror(e));
		return 0;
	}
	log_info("cpu%s plugged in: online", n);
	return 1;
}

int uevent_monitor(const char *match)
{
	int fd = uevent_open();
	if (fd < 0) {
		log_err("cannot open the uevent socket: %s", strerror(errno));
		return 1;
	}
	char buf[4096], line[256];
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		ssize_t n;
		while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0 || (n < 0 && errno == EINTR)) {
			struct uevent u;
			if (n <= 0 || uevent_parse(buf, (size_t)n, &u) < 0)
				continue;
			bool net = strcmp(u.subsys, "net") == 0 && u.ifname;
			if (strcmp(u.subsys, "block") != 0 && !net)
				continue;
			if (match && !(u.devpath && strstr(u.devpath, match)))
				continue;
			int len = net ? snprintf(line, sizeof(line), "xmfront-uevent %s %s net\n",
						 u.action, u.ifname) :
				  snprintf(line, sizeof(line), "xmfront-uevent %s %s %s\n", u.action,
					   u.devname ? u.devname : "-", u.devtype ? u.devtype : "-");
			/* one write per event: a line on a console is not split */
			if (len > 0 && write(STDOUT_FILENO, line,
					     (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1) < 0)
				return errno == EPIPE ? 0 : 1;
		}
		if (n < 0 && errno == ENOBUFS)
			log_warn("uevent overrun: events lost");
	}
	log_err("poll: %s", strerror(errno));
	return 1;
}
