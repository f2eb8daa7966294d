/*
 * vif.c — the network backend: what Linux netback and Xen's vif-bridge
 * hotplug script do in a Xen dom0, for QEMU guests (docs/vif.md).
 *
 * A backend under /local/domain/0/backend/vif at Initialising (online 1) is
 * realised: the intent is recorded (/tool/xm/domain/D/vif/DEVID at phase
 * plugging, with the names it will use), then the tap is made and put on
 * the bridge (tap.c), handed to QEMU (getfd, SCM_RIGHTS: a deprivileged
 * QEMU cannot open /dev/net/tun), netdev_add tap,fd= and device_add
 * virtio-net-pci with the vif's MAC on one of the NICs' root ports (the
 * one the backend's xm-slot names, for xm restore; romfile "": the guest
 * boots its kernel directly, and a chrooted QEMU would not find the option
 * ROM); then the record goes to connected, and
 * the backend says hotplug-status connected and Connected, in one
 * transaction while the backend still waits. A backend at Closing (or
 * gone) is taken out: device_del; its DEVICE_DELETED comes through the
 * event loop (vif_deleted: nothing waits on the guest's eject), then
 * netdev_del (QEMU closes the last descriptor: the tap goes), the record is
 * removed and the backend Closed.
 *
 * A NIC needs no guest's consent to go. An attach's getfd, netdev_add and
 * device_add are the guest's vif job: sent, and carried on by the event
 * loop as their answers come (vif_message; a deadline, and a QEMU found
 * not answering, end it: vif_expire), so that a QEMU that takes its time
 * holds up no other guest. The teardown's commands (device_del, then
 * netdev_del once QEMU let the NIC go) and the reconcile's repairs are
 * answered through the loop too (qcall.h): nothing here waits for a QEMU.
 * Everything is read again from XenStore on every event, so a restarted
 * xmbackd carries on; vif_reconcile brings records and QEMU together.
 *
 * xm network-attach and network-detach hold the vif's operation lock
 * (lib/oplock.h) while they write and wait. A backend left Closed or
 * refused (hotplug-status error) with nothing in QEMU, whose lock nobody
 * holds, was left by an xm that died: its directories are removed here,
 * as that xm would have (looked at on every event and every tick).
 */
#include "vbd-int.h"
#include "job.h"
#include "qview.h"
#include "crashpoint.h"
#include "dom.h"
#include "oplock.h"
#include "qcall.h"
#include "qmp.h"
#include "tap.h"
#include "util.h"
#include "vif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* QEMU's names of the vif's parts. */
struct vnames {
	char dev[32], netdev[32], fd[32];
};

static void vnames(unsigned long devid, struct vnames *n)
{
	snprintf(n->dev, sizeof(n->dev), "xmnet-%lu", devid);
	snprintf(n->netdev, sizeof(n->netdev), "xmnetdev-%lu", devid);
	snprintf(n->fd, sizeof(n->fd), "xmnetfd-%lu", devid);
}

static char *rd(struct backd *b, const char *dir, const char *key)
{
	return dom_readf(b->xs, XBT_NULL, "%s/%s", dir, key);
}

/* The refusal, into a backend that still exists. */
static void fail(struct backd *b, const struct vif *v, const char *why)
{
	char fe[200];
	struct kv kv[2] = { { v->be, "hotplug-error", why }, { v->be, "hotplug-status", "error" } };
	log_info("domain %u vif %lu: refused: %s", v->domid, v->devid, why);
	vbd_record(b, vbd_path(fe, sizeof(fe), v->be, "frontend"), kv, 2);
}

/* The record goes: QEMU holds nothing of the vif (any more). */
static void release(struct backd *b, const struct vif *v)
{
	struct kv kv = { v->tool, NULL, NULL };
	vbd_record(b, NULL, &kv, 1);
}

/* A free root port of the NICs (VIF_ROOT_PORT_FIRST..), or 0; want
 * (the backend's VBD_SLOT_NODE, "rpN": xm restore puts a NIC back where
 * the saved guest had it) that one only, -1 when it is not one of theirs. */
