/*
 * block-attach.c — xm block-attach (and the disks of xm create): write the
 * device's backend and frontend directories in one transaction, then wait
 * until xmbackd has realised it and the guest's agent has connected it
 * (both Connected), or take it down again and say why (docs/vbd.md). A
 * guest whose agent is not up yet (booting) gets the device as in Xen: it
 * is realised now, and the agent connects it when it starts; xm waits for
 * that up to its deadline, then says so and leaves it attached. The
 * device's operation lock is held from before the write to the end; the
 * crash points xm.attach-written, xm.attach-waiting (each wake-up),
 * xm.attach-failed and xm.attach-undo-closing/-closed mark the instants
 * where a killed xm leaves xmbackd an attach to finish or undo.
 */
#include "block.h"
#include "xm.h"
#include "dom.h"
#include "diskspec.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct newdev {
	const struct vbd *v;
	const struct diskspec *s;
	int bootindex; /* QEMU's bootindex for the device, or -1 */
	const char *slot; /* where xmbackd must put it (xm restore), or NULL */
	struct xm_ctx *x; /* xm block-attach's (its domain maybe unchecked), or NULL */
	struct xsb pre;   /* the reads that go with the transaction's start */
	unsigned int at;  /* the existence reads' place in pre */
	int err;  /* out: why a write failed */
};

/* The device's nodes (Xen's layout, docs/vbd.md), queued in transaction tx. */
static void queue_dirs(struct xsb *b, uint32_t tx, const struct vbd *v, const struct diskspec *s,
		       int bootindex, const char *slot)
{
	char n[32], p[256], dom[16];
	snprintf(dom, sizeof(dom), "r%u", v->domid);
	const char *beperm[] = { "n0", dom };
	snprintf(n, sizeof(n), "n%u", v->domid);
	const char *feperm[] = { n, "r0" };
	const char *type = s->cdrom ? "cdrom" : "disk";
	const char *init = vbd_state_str(XenbusStateInitialising);
	xsb_mkdir(b, tx, v->be);
	xsb_set_perms(b, tx, v->be, beperm, 2);
	xsb_mkdir(b, tx, v->fe);
	xsb_set_perms(b, tx, v->fe, feperm, 2);
#define W(dir, key, val) xsb_write(b, tx, vbd_path(p, sizeof(p), (dir), (key)), (val))
	W(v->be, "frontend", v->fe);
	snprintf(n, sizeof(n), "%u", v->domid);
	W(v->be, "frontend-id", n);
	W(v->be, "params", s->empty ? "" : s->target);
	W(v->be, "type", disk_backend_name(s->backend));
	W(v->be, "format", disk_format_name(s->format));
	W(v->be, "mode", disk_mode_name(s->mode));
	W(v->be, "online", "1");
	W(v->be, "removable", s->cdrom ? "1" : "0");
	W(v->be, "bootable", "1");
	W(v->be, "dev", s->vdev);
	W(v->be, "device-type", type);
	if (slot) /* xm restore: where the saved guest had it */
		W(v->be, VBD_SLOT_NODE, slot);
	if (bootindex >= 0) { /* xm's own: an HVM guest's firmware boots it */
		snprintf(n, sizeof(n), "%d", bootindex);
		W(v->be, "bootindex", n);
	}
	W(v->be, "state", init);
	W(v->fe, "backend", v->be);
	W(v->fe, "backend-id", "0");
	snprintf(n, sizeof(n), "%lu", v->devid);
	W(v->fe, "virtual-device", n);
	W(v->fe, "device-type", type);
	W(v->fe, "state", init);
#undef W
}

/* What xm waits on while a device connects: watched, and read again when
 * their watch fires (all of them the first time, and after 200 ms without
 * events). The tokens are the bits of xsc_wait(). */
enum { W_BE, W_FE, W_ERR, W_HS, W_N };
static const char *const attach_tokens[W_N] = { "be", "fe", "err", "hs" };

/* The path of v's watched node i (W_*). */
static void watched_path(const struct vbd *v, int i, char *buf, size_t len)
{
	switch (i) {
	case W_BE: snprintf(buf, len, "%s/state", v->be); break;
	case W_FE: snprintf(buf, len, "%s/state", v->fe); break;
	case W_ERR: snprintf(buf, len, "%s", v->err); break;
	default: snprintf(buf, len, "%s/hotplug-status", v->be); break;
	}
}

