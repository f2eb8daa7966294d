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
#include "claimidx.h"
#include "reconcile.h"
#include "vbd-int.h"
#include "crashpoint.h"
#include "dom.h"
#include "oplock.h"
#include "qcall.h"
#include "qmp.h"
#include "qview.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

/* By domain id: a thousand guests are not walked for each event. */
static struct guest *find(struct backd *b, unsigned int domid)
{
	for (struct guest *g = b->gtab[domid % GUEST_TAB]; g; g = g->hnext)
		if (g->domid == domid && !g->gone)
			return g;
	return NULL;
}

/* g's monitor in the main loop's epoll set (main.c): added as it is opened,
 * removed before it is closed (a child of rename-restart may hold a copy of
 * the descriptor for a moment, and epoll forgets a file only when its last
 * copy closes: an event for a freed guest otherwise). */
static bool q_watch(struct backd *b, struct guest *g)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = g };
	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, qmp_fd(g->q), &ev) == 0;
}

static void q_close(struct backd *b, struct guest *g)
{
	if (!g->q)
		return;
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, qmp_fd(g->q), NULL);
	qmp_close(g->q);
	g->q = NULL;
	reconcile_drop(g); /* its answers will not come (a new handshake reconciles) */
}

static void cleanup(struct backd *b, struct guest *g, const char *why)
{
	char *name = dom_readf(b->xs, XBT_NULL, "/local/domain/%u/name", g->domid);
	log_info("domain %u (%s): %s; cleaning up", g->domid, name ? name : "?", why);
	free(name);
	q_close(b, g);
	dom_cleanup(b->xs, g->domid);
	g->gone = true;
	b->reap_due = true;
}

/* Is the guest's QEMU alive (it holds its pid file's lock)? */
static bool qemu_alive(struct backd *b, unsigned int domid)
{
	struct dominfo d;
	return dom_info(b->xs, domid, &d) == 0 && dom_qemu_live(&d) > 0;
}

/* Open the guest's QMP connection without waiting on its QEMU: the
 * handshake goes on as the socket becomes readable (guests_qmp_ready), so a
 * stopped or hung QEMU holds up nothing else. A QEMU that is gone is
 * cleaned up; one that accepts no connection is tried again in a second. */
static void guest_connect(struct backd *b, struct guest *g)
{
	char *sock = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/qmp", g->domid);
	char *err = NULL;
	g->ready = false;
	g->q = sock ? qmp_open(sock, &err) : NULL;
	if (g->q && !q_watch(b, g)) { /* (no memory for it: as a refused connection) */
		err = strdup(strerror(errno));
		qmp_close(g->q);
		g->q = NULL;
	}
	g->since = now_ms();
	if (!g->q) {
		if (sock && !qemu_alive(b, g->domid)) {
			cleanup(b, g, "its QEMU is gone");
		} else {
			if (!g->warned)
				log_warn("domain %u: cannot reach QEMU's monitor (%s); trying again",
					 g->domid, err ? err : "no socket recorded");
			g->warned = true;
			g->since = now_ms() + 1000; /* when to try again */
		}
	}
	free(err);
	free(sock);
}

static void attach(struct backd *b, unsigned int domid, bool booting)
{
	struct guest *g = calloc(1, sizeof(*g));
	if (!g)
		return;
	g->domid = domid;
	g->booting = booting;
	g->agent = -1;
	g->ping_id = -1;
	g->next = b->guests;
	g->hnext = b->gtab[domid % GUEST_TAB];
	b->gtab[domid % GUEST_TAB] = g;
	log_debug("domain %u: connecting to its QEMU", domid);
	b->guests = g;
	guest_connect(b, g);
}

/* g's monitor connection failed (what: why, for the log). A QEMU that is
 * gone is a guest that ended (cleanup); for one that lives on, the job in
 * flight fails, the connection is opened again in a second (said once a
 * spell), and meanwhile its guest's operations are refused (guest_stuck). */
static void monitor_failed(struct backd *b, struct guest *g, const char *what)
{
	if (!qemu_alive(b, g->domid)) {
		cleanup(b, g, "its QEMU is gone");
		return;
	}
	if (!g->warned)
		log_warn("domain %u: its QEMU's monitor: %s; opening it again", g->domid, what);
	g->warned = true;
	job_abort(b, g, "QEMU's monitor connection failed");
	vif_abort(b, g, true);
	qcall_abort(b, g, true);
	q_close(b, g);
	g->ready = false;
	g->since = now_ms() + 1000;
}

