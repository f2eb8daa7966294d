/*
 * media.c — CD/DVD media changes of a cdrom vbd (docs/vbd.md "CD/DVD
 * media"): QEMU's eject and blockdev-change-medium, the sharing check of
 * a new disc, and the wait for a guest that holds the tray locked (retried
 * from the main loop, so that nothing else waits meanwhile). Each command
 * is answered through the loop (qcall.h): a change is a chain of them,
 * one change at a time on a guest (guest_any_job). A new disc
 * goes to QEMU as a descriptor (fdpass.c) in an fdset of its own; the old
 * disc's fdset goes once the new one is in (or the tray is empty).
 */
#include "vbd-int.h"
#include "dom.h"
#include "qcall.h"
#include "qmp.h"
#include "claims.h"
#include "crashpoint.h"
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

/* A media change under way: eject (and for an insert, add-fd, then
 * blockdev-change-medium), each answered through the loop (qcall.h), so
 * that a QEMU slow to answer holds up nothing but its own guest. */
struct media_op {
	struct vbd v;
	char devname[64];
	char what[8];           /* "eject" or "insert" */
	char mode[4];
	char format[16];
	bool force;
	bool blk;               /* the new disc is a block device */
	long old_set, new_set;  /* the fdsets of the old disc and the new (-1: none) */
	char params[4096];      /* the new disc ("": none) */
};

/* The change is over: err NULL when QEMU made it. */
static void media_end(struct backd *b, struct guest *g, const struct media_op *op,
		      const char *err)
{
	const struct vbd *v = &op->v;
	mwait_drop(b, v);
	if (err) {
		char why[1024];
		if (g->q)
			fdpass_remove(g->q, op->new_set);
		snprintf(why, sizeof(why), "%s", err);
		be_write(b, v, "hotplug-error", why);
		be_write(b, v, "media-change", "error");
		log_info("domain %u vbd %lu: media %s refused: %s", v->domid, v->devid, op->what,
			 why);
		return;
	}
	crash_point("xmbackd.media-before-done");
	/* The medium now belongs to the device; nothing of ours to delete. */
	char *node = dom_readf(b->xs, XBT_NULL, "%s/node", v->tool);
	if (node && *node)
		qcall(b, g, "blockdev-del", json_pack("{s:s}", "node-name", node), -1, NULL, NULL,
		      0);
	free(node);
	tool_write(b, v, "node", "");
	/* the old disc is out of the tray: its fdset has no more use */
	char set[32] = "";
	if (op->new_set >= 0)
		snprintf(set, sizeof(set), "%ld", op->new_set);
	tool_write(b, v, "fdset", set);
	if (op->old_set != op->new_set && g->q)
		fdpass_remove(g->q, op->old_set);
	if (strcmp(op->what, "eject") == 0) { /* no disc: holds nothing */
		struct claim c = { .domid = v->domid, .devid = v->devid };
		snprintf(c.mode, sizeof(c.mode), "%s", op->mode);
		claims_set(b, &c);
	}
	be_write(b, v, "media-change", "done");
	log_info("domain %u vbd %lu: media %s done", v->domid, v->devid, op->what);
}

static void changed(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		    bool answered)
{
	(void)ret;
	(void)answered;
	if (arg)
		media_end(b, g, arg, err);
}

/* The new disc into the tray, from its fdset (or none). */
static void change_medium(struct backd *b, struct guest *g, const struct media_op *op)
{
	char file[96] = "", name[64];
	if (op->new_set >= 0) {
		/* the protocol said, as /dev/fdset/N is no path QEMU can probe */
		fdpass_name(name, sizeof(name), op->new_set);
		snprintf(file, sizeof(file), "%s:%s", op->blk ? "host_device" : "file", name);
	}
	json_t *args = json_pack("{s:s, s:s, s:s, s:s}", "id", op->devname, "filename", file,
				 "format", op->format[0] ? op->format : "raw", "read-only-mode",
				 "read-only");
	qcall(b, g, "blockdev-change-medium", args, -1, changed, op, sizeof(*op));
}

