/*
 * media.c — CD/DVD media changes of a cdrom vbd (docs/vbd.md "CD/DVD
 * media"): QEMU's eject and blockdev-change-medium, the sharing check of
 * a new disc, and the wait for a guest that holds the tray locked (retried
 * from the main loop, so that nothing else waits meanwhile). A new disc
 * goes to QEMU as a descriptor (fdpass.c) in an fdset of its own; the old
 * disc's fdset goes once the new one is in (or the tray is empty).
 */
#include "vbd-int.h"
#include "dom.h"
#include "qmp.h"
#include "claims.h"
#include "sharing.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEDIA_RETRY_MS 200
#define MEDIA_WAIT_MS 2500

static struct media_wait *mwait_find(struct backd *b, const struct vbd *v)
{
	for (unsigned int i = 0; i < b->nmwait; i++)
		if (b->mwait[i].domid == v->domid && b->mwait[i].devid == v->devid)
			return &b->mwait[i];
	return NULL;
}

static void mwait_drop(struct backd *b, const struct vbd *v)
{
	struct media_wait *w = mwait_find(b, v);
	if (w)
		*w = b->mwait[--b->nmwait];
}

/* The eject was refused because the guest has the tray locked: wait (true)
 * or, past the deadline or with no room, give up (false). */
static bool mwait_again(struct backd *b, const struct vbd *v)
{
	long now = now_ms();
	struct media_wait *w = mwait_find(b, v);
	if (!w) {
		if (b->nmwait == MEDIA_WAIT_MAX)
			return false;
		w = &b->mwait[b->nmwait++];
		*w = (struct media_wait){ v->domid, v->devid, now + MEDIA_WAIT_MS, 0, false };
	}
	if (now >= w->deadline) {
		mwait_drop(b, v);
		return false;
	}
	w->next = now + MEDIA_RETRY_MS;
	w->touched = true;
	return true;
}

int vbd_media_timeout(const struct backd *b)
{
	if (!b->nmwait)
		return -1;
	long now = now_ms(), first = b->mwait[0].next;
	for (unsigned int i = 1; i < b->nmwait; i++)
		if (b->mwait[i].next < first)
			first = b->mwait[i].next;
	return first <= now ? 0 : (int)(first - now);
}

void vbd_media_retry(struct backd *b)
{
	long now = now_ms();
	struct media_wait due[MEDIA_WAIT_MAX];
	unsigned int n = 0;
	for (unsigned int i = 0; i < b->nmwait; i++)
		if (b->mwait[i].next <= now) {
			b->mwait[i].touched = false;
			due[n++] = b->mwait[i];
		}
	for (unsigned int i = 0; i < n; i++) {
		vbd_consider(b, due[i].domid, due[i].devid); /* media_change() again, if still asked */
		struct vbd v = { .domid = due[i].domid, .devid = due[i].devid };
		struct media_wait *e = mwait_find(b, &v);
		if (e && !e->touched) /* not asked any more: forget it */
			mwait_drop(b, &v);
	}
}

void vbd_tray_opened(struct backd *b, unsigned int domid, const char *qdev_id)
{
	unsigned long devid;
	int n = 0;
	if (!qdev_id || sscanf(qdev_id, "xmdev-%lu%n", &devid, &n) != 1 || qdev_id[n])
		return;
	struct vbd v = { .domid = domid, .devid = devid };
	struct media_wait *w = mwait_find(b, &v);
	if (w)
		w->next = 0; /* the guest let go: at once */
}

/* The new disc's claim (claims.h), before QEMU opens it: the sharing check
 * against every holder and the host's mounts. 0, or -1 with why in err. */
static int media_claim(struct backd *b, const struct vbd *v, const char *params, const char *mode,
		       char *err, size_t errlen)
{
	struct claim c = { .domid = v->domid, .devid = v->devid };
	char dev[200];
	snprintf(c.mode, sizeof(c.mode), "%s", mode);
	if (sharing_host_check(params, mode, err, errlen))
		return -1;
	if (sharing_ident(params, c.ident, sizeof(c.ident)) < 0) {
		snprintf(err, errlen, "%s: %s", params, strerror(errno));
		return -1;
	}
	return claims_take(b, &c, params, vbd_path(dev, sizeof(dev), v->tool, "device"), NULL,
			   NULL, 0, err, errlen) == 0 ? 0 : -1;
}

/* QEMU's eject, once. 0, or -1 with *qerr; *locked when the guest holds
 * the tray (QEMU has asked it to let go). */
static int eject(struct qmp *q, const char *devname, bool force, char **qerr, bool *locked)
{
	free(*qerr);
	*qerr = NULL;
	int rc = qmp_exec(q, "eject", json_pack("{s:s, s:b}", "id", devname, "force", force), NULL,
			  qerr, QMP_TIMEOUT);
	*locked = rc != 0 && !force && *qerr && strstr(*qerr, "is locked");
	return rc;
}

