/*
 * vbd.c — the block frontend; see vbd.h and docs/vbd.md.
 *
 * Everything is driven by XenStore state, read again on every watch event:
 * for one device the frontend's backend and state, then the backend's
 * state, dev, device-type, force and pci-root-port (replies of one connection come in
 * order, so the last reply of a batch closes it). decide() then compares
 * that with the guest (disk.c: sysfs, mounts, open files) and acts. A start, a
 * reconnect or an agent restart is thus the same as any event: the
 * registration of the watches fires them, and every device is brought in
 * line (a /dev node already there is kept).
 *
 * The frontend state (and the refusal) is written as Linux's
 * xenbus_switch_state does it: in a transaction that first reads the state,
 * so that a write never re-creates a directory the toolstack has just
 * removed.
 */
#include "vbd.h"
#include "vbd-int.h"
#include "mux.h"
#include "uevent.h"
#include "util.h"
#include "vdev.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define VBD_DIR "device/vbd"
#define SEARCH_MS 10000      /* how long the disk may take to show */
#define SEARCH_POLL_MS 200   /* retry interval (a uevent retries at once) */
#define SEARCH_POLL_NL_MS 50 /* ... without the uevent socket */
#define RECHECK_MS 500       /* refused close: look again */
#define ERR_NODISK "19 no disk appeared for this device"
#define ERR_BUSY "16 Device in use; refusing to close"

static int ival(const struct vdev *d, int slot)
{
	return d->val[slot] && is_num(d->val[slot]) ? atoi(d->val[slot]) : -1;
}


/* --- XenStore requests ----------------------------------------------------- */

static void decide(struct vdev *d);
static void read_device(struct vdev *d);
static void on_backend_event(void *arg, const char *path);

static int request(struct vdev *d, uint32_t type, uint32_t tx, const char *body, size_t len,
		   mux_reply_fn *fn)
{
	if (mux_request_tx(d->v->mux, type, tx, body, len, fn, fn ? d : NULL) < 0)
		return -1;
	if (fn)
		d->busy++;
	return 0;
}

/* "path\0" */
static int request_path(struct vdev *d, uint32_t type, uint32_t tx, const char *path,
			mux_reply_fn *fn)
{
	return request(d, type, tx, path, strlen(path) + 1, fn);
}

static int request_write(struct vdev *d, uint32_t tx, const char *path, const char *value)
{
	char buf[512];
	size_t pl = strlen(path) + 1, vl = strlen(value);
	if (pl + vl > sizeof(buf))
		return -1;
	memcpy(buf, path, pl);
	memcpy(buf + pl, value, vl);
	return request(d, XS_WRITE, tx, buf, pl + vl, NULL);
}

static void free_vals(struct vdev *d)
{
	for (int i = 0; i < NVALS; i++) {
		free(d->val[i]);
		d->val[i] = NULL;
	}
}

static void unwatch_backend(struct vdev *d)
{
	if (d->bstate[0]) {
		mux_unwatch(d->v->mux, d->bstate, on_backend_event, d);
		d->bstate[0] = '\0';
	}
}

