/*
 * xenbus.c — the block frontend's state write; see xenbus.h.
 *
 * The frontend state (and the refusal's error text) is written as Linux's
 * xenbus_switch_state does it: in a transaction that first reads the
 * state, so that a write never re-creates a directory the toolstack has
 * just removed. Three round trips:
 *
 *   TRANSACTION_START -> READ state -> (an error, the directory gone: end
 *   the transaction unapplied, the write fails) WRITE state, WRITE error,
 *   END "T"
 *
 * An EAGAIN at the end (the state node changed meanwhile) starts the whole
 * write again (ten tries in all).
 *
 * The prepared transaction: the first two round trips of the next write
 * made ahead of time (xenbus_prepare), while nothing waits for them. A
 * write that finds it READY is one round trip: WRITE, END. One that finds
 * it STARTING waits for it; one that cannot use it (an error text, another
 * connection epoch) ends it and goes the usual way. A prepared transaction
 * counts against the guest's transaction quota, so there is one at most
 * (vbd_front's nprepared); one lost with a host connection is let go by
 * the next xenbus_prepare, and a failed commit of one is tried again the
 * usual way.
 */
#include "xenbus.h"
#include "vbd.h"
#include "vbd-int.h"
#include "mux.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRIES 10

static void state_path(const struct vbd_dev *d, char *buf, size_t len)
{
	snprintf(buf, len, VBD_DIR "/%s/state", d->id);
}

static void write_finish(struct vbd_dev *d, bool ok)
{
	d->write.busy = false;
	log_debug("%s: state write %s", d->name, ok ? "done" : "failed");
	vbd_state_written(d, ok);
}

/* --- the write in its own transaction ----------------------------------- */

static void write_begin(struct vbd_dev *d);

static void on_write_end(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_dev *d = arg;
	if (!dev_reply(d))
		return;
	bool again = type == XS_ERROR && strncmp(body, "EAGAIN", len) == 0;
	/* a prepared transaction that failed otherwise (lost with a host
	 * connection): the whole write once more */
	if (type == XS_ERROR && (again || d->write.in_prepared) && ++d->write.tries < MAX_TRIES) {
		write_begin(d);
		return;
	}
	/* tx == 0 marks an aborted transaction: the device dir was gone */
	write_finish(d, type != XS_ERROR && d->write.tx != 0);
}

/* The state was read in the transaction: write (or, without the
 * directory, abort) and end it. */
