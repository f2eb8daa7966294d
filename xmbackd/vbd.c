/*
 * vbd.c — the block backend's events: what to do with a device, as its
 * XenStore nodes say (docs/vbd.md).
 *
 * Everything is driven by XenStore state, re-read on every watch event, so
 * a restarted xmbackd carries on where the last one stopped: a backend at
 * Initialising is realised (plug.c: claim and intent, blockdev-add,
 * device_add), one at Closing is torn down once its frontend has closed
 * (or at once with force), a media change is carried out (media.c). What
 * xmbackd made in QEMU is recorded under /tool/xm/domain/D/vbd/DEVID; a
 * teardown keeps that record (phase unplugging), and so the claim, until
 * QEMU has let the device go.
 *
 * Operations that an xm left half-way when it died (no one holds the
 * device's operation lock, lib/oplock.h) are finished here, as that xm
 * would have: a refused or unanswered detach goes back to Connected, a
 * closed or refused device's directories are removed.
 *
 * The QMP half of an attach or a detach is a job on the guest (plug.c):
 * sent, and carried on as QEMU answers, so a stopped QEMU holds up only its
 * own guest's devices, which wait for their guest's job to end. The claims
 * are taken in XenStore transactions (claims.h) before QEMU is touched,
 * which is what makes the sharing check atomic.
 */
#include "vbd-int.h"
#include "claims.h"
#include "crashpoint.h"
#include "dom.h"
#include "oplock.h"
#include "util.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool be_exists(struct backd *b, const struct vbd *v)
{
	char *s = be_read(b, v, "frontend");
	bool r = s || !absent();
	free(s);
	return r;
}

void vbd_watch_frontend(struct backd *b, const struct vbd *v, const char *fe, bool on)
{
	char fs[256];
	uint32_t type = on ? XS_WATCH : XS_UNWATCH;
	xsc_send(&b->xw, type, vbd_path(fs, sizeof(fs), fe, "state"), "frontend");
	xsc_send(&b->xw, type, v->err, "frontend");
}

void vbd_teardown(struct backd *b, const struct vbd *v, const struct snap *sn, bool write_state)
{
	if (guest_busy(b, v->domid, v->devid))
		return; /* after the job in flight on its QEMU */
	struct guest *g = guest_ready(b, v->domid);
	struct snap own;
	if (!sn) {
		snap_read(b, v, &own);
		sn = &own;
	}
	const char *phase = sn->v[K_PHASE], *node = sn->v[K_NODE];
	char devname[64];
	bool dev = sn->v[K_TOOLDEV] || phase;
	if (sn->v[K_TOOLDEV])
		snprintf(devname, sizeof(devname), "%s", sn->v[K_TOOLDEV]);
	else /* an intent: the name it was to have */
		snprintf(devname, sizeof(devname), "xmdev-%lu", v->devid);
	if (!sn->ok || (dev && !g))
		goto out; /* the store or the guest's QEMU unreachable: later */
	if (dev) {
		tool_write(b, v, "phase", PHASE_UNPLUGGING);
		vbd_unplug_start(b, g, v, devname, node, fdpass_parse_id(sn->v[K_FDSET]), write_state);
	} else {
		vbd_teardown_done(b, v, write_state);
	}
out:
	if (sn == &own)
		snap_free(&own);
}

void vbd_teardown_done(struct backd *b, const struct vbd *v, bool write_state)
{
	crash_point("xmbackd.before-closed");
	struct kv kv[2] = { { v->tool, NULL, NULL },
			    { v->be, "state", vbd_state_str(XenbusStateClosed) } };
	char fe[200];
	/* Closed only into a backend that still exists (not a removed one) */
	int rc = write_state ? claims_release(b, v->domid, v->devid,
					      vbd_path(fe, sizeof(fe), v->be, "frontend"), kv, 2) : 1;
	if (rc == 1)
		rc = claims_release(b, v->domid, v->devid, NULL, kv, 1);
	if (rc < 0)
		return;
	vbd_watch_frontend(b, v, v->fe, false);
	log_info("domain %u vbd %lu: disconnected", v->domid, v->devid);
}

/* The domain's backend directory, once empty (as xm does). */
static int remove_empty_op(struct xsc *c, void *arg)
{
	const struct vbd *v = arg;
	char p[64];
	unsigned int n = 0;
	snprintf(p, sizeof(p), VBD_BACKEND_ROOT "/%u", v->domid);
	char *names = xsc_directory(c, 0, p, &n);
	struct xsb_reply reply;
	if (names && n == 0 && xsc_call(c, XS_RM, 0, p, strlen(p) + 1, &reply) == 0)
		free(reply.body);
	free(names);
	return 0;
}

