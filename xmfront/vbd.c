/*
 * vbd.c — the block frontend; see vbd.h and docs/vbd.md.
 *
 * Everything is driven by XenStore state, read again on every watch event:
 * for one device the frontend's backend and state, then the backend's
 * state, dev, device-type, force and pci-root-port (replies of one
 * connection come in order, so the last reply of a batch closes it).
 * decide() then compares that with the guest (disk.c: sysfs, mounts, open
 * files) and acts. A start, a reconnect or an agent restart is thus the
 * same as any event: the registration of the watches fires them, and every
 * device is brought in line (a /dev node already there is kept).
 *
 * The state machine: decide() switches on the frontend state, each state's
 * function on the backend's.
 *
 *   directory gone              drop the nodes, forget the device
 *   frontend before Connected   (state_connecting)
 *     backend Closing, Closed   given up before we connected: write Closed
 *     backend Initialising ..   open the Connected write's transaction
 *       Initialised             ahead; adopt partition nodes left behind;
 *                               its root port named (pci-root-port): the
 *                               disk's uevent connects as Connected would,
 *                               backend events wait for it (awaiting_disk)
 *     backend Connected         find the kernel disk (polled, 10 s at most:
 *                               then Closed with an error), make the nodes,
 *                               write Connected
 *   frontend Connected          (state_connected) know the disk again after
 *                               a restart, partition nodes in line
 *     backend Connected         a refusal withdrawn: remove the error node
 *     backend Closing           not in use: close (nodes removed, write
 *                               Closed); in use: write the busy error and
 *                               look again every 0.5 s (not when forced)
 *     backend Closed, none      close
 *   frontend Closed, other      (state_closed) drop the nodes
 *
 * The state and the refusal are written by xenbus.c (xenbus_switch_state),
 * which may hold the next write's transaction open ahead (xenbus_prepare):
 * while connecting, and from the backend event that may be the Closing.
 */
#include "frontend.h"
#include "vbd.h"
#include "vbd-int.h"
#include "mux.h"
#include "uevent.h"
#include "util.h"
#include "vdev.h"
#include "wire.h"
#include "xenbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#define SEARCH_MS 10000      /* how long the disk may take to show */
#define SEARCH_POLL_MS 200   /* retry interval (a uevent retries at once) */
#define SEARCH_POLL_NL_MS 50 /* ... without the uevent socket */
#define HOLD_MS 500          /* a backend event held while the disk is awaited */
#define RECHECK_MS 500       /* refused close: look again */
#define ERR_NODISK "19 no disk appeared for this device"
#define ERR_BUSY "16 Device in use; refusing to close"

/* A state node that is missing, or not a number. */
#define STATE_NONE ((enum xenbus_state)-1)

static enum xenbus_state node_state(const struct vbd_dev *d, enum vbd_slot slot)
{
	const char *s = d->val[slot];
	int n = vbd_state_parse(s);
	return n < 0 ? STATE_NONE : (enum xenbus_state)n;
}

/* Unknown, Initialising, InitWait, Initialised: a frontend to connect. */
static bool before_connected(enum xenbus_state s)
{
	switch (s) {
	case XenbusStateUnknown:
	case XenbusStateInitialising:
	case XenbusStateInitWait:
	case XenbusStateInitialised:
		return true;
	default:
		return false;
	}
}

/* Initialising .. Connected: a backend on its way up, or up. */
static bool backend_up(enum xenbus_state s)
{
	switch (s) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
	case XenbusStateInitialised:
	case XenbusStateConnected:
		return true;
	default:
		return false;
	}
}

/* --- XenStore requests ----------------------------------------------------- */

static void decide(struct vbd_dev *d);
static void read_device(struct vbd_dev *d);
static void on_backend_event(void *arg, const char *path);
static bool set_backend_watch(struct vbd_dev *d, const char *state);

