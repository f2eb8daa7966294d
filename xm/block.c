/*
 * block.c — what xm's block commands share (see block.h).
 *
 * xm writes a device's directories in one transaction and then only waits:
 * xmbackd realises the device, xmfront connects it in the guest. Every
 * failure path leaves nothing behind: a device that got as far as QEMU is
 * torn down (forced), the directories removed. Each command holds the
 * device's operation lock (oplock.h) while it writes and waits, so that
 * xmbackd can tell an operation in progress from one whose xm died; and
 * since xmbackd finishes those by itself, what xm removes may be gone
 * already: that is success. A wait that times out names the part that did
 * not answer (blk_silent_part).
 */
#include "block.h"
#include "xm.h"
#include "crashpoint.h"
#include "daemon.h"
#include "dom.h"
#include "diskspec.h"
#include "oplock.h"
#include "util.h"
#include "vdev.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int blk_timeout_ms(const char *env, int def)
{
	const char *s = getenv(env);
	return s && atoi(s) > 0 ? atoi(s) * 1000 : def;
}

/* The state of dir (a backend or frontend): enum xenbus_state, -1 (gone)
 * or BLK_LOST. */
static int blk_state(struct xsc *c, const char *dir)
{
	char p[200];
	char *s = xsc_read(c, 0, vbd_path(p, sizeof(p), dir, "state"));
	if (!s && errno != ENOENT)
		return BLK_LOST;
	int st = vbd_state_parse(s);
	free(s);
	return st;
}

int blk_check_backend(struct diskspec *s)
{
	struct stat st;
	if (s->empty)
		return 0;
	if (stat(s->target, &st) < 0)
		return xm_error("%s: %s", s->target, strerror(errno));
	if (s->backend_auto && s->format == DISK_FMT_RAW)
		s->backend = S_ISBLK(st.st_mode) ? DISK_PHY : DISK_FILE;
	if (s->backend == DISK_PHY && !S_ISBLK(st.st_mode))
		return xm_error("%s is not a block device (phy: needs one; use file: for an image)",
				s->target);
	if (s->backend != DISK_PHY && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return xm_error("%s is not a regular file or block device", s->target);
	if (access(s->target, s->mode == DISK_MODE_R ? R_OK : R_OK | W_OK) < 0)
		return xm_error("%s: %s", s->target, strerror(errno));
	return 0;
}

int blk_name(const char *name, unsigned int domid, struct vbd *v)
{
	char vname[64];
	unsigned long devid;
	snprintf(vname, sizeof(vname), "%s", strncmp(name, "/dev/", 5) == 0 ? name + 5 : name);
	char *colon = strchr(vname, ':'); /* xvdc:cdrom, as block-configure takes it */
	if (colon && (strcmp(colon, ":cdrom") == 0 || strcmp(colon, ":disk") == 0))
		*colon = '\0';
	if (vdev_parse(vname, &devid) < 0)
		return xm_error("Unable to find number for device (%s)", name);
	vbd_init(v, domid, devid);
	return 0;
}

int blk_find(struct xm_ctx *x, const char *name, struct vbd *v)
{
	if (blk_name(name, x->domid, v))
		return 1;
	char *be = dom_readf(x->h, XBT_NULL, "%s/backend", v->fe);
	if (!be)
		return xm_error("Device %s not connected", name);
	free(be);
	return 0;
}

int blk_domain_first(struct xm_ctx *x)
{
	char p[512];
	struct stat st;
	if (!x || !x->unchecked)
		return 0;
	dom_file(x->domid, "", p, sizeof(p));
	return stat(p, &st) == 0 ? 0 : xm_domain_check(x);
}

int blk_wait_closed(struct xsc *c, const char *dir, long deadline)
{
	return blk_wait_closed_or(c, dir, NULL, deadline);
}

/* Does the node at path exist? (a read error other than ENOENT: no) */
static bool node_there(struct xsc *c, const char *path)
{
	char *v = xsc_read(c, 0, path);
	free(v);
	return v != NULL;
}

int blk_wait_closed_or(struct xsc *c, const char *dir, const char *err, long deadline)
{
	char p[200];
	if (xsc_watch(c, vbd_path(p, sizeof(p), dir, "state"), c->tokens[0]) < 0 ||
	    (err && xsc_watch(c, err, c->tokens[0]) < 0))
		return blk_state(c, dir);
	int st;
	while ((st = blk_state(c, dir)) != XenbusStateClosed && st >= 0) {
		if (err && node_there(c, err))
			return BLK_REFUSED;
		if (xsc_wait_until(c, deadline) < 0) {
			if (errno != ETIMEDOUT)
				st = BLK_LOST;
			break;
		}
	}
	return st;
}

static int fill_remove(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vbd *v = arg;
	(void)c;
	xsb_add(b, XS_RM, tx, v->be, strlen(v->be) + 1);
	xsb_add(b, XS_RM, tx, v->fe, strlen(v->fe) + 1);
	xsb_add(b, XS_RM, tx, v->errdir, strlen(v->errdir) + 1);
	return 0;
}

void blk_remove(struct xsc *c, const struct vbd *v)
{
	xsc_transaction(c, fill_remove, NULL, (void *)v);
	/* Drop the domain's backend directory when it is now empty. */
	char p[64];
	unsigned int n = 0;
	snprintf(p, sizeof(p), VBD_BACKEND_ROOT "/%u", v->domid);
	char *names = xsc_directory(c, 0, p, &n);
	struct xsb_reply r;
	if (names && n == 0 && xsc_call(c, XS_RM, 0, p, strlen(p) + 1, &r) == 0)
		free(r.body);
	free(names);
}

static int fill_force(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vbd *v = arg;
	char p[200];
	char *st = xsc_read(c, tx, vbd_path(p, sizeof(p), v->be, "state"));
	bool gone = !st; /* meanwhile (xmbackd finished, or the guest ended) */
	free(st);
	if (gone)
		return 1;
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "online"), "0");
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "force"), "1");
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "state"),
		  vbd_state_str(XenbusStateClosing));
	return 0;
}