/* Free d if it is forgotten and nothing is in flight for it. */
static void maybe_free(struct vdev *d)
{
	if (!d->gone || d->busy)
		return;
	struct vbd_front *v = d->v;
	for (struct vdev **pp = &v->devs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	free_vals(d);
	free(d);
}

/* A reply for d arrived: false if d is forgotten (and maybe freed). */
static bool reply_for(struct vdev *d)
{
	d->busy--;
	if (d->gone) {
		maybe_free(d);
		return false;
	}
	return true;
}

static void prep_end(struct vdev *d);

static void forget(struct vdev *d)
{
	prep_end(d);
	unwatch_backend(d);
	d->gone = true;
	maybe_free(d);
}

/* Remove the error node (outside any transaction: nothing to re-create). */
static void clear_error(struct vdev *d)
{
	char p[96];
	snprintf(p, sizeof(p), "error/" VBD_DIR "/%s", d->id);
	request_path(d, XS_RM, 0, p, NULL);
}

/* --- the transactional state write ---------------------------------------- */

static void tx_begin(struct vdev *d);

static void tx_finish(struct vdev *d, bool ok)
{
	d->writing = false;
	if (!ok)
		d->fstale = true;
	if (ok && d->wstate) { /* known without reading it back */
		char num[8];
		snprintf(num, sizeof(num), "%d", d->wstate);
		free(d->val[F_STATE]);
		d->val[F_STATE] = strdup(num);
	}
	log_debug("%s: state write %s", d->name, ok ? "done" : "failed");
	if (d->wdone)
		d->wdone(d, ok);
	if (d->again && !d->gone) {
		d->again = false;
		read_device(d);
	}
}

static void on_tx_end(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vdev *d = arg;
	if (!reply_for(d))
		return;
	bool again = type == XS_ERROR && strncmp(body, "EAGAIN", len) == 0;
	/* a prepared transaction that failed otherwise (lost with a host
	 * connection): the whole write once more */
	if (type == XS_ERROR && (again || d->from_prep) && ++d->tries < 10) {
		tx_begin(d);
		return;
	}
	/* tx == 0 marks an aborted transaction: the device dir was gone */
	tx_finish(d, type != XS_ERROR && d->tx != 0);
}

static void on_tx_check(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vdev *d = arg;
	char p[128];
	(void)body;
	(void)len;
	if (!reply_for(d))
		return;
	uint32_t tx = d->tx;
	if (type == XS_ERROR) { /* the frontend dir is gone: change nothing */
		d->tx = 0;
		if (request(d, XS_TRANSACTION_END, tx, "F", 2, on_tx_end) < 0)
			tx_finish(d, false);
		return;
	}
	char num[8];
	snprintf(num, sizeof(num), "%d", d->wstate);
	snprintf(p, sizeof(p), VBD_DIR "/%s/state", d->id);
	if (d->wstate)
		request_write(d, tx, p, num);
	snprintf(p, sizeof(p), "error/" VBD_DIR "/%s/error", d->id);
	if (d->werr)
		request_write(d, tx, p, d->werr);
	if (request(d, XS_TRANSACTION_END, tx, "T", 2, on_tx_end) < 0)
		tx_finish(d, false);
}

/* "123" as a transaction id, 0 if it is not one. */
static uint32_t tx_id(uint32_t type, const char *body, size_t len)
{
	char num[16];
	if (type == XS_ERROR || len == 0 || len >= sizeof(num))
		return 0;
	memcpy(num, body, len);
	num[len] = '\0';
	return (uint32_t)strtoul(num, NULL, 10);
}

static void on_tx_start(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vdev *d = arg;
	char p[96];
	if (!reply_for(d))
		return;
	d->tx = tx_id(type, body, len);
	if (!d->tx) {
		tx_finish(d, false);
		return;
	}
	snprintf(p, sizeof(p), VBD_DIR "/%s/state", d->id);
	if (request_path(d, XS_READ, d->tx, p, on_tx_check) < 0)
		tx_finish(d, false);
}

static void tx_begin(struct vdev *d)
{
	d->from_prep = false;
	if (request(d, XS_TRANSACTION_START, 0, "", 1, on_tx_start) < 0)
		tx_finish(d, false);
}

/* --- the prepared transaction -------------------------------------------------- */

static void prep_commit(struct vdev *d);

/* The prepared transaction did not come about: a write that waits for it
 * goes the usual way. */
static void prep_fallback(struct vdev *d)
{
	if (d->prep_then) {
		d->prep_then = false;
		tx_begin(d);
	}
}

/* Back to PREP_NONE, ending tx (if it is still good) without a reply. */
static void prep_close(struct vbd_front *v, struct vdev *d, uint32_t tx, unsigned int epoch)
{
	if (tx && mux_epoch(v->mux) == epoch)
		mux_request_tx(v->mux, XS_TRANSACTION_END, tx, "F", 2, NULL, NULL);
	if (d) {
		d->prep = PREP_NONE;
		d->prep_drop = false;
		d->prep_tx = 0;
	}
	v->nprep--;
}

static void on_prep_check(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vdev *d = arg;
	struct vbd_front *v = d->v;
	uint32_t tx = d->prep_tx;
	unsigned int epoch = d->prep_epoch;
	(void)body;
	(void)len;
	if (!reply_for(d)) {
		prep_close(v, NULL, tx, epoch);
		return;
	}
	if (d->prep_drop || type == XS_ERROR) { /* not wanted, or the dir is gone */
		prep_close(v, d, tx, epoch);
		prep_fallback(d);
		return;
	}
	d->prep = PREP_READY;
	log_debug("%s: state write prepared (transaction %u)", d->name, tx);
	if (d->prep_then) {
		d->prep_then = false;
		prep_commit(d);
	}
}

static void on_prep_start(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vdev *d = arg;
	struct vbd_front *v = d->v;
	uint32_t tx = tx_id(type, body, len);
	unsigned int epoch = d->prep_epoch;
	char p[96];
	if (!reply_for(d)) {
		prep_close(v, NULL, tx, epoch);
		return;
	}
	if (!tx || d->prep_drop || mux_epoch(v->mux) != epoch) { /* EQUOTA, say */
		prep_close(v, d, tx, epoch);
		prep_fallback(d);
		return;
	}
	d->prep_tx = tx;
	snprintf(p, sizeof(p), VBD_DIR "/%s/state", d->id);
	if (request_path(d, XS_READ, tx, p, on_prep_check) < 0) {
		prep_close(v, d, tx, epoch);
		prep_fallback(d);
	}
}

/* Open the next state write's transaction ahead (one device at a time). */
static void prep_begin(struct vdev *d)
{
	struct vbd_front *v = d->v;
	/* one lost with a host connection holds the place for nothing */
	for (struct vdev *o = v->devs; o; o = o->next)
		if (o->prep == PREP_READY && o->prep_epoch != mux_epoch(v->mux))
			prep_close(v, o, 0, 0);
	if (d->prep != PREP_NONE || v->nprep || d->writing)
		return;
	d->prep = PREP_STARTING;
	d->prep_drop = false;
	d->prep_then = false;
	d->prep_tx = 0;
	d->prep_epoch = mux_epoch(v->mux);
	v->nprep++;
	if (request(d, XS_TRANSACTION_START, 0, "", 1, on_prep_start) < 0)
		prep_close(v, d, 0, d->prep_epoch);
}

/* The prepared transaction is not going to be used. */
static void prep_end(struct vdev *d)
{
	if (d->prep == PREP_READY)
		prep_close(d->v, d, d->prep_tx, d->prep_epoch);
	else if (d->prep == PREP_STARTING)
		d->prep_drop = true; /* closed when its replies come */
}

/* Write the state (wstate) in the prepared transaction, READY: the state
 * was read in it, so write and commit at once (a conflict, e.g. the
 * directory removed since, is EAGAIN: the whole write again). */
static void prep_commit(struct vdev *d)
{
	char p[96], num[8];
	d->tx = d->prep_tx;
	d->prep = PREP_NONE;
	d->prep_tx = 0;
	d->v->nprep--;
	d->from_prep = true;
	snprintf(p, sizeof(p), VBD_DIR "/%s/state", d->id);
	snprintf(num, sizeof(num), "%d", d->wstate);
	request_write(d, d->tx, p, num);
	if (request(d, XS_TRANSACTION_END, d->tx, "T", 2, on_tx_end) < 0)
		tx_finish(d, false);
}

/* Write state (if not 0) and the error text (if any) while the frontend
 * directory exists; done(d, ok) after. */
static void switch_state(struct vdev *d, int state, const char *err,
			 void (*done)(struct vdev *, bool))
{
	d->writing = true;
	d->tries = 0;
	d->wstate = state;
	d->werr = err;
	d->wdone = done;
	log_debug("%s: state %d%s%s", d->name, state, err ? ", error " : "", err ? err : "");
	bool usable = state && !err && mux_epoch(d->v->mux) == d->prep_epoch;
	if (d->prep == PREP_READY && usable) {
		prep_commit(d);
		return;
	}
	if (d->prep == PREP_STARTING && !d->prep_drop && usable) {
		d->prep_then = true; /* written as soon as its read is back */
		return;
	}
	prep_end(d);
	tx_begin(d);
}

/* --- reading a device --------------------------------------------------------- */

static void on_read(void *arg, uint32_t type, const char *body, size_t len);

/* Read dir/key into slot (one of a batch: d->nreads counts it). false
 * when the host is not there (d->read_failed; d->reading cleared if
 * nothing of the batch is in flight). */
static bool read_val(struct vdev *d, const char *dir, const char *key, int slot)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	if (mux_request(d->v->mux, XS_READ, p, strlen(p) + 1, on_read, &d->rq[slot]) < 0) {
		d->read_failed = true;
		if (!d->nreads)
			d->reading = false;
		return false;
	}
	d->busy++;
	d->nreads++;
	return true;
}