int dev_request(struct vbd_dev *d, uint32_t type, uint32_t tx, const char *body, size_t len,
		mux_reply_fn *fn)
{
	if (mux_request_tx(d->v->mux, type, tx, body, len, fn, fn ? d : NULL) < 0)
		return -1;
	if (fn)
		d->in_flight++;
	return 0;
}

int dev_request_path(struct vbd_dev *d, uint32_t type, uint32_t tx, const char *path,
		     mux_reply_fn *fn)
{
	return dev_request(d, type, tx, path, strlen(path) + 1, fn);
}

int dev_request_write(struct vbd_dev *d, uint32_t tx, const char *path, const char *value)
{
	char buf[512];
	const char *const v[] = { path, value };
	size_t len = wire_pack(buf, sizeof(buf), v, 2, false);
	if (len > sizeof(buf))
		return -1;
	return dev_request(d, XS_WRITE, tx, buf, len, NULL);
}

static void free_vals(struct vbd_dev *d)
{
	for (int i = 0; i < NVALS; i++) {
		free(d->val[i]);
		d->val[i] = NULL;
	}
}

/* The backend's pci-root-port, watched with its state: xmbackd writes it
 * with its claim, before QEMU plugs the disk (awaiting_disk below). */
static void slot_watch_path(const struct vbd_dev *d, char *out, size_t len)
{
	size_t n = strlen(d->backend_watch) - (sizeof("/state") - 1);
	snprintf(out, len, "%.*s/pci-root-port", (int)n, d->backend_watch);
}

static void unwatch_backend(struct vbd_dev *d)
{
	if (d->backend_watch[0]) {
		char slot[sizeof(d->backend_watch) + 16];
		slot_watch_path(d, slot, sizeof(slot));
		mux_unwatch(d->v->mux, slot, on_backend_event, d);
		mux_unwatch(d->v->mux, d->backend_watch, on_backend_event, d);
		d->backend_watch[0] = '\0';
	}
}

/* Free d if it is forgotten and nothing is in flight for it. */
static void maybe_free(struct vbd_dev *d)
{
	if (!d->forgotten || d->in_flight)
		return;
	struct vbd_front *v = d->v;
	for (struct vbd_dev **pp = &v->devs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	free_vals(d);
	free(d);
}

bool dev_reply(struct vbd_dev *d)
{
	d->in_flight--;
	if (d->forgotten) {
		maybe_free(d);
		return false;
	}
	return true;
}

static void forget(struct vbd_dev *d)
{
	xenbus_unprepare(d);
	unwatch_backend(d);
	d->forgotten = true;
	maybe_free(d);
}

/* Remove the error node (outside any transaction: nothing to re-create). */
static void clear_error(struct vbd_dev *d)
{
	char p[96];
	snprintf(p, sizeof(p), "error/" VBD_DIR "/%s", d->id);
	dev_request_path(d, XS_RM, 0, p, NULL);
}

void vbd_state_written(struct vbd_dev *d, bool ok)
{
	if (!ok)
		d->front_stale = true;
	if (ok && d->write.state != XB_STATE_KEEP) { /* known without reading it back */
		char num[8];
		snprintf(num, sizeof(num), "%s", vbd_state_str(d->write.state));
		free(d->val[F_STATE]);
		d->val[F_STATE] = strdup(num);
	}
	if (d->write.done)
		d->write.done(d, ok);
	if (d->read_again && !d->forgotten) {
		d->read_again = false;
		read_device(d);
	}
}

/* --- reading a device --------------------------------------------------------- */

/* Can d be read, or decided on, now? Not once it is forgotten; not while
 * a read or a write is in flight (everything is read again after it). */
static bool dev_ready(struct vbd_dev *d)
{
	if (d->forgotten)
		return false;
	if (d->read_busy || d->write.busy) {
		d->read_again = true;
		return false;
	}
	return true;
}

static void on_read(void *arg, uint32_t type, const char *body, size_t len);

/* Read dir/key into slot (one of a batch: d->reads_due counts it). false
 * when the host is not there (d->read_failed; d->read_busy cleared if
 * nothing of the batch is in flight). */
static bool read_val(struct vbd_dev *d, const char *dir, const char *key, int slot)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	if (mux_request(d->v->mux, XS_READ, p, strlen(p) + 1, on_read, &d->read_arg[slot]) < 0) {
		d->read_failed = true;
		if (!d->reads_due)
			d->read_busy = false;
		return false;
	}
	d->in_flight++;
	d->reads_due++;
	return true;
}

