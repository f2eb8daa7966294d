/*
 * reconcile.c — XenStore is the record, QEMU is the reality: bring them
 * back together after anything died half-way (docs/vbd.md "Recovery").
 *
 * Run for a guest when xmbackd (re)attaches to its QMP, after a store
 * reconnect, on a slow timer (-r), and when QEMU reports a device of ours
 * deleted that xmbackd did not wait for. It asks QEMU what it holds
 * (qview.c: a job of the event loop, so that a QEMU that stops answering
 * midway holds up no other guest), reads the guest's records once QEMU
 * has answered all of it, and:
 *
 *   record  plugging,   device in QEMU  the attach is finished (connected),
 *                                       if the backend still waits; else
 *                                       the device is taken out
 *   record  plugging,   no device       the intent is undone (node deleted,
 *                                       claim released): the backend is
 *                                       plugged again
 *   record  connected,  device          the claim is set from what QEMU has
 *                                       open
 *   record  connected,  no device       the backend is Closed, the record
 *                                       and claim released
 *   record  unplugging, device          device_del again (its DEVICE_DELETED
 *                                       brings the next run)
 *   record  unplugging, no device       finished: node deleted, record and
 *                                       claim released, backend Closed
 *   device without a record             adopted (record and claim rebuilt
 *                                       from QEMU) if a backend for it wants
 *                                       that very image, else removed
 *   xmblk-* node without device or      deleted (when seen so at two runs in
 *   record                              a row)
 *   backend connected, no record and    Closed
 *   no device
 *   fdset of xmbackd's (fdpass.c) that  remove-fd: its descriptor closed
 *   no block node has open
 *
 * Its repairs (blockdev-del, remove-fd, device_del) are sent and their
 * answers logged as they come (qcall.h): a QEMU that answers the view and
 * hangs on a repair holds up no other guest. The guest's next reconcile
 * waits for them.
 *
 * A drive QEMU opened from /dev/fdset/N is the image its fdset's opaque
 * names (qview.c): what it is, after a restart, is known from that.
 *
 * A claim is never released while QEMU holds the device: claims follow
 * QEMU, never a lost record.
 */
#include "reconcile.h"
#include "vbd-int.h"
#include "claims.h"
#include "crashpoint.h"
#include "dom.h"
#include "qcall.h"
#include "qmp.h"
#include "qview.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A repair's command for one device, sent without waiting (qcall.h): its
 * answer is logged. */
struct repair {
	unsigned int domid;
	unsigned long devid;
	char what[64];          /* the node or fdset repaired */
};

static void repaired(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		     bool answered)
{
	const struct repair *r = arg;
	(void)b;
	(void)g;
	(void)ret;
	(void)answered;
	if (!r)
		return;
	if (!err)
		log_info("domain %u vbd %lu: %s left in QEMU: removed", r->domid, r->devid, r->what);
	else if (!qcall_not_found(err))
		log_warn("domain %u vbd %lu: %s left in QEMU: %s", r->domid, r->devid, r->what, err);
}

static void del_node(struct backd *b, struct guest *g, const struct vbd *v, const char *node)
{
	struct repair r = { v->domid, v->devid, "" };
	snprintf(r.what, sizeof(r.what), "block node %s", node);
	qcall(b, g, "blockdev-del", json_pack("{s:s}", "node-name", node), -1, repaired, &r,
	      sizeof(r));
}

/* The claim of what QEMU really holds in d. false: its image's identity is
 * unknown (the file gone from its path): c has none. */
static bool qemu_claim(const struct vbd *v, const struct qdev *d, struct claim *c)
{
	*c = (struct claim){ .domid = v->domid, .devid = v->devid };
	/* no medium: holds nothing, as an empty cdrom is attached "r" */
	snprintf(c->mode, sizeof(c->mode), "%s",
		 !d->file[0] || d->ro ? "r" : d->share_rw ? "w!" : "w");
	if (d->file[0] && sharing_ident(d->file, c->ident, sizeof(c->ident)) < 0) {
		c->ident[0] = '\0';
		return false;
	}
	return true;
}

/* Does the backend in sn still wait for the device QEMU holds as d (its
 * image the one QEMU has open)? */
