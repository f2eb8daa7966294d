/*
 * fdpass.c — a guest's QEMU opens no image itself (it runs under its own
 * uid in a chroot that holds none: xm/create-qemu.c). xmbackd opens each
 * backend with the mode the sharing check allowed (r: read-only, w and w!:
 * read-write) and hands the descriptor over the monitor (add-fd, the
 * descriptor riding on the command as SCM_RIGHTS) into an fdset of its
 * own; block nodes then open "/dev/fdset/N", which QEMU serves by dup'ing
 * the descriptor of that access mode.
 *
 * The fdset's opaque string says whose it is and what it is,
 * "xmblk-DEVID:PATH": the file name QEMU reports for the node is
 * /dev/fdset/N, so reconcile.c (qview.c) learns the image from it after a
 * restart. The fdset's own descriptor stays until the device is gone (QEMU
 * needs it to open the node again); then remove-fd, so no fdset outlives
 * its device. Its id, recorded in the device's record (fdset), is xmbackd's
 * choice (an int, as QEMU 7.2 parses /dev/fdset/N), so add-fd and
 * blockdev-add go out back to back.
 */
#include "vbd-int.h"
#include "dom.h"
#include "qmp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fdpass_open(const char *params, const char *mode, bool *blk)
{
	struct stat st;
	int flags = (mode && strcmp(mode, "r") == 0 ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY;
	int fd = open(params, flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		errno = EINVAL; /* neither an image file nor a block device */
		return -1;
	}
	*blk = S_ISBLK(st.st_mode);
	return fd;
}

long fdpass_new_id(unsigned long devid)
{
	/* QEMU 7.2 takes an fdset id that fits an int. Ids go up from a
	 * random start, so that a restarted xmbackd does not reuse its
	 * predecessor's (the opaque, not the id, says whose it is) */
	static unsigned long next;
	(void)devid;
	if (!next) {
		unsigned int r = 0;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			r = (unsigned int)now_ms();
		if (fd >= 0)
			close(fd);
		next = 1 + (r & 0x3fffffffU);
	}
	long id = (long)(next++ & 0x7fffffffUL);
	return id ? id : (long)(next++ & 0x7fffffffUL);
}

json_t *fdpass_add_args(long set, unsigned long devid, const char *params)
{
	char opaque[600];
	char *real = realpath(params, NULL);
	snprintf(opaque, sizeof(opaque), "xmblk-%lu:%s", devid, real ? real : params);
	free(real);
	return json_pack("{s:I, s:s}", "fdset-id", (json_int_t)set, "opaque", opaque);
}

void fdpass_name(char *out, size_t len, long set)
{
	snprintf(out, len, "/dev/fdset/%ld", set);
}

void fdpass_remove(struct qmp *q, long set)
{
	if (set >= 0) /* its reply is not waited for: nothing depends on it */
		qmp_send(q, "remove-fd", json_pack("{s:I}", "fdset-id", (json_int_t)set));
}

long fdpass_recorded(struct backd *b, const struct vbd *v)
{
	char *s = dom_readf(b->xs, XBT_NULL, "%s/fdset", v->tool);
	long set = s && *s ? fdpass_parse_id(s) : -1;
	free(s);
	return set;
}

long fdpass_parse_id(const char *s)
{
	char *end;
	long n = s ? strtol(s, &end, 10) : -1;
	return s && *s && !*end && n >= 0 ? n : -1;
}