/* The backend's values, in the backend directory dir. */
static void read_backend_at(struct vbd_dev *d, const char *dir)
{
	static const char *const keys[] = { [B_STATE] = "state", [B_DEV] = "dev",
					    [B_TYPE] = "device-type", [B_FORCE] = "force",
					    [B_SLOT] = "pci-root-port" };
	for (int s = B_STATE; s < NVALS; s++)
		if (!read_val(d, dir, keys[s], s))
			break;
}

static void read_backend(struct vbd_dev *d)
{
	read_backend_at(d, d->val[F_BACKEND]);
}

static void read_done(struct vbd_dev *d)
{
	d->read_busy = false;
	if (d->read_failed)
		return; /* the host went away: its return reads again */
	/* something changed meanwhile, or a write made with these reads in
	 * flight failed (it may have landed without its reply) */
	if (d->read_again || d->front_stale) {
		d->read_again = false;
		read_device(d);
		return;
	}
	decide(d);
}

static void on_read(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_read *r = arg;
	struct vbd_dev *d = r->d;
	if (!dev_reply(d))
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
	d->reads_due--;
	if (r->slot == B_STATE)
		d->backend_held = false; /* what the held event stood for is read */
	if (r->slot == B_TYPE && !d->read_failed)
		d->backend_known = true;
	/* with the backend's state watched; else decide() sets the watch and
	 * its first event reads the backend (not when the backend's reads went
	 * with these: guess_backend) */
	if (r->slot == F_STATE && !d->read_failed && d->val[F_BACKEND] && !d->guessed_reads &&
	    d->val[F_BACKEND][0] == '/' && d->backend_watch[0])
		read_backend(d);
	if (!d->reads_due) {
		d->guessed_reads = false;
		read_done(d);
	}
}

/* A device just come: its backend is most likely where xm puts every
 * one, Domain-0's backend/vbd/<domid>/<devid> (docs/vbd.md). Its watch
 * and reads go with the device's own first reads, so that the agent has
 * all it needs for the hot-plug after one round trip, not two: done
 * sooner, out of the way of the QEMU's device_add and the guest's probe
 * that follow at once (bench/README.md, session 16). decide() checks the
 * guess against the device's backend node (watch_backend): a backend
 * elsewhere is watched and read then, the guess let go. */
static void guess_backend(struct vbd_dev *d)
{
	struct vbd_front *v = d->v;
	char dir[96], state[sizeof(d->backend_watch)];
	if (!v->domid[0] || v->domid_epoch != mux_epoch(v->mux) || d->backend_watch[0])
		return;
	snprintf(dir, sizeof(dir), "/local/domain/0/backend/vbd/%s/%s", v->domid,
		 d->id);
	snprintf(state, sizeof(state), "%s/state", dir);
	if (!set_backend_watch(d, state))
		return;
	d->guessed_reads = true;
	read_backend_at(d, dir);
}

/* Read the device's nodes again, then decide(). */
static void read_device(struct vbd_dev *d)
{
	if (!dev_ready(d))
		return;
	d->check_due = d->checked = false;
	d->guessed_reads = false;
	static const char *const keys[] = { [F_BACKEND] = "backend", [F_STATE] = "state" };
	char dir[64];
	free_vals(d);
	d->backend_known = false;
	d->front_stale = false;
	d->read_epoch = mux_epoch(d->v->mux);
	d->read_busy = true;
	d->read_failed = false;
	d->reads_due = 0;
	snprintf(dir, sizeof(dir), VBD_DIR "/%s", d->id);
	/* A device just come is most likely an attach: the transaction of
	 * its Connected write starts with these reads, and the backend's
	 * watch and reads go with them (guess_backend), so that the agent
	 * has what the hot-plug needs after one round trip (the read in the
	 * transaction follows on its own), not amid the hot-plug. decide()
	 * lets the transaction go if the device is not being connected (one
	 * found Connected when the agent starts). */
	bool fresh = d->fresh;
	if (fresh) {
		d->fresh = false;
		xenbus_prepare(d);
	}
	for (int s = F_BACKEND; s <= F_STATE; s++)
		if (!read_val(d, dir, keys[s], s))
			return;
	if (fresh)
		guess_backend(d);
}