/* The handshake of a connection opened by guest_connect, on readable. */
static void handshake(struct backd *b, struct guest *g)
{
	char *err = NULL;
	int r = qmp_handshake(g->q, &err);
	if (r > 0) {
		g->ready = true;
		g->warned = false;
		log_info("domain %u: watching its QEMU", g->domid);
		/* taken over once it answers a ping (guests_recheck): a QEMU that
		 * completes the handshake and then answers nothing holds up no
		 * other guest, as it would in a call waited for here */
		g->taken = false;
		g->heard_once = false;
		g->fresh = true;
		guest_ping(g, true);
	} else if (r < 0) {
		monitor_failed(b, g, err);
	}
	free(err);
}

void guests_connect(struct backd *b)
{
	long now = now_ms();
	for (struct guest *g = b->guests; g; g = g->next) {
		if (g->gone)
			continue;
		if (!g->q && now >= g->since)
			guest_connect(b, g);
		else if (g->q && !g->ready && !g->warned && now - g->since > STUCK_MS) {
			log_warn("domain %u: its QEMU does not answer on its monitor (stopped or "
				 "hung?); its devices wait", g->domid);
			g->warned = true;
		}
	}
}

/*
 * A domain left "creating" (or "booting": an HVM guest's QEMU paused
 * while its disks are attached, or an xm restore's while it realises the
 * disks and loads the guest) by an xm create or restore that is no longer at work:
 * its create lock (named in the reservation) is not held, because xm died,
 * or because its undo could not reach a store that went down. Undo it as
 * that create would have: its QEMU (the one in its run dir), its
 * introduction, nodes, devices and run dir (dom_cleanup). A record with no
 * run dir yet may still have one that create made, empty: rmdir only.
 * true when it was undone.
 */