static bool be_wants(const struct snap *sn, const struct qdev *d, bool connected_ok)
{
	int st = vbd_state_parse(sn->v[K_STATE]);
	const char *params = sn->v[K_PARAMS];
	char a[SHARING_IDENT_MAX], b[SHARING_IDENT_MAX];
	if (!sn->v[K_FE] || !snap_is(sn, K_ONLINE, "1") || snap_is(sn, K_FORCE, "1"))
		return false;
	if (!(st == XenbusStateInitialising && !sn->v[K_HS]) &&
	    !(connected_ok && st == XenbusStateConnected && snap_is(sn, K_HS, "connected")))
		return false;
	if (!params || !*params || !d->file[0])
		return (!params || !*params) && !d->file[0];
	return sharing_ident(params, a, sizeof(a)) == 0 &&
	       sharing_ident(d->file, b, sizeof(b)) == 0 && sharing_same(a, b);
}

/* Finish an attach whose device QEMU holds: the record connected. */
static void finish_attach(struct backd *b, const struct vbd *v,
			  const struct snap *sn, const struct qdev *d)
{
	if (vbd_connected(b, v, sn, d->bus, d->scsi_id, d->node) == 0) {
		vbd_watch_frontend(b, v, v->fe, true);
		log_info("domain %u vbd %lu: attach finished from QEMU's device (%s)", v->domid,
			 v->devid, d->file[0] ? d->file : "no medium");
	}
}

/* The device is out of QEMU: the record and claim go, the backend (if
 * any) is Closed. */
static void release_closed(struct backd *b, const struct vbd *v, bool close_be)
{
	struct kv kv[2] = { { v->tool, NULL, NULL },
			    { v->be, "state", vbd_state_str(XenbusStateClosed) } };
	if (claims_release(b, v->domid, v->devid, NULL, kv, close_be ? 2 : 1) == 0)
		vbd_watch_frontend(b, v, v->fe, false);
}

/* One record of the guest against QEMU's view. */
static void one_record(struct backd *b, struct guest *g, const struct qview *qv,
		       unsigned long devid, bool fresh)
{
	struct vbd v;
	struct snap sn;
	vbd_init(&v, g->domid, devid);
	snap_read(b, &v, &sn);
	const struct qdev *d = qview_dev(qv, devid);
	const char *phase = sn.v[K_PHASE] ? sn.v[K_PHASE] : PHASE_CONNECTED;
	bool be = sn.v[K_STATE] != NULL;
	char node[64];
	snprintf(node, sizeof(node), "xmblk-%lu", devid);
	if (!sn.ok || (!sn.v[K_TOOLDEV] && !sn.v[K_PHASE]))
		goto out; /* unreadable, or released meanwhile */
	if (d && strcmp(phase, PHASE_PLUGGING) == 0) {
		crash_point("xmbackd.mid-reconcile");
		if (be_wants(&sn, d, false))
			finish_attach(b, &v, &sn, d);
		else
			vbd_teardown(b, &v, &sn,
				     be && vbd_state_parse(sn.v[K_STATE]) == XenbusStateClosing);
	} else if (d && strcmp(phase, PHASE_UNPLUGGING) == 0) {
		char id[64];
		snprintf(id, sizeof(id), "xmdev-%lu", devid);
		qmp_send(g->q, "device_del", json_pack("{s:s}", "id", id)); /* reply ignored */
	} else if (d) {
		struct claim c;
		char want[SHARING_IDENT_MAX + 8];
		char *have = dom_readf(b->xs, XBT_NULL, "%s/claim", v.tool);
		bool known = qemu_claim(&v, d, &c);
		claim_format(&c, want, sizeof(want));
		if (known && (!have || strcmp(have, want) != 0))
			claims_set(b, &c);
		free(have);
		if (fresh && sn.v[K_FE])
			vbd_watch_frontend(b, &v, v.fe, true);
	} else {
		crash_point("xmbackd.mid-reconcile");
		if (qview_node_used(qv, node) || !qview_has_node(qv, node))
			node[0] = '\0';
		if (node[0])
			del_node(b, g, &v, node);
		log_info("domain %u vbd %lu: %s record without its device in QEMU: %s", v.domid,
			 devid, phase, strcmp(phase, PHASE_PLUGGING) == 0 ? "undone" : "closed");
		release_closed(b, &v, be && strcmp(phase, PHASE_PLUGGING) != 0);
	}
out:
	snap_free(&sn);
}