/* Hand the new disc to QEMU (fdpass.c) and put it in the tray. 0, or -1
 * with *qerr; *set the fdset it went into (-1: none). */
static int insert(struct qmp *q, const struct vbd *v, const char *devname, const char *params,
		  const char *format, const char *mode, long *set, char **qerr)
{
	bool blk = false;
	char file[96], name[64];
	*set = -1;
	int fd = params && *params ? fdpass_open(params, mode, &blk) : -1;
	if (params && *params && fd < 0) {
		char why[600];
		snprintf(why, sizeof(why), "%s: %s", params, strerror(errno));
		*qerr = strdup(why);
		return -1;
	}
	if (fd >= 0) {
		*set = fdpass_new_id(v->devid);
		long id = qmp_send_fd(q, "add-fd", fdpass_add_args(*set, v->devid, params), fd);
		close(fd);
		if (qmp_wait_reply(q, id, NULL, qerr, QMP_TIMEOUT) < 0)
			return -1;
		/* the protocol said, as /dev/fdset/N is no path QEMU can probe */
		fdpass_name(name, sizeof(name), *set);
		snprintf(file, sizeof(file), "%s:%s", blk ? "host_device" : "file", name);
	}
	json_t *args = json_pack("{s:s, s:s, s:s, s:s}", "id", devname, "filename",
				 fd >= 0 ? file : "", "format", format && *format ? format : "raw",
				 "read-only-mode", "read-only");
	return qmp_exec(q, "blockdev-change-medium", args, NULL, qerr, QMP_TIMEOUT);
}

void media_change(struct backd *b, const struct vbd *v, const char *what)
{
	struct qmp *q = guest_qmp(b, v->domid);
	char *devname = dom_readf(b->xs, XBT_NULL, "%s/device", v->tool);
	char *params = be_read(b, v, "params"), *format = be_read(b, v, "format");
	char *mode = be_read(b, v, "mode");
	char *qerr = NULL, err[1024];
	bool force = be_is(b, v, "force", "1");
	bool locked = false;
	long old_set = fdpass_recorded(b, v), new_set = -1;
	int rc;

	if (!q || !devname) {
		free(devname);
		free(params);
		free(format);
		free(mode);
		return;
	}
	if (strcmp(what, "eject") == 0) {
		rc = eject(q, devname, force, &qerr, &locked);
	} else if (params && *params && media_claim(b, v, params, mode ? mode : "r", err, sizeof(err))) {
		mwait_drop(b, v);
		be_write(b, v, "hotplug-error", err);
		be_write(b, v, "media-change", "error");
		goto out;
	} else {
		/* The tray must be free first: a disc the guest holds stays. */
		rc = eject(q, devname, force, &qerr, &locked);
		if (rc == 0)
			rc = insert(q, v, devname, params, format, mode ? mode : "r", &new_set,
				    &qerr);
	}
	if (rc && locked && mwait_again(b, v))
		goto out; /* asked of the guest: tried again later */
	mwait_drop(b, v);
	if (rc) {
		fdpass_remove(q, new_set);
		snprintf(err, sizeof(err), "%s", qerr ? qerr : "QEMU refused");
		be_write(b, v, "hotplug-error", err);
		be_write(b, v, "media-change", "error");
		log_info("domain %u vbd %lu: media %s refused: %s", v->domid, v->devid, what, err);
	} else {
		/* The medium now belongs to the device; nothing of ours to delete. */
		char *node = dom_readf(b->xs, XBT_NULL, "%s/node", v->tool);
		if (node && *node)
			qmp_exec(q, "blockdev-del", json_pack("{s:s}", "node-name", node), NULL,
				 NULL, QMP_TIMEOUT);
		free(node);
		tool_write(b, v, "node", "");
		/* the old disc is out of the tray: its fdset has no more use */
		char set[32] = "";
		if (new_set >= 0)
			snprintf(set, sizeof(set), "%ld", new_set);
		tool_write(b, v, "fdset", set);
		if (old_set != new_set)
			fdpass_remove(q, old_set);
		if (strcmp(what, "eject") == 0) { /* no disc: holds nothing */
			struct claim c = { .domid = v->domid, .devid = v->devid };
			snprintf(c.mode, sizeof(c.mode), "%s", mode ? mode : "r");
			claims_set(b, &c);
		}
		be_write(b, v, "media-change", "done");
		log_info("domain %u vbd %lu: media %s done", v->domid, v->devid, what);
	}
out:
	free(qerr);
	free(devname);
	free(params);
	free(format);
	free(mode);
}