void vbd_remove_dirs(struct backd *b, const struct vbd *v, const char *state)
{
	/* only the directories as they were seen: an xm that finished
	 * meanwhile has removed them (its lock was still held when they were
	 * read, and is free now), a new attach has written them anew */
	struct kv kv[3] = { { v->be, NULL, NULL }, { v->fe, NULL, NULL }, { v->errdir, NULL, NULL } };
	char st[200];
	if (vbd_record_if(b, vbd_path(st, sizeof(st), v->be, "state"), state, kv, 3) != 0)
		return;
	backd_xr(b, remove_empty_op, (void *)v);
	log_info("domain %u vbd %lu: left by an xm that died: removed", v->domid, v->devid);
}

/* Does an xm work on the device (its operation lock is held)? */
static bool xm_at_work(const struct vbd *v)
{
	char path[512];
	oplock_path(v->domid, v->devid, path, sizeof(path));
	return oplock_held(path);
}

/* A detach at Closing that the guest refused, or cannot answer (its agent
 * is not connected), and whose xm died: back to Connected, as xm's own
 * refusal path does. */
static void abandoned_closing(struct backd *b, const struct vbd *v)
{
	char *why = dom_readf(b->xs, XBT_NULL, "%s", v->err);
	char *agent = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/agent", v->domid);
	bool refused = why && *why, mute = agent && strcmp(agent, "disconnected") == 0;
	free(why);
	free(agent);
	if ((!refused && !mute) || xm_at_work(v))
		return;
	struct kv kv[3] = { { v->be, "state", vbd_state_str(XenbusStateConnected) },
			    { v->be, "online", "1" },
			    { v->errdir, NULL, NULL } };
	char st[200];
	if (vbd_record_if(b, vbd_path(st, sizeof(st), v->be, "state"),
			  vbd_state_str(XenbusStateClosing), kv, 3) == 0)
		log_info("domain %u vbd %lu: detach %s, its xm gone: Connected again", v->domid,
			 v->devid, refused ? "refused by the guest" : "not answered");
}

/* The backend's fate when it is Closing. */
static void closing(struct backd *b, const struct vbd *v, const struct snap *sn)
{
	const char *dev = sn->v[K_TOOLDEV] ? sn->v[K_TOOLDEV] : sn->v[K_PHASE], *fe = sn->v[K_FE];
	if (!dev) { /* never realised (refused, or undone): nothing to take out */
		be_write_state(b, v, XenbusStateClosed);
		return;
	}
	/* the frontend's state: read with the snapshot, where Xen puts it */
	bool std = fe && strcmp(fe, v->fe) == 0;
	char *fes = std ? (sn->v[K_FESTATE] ? strdup(sn->v[K_FESTATE]) : NULL) :
		    fe ? dom_readf(b->xs, XBT_NULL, "%s/state", fe) : NULL;
	bool fe_gone = !fes && (!fe || std || absent());
	if (snap_is(sn, K_FORCE, "1") || fe_gone || vbd_state_parse(fes) == XenbusStateClosed ||
	    snap_is(sn, K_PHASE, PHASE_UNPLUGGING))
		vbd_teardown(b, v, sn, true);
	else if (fes && snap_is(sn, K_PHASE, PHASE_CONNECTED))
		abandoned_closing(b, v);
	free(fes);
}

/* What to do with one device, as its snapshot says: true when it is an
 * attach to make (the caller makes the batch's together), else done. */
static bool consider(struct backd *b, const struct vbd *v, const struct snap *sn)
{
	const char *state = sn->v[K_STATE], *hs = sn->v[K_HS], *mc = sn->v[K_MC];
	/* dev: a record exists (realised, or an intent) */
	const char *dev = sn->v[K_TOOLDEV] ? sn->v[K_TOOLDEV] : sn->v[K_PHASE], *fe = sn->v[K_FE];
	int st = vbd_state_parse(state);

	if (!sn->ok)
		return false; /* nothing is decided on a half-read state */
	if (st == XenbusStateInitialising && !hs && !dev && snap_is(sn, K_ONLINE, "1")) {
		return true;
	} else if (st == XenbusStateClosing) {
		closing(b, v, sn);
	} else if (st == XenbusStateConnected && dev && mc &&
		   (strcmp(mc, "insert") == 0 || strcmp(mc, "eject") == 0)) {
		media_change(b, v, mc);
	} else if (!state && dev && !fe) {
		/* the backend vanished (removed by hand): out of the guest too */
		vbd_teardown(b, v, sn, false);
	} else if (state && ((st == XenbusStateClosed && !dev) || snap_is(sn, K_HS, "error")) &&
		   !xm_at_work(v)) {
		/* closed or refused, and the xm that waited for it died */
		vbd_remove_dirs(b, v, state);
	}
	return false;
}