static bool abandoned_create(struct backd *b, unsigned int domid, const char *want)
{
	char *lock = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/creator", domid);
	if (lock && createlock_path_ok(lock) && oplock_held(lock)) {
		free(lock);
		return false; /* still at work */
	}
	/* The state again, now that the lock is known free: an xm create
	 * writes "running" before it lets go, so one that finished since the
	 * state was read (a scan that lagged) is told from one that died. */
	char *state = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/state", domid);
	bool creating = state && strcmp(state, want) == 0;
	free(state);
	if (!creating) {
		free(lock);
		return false;
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
	return true;
}

/* g's record went away (xm destroy cleaned up): let it go. */
static void forget(struct backd *b, struct guest *g)
{
	log_info("domain %u: gone", g->domid);
	if (b->cidx)
		claimidx_drop_domain(b->cidx, g->domid);
	q_close(b, g);
	g->gone = true;
	b->reap_due = true;
}

/* One listed record: a guest not watched yet is watched once running or
 * booting (an HVM create lets it run later), undone when an xm create left
 * it half-made; a guest being booted by its create is checked on. */
static void look_at(struct backd *b, unsigned int domid)
{
	struct guest *g = domid ? find(b, domid) : NULL;
	if (g && g->booting) { /* an HVM guest's create: let run yet, or gone? */
		char *state = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/state", domid);
		g->booting = state && strcmp(state, "booting") == 0;
		free(state);
		if (g->booting && abandoned_create(b, domid, "booting"))
			g->booting = false; /* (its QEMU's end cleans up the rest) */
	}
	if (domid == 0 || g)
		return;
	char *state = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/state", domid);
	if (state && strcmp(state, "running") == 0)
		attach(b, domid, false);
	else if (state && strcmp(state, "booting") == 0)
		attach(b, domid, true); /* (looked at again next scan) */
	else if (state && strcmp(state, "creating") == 0) {
		crash_point("xmbackd.scan-creating"); /* (a scan that lags) */
		abandoned_create(b, domid, "creating");
	}
	free(state);
}

/*
 * Saved domains (xm save) hold their disks' claims while their save file
 * is there: one whose file is gone from its path (removed, or another file
 * in its place) has its record removed, and its claims with it. A record
 * naming a restore that is over (its domain gone) loses that name.
 */
static void saved_scan(struct backd *b)
{
	unsigned int n = 0;
	char **ids = xs_directory(b->xs, XBT_NULL, XM_SAVED_ROOT, &n);
	for (unsigned int i = 0; i < n; i++) {
		char *file = dom_readf(b->xs, XBT_NULL, XM_SAVED_ROOT "/%s/file", ids[i]);
		char *ino = dom_readf(b->xs, XBT_NULL, XM_SAVED_ROOT "/%s/ino", ids[i]);
		char *rest = dom_readf(b->xs, XBT_NULL, XM_SAVED_ROOT "/%s/restoring", ids[i]);
		char path[200], have[64] = "";
		struct stat st;
		if (file && stat(file, &st) == 0)
			snprintf(have, sizeof(have), "%lu:%lu", (unsigned long)st.st_dev,
				 (unsigned long)st.st_ino);
		else if (file && errno != ENOENT && errno != ENOTDIR)
			snprintf(have, sizeof(have), "%s", ino ? ino : ""); /* unsure: kept */
		if (file && ino && strcmp(have, ino) != 0) {
			log_info("saved domain %s: its file %s is gone; its claims are released",
				 ids[i], file);
			snprintf(path, sizeof(path), XM_SAVED_ROOT "/%s", ids[i]);
			xs_rm(b->xs, XBT_NULL, path);
		} else if (rest && *rest) {
			char *st8 = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%s/state", rest);
			if (!st8 && errno == ENOENT) {
				snprintf(path, sizeof(path), XM_SAVED_ROOT "/%s/restoring", ids[i]);
				xs_write(b->xs, XBT_NULL, path, "", 0);
			}
			free(st8);
		}
		free(file);
		free(ino);
		free(rest);
	}
	free(ids);
}

void guests_scan(struct backd *b)
{
	unsigned int n = 0;
	char **ids = xs_directory(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain", &n);
	if (!ids && errno != ENOENT)
		return; /* the store is unreachable: nothing is decided on that */

	/* Guests whose record went away (xm destroy cleaned up): the listed ids
	 * as bits (ids are below 2^16), not a search of the list per guest */
	static unsigned char listed[65536 / 8];
	memset(listed, 0, sizeof(listed));
	for (unsigned int i = 0; i < n; i++) {
		unsigned long id = strtoul(ids[i], NULL, 10);
		if (id < 65536)
			listed[id / 8] |= (unsigned char)(1u << (id % 8));
	}
	for (struct guest *g = b->guests; g; g = g->next)
		if (!g->gone && (g->domid >= 65536 || !(listed[g->domid / 8] & (1u << (g->domid % 8)))))
			forget(b, g);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int domid = (unsigned int)atoi(ids[i]);
		look_at(b, domid);
	}
	free(ids);
	saved_scan(b);
	createlock_sweep();
	b->ndpending = 0; /* covered */
}

bool guests_note(struct backd *b, const char *path)
{
	unsigned int domid;
	int n = 0;
	const char *p = path + strlen(XM_TOOL_ROOT "/domain/");
	if (strncmp(path, XM_TOOL_ROOT "/domain/", strlen(XM_TOOL_ROOT "/domain/")) != 0 ||
	    !isdigit((unsigned char)*p) || sscanf(p, "%u%n", &domid, &n) != 1 ||
	    (p[n] != '\0' && p[n] != '/'))
		return false;
	for (unsigned int i = 0; i < b->ndpending; i++)
		if (b->dpending[i] == domid)
			return true;
	if (b->ndpending == VBD_PENDING_MAX)
		return false; /* so many: everything is looked at */
	b->dpending[b->ndpending++] = domid;
	return true;
}

void guests_flush(struct backd *b)
{
	unsigned int n = b->ndpending;
	b->ndpending = 0;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int domid = b->dpending[i];
		struct guest *g = find(b, domid);
		char *rec = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u", domid);
		int e = errno;
		if (!rec && e != ENOENT)
			continue; /* the store is unreachable: nothing is decided on that */
		if (!rec && g)
			forget(b, g);
		else if (rec)
			look_at(b, domid);
		free(rec);
		vbd_scan_domain(b, domid);
	}
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
		if (dev && strncmp(dev, "xmdev-", 6) == 0) {
			g->recheck = true;
			b->recheck_due = true;
		} else if (dev && strncmp(dev, "xmnet-", 6) == 0) {
			vif_deleted(b, g, dev); /* a vif's unplug ends (vif.c) */
		}
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

/* A message from g's QEMU to whoever waits for it (a ping, a job, an
 * action, the reconcile's view), else an event; then freed. */
static void take(struct backd *b, struct guest *g, json_t *m)
{
	if (!guest_pong(b, g, m) && !job_message(b, g, m) && !vif_message(b, g, m) &&
	    !qcall_message(b, g, m) && !actions_message(b, g, m) && !reconcile_message(b, g, m))
		on_event(b, g, m);
	json_decref(m);
}

void guests_qmp_ready(struct backd *b, struct guest *g)
{
	if (!g->ready) {
		handshake(b, g);
		return;
	}
	errno = 0;
	if (qmp_read(g->q) < 0) { /* closed, or a line that never ends */
		monitor_failed(b, g, errno ? strerror(errno) : "closed");
		return;
	}
	guest_heard(b, g);
	json_t *m;
	while (!g->gone && (m = qmp_next(g->q)))
		take(b, g, m);
}

void guests_events(struct backd *b)
{
	if (qmp_kept_count() == 0)
		return; /* (the usual case: no blocking call kept anything) */
	for (struct guest *g = b->guests; g; g = g->next) {
		json_t *m;
		while (!g->gone && g->ready && (m = qmp_pop_event(g->q)))
			take(b, g, m);
	}
}

struct guest *guest_ready(struct backd *b, unsigned int domid)
{
	struct guest *g = find(b, domid);
	return g && g->q && g->ready && g->taken && !g->stuck && g->njobs < GUEST_JOBS_MAX ? g : NULL;
}

struct guest *guest_find(struct backd *b, unsigned int domid)
{
	return find(b, domid);
}

struct qmp *guest_qmp(struct backd *b, unsigned int domid)
{
	struct guest *g = guest_ready(b, domid);
	return g ? g->q : NULL;
}

bool guest_any_job(struct backd *b, unsigned int domid)
{
	struct guest *g = find(b, domid);
	if (!g || (!g->jobs && !g->vifjob && !qcall_any(g)))
		return false;
	g->deferred = true;
	return true;
}

bool guest_busy(struct backd *b, unsigned int domid, unsigned long devid)
{
	struct guest *g = find(b, domid);
	if (!g || !g->jobs || (g->njobs < GUEST_JOBS_MAX && !job_holds(g, devid)))
		return false;
	g->deferred = true;
	return true;
}

void guests_expire(struct backd *b)
{
	long now = now_ms();
	for (struct guest *g = b->guests; g; g = g->next) {
		if (g->jobs && !g->gone)
			job_expire(b, g, now);
		if (g->vifjob && !g->gone)
			vif_expire(b, g, now);
		if (g->calls && !g->gone)
			qcall_expire(b, g, now);
		if (g->view && now >= g->view_deadline)
			b->recheck_due = true; /* its reconcile ends unanswered */
	}
}

bool guest_stuck(struct backd *b, unsigned int domid)
{
	struct guest *g = find(b, domid);
	/* a monitor being opened is not stuck until said so (guests_connect,
	 * after STUCK_MS): a guest just created is only a few ms from ready */
	return g && (g->stuck || (!g->ready && g->warned));
}

void guests_reap(struct backd *b)
{
	if (!b->reap_due)
		return;
	b->reap_due = false;
	struct guest **p = &b->guests;
	while (*p) {
		struct guest *g = *p;
		if (g->gone) {
			*p = g->next;
			struct guest **h = &b->gtab[g->domid % GUEST_TAB];
			while (*h != g)
				h = &(*h)->hnext;
			*h = g->hnext;
			job_abort(b, g, "QEMU has exited"); /* or is no longer ours */
			vif_abort(b, g, true);
			qcall_abort(b, g, true);
			q_close(b, g);
			free(g);
		} else {
			p = &g->next;
		}
	}
}

void guests_free(struct backd *b)
{
	for (struct guest *g = b->guests; g; g = g->next) {
		job_abort(b, g, NULL); /* xmbackd stops: the record says what is left */
		vif_abort(b, g, false);
		qcall_abort(b, g, false);
		g->gone = true;
		b->reap_due = true;
	}
	guests_reap(b);
}

/* g is reconciled (ok) or could not be (QEMU or the store not read): its
 * first time, the attaches that waited for it go on (a guest just created:
 * xm create's disks). */
static void reconciled(struct backd *b, struct guest *g, bool ok)
{
	if (ok)
		g->fresh = false;
	if (!g->taken) {
		g->taken = true;
		vbd_scan_domain(b, g->domid);
	}
}

void guests_recheck(struct backd *b)
{
	if (!b->recheck_due)
		return;
	b->recheck_due = false;
	long now = now_ms();
	for (struct guest *g = b->guests; g; g = g->next) {
		if (g->gone)
			continue;
		if (g->view) { /* its view asked of QEMU: answered, refused or late? */
			int st = qview_state(g->view);
			if (st == 0 && now < g->view_deadline)
				continue; /* (its last answer or the deadline brings it back) */
			if (st > 0 && (g->jobs || qcall_any(g) || !qview_current(g->view, g->q))) {
				/* QEMU was asked to change meanwhile (an attach or a
				 * detach began or ended): asked again after it */
				reconcile_drop(g);
				g->recheck = true;
				b->recheck_due = true;
				continue;
			}
			if (st == 0)
				log_warn("domain %u: its QEMU did not answer the reconcile's questions "
					 "within %d ms: nothing done", g->domid, RECONCILE_QMP_TIMEOUT);
			reconciled(b, g, st > 0 && reconcile_guest(b, g, g->fresh) == 0);
			reconcile_drop(g);
			continue;
		}
		if (!g->recheck)
			continue;
		if (!g->ready || g->stuck || g->jobs || qcall_any(g)) {
			b->recheck_due = true; /* looked at again when it can be */
			continue;
		}
		g->recheck = false;
		if (!g->taken)
			actions_takeover(b, g); /* (a guest found crashed) */
		if (!reconcile_start(b, g))
			reconciled(b, g, false);
	}
}