static void read_backend(struct vdev *d)
{
	static const char *const keys[] = { [B_STATE] = "state", [B_DEV] = "dev",
					    [B_TYPE] = "device-type", [B_FORCE] = "force",
					    [B_SLOT] = "pci-root-port" };
	for (int s = B_STATE; s < NVALS; s++)
		if (!read_val(d, d->val[F_BACKEND], keys[s], s))
			break;
}

static void read_done(struct vdev *d)
{
	d->reading = false;
	if (d->read_failed)
		return; /* the host went away: its return reads again */
	if (d->again) { /* something changed meanwhile */
		d->again = false;
		read_device(d);
		return;
	}
	decide(d);
}

static void on_read(void *arg, uint32_t type, const char *body, size_t len)
{
	struct rq *r = arg;
	struct vdev *d = r->d;
	if (!reply_for(d))
		return;
	if (type == XS_ERROR) {
		if (strncmp(body, "ENOENT", len) != 0 && strncmp(body, "EACCES", len) != 0)
			d->read_failed = true;
	} else {
		char *s = malloc(len + 1);
		if (!s) {
			d->read_failed = true;
		} else {
			memcpy(s, body, len);
			s[len] = '\0';
			free(d->val[r->slot]);
			d->val[r->slot] = s;
		}
	}
	d->nreads--;
	if (r->slot == B_TYPE && !d->read_failed)
		d->bread = true;
	/* with the backend's state watched; else decide() sets the watch and
	 * its first event reads the backend */
	if (r->slot == F_STATE && !d->read_failed && d->val[F_BACKEND] &&
	    d->val[F_BACKEND][0] == '/' && d->bstate[0])
		read_backend(d);
	if (!d->nreads)
		read_done(d);
}