/* A device of ours in QEMU that no record holds (its record lost, or never
 * written by an older xmbackd): adopted if its backend wants that image,
 * else taken out. Its claim first: QEMU holds it open either way. */
static void one_orphan(struct backd *b, struct guest *g, const struct qdev *d)
{
	struct vbd v;
	struct snap sn;
	char id[64];
	vbd_init(&v, g->domid, d->devid);
	snap_read(b, &v, &sn);
	if (!sn.ok || sn.v[K_TOOLDEV] || sn.v[K_PHASE])
		goto out; /* unreadable, or recorded meanwhile */
	crash_point("xmbackd.mid-reconcile");
	struct claim c;
	qemu_claim(&v, d, &c);
	if (be_wants(&sn, d, true)) {
		char set[32] = "";
		struct kv kv[3] = { { v.tool, "phase", PHASE_PLUGGING },
				    { v.tool, "device", id }, { v.tool, "fdset", set } };
		snprintf(id, sizeof(id), "xmdev-%lu", d->devid);
		if (d->fdset >= 0)
			snprintf(set, sizeof(set), "%ld", d->fdset);
		if (claims_set(b, &c) == 0 && vbd_record(b, NULL, kv, 3) == 0) {
			log_info("domain %u vbd %lu: device in QEMU without a record: adopted",
				 v.domid, v.devid);
			finish_attach(b, &v, &sn, d);
		}
	} else {
		snprintf(id, sizeof(id), "xmdev-%lu", d->devid);
		log_info("domain %u vbd %lu: device in QEMU that no backend wants: removed",
			 v.domid, v.devid);
		struct kv kv[3] = { { v.tool, "phase", PHASE_UNPLUGGING },
				    { v.tool, "device", id },
				    { v.tool, "node", d->node } };
		if (claims_set(b, &c) == 0 && vbd_record(b, NULL, kv, 3) == 0)
			vbd_teardown(b, &v, NULL, false); /* (as just recorded) */
	}
out:
	snap_free(&sn);
}

/* The guest's records: their devids (malloc'd), *n of them, or NULL with
 * *n 0 (none, or unreadable: *ok false). */
static unsigned long *records(struct backd *b, unsigned int domid, unsigned int *n, bool *ok)
{
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/vbd", domid);
	*n = 0;
	char **ids = xs_directory(b->xs, XBT_NULL, path, n);
	*ok = ids || absent();
	unsigned long *r = calloc(*n + 1, sizeof(*r));
	for (unsigned int i = 0; r && i < *n; i++)
		r[i] = strtoul(ids[i], NULL, 10);
	if (!r)
		*n = 0;
	free(ids);
	return r;
}

static bool listed(const unsigned long *ids, unsigned int n, unsigned long devid)
{
	for (unsigned int i = 0; i < n; i++)
		if (ids[i] == devid)
			return true;
	return false;
}

/* Block nodes of ours that neither a device nor a record holds, seen so
 * at two runs in a row (one made by hand, or by a tool, a moment before
 * its device is given time): deleted. */
static void left_nodes(struct backd *b, struct guest *g, const struct qview *qv,
		       const unsigned long *rec,
		       unsigned int nrec)
{
	unsigned long seen[GUEST_LEFT_MAX];
	unsigned int n = 0;
	for (unsigned int i = 0; i < qv->nnode; i++) {
		unsigned long devid = strtoul(qv->node[i] + 6, NULL, 10);
		struct vbd v;
		if (qview_node_used(qv, qv->node[i]) || listed(rec, nrec, devid))
			continue; /* a record's node is its record's business */
		if (!listed(g->left, g->nleft, devid)) {
			if (n < GUEST_LEFT_MAX)
				seen[n++] = devid;
			continue;
		}
		vbd_init(&v, g->domid, devid);
		del_node(b, g, &v, qv->node[i]);
	}
	memcpy(g->left, seen, n * sizeof(seen[0]));
	g->nleft = n;
}

/* fdsets of xmbackd's that no block node has open (an attach that died
 * between add-fd and blockdev-add, a node deleted by hand): their
 * descriptors closed. No attach is in flight: reconcile waits for jobs,
 * and media changes are done before it runs. */