/* Read the backend's state, force and pci-root-port, which change after
 * the start (the other values are kept); d is read_busy until they are
 * back. */
static void read_backend_changing(struct vbd_dev *d)
{
	static const int slots[] = { B_STATE, B_FORCE, B_SLOT };
	static const char *const keys[] = { "state", "force", "pci-root-port" };
	d->read_busy = true;
	d->read_failed = false;
	d->reads_due = 0;
	for (int i = 0; i < 3; i++) {
		free(d->val[slots[i]]);
		d->val[slots[i]] = NULL;
		if (!read_val(d, d->val[F_BACKEND], keys[i], slots[i]))
			return;
	}
}

/* After the start only the backend's state, force and pci-root-port (with
 * Connected) change: an event on its state reads just those again (the
 * others are kept); the first event after the watch is set reads all. */
static void read_backend_state(struct vbd_dev *d)
{
	if (d->forgotten)
		return;
	/* everything again after a failed write or a lost connection: a
	 * write may have landed without its reply */
	if (d->read_busy || d->write.busy || !d->val[F_BACKEND] || d->val[F_BACKEND][0] != '/' ||
	    d->front_stale || d->read_epoch != mux_epoch(d->v->mux)) {
		read_device(d);
		return;
	}
	d->read_busy = true;
	d->read_failed = false;
	d->reads_due = 0;
	if (!d->backend_known) {
		read_backend(d);
		if (!d->reads_due)
			d->read_busy = false;
		return;
	}
	/* Connected, this may be the Closing: the Closed write's transaction
	 * opened first, so that its read in it travels while the in-use check
	 * runs (xenbus_prepare sends nothing if it cannot); the check itself
	 * is made as soon as these requests are written (vbd_sent), while
	 * they travel, not after their replies */
	d->checked = false;
	d->check_due = node_state(d, F_STATE) == XenbusStateConnected && d->kname[0];
	if (node_state(d, F_STATE) == XenbusStateConnected && !d->close_refused)
		xenbus_prepare(d);
	read_backend_changing(d);
}

static void on_backend_event(void *arg, const char *path)
{
	struct vbd_dev *d = arg;
	(void)path;
	/* Even the registration's event is read: xenstored sends one event
	 * per path and token while a copy is still unsent, so it may stand
	 * for a change made after the reads sent with the watch. */
	d->flush_read_backend = true; /* read at vbd_flush(), once for a burst */
}

static struct vbd_dev *find_dev(struct vbd_front *v, unsigned long devid)
{
	for (struct vbd_dev *d = v->devs; d; d = d->next)
		if (d->devid == devid && !d->forgotten)
			return d;
	return NULL;
}

static struct vbd_dev *get_dev(struct vbd_front *v, const char *id)
{
	if (!is_num(id) || strlen(id) > 10)
		return NULL;
	unsigned long devid = strtoul(id, NULL, 10);
	struct vbd_dev *d = find_dev(v, devid);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->v = v;
	d->devid = devid;
	d->fresh = true;
	snprintf(d->id, sizeof(d->id), "%lu", devid);
	if (vdev_name(devid, d->name, sizeof(d->name)) < 0)
		snprintf(d->name, sizeof(d->name), "vbd-%lu", devid); /* an odd number */
	unsigned int part;
	d->whole_disk = vdev_split(devid, NULL, &part) == 0 && part == 0;
	for (int s = 0; s < NVALS; s++)
		d->read_arg[s] = (struct vbd_read){ d, s };
	d->next = v->devs;
	v->devs = d;
	return d;
}