static int free_port(struct backd *b, unsigned int domid, const char *want)
{
	int wanted = 0;
	if (want && (sscanf(want, "rp%d", &wanted) != 1 || wanted < VIF_ROOT_PORT_FIRST ||
		     wanted >= VIF_ROOT_PORT_FIRST + VIF_ROOT_PORTS))
		return -1;
	bool used[VIF_ROOT_PORTS] = { false };
	char path[128];
	unsigned int n = 0;
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/vif", domid);
	char **ids = xs_directory(b->xs, XBT_NULL, path, &n);
	for (unsigned int i = 0; i < n; i++) {
		char *bus = dom_readf(b->xs, XBT_NULL, "%s/%s/bus", path, ids[i]);
		int p = 0;
		if (bus && sscanf(bus, "rp%d", &p) == 1 && p >= VIF_ROOT_PORT_FIRST &&
		    p < VIF_ROOT_PORT_FIRST + VIF_ROOT_PORTS)
			used[p - VIF_ROOT_PORT_FIRST] = true;
		free(bus);
	}
	free(ids);
	if (wanted)
		return used[wanted - VIF_ROOT_PORT_FIRST] ? 0 : wanted;
	for (int i = 0; i < VIF_ROOT_PORTS; i++)
		if (!used[i])
			return VIF_ROOT_PORT_FIRST + i;
	return 0;
}

/* Say Connected, the record at connected, only while the backend is still
 * at Initialising. vbd_record_if's result. */
static int connected(struct backd *b, const struct vif *v)
{
	char st[200];
	struct kv kv[3] = { { v->tool, "phase", PHASE_CONNECTED },
			    { v->be, "hotplug-status", "connected" },
			    { v->be, "state", vbd_state_str(XenbusStateConnected) } };
	return vbd_record_if(b, vbd_path(st, sizeof(st), v->be, "state"),
			     vbd_state_str(XenbusStateInitialising), kv, 3);
}

static void teardown(struct backd *b, const struct vif *v, bool again);

/* A backend at Closing with nothing in QEMU: Closed. */
static void be_write_vif_closed(struct backd *b, const struct vif *v)
{
	char st[200];
	struct kv kv = { v->be, "state", vbd_state_str(XenbusStateClosed) };
	vbd_record(b, vbd_path(st, sizeof(st), v->be, "frontend"), &kv, 1);
}

/* A vif's attach in flight on its guest's QEMU (one a guest: g->vifjob):
 * getfd, netdev_add and device_add sent, their answers awaited. */
struct vif_job {
	struct vif v;
	long id[3];         /* awaited (0: come, or never sent) */
	int r[3];           /* 0 done, 1 refused (e: why), -1 no answer */
	char *e[3];
	long deadline;      /* QMP_TIMEOUT after they went (now_ms) */
	char tap[IFNAMSIZ], bus[16], bridge[IFNAMSIZ], macstr[18];
};

static void vif_job_free(struct vif_job *j)
{
	if (!j)
		return;
	for (int k = 0; k < 3; k++)
		free(j->e[k]);
	free(j);
}

/* The vif job's answers are all in (or given up): the attach ends as it
 * did when it waited for them. The guest's vifs and disks that waited for
 * it are looked at after (rescan), unless its monitor is being closed or
 * the caller is looking at them already. */
static void plugged(struct backd *b, struct guest *g, bool rescan)
{
	struct vif_job *j = g->vifjob;
	const struct vif *v = &j->v;
	struct vnames n;
	char err[512];
	int r1 = j->r[0], r2 = j->r[1], r3 = j->r[2];
	g->vifjob = NULL;
	vnames(v->devid, &n);
	if (r1 == 0 && r2 == 0 && r3 == 0) {
		crash_point("xmbackd.vif-after-device-add");
		int rc = connected(b, v);
		if (rc == 1) {
			log_info("domain %u vif %lu: removed while being connected: unplugged",
				 v->domid, v->devid);
			teardown(b, v, false);
		} else if (rc == 0) {
			log_info("domain %u vif %lu: %s (%s) on %s, tap %s on %s", v->domid, v->devid,
				 n.dev, j->macstr, j->bus, j->tap, j->bridge);
		}
	} else if (r1 < 0 || r2 < 0 || r3 < 0) {
		/* what was sent may yet be done: the record stays at plugging
		 * for vif_reconcile to settle */
		log_warn("domain %u vif %lu: QEMU did not answer; kept at plugging", v->domid,
			 v->devid);
		fail(b, v, "QEMU did not answer");
	} else {
		const char *why = r1 ? j->e[0] : r2 ? j->e[1] : j->e[2];
		/* (not waited for: QEMU does them in the order sent, before
		 * anything sent after) */
		if (r2 == 0) /* the device failed: its netdev goes (and the tap with it) */
			qcall(b, g, "netdev_del", json_pack("{s:s}", "id", n.netdev), -1, NULL, NULL,
			      0);
		else if (r1 == 0) /* the descriptor QEMU holds for nothing */
			qcall(b, g, "closefd", json_pack("{s:s}", "fdname", n.fd), -1, NULL, NULL, 0);
		snprintf(err, sizeof(err), "QEMU cannot add the NIC: %s", why ? why : "no reason");
		release(b, v);
		fail(b, v, err);
	}
	vif_job_free(j);
	if (rescan && !g->gone)
		vbd_scan_domain(b, g->domid); /* what waited for it (guest_any_job) */
}