/* Read the device's nodes again, then decide(). */
static void read_device(struct vdev *d)
{
	if (d->gone)
		return;
	if (d->reading || d->writing) {
		d->again = true;
		return;
	}
	static const char *const keys[] = { [F_BACKEND] = "backend", [F_STATE] = "state" };
	char dir[64];
	free_vals(d);
	d->bread = false;
	d->fstale = false;
	d->read_epoch = mux_epoch(d->v->mux);
	d->reading = true;
	d->read_failed = false;
	d->nreads = 0;
	snprintf(dir, sizeof(dir), VBD_DIR "/%s", d->id);
	for (int s = F_BACKEND; s <= F_STATE; s++)
		if (!read_val(d, dir, keys[s], s))
			return;
}

/* After the start only the backend's state, force and pci-root-port (with
 * Connected) change: an event on its state reads just those again (the
 * others are kept); the first event after the watch is set reads all. */
static void read_backend_state(struct vdev *d)
{
	if (d->gone)
		return;
	/* everything again after a failed write or a lost connection: a
	 * write may have landed without its reply */
	if (d->reading || d->writing || !d->val[F_BACKEND] || d->val[F_BACKEND][0] != '/' ||
	    d->fstale || d->read_epoch != mux_epoch(d->v->mux)) {
		read_device(d);
		return;
	}
	d->reading = true;
	d->read_failed = false;
	d->nreads = 0;
	if (!d->bread) {
		read_backend(d);
		if (!d->nreads)
			d->reading = false;
		return;
	}
	/* Connected, this may be the Closing: the Closed write's transaction
	 * opened first, so that its read in it travels while the in-use check
	 * runs (prep_begin sends nothing if it cannot) */
	if (ival(d, F_STATE) == 4 && !d->refusing)
		prep_begin(d);
	static const int slots[] = { B_STATE, B_FORCE, B_SLOT };
	static const char *const keys[] = { "state", "force", "pci-root-port" };
	for (int i = 0; i < 3; i++) {
		free(d->val[slots[i]]);
		d->val[slots[i]] = NULL;
		if (!read_val(d, d->val[F_BACKEND], keys[i], slots[i]))
			return;
	}
}