/* --- the state machine -------------------------------------------------------- */

/* What a state write leads to, once it has ended. */
static void on_connected_written(struct vbd_dev *d, bool ok)
{
	if (ok && d->nparts)
		log_info("%s: connected (%s %u:%u, %u partition%s)", d->name, d->kname,
			 major(d->rdev), minor(d->rdev), d->nparts, d->nparts == 1 ? "" : "s");
	else if (ok)
		log_info("%s: connected (%s %u:%u)", d->name, d->kname, major(d->rdev),
			 minor(d->rdev));
}

static void on_closed_written(struct vbd_dev *d, bool ok)
{
	(void)ok;
	d->kname[0] = '\0';
}

static void on_refusal_written(struct vbd_dev *d, bool ok)
{
	if (!ok)
		d->close_refused = false; /* try again at the next look */
}

static void on_failure_written(struct vbd_dev *d, bool ok)
{
	(void)d;
	(void)ok;
}

/* The directory went away: a forced detach, or a failed attach. */
static void device_gone(struct vbd_dev *d)
{
	if (drop_node(d))
		log_info("%s: removed (device gone)", d->name);
	drop_parts(d);
	forget(d);
}

/* Watch the backend state node state (and the pci-root-port beside it)
 * from now on. false if the store refused. */
static bool set_backend_watch(struct vbd_dev *d, const char *state)
{
	struct mux *m = d->v->mux;
	snprintf(d->backend_watch, sizeof(d->backend_watch), "%s", state);
	if (mux_watch(m, d->backend_watch, on_backend_event, d) < 0) {
		d->backend_watch[0] = '\0';
		return false;
	}
	char slot[sizeof(d->backend_watch) + 16];
	slot_watch_path(d, slot, sizeof(slot));
	if (mux_watch(m, slot, on_backend_event, d) < 0) /* its Connected still says */
		log_warn("%s: cannot watch %s: %s", d->name, slot, strerror(errno));
	return true;
}

/* Watch the backend's state and pci-root-port from now on, and read its
 * values in the same round trip; for a device being connected, the
 * Connected write's transaction is opened ahead of them. Round trips the
 * guest makes now share its vCPU with the hot-plug about to come. true if
 * the watch is set now (its reads are on their way). */
static bool watch_backend(struct vbd_dev *d)
{
	char want[sizeof(d->backend_watch)];
	if (!d->val[F_BACKEND] || d->val[F_BACKEND][0] != '/') {
		/* no backend named: none watched (guess_backend's let go), and
		 * none of its values taken */
		unwatch_backend(d);
		d->backend_known = false;
		for (int s = B_STATE; s < NVALS; s++) {
			free(d->val[s]);
			d->val[s] = NULL;
		}
		return false;
	}
	snprintf(want, sizeof(want), "%s/state", d->val[F_BACKEND]);
	if (d->backend_watch[0] && strcmp(d->backend_watch, want) == 0)
		return false;
	/* another backend than the one watched: not where guess_backend
	 * looked (a backend in another domain), or the guest was restored (xm
	 * restore), as another domain id, whose backends these are now */
	unwatch_backend(d);
	d->backend_known = false;
	if (!set_backend_watch(d, want))
		return false;
	if (before_connected(node_state(d, F_STATE)))
		xenbus_prepare(d);
	d->read_busy = true;
	d->read_failed = false;
	d->reads_due = 0;
	read_backend(d);
	if (!d->reads_due)
		d->read_busy = false;
	return true;
}

static void close_now(struct vbd_dev *d, const char *how)
{
	bool had = drop_node(d);
	drop_parts(d);
	if (d->close_refused) {
		clear_error(d);
		d->close_refused = false;
	}
	d->decide_at = 0;
	log_info("%s: closed%s%s", d->name, how, had ? "" : " (no node)");
	xenbus_switch_state(d, XenbusStateClosed, NULL, on_closed_written);
}