bool vif_message(struct backd *b, struct guest *g, json_t *m)
{
	struct vif_job *j = g->vifjob;
	json_t *mid = json_object_get(m, "id");
	if (!j || !json_is_integer(mid))
		return false;
	long id = (long)json_integer_value(mid);
	int k = 0;
	while (k < 3 && !(j->id[k] > 0 && j->id[k] == id))
		k++;
	if (k == 3)
		return false;
	j->id[k] = 0;
	json_t *e = json_object_get(m, "error");
	if (!json_object_get(m, "return") && !e) {
		j->r[k] = -1;
	} else if (e) {
		const char *d = json_string_value(json_object_get(e, "desc"));
		j->r[k] = 1;
		j->e[k] = strdup(d ? d : "unknown error");
	}
	if (!j->id[0] && !j->id[1] && !j->id[2])
		plugged(b, g, true);
	return true;
}

/* The answers not come are given up: what was sent may yet be done. */
static void unanswered(struct backd *b, struct guest *g, bool rescan)
{
	struct vif_job *j = g->vifjob;
	for (int k = 0; k < 3; k++)
		if (j->id[k]) {
			j->id[k] = 0;
			j->r[k] = -1;
		}
	plugged(b, g, rescan);
}

void vif_abort(struct backd *b, struct guest *g, bool tell)
{
	if (!g->vifjob)
		return;
	if (!tell) { /* xmbackd stops: the record (plugging) says what is left */
		vif_job_free(g->vifjob);
		g->vifjob = NULL;
		return;
	}
	unanswered(b, g, false); /* (its monitor is closing: nothing new on it) */
}

void vif_expire(struct backd *b, struct guest *g, long now)
{
	struct vif_job *j = g->vifjob;
	if (j && (now >= j->deadline || g->stuck || !g->q))
		unanswered(b, g, true);
}