static void on_backend_event(void *arg, const char *path)
{
	struct vdev *d = arg;
	(void)path;
	/* Even the registration's event is read: xenstored sends one event
	 * per path and token while a copy is still unsent, so it may stand
	 * for a change made after the reads sent with the watch. */
	d->bdirty = true; /* read at vbd_flush(), once for a burst */
}

static struct vdev *find_dev(struct vbd_front *v, unsigned long devid)
{
	for (struct vdev *d = v->devs; d; d = d->next)
		if (d->devid == devid && !d->gone)
			return d;
	return NULL;
}

static struct vdev *get_dev(struct vbd_front *v, const char *id)
{
	if (!is_num(id) || strlen(id) > 10)
		return NULL;
	unsigned long devid = strtoul(id, NULL, 10);
	struct vdev *d = find_dev(v, devid);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->v = v;
	d->devid = devid;
	snprintf(d->id, sizeof(d->id), "%lu", devid);
	if (vdev_name(devid, d->name, sizeof(d->name)) < 0)
		snprintf(d->name, sizeof(d->name), "vbd-%lu", devid); /* an odd number */
	unsigned int part;
	d->whole = vdev_split(devid, NULL, &part) == 0 && part == 0;
	for (int s = 0; s < NVALS; s++)
		d->rq[s] = (struct rq){ d, s };
	d->next = v->devs;
	v->devs = d;
	return d;
}

/* --- what to do -------------------------------------------------------------- */

static void connected(struct vdev *d, bool ok)
{
	if (ok && d->nparts)
		log_info("%s: connected (%s %u:%u, %u partition%s)", d->name, d->kname,
			 major(d->rdev), minor(d->rdev), d->nparts, d->nparts == 1 ? "" : "s");
	else if (ok)
		log_info("%s: connected (%s %u:%u)", d->name, d->kname, major(d->rdev),
			 minor(d->rdev));
}

static void closed(struct vdev *d, bool ok)
{
	(void)ok;
	d->kname[0] = '\0';
}

static void refused(struct vdev *d, bool ok)
{
	if (!ok)
		d->refusing = false; /* try again at the next look */
}

static void failed(struct vdev *d, bool ok)
{
	(void)d;
	(void)ok;
}

static void close_now(struct vdev *d, const char *how)
{
	bool had = drop_node(d);
	drop_parts(d);
	if (d->refusing) {
		clear_error(d);
		d->refusing = false;
	}
	d->timer_at = 0;
	log_info("%s: closed%s%s", d->name, how, had ? "" : " (no node)");
	switch_state(d, 6, NULL, closed);
}