/* The guests whose devices waited for a job that ended during a batch:
 * looked at now (job_free leaves them for the end of the batch). */
static void rescan_deferred(struct backd *b)
{
	while (b->rescan_due && !b->batch_depth) {
		b->rescan_due = false;
		for (struct guest *g = b->guests; g; g = g->next)
			if (g->deferred && !g->gone && g->njobs < GUEST_JOBS_MAX) {
				g->deferred = false;
				vbd_scan_domain(b, g->domid);
			}
	}
}

void vbd_consider_many(struct backd *b, const struct vbd_key *keys, unsigned int n)
{
	for (unsigned int at = 0; at < n;) {
		struct vbd vs[VBD_BATCH];
		struct snap sn[VBD_BATCH];
		const struct vbd *pv[VBD_BATCH];
		const struct snap *ps[VBD_BATCH];
		int m = 0, np = 0;
		for (; at < n && m < VBD_BATCH; at++)
			if (!guest_busy(b, keys[at].domid, keys[at].devid)) /* after its job */
				vbd_init(&vs[m++], keys[at].domid, keys[at].devid);
		b->batch_depth++;
		snap_read_many(b, vs, sn, m);
		for (int i = 0; i < m; i++)
			if (consider(b, &vs[i], &sn[i])) {
				pv[np] = &vs[i];
				ps[np++] = &sn[i];
			}
		vbd_plug_many(b, pv, ps, np);
		for (int i = 0; i < m; i++)
			snap_free(&sn[i]);
		b->batch_depth--;
	}
	rescan_deferred(b);
}

void vbd_consider(struct backd *b, unsigned int domid, unsigned long devid)
{
	struct vbd_key k = { domid, devid };
	vbd_consider_many(b, &k, 1);
}

static void note_dev(struct backd *b, unsigned int domid, unsigned long devid)
{
	for (unsigned int i = 0; i < b->npending; i++)
		if (b->pending[i].domid == domid && b->pending[i].devid == devid)
			return;
	if (b->npending == VBD_PENDING_MAX) {
		b->pending_overflow = true;
		return;
	}
	b->pending[b->npending++] = (struct vbd_key){ domid, devid };
}

bool vbd_note(struct backd *b, const char *path)
{
	/* the backend nodes consider() looks at; the others (params, mode,
	 * what xmbackd writes back) never decide anything alone */
	static const char *const keys[] = { "state", "online", "force", "media-change",
					    "hotplug-status" };
	unsigned int domid;
	unsigned long devid;
	int n = 0;

	if (sscanf(path, VBD_BACKEND_ROOT "/%u%n", &domid, &n) == 1 && path[n] == '\0') {
		/* a guest's first backend (or its last gone): its devices */
		char dir[64];
		unsigned int nv = 0;
		snprintf(dir, sizeof(dir), VBD_BACKEND_ROOT "/%u", domid);
		char **devs = xs_directory(b->xs, XBT_NULL, dir, &nv);
		if (!devs)
			return false; /* removed with its devices: look at everything */
		for (unsigned int j = 0; j < nv; j++)
			note_dev(b, domid, strtoul(devs[j], NULL, 10));
		free(devs);
		return true;
	}
	n = 0;
	if (sscanf(path, VBD_BACKEND_ROOT "/%u/%lu%n", &domid, &devid, &n) == 2) {
		if (path[n] == '\0') {
			note_dev(b, domid, devid);
			return true;
		}
		if (path[n] != '/')
			return false;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(path + n + 1, keys[k]) == 0) {
				note_dev(b, domid, devid);
				break;
			}
		return true;
	}
	n = 0;
	if (sscanf(path, "/local/domain/%u/device/vbd/%lu/state%n", &domid, &devid, &n) == 2 &&
	    path[n] == '\0') {
		note_dev(b, domid, devid);
		return true;
	}
	n = 0; /* the guest refused a close (its error node) */
	if (sscanf(path, "/local/domain/%u/error/device/vbd/%lu/error%n", &domid, &devid, &n) == 2 &&
	    path[n] == '\0') {
		note_dev(b, domid, devid);
		return true;
	}
	/* xmbackd's own records of what it made (under the domains watch) */
	n = 0;
	if (sscanf(path, XM_TOOL_ROOT "/domain/%u/vbd%n", &domid, &n) == 1 && n > 0 &&
	    (path[n] == '\0' || path[n] == '/'))
		return true;
	n = 0; /* and its note of the guest's agent */
	if (sscanf(path, XM_TOOL_ROOT "/domain/%u/agent%n", &domid, &n) == 1 && n > 0 &&
	    path[n] == '\0')
		return true;
	return false;
}