static void plug(struct backd *b, struct guest *g, const struct vif *v)
{
	char *macs = rd(b, v->be, "mac"), *bridge = rd(b, v->be, "bridge");
	char *vifname = rd(b, v->be, "vifname"), *slot = rd(b, v->be, VBD_SLOT_NODE);
	char tap[IFNAMSIZ], bus[16], err[512], st[200];
	uint8_t mac[6];
	struct vnames n;
	vnames(v->devid, &n);
	int port = free_port(b, v->domid, slot), fd = -1;
	if (!macs || vif_mac_parse(macs, mac, err, sizeof(err)) < 0) {
		fail(b, v, macs ? err : "incomplete backend (no mac)");
		goto out;
	}
	if (vifname && !vif_ifname_ok(vifname)) {
		fail(b, v, "bad vifname");
		goto out;
	}
	if (port <= 0) {
		if (slot)
			snprintf(err, sizeof(err), "NIC slot %s %s", slot,
				 port < 0 ? "is not one of the NICs' root ports" : "is taken");
		else
			snprintf(err, sizeof(err), "no free NIC slot in the guest (%d vifs at most)",
				 VIF_ROOT_PORTS);
		fail(b, v, err);
		goto out;
	}
	vif_tap_name(v->domid, v->devid, vifname, tap);
	snprintf(bus, sizeof(bus), "rp%d", port);
	/* the intent, before anything is made */
	struct kv kv[5] = { { v->tool, "phase", PHASE_PLUGGING }, { v->tool, "device", n.dev },
			    { v->tool, "netdev", n.netdev }, { v->tool, "bus", bus },
			    { v->tool, "tap", tap } };
	int rc = vbd_record_if(b, vbd_path(st, sizeof(st), v->be, "state"),
			       vbd_state_str(XenbusStateInitialising), kv, 5);
	if (rc)
		goto out; /* gone meanwhile, or the store failed */
	crash_point("xmbackd.vif-intended");
	fd = tap_open(tap, bridge ? bridge : VIF_DEFAULT_BRIDGE, err, sizeof(err));
	if (fd < 0) {
		release(b, v);
		fail(b, v, err);
		goto out;
	}
	/* getfd, netdev_add and device_add back to back: QEMU takes a
	 * monitor's commands in order. Their answers come to the event loop
	 * (vif_message): the attach is the guest's vif job until then. */
	struct vif_job *j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		release(b, v);
		fail(b, v, "out of memory");
		goto out;
	}
	j->v = *v;
	snprintf(j->tap, sizeof(j->tap), "%s", tap);
	snprintf(j->bus, sizeof(j->bus), "%s", bus);
	snprintf(j->bridge, sizeof(j->bridge), "%s", bridge ? bridge : VIF_DEFAULT_BRIDGE);
	vif_mac_str(mac, j->macstr);
	j->id[0] = job_send_fd(g, "getfd", json_pack("{s:s}", "fdname", n.fd), fd);
	close(fd); /* QEMU has its own (or nobody: the tap goes) */
	j->id[1] = job_send(g, "netdev_add",
			    json_pack("{s:s, s:s, s:s}", "type", "tap", "id", n.netdev, "fd", n.fd));
	j->id[2] = job_send(g, "device_add",
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "driver", "virtio-net-pci", "id",
				      n.dev, "netdev", n.netdev, "mac", j->macstr, "bus", bus,
				      "romfile", ""));
	j->deadline = now_ms() + QMP_TIMEOUT;
	g->vifjob = j;
	for (int k = 0; k < 3; k++)
		if (j->id[k] < 0) { /* not sent: no answer to wait for */
			j->id[k] = 0;
			j->r[k] = -1;
		}
	if (!j->id[0] && !j->id[1] && !j->id[2])
		plugged(b, g, false); /* nothing sent (the caller looks at the rest) */
out:
	free(macs);
	free(bridge);
	free(vifname);
	free(slot);
}

/* netdev_del's answer: the record goes, and Closed is said if the
 * backend is still there. */
static void netdev_gone(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
			bool answered)
{
	const struct vif *v = arg;
	char st[200];
	struct vnames n;
	(void)g;
	(void)ret;
	(void)answered;
	if (!v)
		return;
	vnames(v->devid, &n);
	if (err && !qcall_not_found(err)) {
		log_warn("domain %u vif %lu: netdev_del %s: %s; kept at unplugging", v->domid,
			 v->devid, n.netdev, err);
		return;
	}
	char *fe = rd(b, v->be, "frontend");
	bool be = fe || !absent(); /* not into a removed one */
	free(fe);
	struct kv kv[2] = { { v->tool, NULL, NULL },
			    { v->be, "state", vbd_state_str(XenbusStateClosed) } };
	if (vbd_record(b, be ? vbd_path(st, sizeof(st), v->be, "frontend") : NULL, kv,
		       be ? 2 : 1) == 0)
		log_info("domain %u vif %lu: disconnected", v->domid, v->devid);
}

/* The end of a teardown, once QEMU has let the NIC go: its netdev goes
 * (QEMU closes the tap's last descriptor: the tap is gone), then the
 * record (netdev_gone, as QEMU answers: qcall.h). */
static void finish(struct backd *b, struct guest *g, const struct vif *v)
{
	struct vnames n;
	vnames(v->devid, &n);
	qcall(b, g, "netdev_del", json_pack("{s:s}", "id", n.netdev), -1, netdev_gone, v,
	      sizeof(*v));
}

/* device_del's answer: the NIC is on its way out (its DEVICE_DELETED
 * brings finish), was never there (finished now), or stays. */