static void decide(struct vdev *d)
{
	struct vbd_front *v = d->v;
	char why[600];

	if (d->gone)
		return;
	if (d->reading || d->writing) {
		d->again = true;
		return;
	}
	if (!mux_connected(v->mux))
		return;
	d->timer_at = 0;
	if (!d->val[F_BACKEND] && !d->val[F_STATE]) {
		/* the directory went away: a forced detach, or a failed attach */
		if (drop_node(d))
			log_info("%s: removed (device gone)", d->name);
		drop_parts(d);
		forget(d);
		return;
	}
	/* watch the backend's state from now on, and read its values in the
	 * same round trip; for a device being connected, the Connected
	 * write's transaction is opened ahead of them. Round trips the guest
	 * makes now share its vCPU with the hot-plug about to come. */
	if (d->val[F_BACKEND] && d->val[F_BACKEND][0] == '/' && !d->bstate[0]) {
		snprintf(d->bstate, sizeof(d->bstate), "%s/state", d->val[F_BACKEND]);
		if (mux_watch(v->mux, d->bstate, on_backend_event, d) < 0) {
			d->bstate[0] = '\0';
		} else {
			int f = ival(d, F_STATE);
			if (f >= 0 && f < 4)
				prep_begin(d);
			d->reading = true;
			d->read_failed = false;
			d->nreads = 0;
			read_backend(d);
			if (!d->nreads)
				d->reading = false;
			return;
		}
	}
	/* values not read yet (a failed read): the next event reads them */
	if (d->bstate[0] && !d->bread)
		return;

	int fs = ival(d, F_STATE), bs = ival(d, B_STATE);
	bool force = d->val[B_FORCE] && strcmp(d->val[B_FORCE], "1") == 0;
	/* only while the device is being connected, or closed */
	if (!(fs >= 0 && fs < 4 && bs >= 1 && bs <= 4) && !(fs == 4 && bs == 5 && !d->refusing))
		prep_end(d);

	if (fs >= 0 && fs < 4) {
		d->closed = false;
		if (bs == 5 || bs == 6) { /* given up before we connected */
			d->search_until = 0;
			switch_state(d, 6, NULL, failed);
			return;
		}
		/* the Connected write's transaction, ready before the backend
		 * realises the device (not amid the guest's hot-plug work) */
		if (bs >= 1 && bs <= 4) {
			prep_begin(d);
			if (!d->parts_adopted) /* now, not once the disk is there */
				adopt_parts(d);
		}
		if (bs != 4)
			return;
		if (!find_disk(d)) {
			long now = now_ms();
			if (!d->search_until)
				d->search_until = now + SEARCH_MS;
			if (now >= d->search_until) {
				d->search_until = 0;
				log_warn("%s: no disk appeared (serial/model %s)", d->name,
					 d->val[B_TYPE] && strcmp(d->val[B_TYPE], "cdrom") == 0
						 ? (d->val[B_DEV] ? d->val[B_DEV] : "?") : d->id);
				switch_state(d, 6, ERR_NODISK, failed);
				return;
			}
			d->timer_at = now + (v->nl >= 0 ? SEARCH_POLL_MS : SEARCH_POLL_NL_MS);
			return;
		}
		d->search_until = 0;
		log_debug("%s: disk %s found", d->name, d->kname);
		if (make_node(d) < 0) {
			switch_state(d, 6, NULL, failed);
			return;
		}
		sync_parts(d, true);
		d->parts_on = true;
		switch_state(d, 4, NULL, connected);
		return;
	}
	if (fs != 4) { /* Closed (or a state we never write) */
		d->search_until = 0;
		if (drop_node(d))
			log_info("%s: removed (frontend closed)", d->name);
		drop_parts(d);
		return;
	}

	/* Connected: know the disk again after a restart */
	if (!d->kname[0] || !disk_present(d)) {
		d->kname[0] = '\0';
		if (find_disk(d))
			make_node(d);
	}
	/* after a restart or a missed uevent: the partitions too */
	if (d->kname[0]) {
		sync_parts(d, !d->parts_on);
		d->parts_on = true;
	}
	if (bs == 4) {
		if (d->refusing) {
			log_info("%s: close withdrawn", d->name);
			d->refusing = false;
			clear_error(d);
		}
		return;
	}
	if (bs == 5) {
		if (!d->kname[0]) {
			close_now(d, " (disk already gone)");
			return;
		}
		if (!in_use(d, why, sizeof(why))) {
			close_now(d, d->refusing ? " after release" : "");
			return;
		}
		prep_end(d);
		if (force)
			return; /* torn down without us: the directory goes next */
		d->timer_at = now_ms() + RECHECK_MS;
		if (!d->refusing) {
			d->refusing = true;
			log_info("%s: in use (%s); refusing to close", d->name, why);
			switch_state(d, 0, ERR_BUSY, refused);
		}
		return;
	}
	if (bs == 6 || bs < 0)
		close_now(d, " (backend closed)");
}

