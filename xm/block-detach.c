/*
 * block-detach.c — xm block-detach: ask the guest to let go of a device
 * (backend Closing), wait for the backend to close (xmbackd unplugs it once
 * the frontend is Closed) and remove its directories. A guest that refuses
 * (the device is mounted or open) says why in its error node: the device
 * is put back to Connected, nothing changed. -f takes it down without the
 * guest (docs/vbd.md). The device's operation lock is held throughout; an
 * xm killed at a crash point (xm.detach-closing, xm.detach-closed,
 * xm.detach-force-closing, xm.detach-force-closed) leaves the detach to
 * xmbackd, which finishes or undoes it.
 */
#include "block.h"
#include "xm.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a detach's transactions find first: the backend gone (nothing to
 * do, or nothing left to undo) or already Closed (xmbackd finished the
 * detach of an xm that died): vetoes, nothing written. xm block-detach's
 * first one also finds an unknown domain, a device it does not have and
 * xmbackd not running (said when found). */
enum { BE_GONE = 1, BE_CLOSED, NO_DOMAIN, NOT_CONNECTED, NO_BACKD };

static int be_veto(struct xsc *c, const struct vbd *v, uint32_t tx)
{
	char p[200];
	char *s = xsc_read(c, tx, vbd_path(p, sizeof(p), v->be, "state"));
	int st = vbd_state_parse(s);
	free(s);
	if (st < 0)
		return BE_GONE;
	return st == XenbusStateClosed ? BE_CLOSED : 0;
}

/* The Closing's transaction: its start goes with the domain's name (if
 * unchecked) and the frontend's backend (is there such a device?); the
 * backend's state is read in it, a change by xmbackd meanwhile making the
 * commit fail. */
struct closing {
	struct xm_ctx *x;
	const struct vbd *v;
	struct xsb pre;
	unsigned int at; /* the frontend's backend in pre */
};

static void pre_closing(struct xsb *p, void *arg)
{
	struct closing *d = arg;
	char path[200];
	xm_domain_queue(d->x, p);
	d->at = p->n;
	xsb_read(p, 0, vbd_path(path, sizeof(path), d->v->fe, "backend"));
}

/* The domain and the device, from pre's replies: 0, or a veto (printed
 * but NOT_CONNECTED, whose text is the caller's). */
static int closing_known(struct closing *d)
{
	if (xm_domain_checked(d->x, &d->pre, 0))
		return NO_DOMAIN;
	if (d->pre.r[d->at].type == XS_ERROR)
		return NOT_CONNECTED;
	return 0;
}

static int fill_closing(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct closing *d = arg;
	const struct vbd *v = d->v;
	char p[200];
	int veto = closing_known(d);
	if (!veto && blk_need_backd("block devices cannot be disconnected"))
		veto = NO_BACKD;
	if (!veto)
		veto = be_veto(c, v, tx);
	if (veto)
		return veto;
	/* an earlier refusal's reason goes first (absent is fine: the
	 * transaction commits with the writes, in their round trip) */
	xsb_add(b, XS_RM, tx, v->err, strlen(v->err) + 1);
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "online"), "0");
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "state"),
		  vbd_state_str(XenbusStateClosing));
	return 0;
}

static int fill_reconnect(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vbd *v = arg;
	char p[200];
	int veto = be_veto(c, v, tx);
	if (veto)
		return veto;
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "state"),
		  vbd_state_str(XenbusStateConnected));
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "online"), "1");
	xsb_add(b, XS_RM, tx, v->errdir, strlen(v->errdir) + 1); /* the guest clears it too */
	return 0;
}

/* The guest refused (its error node), or the backend did not close in time:
 * back to Connected, nothing changed, with the guest's reason or the part
 * that did not answer. The guest let go but xmbackd did not unplug: left
 * Closing for xmbackd to finish (the guest no longer has the device; going
 * back would leave it half-connected). 0 if it closed meanwhile, else 1
 * (printed). */