static void device_del_sent(struct backd *b, struct guest *g, void *arg, json_t *ret,
			    const char *err, bool answered)
{
	const struct vif *v = arg;
	struct vnames n;
	(void)ret;
	if (!v)
		return;
	vnames(v->devid, &n);
	if (!err) {
		log_debug("domain %u vif %lu: device_del %s sent", v->domid, v->devid, n.dev);
		crash_point("xmbackd.vif-after-device-del");
	} else if (answered && qcall_not_found(err)) {
		finish(b, g, v);
	} else if (answered && strstr(err, "in the process of unplug")) {
		log_debug("domain %u vif %lu: %s: the guest has not let it go yet", v->domid,
			  v->devid, n.dev);
	} else {
		log_warn("domain %u vif %lu: device_del %s: %s; kept at unplugging", v->domid,
			 v->devid, n.dev, err);
	}
}

/* Take the vif out of QEMU: the record at unplugging, device_del; its
 * DEVICE_DELETED (vif_deleted, from the event loop: nothing waits for the
 * guest's eject) brings finish(). A NIC QEMU does not have is finished
 * once QEMU says so. Without a record there is nothing in QEMU: a backend
 * at Closing is Closed. A teardown under way (unplugging) is left to its
 * event, unless again (the reconcile asks QEMU once more). */
static void teardown(struct backd *b, const struct vif *v, bool again)
{
	char *phase = rd(b, v->tool, "phase");
	bool unread = !phase && !absent();
	struct guest *g = guest_ready(b, v->domid);
	struct vnames n;
	vnames(v->devid, &n);
	if (unread || (phase && !g))
		goto out; /* the store or the guest's QEMU unreachable: later */
	if (!phase) {
		char *st = rd(b, v->be, "state");
		if (vbd_state_parse(st) == XenbusStateClosing)
			be_write_vif_closed(b, v);
		free(st);
		goto out;
	}
	if (!again && strcmp(phase, PHASE_UNPLUGGING) == 0)
		goto out; /* its DEVICE_DELETED is awaited */
	struct kv kv = { v->tool, "phase", PHASE_UNPLUGGING };
	if (vbd_record(b, NULL, &kv, 1) < 0)
		goto out;
	qcall(b, g, "device_del", json_pack("{s:s}", "id", n.dev), -1, device_del_sent, v,
	      sizeof(*v));
out:
	free(phase);
}

void vif_deleted(struct backd *b, struct guest *g, const char *dev)
{
	char *end;
	if (strncmp(dev, "xmnet-", 6) != 0 || dev[6] < '0' || dev[6] > '9')
		return;
	unsigned long devid = strtoul(dev + 6, &end, 10);
	if (*end)
		return;
	struct vif v;
	vif_init(&v, g->domid, devid);
	char *phase = rd(b, v.tool, "phase");
	if (phase && strcmp(phase, PHASE_UNPLUGGING) == 0 && g->q && g->ready) {
		finish(b, g, &v); /* (answered through the loop: nothing waits) */
	} else { /* not ours to expect: reconcile (unplugging, no NIC:
		* finished) */
		g->recheck = true;
		b->recheck_due = true;
	}
	free(phase);
}

/* Does an xm work on the vif (its operation lock is held)? */
static bool xm_at_work(const struct vif *v)
{
	char path[512];
	oplock_vif_path(v->domid, v->devid, path, sizeof(path));
	return oplock_held(path);
}

static int remove_op(struct xsc *c, void *arg)
{
	const struct vif *v = arg;
	struct xsb_reply r;
	char p[64];
	unsigned int n = 0;
	if (xsc_call(c, XS_RM, 0, v->be, strlen(v->be) + 1, &r) < 0)
		return -1;
	free(r.body);
	if (xsc_call(c, XS_RM, 0, v->fe, strlen(v->fe) + 1, &r) < 0)
		return -1;
	free(r.body);
	/* the domain's vif backend directory too, once empty (as xm does) */
	snprintf(p, sizeof(p), VIF_BACKEND_ROOT "/%u", v->domid);
	char *names = xsc_directory(c, 0, p, &n);
	if (names && n == 0 && xsc_call(c, XS_RM, 0, p, strlen(p) + 1, &r) == 0)
		free(r.body);
	free(names);
	return 0;
}