/* The frontend's and backend's existence is the "already connected" test:
 * read with the transaction's start (the device's lock keeps other xm
 * off it, and only xm makes the directories), after the domain's name if
 * it is unchecked. The watches of the wait go with them, so that their
 * registration's events come before the commit, not after it: the
 * wait's first reads, sent once the commit's own events are in, then
 * stand for all of them (wait_connected), and the store is not asked
 * again while xmbackd takes the device (a retried transaction sets them
 * again: EEXIST, harmless). */
static void pre_dirs(struct xsb *p, void *arg)
{
	struct newdev *d = arg;
	char path[256];
	if (d->x)
		xm_domain_queue(d->x, p);
	d->at = p->n;
	xsb_read(p, 0, vbd_path(path, sizeof(path), d->v->fe, "backend"));
	xsb_read(p, 0, vbd_path(path, sizeof(path), d->v->be, "frontend"));
	for (int i = 0; i < W_N; i++) {
		watched_path(d->v, i, path, sizeof(path));
		xsb_watch(p, path, attach_tokens[i]);
	}
}

enum { DIRS_NO_DOMAIN = 1, DIRS_EXIST, DIRS_WRITE_FAILED };

static int fill_dirs(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct newdev *d = arg;
	(void)c;
	if (d->x && xm_domain_checked(d->x, &d->pre, 0))
		return DIRS_NO_DOMAIN;
	if (d->pre.r[d->at].type != XS_ERROR || d->pre.r[d->at + 1].type != XS_ERROR)
		return DIRS_EXIST;
	queue_dirs(b, tx, d->v, d->s, d->bootindex, d->slot);
	return 0;
}

/* The writes went with the commit: a failed one is undone by the caller. */
static int after_dirs(const struct xsb *b, void *arg)
{
	struct newdev *d = arg;
	for (unsigned int i = 0; i + 1 < b->n; i++)
		if ((d->err = xsb_errno(b, i)))
			return DIRS_WRITE_FAILED;
	return 0;
}

/* Both directories in one transaction: its start with the existence
 * reads, its requests with its end (two round trips). 0 or 1 (printed;
 * nothing left). */
static int create_dirs(struct xsc *c, struct xm_ctx *x, const struct vbd *v,
		       const struct diskspec *s, int bootindex, const char *slot)
{
	struct newdev d = { .v = v, .s = s, .bootindex = bootindex, .slot = slot, .x = x };
	xsb_init(&d.pre);
	int rc = xsc_transaction_pre(c, &d.pre, pre_dirs, fill_dirs, after_dirs, &d);
	xsb_reset(&d.pre);
	if (rc == DIRS_NO_DOMAIN)
		return 1;
	if (rc == DIRS_EXIST)
		return xm_error("Device /dev/%s (%lu, vbd) is already connected.", s->vdev, s->devid);
	if (rc == DIRS_WRITE_FAILED) {
		blk_force_remove(c, v, "attach-undo");
		return xm_error("cannot write the device's XenStore nodes: %s", strerror(d.err));
	}
	if (rc < 0)
		return xm_store_error(errno, "XenStore transaction failed: %s", strerror(errno));
	return 0;
}

struct watched {
	char path[W_N][200];
	char *val[W_N];  /* NULL: absent */
};

/* Read the watched nodes that changed (bits of dirty), after whatever b
 * holds already, in one round trip. 0, or -1 (connection lost). */
static int read_watched(struct xsc *c, struct xsb *b, struct watched *w, unsigned int dirty)
{
	int slot[W_N], n = 0;
	for (int i = 0; i < W_N; i++)
		if (dirty & (1u << i)) {
			xsb_read(b, 0, w->path[i]);
			slot[n++] = i;
		}
	int rc = xsc_run(c, b);
	for (int i = 0; rc == 0 && i < n; i++) {
		struct xsb_reply *r = &b->r[b->n - (unsigned int)n + (unsigned int)i];
		free(w->val[slot[i]]);
		w->val[slot[i]] = NULL;
		if (r->type != XS_ERROR) { /* taken */
			w->val[slot[i]] = r->body;
			r->body = NULL;
		}
	}
	int e = errno;
	xsb_reset(b);
	errno = e;
	return rc;
}

/* 1: both Connected (the backend only, when be_only); 0: not yet; -1:
 * failed, *why says why (malloc'd; NULL only without memory). */