void vbd_flush(struct backd *b)
{
	bool all = b->pending_overflow;
	unsigned int n = b->npending;
	struct vbd_key keys[VBD_PENDING_MAX];
	b->npending = 0;
	b->pending_overflow = false;
	if (all) {
		vbd_scan(b);
		return;
	}
	memcpy(keys, b->pending, n * sizeof(*keys)); /* (noted anew meanwhile: the next flush) */
	vbd_consider_many(b, keys, n);
}

/* The devices whose backend vanished (xm detach -f gone wrong, a tool
 * removing nodes by hand) of domain dom: out of the guest too. */
static void vanished(struct backd *b, const char *dom)
{
	unsigned int nv = 0;
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%s/vbd", dom);
	char **devs = xs_directory(b->xs, XBT_NULL, path, &nv);
	for (unsigned int j = 0; j < nv; j++) {
		struct vbd v;
		vbd_init(&v, (unsigned int)atoi(dom), strtoul(devs[j], NULL, 10));
		char *s = be_read(b, &v, "frontend");
		if (!s && absent())
			vbd_teardown(b, &v, NULL, false);
		free(s);
	}
	free(devs);
}

static void backends(struct backd *b, const char *dom)
{
	unsigned int nv = 0;
	char path[128];
	snprintf(path, sizeof(path), VBD_BACKEND_ROOT "/%s", dom);
	char **devs = xs_directory(b->xs, XBT_NULL, path, &nv);
	struct vbd_key *keys = devs && nv ? calloc(nv, sizeof(*keys)) : NULL;
	for (unsigned int j = 0; keys && j < nv; j++)
		keys[j] = (struct vbd_key){ (unsigned int)atoi(dom), strtoul(devs[j], NULL, 10) };
	if (keys)
		vbd_consider_many(b, keys, nv);
	free(keys);
	free(devs);
}

void vbd_scan_domain(struct backd *b, unsigned int domid)
{
	char dom[16];
	snprintf(dom, sizeof(dom), "%u", domid);
	backends(b, dom);
	vanished(b, dom);
	vif_scan_domain(b, domid); /* the guest's vifs too (they wait for the same) */
}

void vbd_scan(struct backd *b)
{
	unsigned int nd = 0;
	char **doms = xs_directory(b->xs, XBT_NULL, VBD_BACKEND_ROOT, &nd);
	for (unsigned int i = 0; i < nd; i++)
		backends(b, doms[i]);
	free(doms);

	unsigned int ng = 0;
	char **guests = xs_directory(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain", &ng);
	for (unsigned int i = 0; i < ng; i++)
		vanished(b, guests[i]);
	free(guests);
}

/* Names [*at, *at + max) of a directory of n (wrapping), *at moved on. */
static void slice(char **names, unsigned int n, unsigned int *at, unsigned int max,
		  void (*fn)(struct backd *, const char *), struct backd *b)
{
	if (*at >= n)
		*at = 0;
	unsigned int k = n < max ? n : max;
	for (unsigned int i = 0; i < k; i++)
		fn(b, names[(*at + i) % n]);
	*at = n ? (*at + k) % n : 0;
}

void vbd_sweep(struct backd *b, unsigned int max)
{
	unsigned int nd = 0, ng = 0;
	char **doms = xs_directory(b->xs, XBT_NULL, VBD_BACKEND_ROOT, &nd);
	slice(doms, doms ? nd : 0, &b->sweep_be, max, backends, b);
	free(doms);
	char **guests = xs_directory(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain", &ng);
	slice(guests, guests ? ng : 0, &b->sweep_rec, max, vanished, b);
	free(guests);
}