/* A backend Closed or refused, nothing of it in QEMU: if no xm waits on it
 * (its lock is free: that xm died), its directories go. */
static void abandoned(struct backd *b, const struct vif *v, const char *what)
{
	if (xm_at_work(v))
		return;
	if (backd_xr(b, remove_op, (void *)v) == 0)
		log_info("domain %u vif %lu: %s, left by an xm that died: removed", v->domid,
			 v->devid, what);
}

static void consider(struct backd *b, unsigned int domid, unsigned long devid)
{
	struct vif v;
	struct guest *g;
	if (guest_any_job(b, domid))
		return; /* after the block job in flight on its QEMU (deferred) */
	vif_init(&v, domid, devid);
	char *state = rd(b, v.be, "state");
	bool unread = !state && !absent();
	char *online = rd(b, v.be, "online"), *hs = rd(b, v.be, "hotplug-status");
	char *phase = rd(b, v.tool, "phase");
	unread = unread || (!phase && !absent());
	int st = vbd_state_parse(state);
	if (unread) {
		/* nothing is decided on a half-read state */
	} else if (!state && phase) {
		teardown(b, &v, false); /* the backend vanished: out of the guest too */
	} else if (st == XenbusStateInitialising && !hs && !phase && online &&
		   strcmp(online, "1") == 0) {
		if ((g = guest_ready(b, domid)))
			plug(b, g, &v);
		else if (guest_stuck(b, domid)) {
			char why[160];
			snprintf(why, sizeof(why), "the QEMU of domain %u does not answer "
				 "(stopped or hung)", domid);
			fail(b, &v, why);
		} /* else not watching that guest yet: its handshake scans it */
	} else if (st == XenbusStateClosing) {
		teardown(b, &v, false);
	} else if (state && !phase && st == XenbusStateClosed) {
		abandoned(b, &v, "closed");
	} else if (state && !phase && hs && strcmp(hs, "error") == 0) {
		abandoned(b, &v, "refused");
	}
	free(state);
	free(online);
	free(hs);
	free(phase);
}

bool vif_note(struct backd *b, const char *path)
{
	size_t rl = strlen(VIF_BACKEND_ROOT);
	if (strncmp(path, VIF_BACKEND_ROOT, rl) == 0 && (path[rl] == '\0' || path[rl] == '/')) {
		b->vif_dirty = true;
		return true;
	}
	unsigned int domid;
	int n = 0; /* xmbackd's own records (under the domains watch) */
	if (sscanf(path, XM_TOOL_ROOT "/domain/%u/vif%n", &domid, &n) == 1 && n > 0 &&
	    (path[n] == '\0' || path[n] == '/'))
		return true;
	return false;
}

void vif_flush(struct backd *b)
{
	if (b->vif_dirty)
		vif_scan(b);
}

/* The records of domain dom whose backend vanished: out of the guest. */
static void vanished(struct backd *b, const char *dom)
{
	unsigned int nv = 0;
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%s/vif", dom);
	char **devs = xs_directory(b->xs, XBT_NULL, path, &nv);
	for (unsigned int j = 0; j < nv; j++) {
		struct vif v;
		vif_init(&v, (unsigned int)atoi(dom), strtoul(devs[j], NULL, 10));
		char *s = rd(b, v.be, "frontend");
		if (!s && absent() && !guest_any_job(b, v.domid))
			teardown(b, &v, false);
		free(s);
	}
	free(devs);
}

static void backends(struct backd *b, const char *dom)
{
	unsigned int nv = 0;
	char path[128];
	snprintf(path, sizeof(path), VIF_BACKEND_ROOT "/%s", dom);
	char **devs = xs_directory(b->xs, XBT_NULL, path, &nv);
	for (unsigned int j = 0; j < nv; j++)
		consider(b, (unsigned int)atoi(dom), strtoul(devs[j], NULL, 10));
	free(devs);
}

void vif_scan_domain(struct backd *b, unsigned int domid)
{
	char dom[16];
	snprintf(dom, sizeof(dom), "%u", domid);
	backends(b, dom);
	vanished(b, dom);
}