/* --- the device/vbd watch ------------------------------------------------------ */

static void scan(struct vbd_front *v);

static void on_list(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_front *v = arg;
	v->scanning = false;
	if (type == XS_ERROR && strncmp(body, "ENOENT", len) != 0)
		return; /* EIO: the reconnection scans again */
	if (type != XS_ERROR) {
		const char *p = body, *end = body + len;
		while (p < end) {
			size_t n = strnlen(p, (size_t)(end - p));
			char id[16];
			if (n < sizeof(id)) {
				memcpy(id, p, n);
				id[n] = '\0';
				struct vdev *d = get_dev(v, id);
				if (d)
					read_device(d);
			}
			p += n + 1;
		}
	}
	/* and those we know that may be gone */
	for (struct vdev *d = v->devs; d; d = d->next)
		if (!d->gone && !d->reading && !d->writing)
			read_device(d);
	if (v->rescan) {
		v->rescan = false;
		scan(v);
	}
}

static void scan(struct vbd_front *v)
{
	if (v->scanning) {
		v->rescan = true;
		return;
	}
	if (mux_request(v->mux, XS_DIRECTORY, VBD_DIR, sizeof(VBD_DIR), on_list, v) == 0)
		v->scanning = true;
}

static void on_vbd_event(void *arg, const char *path)
{
	struct vbd_front *v = arg;
	static const char pre[] = VBD_DIR "/";
	if (strncmp(path, pre, sizeof(pre) - 1) != 0) {
		scan(v); /* device/vbd itself (registration, removal) */
		return;
	}
	char id[16];
	const char *s = path + sizeof(pre) - 1;
	size_t n = strcspn(s, "/");
	if (n == 0 || n >= sizeof(id))
		return;
	memcpy(id, s, n);
	id[n] = '\0';
	/* the device's directory, or one of the nodes decide() reads; not
	 * the others a new device comes with */
	/* (not its state: only this agent writes that, and a removal fires
	 * on the directory) */
	const char *key = s[n] ? s + n + 1 : "";
	if (*key && strcmp(key, "backend") != 0)
		return;
	struct vdev *d = get_dev(v, id);
	if (d)
		d->dirty = true; /* read at vbd_flush(), once for a burst */
}

void vbd_flush(struct vbd_front *v)
{
	for (struct vdev *d = v->devs; d; d = d->next) {
		if (d->gone)
			continue;
		if (d->dirty)
			read_device(d);
		else if (d->bdirty)
			read_backend_state(d);
		d->dirty = d->bdirty = false;
	}
}

/* --- uevents: a disk appeared, an eject request ------------------------------- */

/* The host wants the tray of a cdrom: release it unless it is mounted. */
static void eject_request(struct vbd_front *v, const char *kname)
{
	struct vdev *d = NULL;
	for (struct vdev *e = v->devs; e; e = e->next)
		if (!e->gone && strcmp(e->kname, kname) == 0)
			d = e;
	const char *name = d ? d->name : kname;
	dev_t rdev;
	char path[96], where[512];
	snprintf(path, sizeof(path), "/sys/block/%s/dev", kname);
	if (read_devnum(path, &rdev) < 0)
		return;
	if (mounted(&rdev, 1, where, sizeof(where))) {
		log_info("%s: eject request: mounted on %s, kept", name, where);
		return;
	}
	snprintf(path, sizeof(path), "/dev/%s", kname);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	ioctl(fd, CDROM_LOCKDOOR, 0);
	ioctl(fd, CDROMEJECT, 0);
	close(fd);
	log_info("%s: eject request: released", name);
}