static void fd_added(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		     bool answered)
{
	(void)ret;
	(void)answered;
	if (!arg)
		return;
	if (err) {
		media_end(b, g, arg, err);
	} else {
		crash_point("xmbackd.media-after-add-fd");
		change_medium(b, g, arg);
	}
}

/* The tray is free: hand the new disc to QEMU (fdpass.c), then in. */
static void insert(struct backd *b, struct guest *g, struct media_op *op)
{
	if (!op->params[0]) {
		change_medium(b, g, op);
		return;
	}
	int fd = fdpass_open(op->params, op->mode, &op->blk);
	if (fd < 0) {
		char why[4200];
		snprintf(why, sizeof(why), "%s: %s", op->params, strerror(errno));
		media_end(b, g, op, why);
		return;
	}
	op->new_set = fdpass_new_id(op->v.devid);
	qcall(b, g, "add-fd", fdpass_add_args(op->new_set, op->v.devid, op->params), fd, fd_added,
	      op, sizeof(*op));
	close(fd);
}

/* eject's answer: refused while the guest holds the tray (QEMU has asked
 * it to let go: tried again later), else on to the insert or the end. */
static void ejected(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		    bool answered)
{
	struct media_op *op = arg;
	(void)ret;
	if (!op)
		return;
	if (err) {
		bool locked = answered && !op->force && strstr(err, "is locked");
		if (locked && mwait_again(b, &op->v))
			return; /* asked of the guest: tried again later */
		media_end(b, g, op, err);
	} else if (strcmp(op->what, "eject") == 0) {
		media_end(b, g, op, NULL);
	} else {
		crash_point("xmbackd.media-after-eject");
		insert(b, g, op);
	}
}

void media_change(struct backd *b, const struct vbd *v, const char *what)
{
	struct guest *g = guest_ready(b, v->domid);
	struct media_wait *w = mwait_find(b, v);
	if (w) /* still asked */
		w->touched = true;
	if (!g || (w && now_ms() < w->next))
		return; /* its retry's time, or its eject's answer, to come */
	if (guest_any_job(b, v->domid)) { /* this change's own calls among them */
		if (w)
			w->next = now_ms() + MEDIA_RETRY_MS;
		return; /* looked at again once they end (deferred) */
	}
	char *devname = dom_readf(b->xs, XBT_NULL, "%s/device", v->tool);
	char *params = be_read(b, v, "params"), *format = be_read(b, v, "format");
	char *mode = be_read(b, v, "mode");
	char err[1024];
	struct media_op *op = calloc(1, sizeof(*op));
	if (!op || !devname)
		goto out;
	op->v = *v;
	snprintf(op->devname, sizeof(op->devname), "%s", devname);
	snprintf(op->what, sizeof(op->what), "%s", strcmp(what, "eject") == 0 ? "eject" : "insert");
	snprintf(op->mode, sizeof(op->mode), "%s", mode ? mode : "r");
	snprintf(op->format, sizeof(op->format), "%s", format ? format : "");
	snprintf(op->params, sizeof(op->params), "%s", params ? params : "");
	op->force = be_is(b, v, "force", "1");
	op->old_set = fdpass_recorded(b, v);
	op->new_set = -1;
	if (strcmp(op->what, "insert") == 0 && op->params[0] &&
	    media_claim(b, v, params, op->mode, err, sizeof(err))) {
		mwait_drop(b, v);
		be_write(b, v, "hotplug-error", err);
		be_write(b, v, "media-change", "error");
		goto out;
	}
	if (w) /* the eject's answer says when (its deadline ends it before) */
		w->next = now_ms() + QMP_TIMEOUT + MEDIA_RETRY_MS;
	/* The tray must be free first: a disc the guest holds stays. */
	qcall(b, g, "eject", json_pack("{s:s, s:b}", "id", op->devname, "force", op->force), -1,
	      ejected, op, sizeof(*op));
out:
	free(op);
	free(devname);
	free(params);
	free(format);
	free(mode);
}