/* No disk for the backend's Connected yet: look again soon, or give up. */
static void await_disk(struct vbd_dev *d)
{
	long now = now_ms();
	if (!d->search_until)
		d->search_until = now + SEARCH_MS;
	if (now >= d->search_until) {
		d->search_until = 0;
		log_warn("%s: no disk appeared (serial/model %s)", d->name,
			 vbd_is_cdrom(d) ? (d->val[B_DEV] ? d->val[B_DEV] : "?") : d->id);
		xenbus_switch_state(d, XenbusStateClosed, ERR_NODISK, on_failure_written);
		return;
	}
	d->decide_at = now + (d->v->nl >= 0 ? SEARCH_POLL_MS : SEARCH_POLL_NL_MS);
}

/* The disk is found: its nodes, then Connected. */
static void connect_found(struct vbd_dev *d)
{
	d->search_until = 0;
	log_debug("%s: disk %s found", d->name, d->kname);
	if (make_node(d) < 0) {
		xenbus_switch_state(d, XenbusStateClosed, NULL, on_failure_written);
		return;
	}
	sync_parts(d, true);
	d->parts_tracked = true;
	xenbus_switch_state(d, XenbusStateConnected, NULL, on_connected_written);
}

/* The backend is Connected: the disk, its nodes, then Connected. */
static void connect_disk(struct vbd_dev *d)
{
	if (!find_disk(d, false)) {
		await_disk(d);
		return;
	}
	connect_found(d);
}

/* Is d's disk awaited on the root port its backend named (pci-root-port,
 * written with the claim, before QEMU is asked), the backend not yet
 * Connected? An event on the backend's state is then most likely its
 * Connected, which arrives while the guest's kernel probes the new disk:
 * reading it then takes the one vCPU from the probe for a round trip.
 * The disk's uevent says the same (only QEMU's device_add of this
 * backend puts a disk on that port: a port is reused only once QEMU has
 * deleted the device it held), so the event is held until the disk shows
 * (disk_shown) or HOLD_MS have passed. */
static bool awaiting_disk(const struct vbd_dev *d)
{
	enum xenbus_state bs = node_state(d, B_STATE);
	return d->backend_known && before_connected(node_state(d, F_STATE)) &&
	       (bs == XenbusStateInitialising || bs == XenbusStateInitWait ||
		bs == XenbusStateInitialised) &&
	       d->val[B_SLOT] && d->val[B_SLOT][0] &&
	       !vbd_is_cdrom(d);
}

static void hold_backend_event(struct vbd_dev *d)
{
	if (d->backend_held)
		return;
	d->backend_held = true;
	d->decide_at = now_ms() + HOLD_MS;
	log_debug("%s: backend event held until the disk shows", d->name);
}

/* The disk is awaited on the backend's root port (awaiting_disk): if it
 * is there, connect on it, and read a held backend event with the
 * Connected write: the backend's changing values are asked for right
 * behind the write's end, so their replies come in the same burst as the
 * write's (one wake-up, not two more round trips after it). A write that
 * is not sent at once (its transaction still starting) has them back
 * first: they are then read again after it (read_done: dev_ready).
 * Looked for when a disk is added and when the root port becomes known
 * (its uevent may have come first). */
static void disk_shown(struct vbd_dev *d)
{
	if (!find_disk(d, true)) /* the root port is the whole argument here */
		return;
	bool held = d->backend_held;
	d->backend_held = false;
	d->decide_at = 0;
	connect_found(d);
	if (!held || d->forgotten)
		return;
	if (d->read_busy || d->read_epoch != mux_epoch(d->v->mux))
		d->read_again = true; /* everything once the write is done */
	else
		read_backend_changing(d);
}