void blk_force_remove(struct xsc *c, const struct vbd *v, const char *step)
{
	char p[200];
	char *realised = xsc_read(c, 0, vbd_path(p, sizeof(p), v->tool, "device"));
	if (realised && xsc_transaction(c, fill_force, NULL, (void *)v) == 0) {
		blk_crash_point(step, "-closing");
		/* without xmbackd nobody closes it: its successor unplugs a
		 * device whose directories are gone */
		if (blk_backd_running())
			blk_wait_closed(c, v->be, now_ms() + 15000);
		blk_crash_point(step, "-closed");
	}
	free(realised);
	blk_remove(c, v);
}

void blk_crash_point(const char *step, const char *what)
{
	char name[96];
	snprintf(name, sizeof(name), "xm.%s%s", step, what);
	crash_point(name);
}

int blk_lock(struct blk_lock *l, const struct vbd *v, const char *label)
{
	oplock_path(v->domid, v->devid, l->path, sizeof(l->path));
	l->fd = oplock_take(l->path);
	if (l->fd >= 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return xm_error("another xm is working on device %s of domain %u", label,
				v->domid);
	return xm_error("cannot take the operation lock %s: %s", l->path, strerror(errno));
}

void blk_unlock(struct blk_lock *l)
{
	oplock_release(l->fd, l->path);
	l->fd = -1;
}

static void backd_pidfile(char *out, size_t len)
{
	snprintf(out, len, "%s/xmbackd.pid", xm_rundir());
}

bool blk_backd_running(void)
{
	char path[512];
	backd_pidfile(path, sizeof(path));
	return pidfile_live(path) != 0; /* -1: locked, its pid not yet written */
}

char *blk_silent_part(struct xsc *c, unsigned int domid)
{
	char p[600];
	if (!blk_backd_running()) {
		char pf[512];
		backd_pidfile(pf, sizeof(pf));
		snprintf(p, sizeof(p), "xmbackd is not running (no live pid in %s)", pf);
		return strdup(p);
	}
	snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/qemu", domid);
	char *qemu = xsc_read(c, 0, p);
	bool stuck = qemu && strcmp(qemu, "not answering") == 0;
	free(qemu);
	if (stuck) {
		snprintf(p, sizeof(p), "the QEMU of domain %u does not answer (stopped or hung)",
			 domid);
		return strdup(p);
	}
	snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/agent", domid);
	char *agent = xsc_read(c, 0, p);
	bool gone = agent && strcmp(agent, "disconnected") == 0;
	free(agent);
	if (gone) {
		snprintf(p, sizeof(p), "the guest's agent (xmfront) of domain %u is not connected",
			 domid);
		return strdup(p);
	}
	return NULL;
}

int blk_need_backd(const char *what)
{
	char path[512];
	if (blk_backd_running())
		return 0;
	backd_pidfile(path, sizeof(path));
	return xm_error("xmbackd is not running (no live pid in %s): %s; start it first", path, what);
}