void vbd_readable(struct vbd_front *v)
{
	char buf[4096];
	bool kick = false, parts = false;
	for (;;) {
		ssize_t n = recv(v->nl, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* overrun: look at everything */
				kick = parts = true;
				continue;
			}
			break;
		}
		struct uevent u;
		if (uevent_parse(buf, (size_t)n, &u) < 0 || strcmp(u.subsys, "block") != 0)
			continue;
		log_debug("uevent %s %s %s", u.action, u.devname ? u.devname : "-",
			  u.devtype ? u.devtype : "-");
		if (u.eject && u.devname && strncmp(u.devname, "sr", 2) == 0)
			eject_request(v, u.devname);
		if (strcmp(u.action, "add") == 0) {
			kick = true;
			if (u.devname && u.devtype && strcmp(u.devtype, "disk") == 0 &&
			    v->nadded < sizeof(v->added) / sizeof(v->added[0]) &&
			    strlen(u.devname) < sizeof(v->added[0].name)) {
				struct added *a = &v->added[v->nadded++];
				snprintf(a->name, sizeof(a->name), "%s", u.devname);
				a->path[0] = '\0';
				if (u.devpath && strlen(u.devpath) < sizeof(a->path))
					snprintf(a->path, sizeof(a->path), "%s", u.devpath);
				a->rdev = u.major > 0 && u.minor >= 0
						  ? makedev((unsigned int)u.major, (unsigned int)u.minor)
						  : 0;
			}
		}
		/* a partition table read again: partitions removed and added */
		if (u.devtype && strcmp(u.devtype, "partition") == 0)
			parts = true;
	}
	if (parts)
		for (struct vdev *d = v->devs; d; d = d->next)
			if (!d->gone && d->parts_on)
				sync_parts(d, false);
	if (kick)
		for (struct vdev *d = v->devs, *next; d; d = next) {
			next = d->next; /* decide() may free d */
			if (d->search_until)
				decide(d);
		}
	v->nadded = 0;
}

int vbd_fd(const struct vbd_front *v)
{
	return v->nl;
}

/* --- public ------------------------------------------------------------------------- */

struct vbd_front *vbd_new(struct mux *m)
{
	struct vbd_front *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->mux = m;
	v->nl = uevent_open();
	if (v->nl < 0)
		log_warn("no uevent socket (%s): polling for new disks", strerror(errno));
	if (mux_watch(m, VBD_DIR, on_vbd_event, v) < 0) {
		if (v->nl >= 0)
			close(v->nl);
		free(v);
		return NULL;
	}
	return v;
}

void vbd_free(struct vbd_front *v)
{
	if (!v)
		return;
	while (v->devs) {
		struct vdev *d = v->devs;
		v->devs = d->next;
		free_vals(d);
		free(d);
	}
	if (v->nl >= 0)
		close(v->nl);
	free(v);
}

int vbd_timeout(const struct vbd_front *v)
{
	long first = 0;
	for (const struct vdev *d = v->devs; d; d = d->next)
		if (d->timer_at && (!first || d->timer_at < first))
			first = d->timer_at;
	if (!first)
		return -1;
	long left = first - now_ms();
	return left < 0 ? 0 : (int)left;
}

void vbd_tick(struct vbd_front *v)
{
	long now = now_ms();
	for (struct vdev *d = v->devs, *next; d; d = next) {
		next = d->next; /* decide() may free d */
		if (d->timer_at && now >= d->timer_at) {
			d->timer_at = 0;
			decide(d);
		}
	}
}