void vbd_sent(struct vbd_front *v)
{
	for (struct vbd_dev *d = v->devs; d; d = d->next)
		if (d->check_due && !d->forgotten && d->kname[0]) {
			d->check_due = false;
			d->checked_busy = in_use(d, d->checked_why, sizeof(d->checked_why));
			d->checked = true;
		}
}

void vbd_disk_added(struct vbd_dev *d)
{
	if (d->search_until)
		decide(d);
	else if (awaiting_disk(d) && dev_ready(d))
		disk_shown(d);
}

/* The frontend before Connected. */
static void state_connecting(struct vbd_dev *d, enum xenbus_state bs)
{
	switch (bs) {
	case XenbusStateClosing:
	case XenbusStateClosed: /* given up before we connected */
		d->search_until = 0;
		xenbus_switch_state(d, XenbusStateClosed, NULL, on_failure_written);
		return;
	case XenbusStateInitialising:
	case XenbusStateInitWait:
	case XenbusStateInitialised:
	case XenbusStateConnected:
		/* the Connected write's transaction, ready before the backend
		 * realises the device (not amid the guest's hot-plug work) */
		xenbus_prepare(d);
		if (!d->parts_adopted) /* now, not once the disk is there */
			adopt_parts(d);
		if (bs == XenbusStateConnected)
			connect_disk(d);
		else if (awaiting_disk(d))
			disk_shown(d);
		return;
	default:
		return;
	}
}

/* The backend is Closing and the frontend Connected: close unless the
 * guest uses the disk; else refuse (once) and look again. */
static void backend_closing(struct vbd_dev *d)
{
	char why[600];
	bool force = d->val[B_FORCE] && strcmp(d->val[B_FORCE], "1") == 0;
	if (!d->kname[0]) {
		close_now(d, " (disk already gone)");
		return;
	}
	/* the check made while the state was read (vbd_sent), else now */
	bool busy = d->checked ? d->checked_busy : in_use(d, why, sizeof(why));
	if (d->checked)
		snprintf(why, sizeof(why), "%s", d->checked_why);
	d->checked = false;
	if (!busy) {
		close_now(d, d->close_refused ? " after release" : "");
		return;
	}
	xenbus_unprepare(d);
	if (force)
		return; /* torn down without us: the directory goes next */
	d->decide_at = now_ms() + RECHECK_MS;
	if (!d->close_refused) {
		d->close_refused = true;
		log_info("%s: in use (%s); refusing to close", d->name, why);
		xenbus_switch_state(d, XB_STATE_KEEP, ERR_BUSY, on_refusal_written);
	}
}

/* The frontend Connected. */
static void state_connected(struct vbd_dev *d, enum xenbus_state bs)
{
	/* know the disk again after a restart */
	if (!d->kname[0] || !disk_present(d)) {
		d->kname[0] = '\0';
		if (find_disk(d, false))
			make_node(d);
	}
	/* after a restart or a missed uevent: the partitions too */
	if (d->kname[0]) {
		sync_parts(d, !d->parts_tracked);
		d->parts_tracked = true;
	}
	switch (bs) {
	case XenbusStateConnected:
		if (d->close_refused) {
			log_info("%s: close withdrawn", d->name);
			d->close_refused = false;
			clear_error(d);
		}
		return;
	case XenbusStateClosing:
		backend_closing(d);
		return;
	case XenbusStateClosed:
		close_now(d, " (backend closed)");
		return;
	default: /* no state node is as Closed; others change nothing */
		if (bs == STATE_NONE)
			close_now(d, " (backend closed)");
		return;
	}
}

/* The frontend Closed (or a state we never write). */
static void state_closed(struct vbd_dev *d)
{
	d->search_until = 0;
	if (drop_node(d))
		log_info("%s: removed (frontend closed)", d->name);
	drop_parts(d);
}

/* Bring d in line with the values just read: the state machine (see the
 * head of the file), on the frontend's state. */