static int judge(struct xsc *c, const struct vbd *v, struct watched *w, bool be_only, char **why)
{
	int bs = vbd_state_parse(w->val[W_BE]), fs = vbd_state_parse(w->val[W_FE]);
	char p[200];
	if (w->val[W_HS] && strcmp(w->val[W_HS], "error") == 0) {
		*why = xsc_read(c, 0, vbd_path(p, sizeof(p), v->be, "hotplug-error"));
		if (!*why)
			*why = strdup("the backend failed");
		return -1;
	}
	if (w->val[W_ERR] && *w->val[W_ERR]) {
		*why = w->val[W_ERR];
		w->val[W_ERR] = NULL;
		return -1;
	}
	if (fs == XenbusStateClosed || bs < 0 || fs < 0) {
		*why = strdup("the device went away while connecting");
		return -1;
	}
	return bs == XenbusStateConnected && (be_only || fs == XenbusStateConnected);
}

/* The attach's xm lost the store (err): the lock goes with it, and
 * xmbackd takes the half-made device over. Said as every xm command says
 * a lost store, the socket and the error first (dom.h). */
static char *lost_why(int err)
{
	char text[4200], *s = NULL;
	xm_xs_lost_text(text, sizeof(text), err);
	if (asprintf(&s, "%s; xmbackd finishes or undoes the attach", text) < 0)
		return NULL;
	return s;
}

/* Why an attach timed out: the part that did not answer, if known. */
static char *timed_out(struct xsc *c, unsigned int domid)
{
	char *silent = blk_silent_part(c, domid);
	return silent ? silent : strdup("timed out waiting for the backend and the guest to connect");
}

/* Is the guest's agent up: announced ready, and not recorded disconnected
 * by xmbackd (the state node outlives the agent)? */
static bool agent_up(struct xsc *c, unsigned int domid)
{
	char p[128];
	snprintf(p, sizeof(p), "/local/domain/%u/attr/xmfront/state", domid);
	char *state = xsc_read(c, 0, p);
	snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/agent", domid);
	char *link = xsc_read(c, 0, p);
	bool up = state && strcmp(state, "ready") == 0 &&
		  !(link && strcmp(link, "disconnected") == 0);
	free(state);
	free(link);
	return up;
}

/* Wait until backend and frontend are both Connected (0), or -1 with why
 * not in *why (malloc'd; NULL without memory), or 1: at the deadline the
 * backend is Connected and the guest's agent is not up (still booting, or
 * restarting): the device stays, for the agent to connect when it starts,
 * as Xen's frontend does. The first reads go in one round trip (the
 * watches are set already: pre_dirs), every wake-up's reads in one more. */
static int wait_connected(struct xsc *c, const struct vbd *v, bool be_only, char **why_out)
{
	long deadline = now_ms() + blk_timeout_ms("XM_ATTACH_TIMEOUT", 30000);
	struct watched w = { .val = { NULL } };
	for (int i = 0; i < W_N; i++)
		watched_path(v, i, w.path[i], sizeof(w.path[i]));
	struct xsb b;
	xsb_init(&b);
	/* The watches were set with the transaction's start (pre_dirs). The
	 * events in so far (their registration's, the commit's) came before
	 * the first reads are sent, so these reads stand for them: a change
	 * after an event was sent makes an event of its own (xenstored keeps
	 * one unsent event per path and token, and a change while it waits
	 * goes with it, so only events that come after the reads are sent may
	 * stand for a change they did not see). */
	xsc_forget_events(c);
	unsigned int dirty = (1u << W_N) - 1;
	char *why = NULL;
	int j = -1;
	for (;;) {
		if (read_watched(c, &b, &w, dirty) < 0) {
			why = lost_why(errno);
			break;
		}
		j = judge(c, v, &w, be_only, &why);
		if (j != 0)
			break;
		blk_crash_point("attach", "-waiting");
		int m = xsc_wait_until(c, deadline);
		int e = errno; /* (before anything else sets it) */
		bool late = m < 0 && e == ETIMEDOUT;
		if (late && vbd_state_parse(w.val[W_BE]) == XenbusStateConnected &&
		    !agent_up(c, v->domid)) {
			j = 2; /* attached; the guest connects it when its agent starts */
			break;
		}
		if (m < 0) {
			why = late ? timed_out(c, v->domid) : lost_why(e);
			break;
		}
		dirty = m > 0 ? (unsigned int)m : (1u << W_N) - 1;
	}
	for (int i = 0; i < W_N; i++)
		free(w.val[i]);
	*why_out = why;
	return j == 2 ? 1 : j > 0 ? 0 : -1;
}