void vif_scan(struct backd *b)
{
	b->vif_dirty = false;
	unsigned int nd = 0;
	char **doms = xs_directory(b->xs, XBT_NULL, VIF_BACKEND_ROOT, &nd);
	for (unsigned int i = 0; i < nd; i++)
		backends(b, doms[i]);
	free(doms);
	unsigned int ng = 0;
	char **guests = xs_directory(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain", &ng);
	for (unsigned int i = 0; i < ng; i++)
		vanished(b, guests[i]);
	free(guests);
}

#define VIF_MAX 256

void vif_reconcile(struct backd *b, struct guest *g, const struct qview *qv)
{
	bool has[VIF_MAX] = { false };
	if (!g->q || !g->ready || g->jobs || g->vifjob)
		return;
	/* which xmnet-N QEMU holds: from the reconcile's view (qview.c), read
	 * without waiting (a second qom-list here, waited for, held every
	 * other guest up while this QEMU took its time) */
	for (unsigned int i = 0; i < qv->nnic; i++)
		if (qv->nic[i] < VIF_MAX)
			has[qv->nic[i]] = true;
	char path[128];
	unsigned int nr = 0;
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/vif", g->domid);
	char **ids = xs_directory(b->xs, XBT_NULL, path, &nr);
	if (!ids && !absent())
		return; /* nothing is decided on a half-read state */
	bool *rec = calloc(VIF_MAX, sizeof(bool));
	for (unsigned int i = 0; rec && i < nr; i++) {
		struct vif v;
		unsigned long id = strtoul(ids[i], NULL, 10);
		if (id >= VIF_MAX)
			continue;
		rec[id] = true;
		vif_init(&v, g->domid, id);
		char *phase = rd(b, v.tool, "phase"), *state = rd(b, v.be, "state");
		int st = vbd_state_parse(state);
		struct vnames n;
		vnames(id, &n);
		if (!phase) {
			/* unreadable, or removed meanwhile */
		} else if (strcmp(phase, PHASE_PLUGGING) == 0 && has[id] &&
			   st == XenbusStateInitialising) {
			if (connected(b, &v) == 0)
				log_info("domain %u vif %lu: found plugged in QEMU: connected", v.domid,
					 id);
		} else if (strcmp(phase, PHASE_PLUGGING) == 0 && !has[id]) {
			/* the intent, undone: its netdev (and tap) if QEMU got
			 * that far, then the record; the backend is plugged again */
			/* (not waited for: QEMU does them in the order sent,
			 * before the attach done again) */
			qcall(b, g, "netdev_del", json_pack("{s:s}", "id", n.netdev), -1, NULL,
			      NULL, 0);
			qcall(b, g, "closefd", json_pack("{s:s}", "fdname", n.fd), -1, NULL, NULL, 0);
			struct kv kv[2] = { { v.tool, NULL, NULL }, { v.be, "hotplug-status", NULL } };
			if (vbd_record(b, NULL, kv, st == XenbusStateInitialising ? 2 : 1) == 0) {
				log_info("domain %u vif %lu: an attach that did not reach QEMU: undone",
					 v.domid, id);
				consider(b, v.domid, id); /* and done again */
			}
		} else if (strcmp(phase, PHASE_CONNECTED) == 0 && !has[id]) {
			log_info("domain %u vif %lu: connected, but not in QEMU: closed", v.domid, id);
			teardown(b, &v, true); /* device_del: not found, so finished at once */
		} else if (strcmp(phase, PHASE_UNPLUGGING) == 0 ||
			   (strcmp(phase, PHASE_PLUGGING) == 0 && st != XenbusStateInitialising)) {
			teardown(b, &v, true);
		}
		free(phase);
		free(state);
	}
	/* NICs of ours in QEMU that no record holds: taken out */
	for (unsigned long id = 0; rec && id < VIF_MAX; id++) {
		if (!has[id] || rec[id])
			continue;
		struct vif v;
		struct vnames n;
		vif_init(&v, g->domid, id);
		vnames(id, &n);
		log_info("domain %u vif %lu: %s in QEMU without a record: removed", g->domid, id,
			 n.dev);
		struct kv kv[2] = { { v.tool, "phase", PHASE_UNPLUGGING },
				    { v.tool, "device", n.dev } };
		if (vbd_record(b, NULL, kv, 2) == 0)
			teardown(b, &v, true);
	}
	free(rec);
	free(ids);
}
