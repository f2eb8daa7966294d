/*
 * guests.c — xmbackd's watch over running guests.
 *
 * One QMP connection per guest (its qmp.sock; xm uses the other monitor,
 * ctl.sock). When that connection ends, QEMU is gone — poweroff, crash,
 * xm destroy, kill -9 alike — and the domain is cleaned up: released in
 * xmstored, its nodes and run-time files removed (dom_cleanup). At start,
 * and whenever /tool/xm/domain changes, the list is re-read, so a restarted
 * xmbackd takes over the guests that are running, and reconciles each
 * (reconcile.c) as it attaches to its QMP.
 *
 * The guest's agent and the slow timer's look at each QEMU are agent.c's.
 */
#include "backd.h"
#include "reconcile.h"
#include "vbd-int.h"
#include "dom.h"
#include "oplock.h"
#include "qmp.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct guest *find(struct backd *b, unsigned int domid)
{
	for (struct guest *g = b->guests; g; g = g->next)
		if (g->domid == domid && !g->gone)
			return g;
	return NULL;
}

static void cleanup(struct backd *b, struct guest *g, const char *why)
{
	char *name = dom_readf(b->xs, XBT_NULL, "/local/domain/%u/name", g->domid);
	log_info("domain %u (%s): %s; cleaning up", g->domid, name ? name : "?", why);
	free(name);
	qmp_close(g->q);
	g->q = NULL;
	dom_cleanup(b->xs, g->domid);
	g->gone = true;
}

static void attach(struct backd *b, unsigned int domid)
{
	char *sock = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/qmp", domid);
	char *err = NULL;
	struct guest *g = calloc(1, sizeof(*g));

	if (!g || !sock) {
		free(g);
		free(sock);
		return;
	}
	g->domid = domid;
	g->agent = -1;
	g->ping_id = -1;
	g->q = qmp_connect(sock, 3000, &err);
	g->next = b->guests;
	b->guests = g;
	if (!g->q) {
		struct dominfo d; /* alive: holding its pid file's lock */
		if (dom_info(b->xs, domid, &d) < 0 || dom_qemu_live(&d) <= 0)
			cleanup(b, g, "its QEMU is gone");
		else {
			log_warn("domain %u: cannot reach QEMU's monitor (%s); will retry", domid, err);
			g->gone = true; /* not tracked: the next scan tries again */
		}
	} else {
		log_info("domain %u: watching its QEMU (%s)", domid, sock);
		reconcile_guest(b, g, true);
	}
	free(err);
	free(sock);
}

/*
 * A domain left "creating" by an xm create that is no longer at work: its
 * create lock (named in the reservation) is not held, because xm died, or
 * because its undo could not reach a store that went down. Undo it as that
 * create would have: its QEMU (none recorded yet: the one in its run dir),
 * its introduction, nodes and run dir (dom_cleanup). A record with no
 * run dir yet may still have one that create made, empty: rmdir only.
 */
static void abandoned_create(struct backd *b, unsigned int domid)
{
	char *lock = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/creator", domid);
	if (lock && createlock_path_ok(lock) && oplock_held(lock)) {
		free(lock);
		return; /* still at work */
	}
	char *name = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/name", domid);
	char *dir = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/dir", domid);
	log_info("domain %u (%s): left half-made by an xm create that is gone; undoing it",
		 domid, name ? name : "?");
	dom_cleanup(b->xs, domid);
	if (!dir) {
		char path[600];
		snprintf(path, sizeof(path), "%s/dom/%u", xm_rundir(), domid);
		rmdir(path);
	}
	if (lock && createlock_path_ok(lock))
		unlink(lock);
	free(dir);
	free(name);
	free(lock);
}

void guests_scan(struct backd *b)
{
	unsigned int n = 0;
	char **ids = xs_directory(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain", &n);
	if (!ids && errno != ENOENT)
		return; /* the store is unreachable: nothing is decided on that */

	/* Guests whose record went away (xm destroy cleaned up). */
	for (struct guest *g = b->guests; g; g = g->next) {
		if (g->gone)
			continue;
		bool listed = false;
		for (unsigned int i = 0; i < n && !listed; i++)
			listed = (unsigned int)atoi(ids[i]) == g->domid;
		if (!listed) {
			log_info("domain %u: gone", g->domid);
			qmp_close(g->q);
			g->q = NULL;
			g->gone = true;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int domid = (unsigned int)atoi(ids[i]);
		if (domid == 0 || find(b, domid))
			continue;
		char *state = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/state", domid);
		if (state && strcmp(state, "running") == 0)
			attach(b, domid);
		else if (state && strcmp(state, "creating") == 0)
			abandoned_create(b, domid);
		free(state);
	}
	free(ids);
	createlock_sweep();
}

static void on_event(struct backd *b, struct guest *g, json_t *m)
{
	const char *ev = json_string_value(json_object_get(m, "event"));
	if (!ev)
		return;
	if (strcmp(ev, "SHUTDOWN") == 0 || strcmp(ev, "RESET") == 0 || strcmp(ev, "STOP") == 0 ||
	    strcmp(ev, "RESUME") == 0 || strcmp(ev, "GUEST_PANICKED") == 0)
		log_info("domain %u: QEMU event %s", g->domid, ev);
	if (strcmp(ev, "DEVICE_DELETED") == 0) {
		/* one of ours that nobody waited for (a device_del of an
		 * earlier run, or of someone else): reconcile */
		const char *dev = json_string_value(json_object_get(json_object_get(m, "data"),
								  "device"));
		if (dev && strncmp(dev, "xmdev-", 6) == 0)
			g->recheck = true;
	}
	if (strcmp(ev, "VSERPORT_CHANGE") == 0)
		guest_ping(g, false); /* the event names the port by qdev id: look */
	if (strcmp(ev, "DEVICE_TRAY_MOVED") == 0) {
		json_t *data = json_object_get(m, "data");
		if (json_is_true(json_object_get(data, "tray-open")))
			vbd_tray_opened(b, g->domid,
					json_string_value(json_object_get(data, "id")));
	}
}

void guests_qmp_ready(struct backd *b, struct guest *g)
{
	if (qmp_read(g->q) < 0) {
		cleanup(b, g, "QEMU has exited");
		return;
	}
	json_t *m;
	while ((m = qmp_next(g->q))) {
		if (!guest_pong(b, g, m))
			on_event(b, g, m);
		json_decref(m);
	}
}

void guests_events(struct backd *b)
{
	for (struct guest *g = b->guests; g; g = g->next) {
		json_t *m;
		while (!g->gone && g->q && (m = qmp_pop_event(g->q))) {
			on_event(b, g, m);
			json_decref(m);
		}
	}
}

struct qmp *guest_qmp(struct backd *b, unsigned int domid)
{
	struct guest *g = find(b, domid);
	return g ? g->q : NULL;
}

void guests_reap(struct backd *b)
{
	struct guest **p = &b->guests;
	while (*p) {
		struct guest *g = *p;
		if (g->gone) {
			*p = g->next;
			qmp_close(g->q);
			free(g);
		} else {
			p = &g->next;
		}
	}
}

void guests_free(struct backd *b)
{
	for (struct guest *g = b->guests; g; g = g->next)
		g->gone = true;
	guests_reap(b);
}

void guests_recheck(struct backd *b)
{
	for (struct guest *g = b->guests; g; g = g->next) {
		if (!g->gone && g->q && g->recheck) {
			g->recheck = false;
			reconcile_guest(b, g, false);
		}
	}
}