/* On c (its tokens set here); x: xm block-attach's context, or NULL.
 * bootindex -1: none; be_only: wait for the backend alone (a paused HVM
 * guest's disks: no agent runs before the firmware has booted). */
static int attach(struct xsc *c, struct xm_ctx *x, unsigned int domid,
		  const struct diskspec *spec, int bootindex, const char *slot, bool be_only)
{
	struct diskspec copy = *spec, *s = &copy;
	struct vbd v;
	vbd_init(&v, domid, s->devid);

	if (blk_domain_first(x))
		return 1;
	if (blk_check_backend(s))
		return 1;
	if (blk_need_backd("block devices cannot be connected"))
		return 1;
	/* its watches need no reader thread, and go when c is closed
	 * (xsbatch.h) */
	xsc_set_tokens(c, attach_tokens, W_N);
	struct blk_lock l;
	char *why = NULL;
	int rc = blk_lock(&l, &v, s->vdev);
	if (!rc)
		rc = create_dirs(c, x, &v, s, bootindex, slot);
	if (!rc) {
		blk_crash_point("attach", "-written");
		int w = wait_connected(c, &v, be_only, &why);
		if (w < 0) {
			blk_crash_point("attach", "-failed");
			blk_force_remove(c, &v, "attach-undo");
			rc = xm_error("%s", why ? vbd_error_text(why) : "out of memory");
			free(why);
		} else if (w > 0) {
			fprintf(stderr, "Device /dev/%s (%lu, vbd) is attached; domain %u's agent is not "
				"up yet, and connects it when it starts.\n", s->vdev, s->devid, domid);
		}
	}
	blk_unlock(&l);
	return rc;
}

/* xm create's and restore's: the domain is theirs, the connection too. */
static int attach_own(unsigned int domid, const struct diskspec *spec, int bootindex,
		      const char *slot, bool be_only)
{
	struct xsc c;
	if (xm_xsc_open(&c, NULL, 0))
		return 1;
	int rc = attach(&c, NULL, domid, spec, bootindex, slot, be_only);
	xsc_close(&c);
	return rc;
}

int xm_block_attach(unsigned int domid, const struct diskspec *spec)
{
	return attach_own(domid, spec, -1, NULL, false);
}

int xm_block_attach_boot(unsigned int domid, const struct diskspec *spec, int bootindex)
{
	return attach_own(domid, spec, bootindex, NULL, true);
}

int xm_block_attach_at(unsigned int domid, const struct diskspec *spec, const char *slot,
		       int bootindex)
{
	return attach_own(domid, spec, bootindex, slot, true);
}

int cmd_block_attach(struct xm_ctx *x, int argc, char **argv)
{
	struct diskspec s;
	char err[512];
	int rc;
	bool dry_run = argc > 1 && (strcmp(argv[1], "-n") == 0 || strcmp(argv[1], "--dry-run") == 0);
	if (dry_run) {
		argc--;
		argv++;
	}
	/* (an unknown domain is said first, as when it is given by name) */
	if (argc == 2) { /* xl's disk-spec form */
		rc = diskspec_parse_xl(argv[1], &s, err, sizeof(err));
	} else if (argc == 4 || argc == 5) {
		rc = diskspec_parse_xm(argv[1], argv[2], argv[3], &s, err, sizeof(err));
		if (rc == 0 && argc == 5 && strcmp(argv[4], "0") != 0 && strcmp(argv[4], "Domain-0") != 0)
			return xm_domain_check(x) ? 1 :
			       xm_error("Backend domain %s is not supported: only Domain-0 serves "
					"block devices here", argv[4]);
	} else {
		return xm_domain_check(x) ? 1 : xm_usage("block-attach");
	}
	if (rc)
		return xm_domain_check(x) ? 1 : xm_error("%s", err);
	if (x->domid == 0)
		return xm_error("Cannot attach block devices to Domain-0");
	if (dry_run)
		return xm_domain_check(x) ? 1 : xm_print_disk(&s);
	return attach(x->c, x, x->domid, &s, -1, NULL, false);
}