static void decide(struct vbd_dev *d)
{
	if (!dev_ready(d))
		return;
	if (!mux_connected(d->v->mux))
		return;
	d->decide_at = 0;
	if (!d->val[F_BACKEND] && !d->val[F_STATE]) {
		device_gone(d);
		return;
	}
	if (watch_backend(d))
		return;
	/* values not read yet (a failed read): the next event reads them */
	if (d->backend_watch[0] && !d->backend_known)
		return;

	enum xenbus_state fs = node_state(d, F_STATE), bs = node_state(d, B_STATE);
	/* a prepared transaction only while the device is being connected,
	 * or closed */
	if (!(before_connected(fs) && backend_up(bs)) &&
	    !(fs == XenbusStateConnected && bs == XenbusStateClosing && !d->close_refused))
		xenbus_unprepare(d);
	switch (fs) {
	case XenbusStateUnknown:
	case XenbusStateInitialising:
	case XenbusStateInitWait:
	case XenbusStateInitialised:
		state_connecting(d, bs);
		return;
	case XenbusStateConnected:
		state_connected(d, bs);
		return;
	default: /* Closed, a state we never write, none */
		state_closed(d);
		return;
	}
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
				struct vbd_dev *d = get_dev(v, id);
				if (d)
					read_device(d);
			}
			p += n + 1;
		}
	}
	/* and those we know that may be gone */
	for (struct vbd_dev *d = v->devs; d; d = d->next)
		if (!d->forgotten && !d->read_busy && !d->write.busy)
			read_device(d);
	if (v->rescan) {
		v->rescan = false;
		scan(v);
	}
}

/* The domain's id, for guess_backend: read once a connection (an xm
 * restore gives the guest another id, and a new connection). */
static void on_domid(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_front *v = arg;
	if (type == XS_ERROR || len == 0 || len >= sizeof(v->domid) || memchr(body, '\0', len))
		return;
	memcpy(v->domid, body, len);
	v->domid[len] = '\0';
	if (!is_num(v->domid)) {
		v->domid[0] = '\0';
		return;
	}
	v->domid_epoch = mux_epoch(v->mux);
}

static void scan(struct vbd_front *v)
{
	if (v->domid_epoch != mux_epoch(v->mux) || !v->domid[0]) {
		v->domid[0] = '\0'; /* (its reply comes before the listing's) */
		mux_request(v->mux, XS_READ, "domid", sizeof("domid"), on_domid, v);
	}
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
	struct vbd_dev *d = get_dev(v, id);
	if (d)
		d->flush_read_all = true; /* read at vbd_flush(), once for a burst */
}

void vbd_flush(struct vbd_front *v)
{
	for (struct vbd_dev *d = v->devs; d; d = d->next) {
		if (d->forgotten)
			continue;
		if (d->flush_read_all)
			read_device(d);
		else if (d->flush_read_backend && awaiting_disk(d))
			hold_backend_event(d);
		else if (d->flush_read_backend)
			read_backend_state(d);
		d->flush_read_all = d->flush_read_backend = false;
	}
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
		struct vbd_dev *d = v->devs;
		v->devs = d->next;
		free_vals(d);
		free(d);
	}
	if (v->nl >= 0)
		close(v->nl);
	free(v);
}

bool vbd_take_net_added(struct vbd_front *v)
{
	bool r = v->net_added;
	v->net_added = false;
	return r;
}

int vbd_timeout(const struct vbd_front *v)
{
	long first = 0;
	for (const struct vbd_dev *d = v->devs; d; d = d->next)
		if (d->decide_at && (!first || d->decide_at < first))
			first = d->decide_at;
	if (!first)
		return -1;
	long left = first - now_ms();
	return left < 0 ? 0 : (int)left;
}

void vbd_tick(struct vbd_front *v)
{
	long now = now_ms();
	for (struct vbd_dev *d = v->devs, *next; d; d = next) {
		next = d->next; /* decide() may free d */
		if (d->decide_at && now >= d->decide_at) {
			d->decide_at = 0;
			if (d->backend_held) /* the disk did not show: read it now */
				read_backend_state(d);
			else
				decide(d);
		}
	}
}