static void left_fdsets(struct backd *b, struct guest *g, const struct qview *qv)
{
	for (unsigned int i = 0; i < qv->nfdset; i++) {
		if (qview_fdset_used(qv, qv->fdset[i]))
			continue;
		struct repair r = { g->domid, qv->fdset_devid[i], "" };
		snprintf(r.what, sizeof(r.what), "fdset %ld", qv->fdset[i]);
		qcall(b, g, "remove-fd", json_pack("{s:I}", "fdset-id", (json_int_t)qv->fdset[i]),
		      -1, repaired, &r, sizeof(r));
	}
}

/* Backends said connected with neither record nor device: Closed. */
static void lost_backends(struct backd *b, struct guest *g, const struct qview *qv,
			  const unsigned long *rec, unsigned int nrec)
{
	char path[128];
	unsigned int n = 0;
	snprintf(path, sizeof(path), VBD_BACKEND_ROOT "/%u", g->domid);
	char **ids = xs_directory(b->xs, XBT_NULL, path, &n);
	for (unsigned int i = 0; i < n; i++) {
		struct vbd v;
		unsigned long devid = strtoul(ids[i], NULL, 10);
		if (listed(rec, nrec, devid) || qview_dev(qv, devid))
			continue;
		vbd_init(&v, g->domid, devid);
		char *hs = be_read(b, &v, "hotplug-status"), *st = be_read(b, &v, "state");
		if (hs && strcmp(hs, "connected") == 0 &&
		    vbd_state_parse(st) == XenbusStateConnected) {
			log_info("domain %u vbd %lu: connected, but neither recorded nor in QEMU: "
				 "closed", v.domid, v.devid);
			be_write_state(b, &v, XenbusStateClosed);
		}
		free(hs);
		free(st);
	}
	free(ids);
}

bool reconcile_start(struct backd *b, struct guest *g)
{
	if (!g->q || !g->ready || g->gone || g->view)
		return false;
	/* a domain the store does not hold (a store that lost its tree) is
	 * left as it is: its devices are not to be taken from a running guest */
	char *st = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/state", g->domid);
	bool known = st != NULL;
	free(st);
	if (!known || !(g->view = qview_start(g->q)))
		return false;
	g->view_deadline = now_ms() + RECONCILE_QMP_TIMEOUT;
	return true;
}

bool reconcile_message(struct backd *b, struct guest *g, json_t *m)
{
	if (!g->view || !qview_feed(g->view, g->q, m))
		return false;
	if (qview_state(g->view) != 0)
		b->recheck_due = true;
	return true;
}

void reconcile_drop(struct guest *g)
{
	qview_job_free(g->view);
	g->view = NULL;
}

int reconcile_guest(struct backd *b, struct guest *g, bool fresh)
{
	struct qview qv;
	bool ok;
	unsigned int nrec = 0;
	if (!g->q || !g->ready || g->gone || !g->view)
		return -1;
	int rc = qview_take(g->view, &qv);
	reconcile_drop(g);
	if (rc < 0)
		return -1;
	unsigned long *rec = records(b, g->domid, &nrec, &ok);
	if (!ok || !rec) {
		free(rec);
		qview_free(&qv);
		return -1; /* nothing is decided on a half-read state */
	}
	for (unsigned int i = 0; i < nrec; i++)
		one_record(b, g, &qv, rec[i], fresh);
	for (unsigned int i = 0; i < qv.ndev; i++)
		if (!listed(rec, nrec, qv.dev[i].devid))
			one_orphan(b, g, &qv.dev[i]);
	left_nodes(b, g, &qv, rec, nrec);
	left_fdsets(b, g, &qv);
	lost_backends(b, g, &qv, rec, nrec);
	free(rec);
	vif_reconcile(b, g, &qv);
	qview_free(&qv);
	if (fresh) /* else the ping that brought this run said it; its answer
		    * records the agent (guest_pong), not waited for here */
		guest_ping(g, false);
	return 0;
}

void reconcile_all(struct backd *b, bool fresh)
{
	/* through a ping: a QEMU that does not answer holds up no other */
	for (struct guest *g = b->guests; g; g = g->next)
		if (!g->gone && g->ready) {
			g->fresh = g->fresh || fresh;
			guest_ping(g, true);
		}
}