static int give_up(struct xsc *c, const struct vbd *v, const char *label)
{
	char p[200];
	char *why = xsc_read(c, 0, v->err);
	char *fs = xsc_read(c, 0, vbd_path(p, sizeof(p), v->fe, "state"));
	bool released = !why && vbd_state_parse(fs) == XenbusStateClosed;
	free(fs);
	char *silent = why ? NULL : blk_silent_part(c, v->domid);
	int rc;
	if (released) {
		rc = xm_error("Device %s (%lu, vbd) could not be disconnected: %s; the guest has "
			      "released it, and xmbackd finishes the detach", label, v->devid,
			      silent ? silent : "xmbackd did not take it down");
	} else {
		int veto = xsc_transaction(c, fill_reconnect, NULL, (void *)v);
		if (veto == BE_GONE || veto == BE_CLOSED) {
			blk_remove(c, v); /* closed after all */
			rc = 0;
		} else {
			const char *text = why ? vbd_error_text(why) :
				silent ? silent : "the guest did not release it";
			rc = xm_error("Device %s (%lu, vbd) could not be disconnected: %s", label,
				      v->devid, text);
		}
	}
	free(why);
	free(silent);
	return rc;
}

/* Ask the guest to let go and wait for the backend to close; refused or no
 * answer: see give_up. 0 or 1 (printed). c watches with one token. */
static int detach(struct xsc *c, struct xm_ctx *x, const struct vbd *v, const char *label)
{
	struct closing d = { .x = x, .v = v };
	xsb_init(&d.pre);
	int rc = xsc_transaction_pre(c, &d.pre, pre_closing, fill_closing, NULL, &d);
	xsb_reset(&d.pre);
	if (rc < 0)
		return xm_store_error(errno, "XenStore transaction failed: %s", strerror(errno));
	if (rc == NO_DOMAIN || rc == NO_BACKD)
		return 1;
	if (rc == BE_GONE || rc == NOT_CONNECTED)
		return xm_error("Device %s not connected", label);
	int bs = XenbusStateClosed;
	if (rc != BE_CLOSED) {
		blk_crash_point("detach", "-closing");
		long deadline = now_ms() + blk_timeout_ms("XM_DETACH_TIMEOUT", 10000);
		bs = blk_wait_closed_or(c, v->be, v->err, deadline);
	}
	if (bs == BLK_REFUSED) /* the guest said why at once: no need to wait */
		return give_up(c, v, label);
	if (bs == BLK_LOST) /* the lock goes with us: xmbackd takes over */
		return xm_error("Device %s (%lu, vbd): lost the connection to XenStore while it "
				"was closing; xmbackd finishes or undoes the detach", label, v->devid);
	if (bs == XenbusStateClosed || bs < 0) {
		blk_crash_point("detach", "-closed");
		blk_remove(c, v);
		return 0;
	}
	return give_up(c, v, label);
}

/* -f: the domain and the device known first (one round trip). */
static int force(struct xsc *c, struct xm_ctx *x, const struct vbd *v, const char *label)
{
	struct closing d = { .x = x, .v = v };
	xsb_init(&d.pre);
	pre_closing(&d.pre, &d);
	int rc = xsc_run(c, &d.pre) < 0 ? -1 : closing_known(&d), e = errno;
	xsb_reset(&d.pre);
	if (rc < 0)
		return xm_store_error(e, "XenStore read failed: %s", strerror(e));
	if (rc == NOT_CONNECTED)
		return xm_error("Device %s not connected", label);
	if (rc)
		return 1;
	if (blk_need_backd("block devices cannot be disconnected"))
		return 1;
	fprintf(stderr, "Warning: forcing the detach of %s without the guest's consent: "
		"data it has not written out is lost.\n", label);
	blk_force_remove(c, v, "detach-force");
	return 0;
}

int cmd_block_detach(struct xm_ctx *x, int argc, char **argv)
{
	bool forced = false;
	const char *dev = NULL;
	bool usage = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			forced = true;
		else if (!dev)
			dev = argv[i];
		else
			usage = true;
	}
	/* (an unknown domain is said first, as when it is given by name) */
	if (usage || !dev)
		return xm_domain_check(x) ? 1 : xm_usage("block-detach");
	struct vbd v;
	if (blk_domain_first(x))
		return 1;
	if (blk_name(dev, x->domid, &v))
		return 1;
	if (x->domid == 0) /* Domain-0 has no frontends (and no run directory) */
		return xm_error("Device %s not connected", dev);
	/* on main's connection: batched, its watch needs no reader thread
	 * (xsbatch.h) */
	static const char *const tokens[] = { "be" };
	xsc_set_tokens(x->c, tokens, 1);
	struct blk_lock l;
	int rc = blk_lock(&l, &v, dev);
	if (rc == 0)
		rc = forced ? force(x->c, x, &v, dev) : detach(x->c, x, &v, dev);
	blk_unlock(&l);
	return rc;
}