static void on_write_check(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_dev *d = arg;
	char p[128], num[8];
	(void)body;
	(void)len;
	if (!dev_reply(d))
		return;
	uint32_t tx = d->write.tx;
	if (type == XS_ERROR) { /* the frontend dir is gone: change nothing */
		d->write.tx = 0;
		if (dev_request(d, XS_TRANSACTION_END, tx, "F", 2, on_write_end) < 0)
			write_finish(d, false);
		return;
	}
	snprintf(num, sizeof(num), "%s", vbd_state_str(d->write.state));
	state_path(d, p, sizeof(p));
	if (d->write.state != XB_STATE_KEEP)
		dev_request_write(d, tx, p, num);
	snprintf(p, sizeof(p), "error/" VBD_DIR "/%s/error", d->id);
	if (d->write.error)
		dev_request_write(d, tx, p, d->write.error);
	if (dev_request(d, XS_TRANSACTION_END, tx, "T", 2, on_write_end) < 0)
		write_finish(d, false);
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

static void on_write_start(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_dev *d = arg;
	char p[96];
	if (!dev_reply(d))
		return;
	d->write.tx = tx_id(type, body, len);
	if (!d->write.tx) {
		write_finish(d, false);
		return;
	}
	state_path(d, p, sizeof(p));
	if (dev_request_path(d, XS_READ, d->write.tx, p, on_write_check) < 0)
		write_finish(d, false);
}

static void write_begin(struct vbd_dev *d)
{
	d->write.in_prepared = false;
	if (dev_request(d, XS_TRANSACTION_START, 0, "", 1, on_write_start) < 0)
		write_finish(d, false);
}

/* --- the prepared transaction ------------------------------------------- */

static void prepared_commit(struct vbd_dev *d);

/* The prepared transaction did not come about: a write that waits for it
 * goes the usual way. */
static void prepared_fallback(struct vbd_dev *d)
{
	if (d->prepared.write_waits) {
		d->prepared.write_waits = false;
		write_begin(d);
	}
}

/* Back to XB_NONE, ending tx (if it is still good) without a reply. d is
 * NULL when it is freed. */
static void prepared_close(struct vbd_front *v, struct vbd_dev *d, uint32_t tx,
			   unsigned int epoch)
{
	if (tx && mux_epoch(v->mux) == epoch)
		mux_request_tx(v->mux, XS_TRANSACTION_END, tx, "F", 2, NULL, NULL);
	if (d) {
		d->prepared.phase = XB_NONE;
		d->prepared.unwanted = false;
		d->prepared.tx = 0;
	}
	v->nprepared--;
}

static void on_prepared_check(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_dev *d = arg;
	struct vbd_front *v = d->v;
	uint32_t tx = d->prepared.tx;
	unsigned int epoch = d->prepared.epoch;
	(void)body;
	(void)len;
	if (!dev_reply(d)) {
		prepared_close(v, NULL, tx, epoch);
		return;
	}
	if (d->prepared.unwanted || type == XS_ERROR) { /* or the dir is gone */
		prepared_close(v, d, tx, epoch);
		prepared_fallback(d);
		return;
	}
	d->prepared.phase = XB_READY;
	log_debug("%s: state write prepared (transaction %u)", d->name, tx);
	if (d->prepared.write_waits) {
		d->prepared.write_waits = false;
		prepared_commit(d);
	}
}

static void on_prepared_start(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vbd_dev *d = arg;
	struct vbd_front *v = d->v;
	uint32_t tx = tx_id(type, body, len);
	unsigned int epoch = d->prepared.epoch;
	char p[96];
	if (!dev_reply(d)) {
		prepared_close(v, NULL, tx, epoch);
		return;
	}
	if (!tx || d->prepared.unwanted || mux_epoch(v->mux) != epoch) { /* EQUOTA, say */
		prepared_close(v, d, tx, epoch);
		prepared_fallback(d);
		return;
	}
	d->prepared.tx = tx;
	state_path(d, p, sizeof(p));
	if (dev_request_path(d, XS_READ, tx, p, on_prepared_check) < 0) {
		prepared_close(v, d, tx, epoch);
		prepared_fallback(d);
	}
}

void xenbus_prepare(struct vbd_dev *d)
{
	struct vbd_front *v = d->v;
	/* one lost with a host connection holds the place for nothing */
	for (struct vbd_dev *o = v->devs; o; o = o->next)
		if (o->prepared.phase == XB_READY && o->prepared.epoch != mux_epoch(v->mux))
			prepared_close(v, o, 0, 0);
	if (d->prepared.phase != XB_NONE || v->nprepared || d->write.busy)
		return;
	d->prepared.phase = XB_STARTING;
	d->prepared.unwanted = false;
	d->prepared.write_waits = false;
	d->prepared.tx = 0;
	d->prepared.epoch = mux_epoch(v->mux);
	v->nprepared++;
	if (dev_request(d, XS_TRANSACTION_START, 0, "", 1, on_prepared_start) < 0)
		prepared_close(v, d, 0, d->prepared.epoch);
}

void xenbus_unprepare(struct vbd_dev *d)
{
	if (d->prepared.phase == XB_READY)
		prepared_close(d->v, d, d->prepared.tx, d->prepared.epoch);
	else if (d->prepared.phase == XB_STARTING)
		d->prepared.unwanted = true; /* closed when its replies come */
}

/* Write the state in the prepared transaction, READY: the state was read
 * in it, so write and commit at once (a conflict, e.g. the directory
 * removed since, is EAGAIN: the whole write again). */
static void prepared_commit(struct vbd_dev *d)
{
	char p[96], num[8];
	d->write.tx = d->prepared.tx;
	d->prepared.phase = XB_NONE;
	d->prepared.tx = 0;
	d->v->nprepared--;
	d->write.in_prepared = true;
	state_path(d, p, sizeof(p));
	snprintf(num, sizeof(num), "%s", vbd_state_str(d->write.state));
	dev_request_write(d, d->write.tx, p, num);
	if (dev_request(d, XS_TRANSACTION_END, d->write.tx, "T", 2, on_write_end) < 0)
		write_finish(d, false);
}

/* --- the write ------------------------------------------------------------ */

void xenbus_switch_state(struct vbd_dev *d, enum xenbus_state state, const char *err,
			 void (*done)(struct vbd_dev *d, bool ok))
{
	d->write.busy = true;
	d->write.tries = 0;
	d->write.state = state;
	d->write.error = err;
	d->write.done = done;
	log_debug("%s: state %d%s%s", d->name, (int)state, err ? ", error " : "", err ? err : "");
	bool usable = state != XB_STATE_KEEP && !err &&
		      mux_epoch(d->v->mux) == d->prepared.epoch;
	if (d->prepared.phase == XB_READY && usable) {
		prepared_commit(d);
		return;
	}
	if (d->prepared.phase == XB_STARTING && !d->prepared.unwanted && usable) {
		d->prepared.write_waits = true; /* written as soon as its read is back */
		return;
	}
	xenbus_unprepare(d);
	write_begin(d);
}
