/*
 * job.c — the QMP half of an attach or a detach, carried on as the guest's
 * QEMU answers (vbd-int.h): an attach's add-fd, blockdev-add and
 * device_add, sent back to back by plug.c, then the record and Connected;
 * a detach's device_del, its DEVICE_DELETED and blockdev-del, then the
 * record and the claim released. Every step has a deadline, and a QEMU
 * that does not answer ends its own guest's jobs, no other's.
 */
#include "job.h"
#include "qcall.h"
#include "qmp.h"
#include "crashpoint.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long job_send(struct guest *g, const char *cmd, json_t *args)
{
	long id = qmp_send(g->q, cmd, args);
	qmp_keep(g->q, id);
	return id;
}

long job_send_fd(struct guest *g, const char *cmd, json_t *args, int fd)
{
	long id = qmp_send_fd(g->q, cmd, args, fd);
	qmp_keep(g->q, id);
	return id;
}

void job_add(struct guest *g, struct job *j)
{
	j->next = g->jobs;
	g->jobs = j;
	g->njobs++;
}

static void job_unlink(struct guest *g, struct job *j)
{
	for (struct job **p = &g->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			g->njobs--;
			return;
		}
}

bool job_holds(const struct guest *g, unsigned long devid)
{
	for (const struct job *j = g->jobs; j; j = j->next)
		if (j->v.devid == devid)
			return true;
	return false;
}

void job_drop(struct job *j)
{
	if (j->p.fd >= 0)
		close(j->p.fd);
	snap_free(&j->sn);
	free(j);
}

/* The job leaves the guest (its own end follows); the guest's devices that
 * waited for it are looked at once the caller is done with j: now, or at
 * the end of the batch of devices being looked at (vbd_consider_many),
 * whose snapshots a look in the middle of it would make stale. */
static void job_free(struct backd *b, struct guest *g, struct job *j)
{
	job_drop(j);
	if (g->deferred && !g->gone) {
		if (b->batch_depth) {
			b->rescan_due = true;
			return;
		}
		g->deferred = false;
		vbd_scan_domain(b, g->domid);
	}
}

/* m's error, NULL if it is a success; m NULL: no answer, why. */
static const char *reply_error(json_t *m, const char *why)
{
	if (!m)
		return why;
	json_t *e = json_object_get(m, "error");
	if (!e)
		return NULL;
	const char *d = json_string_value(json_object_get(e, "desc"));
	return d ? d : "unknown error";
}

void plug_failed(struct backd *b, struct guest *g, struct job *j)
{
	const struct vbd *v = &j->v;
	job_unlink(g, j);
	if (j->p.unsure) {
		log_warn("domain %u vbd %lu: QEMU did not answer; the claim is kept until it does",
			 v->domid, v->devid);
	} else {
		if (j->node_added) /* (its answer is not waited for: qcall.h) */
			qcall(b, g, "blockdev-del", json_pack("{s:s}", "node-name", j->p.node), -1,
			      NULL, NULL, 0);
		fdpass_remove(g->q, j->p.fdset);
		plug_release(b, v);
	}
	plug_refuse(b, v, j->err);
	job_free(b, g, j);
}

static void unplug_end(struct backd *b, struct guest *g, struct job *j, bool ok);

/* The attach's device went onto a stale node of its name: the job becomes
 * that device's and node's unplug (device_del, DEVICE_DELETED,
 * blockdev-del), and refuses the attach at its end (unplug_end). */
static void unplug_stale(struct backd *b, struct guest *g, struct job *j)
{
	j->unplug = true;
	j->refuse_after = true;
	snprintf(j->devname, sizeof(j->devname), "%s", j->p.devname);
	snprintf(j->node, sizeof(j->node), "%s", j->p.node);
	j->bdel_id = -1;
	j->deadline = now_ms() + QMP_TIMEOUT;
	j->del_id = job_send(g, "device_del", json_pack("{s:s}", "id", j->devname));
	if (j->del_id < 0)
		unplug_end(b, g, j, false);
}

/* QEMU holds the device: to be recorded, and Connected, with the others
 * that got there in the same turn of the loop (vbd_connect_flush): one
 * transaction for them all. The job stays its device's (job_holds) until
 * then, and waits for no answer. */
static void plug_done(struct backd *b, struct guest *g, struct job *j)
{
	j->done = true;
	j->deadline = LONG_MAX;
	b->connect[b->nconnect++] = (struct vbd_key){ g->domid, j->v.devid };
	if (b->nconnect == VBD_PENDING_MAX)
		vbd_connect_flush(b);
}

/* g's job for devid that QEMU is done with, or NULL. */
static struct job *done_job(struct guest *g, unsigned long devid)
{
	for (struct job *j = g ? g->jobs : NULL; j; j = j->next)
		if (j->done && !j->unplug && j->v.devid == devid)
			return j;
	return NULL;
}

_Static_assert(VBD_PENDING_MAX <= VBD_BATCH, "a flush of b->connect fits its arrays");

void vbd_connect_flush(struct backd *b)
{
	struct job *jobs[VBD_BATCH];
	struct guest *gs[VBD_BATCH];
	struct connected c[VBD_BATCH];
	struct rec r[VBD_BATCH];
	int n = 0;
	for (unsigned int i = 0; i < b->nconnect; i++) {
		struct guest *g = guest_find(b, b->connect[i].domid);
		struct job *j = done_job(g, b->connect[i].devid);
		if (!j) /* its guest gone meanwhile: its record says the rest */
			continue;
		job_unlink(g, j);
		if (!g->q) { /* (its monitor lost: reconcile.c finishes it from the record) */
			job_free(b, g, j);
			continue;
		}
		gs[n] = g;
		jobs[n] = j;
		connected_make(&c[n], &j->v, &j->sn, j->p.bus, j->p.scsi_id, j->p.node,
			       j->p.slot[0] != '\0');
		r[n] = c[n].rec;
		n++;
	}
	b->nconnect = 0;
	for (int k = 0; k < n; k++)
		crash_point("xmbackd.before-connected");
	/* The frontends' watches go before the record: their first events
	 * then come with the record's own, and one look at each device
	 * (a snapshot: a round trip) answers both, while the guest is still
	 * probing the new disk. Withdrawn below if no record is made. */
	for (int k = 0; k < n; k++)
		vbd_watch_frontend(b, &jobs[k]->v, jobs[k]->sn.v[K_FE], true);
	vbd_record_many(b, r, n);
	for (int k = 0; k < n; k++) {
		const struct vbd *v = &jobs[k]->v;
		const struct plug *p = &jobs[k]->p;
		if (r[k].rc != 0)
			vbd_watch_frontend(b, v, jobs[k]->sn.v[K_FE], false);
		if (r[k].rc == 1) {
			/* xm gave up and removed the device or asked for its
			 * removal meanwhile: a device XenStore does not want is
			 * not left in the guest (the claim goes once QEMU has let
			 * it go) */
			log_info("domain %u vbd %lu: removed while being connected: unplugged",
				 v->domid, v->devid);
			vbd_teardown(b, v, NULL, be_exists(b, v));
		} else if (r[k].rc == 0) { /* < 0: the store failed: reconcile.c finishes it */
			crash_point("xmbackd.after-connected");
			log_info("domain %u vbd %lu: %s %s (%s) connected on %s", v->domid, v->devid,
				 p->media ? p->params : "(no medium)", p->mode,
				 p->cdrom ? "cdrom" : "disk", p->bus);
		}
		connected_free(&c[k]);
		job_free(b, gs[k], jobs[k]);
	}
}

/* blockdev-add's or device_add's answer (m), or none (m NULL: why). If the
 * node fails, so does the device (no such drive): the node's error is the
 * one told. */
static void plug_step(struct backd *b, struct guest *g, struct job *j, long id, json_t *m,
		      const char *why)
{
	const char *e = reply_error(m, why);
	struct plug *p = &j->p;
	if (id == j->fd_id) {
		j->fd_id = -1;
		if (!e)
			return;
		p->unsure = !m;
		j->node_failed = true; /* the node cannot open without it */
		snprintf(j->err, sizeof(j->err), "QEMU cannot take the descriptor of %s: %s",
			 p->params, e);
		if (!m)
			plug_failed(b, g, j);
		return;
	}
	if (id == j->node_id) {
		j->node_id = -1;
		if (!e) {
			j->node_added = true;
			crash_point("xmbackd.after-blockdev-add");
			return;
		}
		p->unsure = p->unsure || !m;
		if (!j->node_failed) /* else add-fd's error is the one told */
			snprintf(j->err, sizeof(j->err), "QEMU cannot open %s: %s", p->params, e);
		j->node_failed = true;
		if (!m)
			plug_failed(b, g, j); /* the device's answer will not come either */
		return; /* the device's answer tells whether a stale node was used */
	}
	if (id != j->dev_id)
		return;
	j->dev_id = -1;
	if (j->node_failed) {
		/* the device cannot have a drive then, unless a node of that
		 * name was left over (a teardown whose unplug timed out): the
		 * job takes the device and that node out again (as a detach's,
		 * through the loop), and the failure is told then */
		if (!e) {
			log_warn("domain %u vbd %lu: device added on a stale %s: removed",
				 j->v.domid, j->v.devid, p->node);
			unplug_stale(b, g, j);
			return;
		}
		plug_failed(b, g, j);
		return;
	}
	if (e) {
		p->unsure = !m;
		snprintf(j->err, sizeof(j->err), "QEMU cannot add the device: %s", e);
		plug_failed(b, g, j);
		return;
	}
	crash_point("xmbackd.after-device-add");
	log_debug("domain %u vbd %lu: device added: %.2f ms to QEMU, %.2f ms in it", j->v.domid,
		  j->v.devid, (double)(j->t_qmp - j->t_plug) / 1000, (double)(now_us() - j->t_qmp) / 1000);
	j->node_added = false; /* owned by the device now */
	plug_done(b, g, j);
}


/* The detach is over: QEMU has let the device go (ok), or has not said so
 * (the record stays at phase unplugging; a later look tries again). */
static void unplug_end(struct backd *b, struct guest *g, struct job *j, bool ok)
{
	job_unlink(g, j);
	if (j->refuse_after) { /* the attach's end, as plug_failed's */
		if (!ok)
			log_warn("domain %u vbd %lu: QEMU has not let %s go yet; the reconcile "
				 "takes it out", j->v.domid, j->v.devid, j->devname);
		fdpass_remove(g->q, j->p.fdset);
		plug_release(b, &j->v);
		plug_refuse(b, &j->v, j->err);
	} else if (ok) {
		fdpass_remove(g->q, j->p.fdset); /* the device had the last use */
		vbd_teardown_done(b, &j->v, j->write_state);
	}
	else
		log_warn("domain %u vbd %lu: QEMU has not let %s go yet; kept at unplugging",
			 j->v.domid, j->v.devid, j->devname);
	job_free(b, g, j);
}

/* The device is gone from the guest: its node next, if any. */
static void unplug_node(struct backd *b, struct guest *g, struct job *j)
{
	j->wait_deleted = false;
	if (!j->node[0]) {
		unplug_end(b, g, j, true);
		return;
	}
	j->deadline = now_ms() + QMP_TIMEOUT;
	j->bdel_id = job_send(g, "blockdev-del", json_pack("{s:s}", "node-name", j->node));
	if (j->bdel_id < 0) {
		log_warn("domain %u vbd %lu: blockdev-del %s: %s", j->v.domid, j->v.devid,
			 j->node, ERR_SEND);
		unplug_end(b, g, j, false);
	}
}

/* device_del's or blockdev-del's answer (m), or none (m NULL: why). */
static void unplug_step(struct backd *b, struct guest *g, struct job *j, long id, json_t *m,
			const char *why)
{
	const char *e = reply_error(m, why);
	const struct vbd *v = &j->v;
	bool absent_dev = e && m && strstr(e, "not found"); /* never had it, or gone */
	if (id == j->del_id) {
		j->del_id = -1;
		if (e && !absent_dev) {
			log_warn("domain %u vbd %lu: device_del %s: %s", v->domid, v->devid,
				 j->devname, e);
			unplug_end(b, g, j, false);
		} else if (e) {
			unplug_node(b, g, j);
		} else {
			crash_point("xmbackd.after-device-del");
			/* Two DEVICE_DELETED come: the virtio backend's path
			 * first. Only the one for our id means the node is free. */
			j->wait_deleted = true;
			j->deadline = now_ms() + QMP_TIMEOUT;
			if (j->deleted) {
				crash_point("xmbackd.after-device-deleted");
				unplug_node(b, g, j);
			}
		}
	} else if (id == j->bdel_id) {
		j->bdel_id = -1;
		if (e && !absent_dev) {
			log_warn("domain %u vbd %lu: blockdev-del %s: %s", v->domid, v->devid, j->node,
				 e);
			unplug_end(b, g, j, false);
			return;
		}
		crash_point("xmbackd.after-blockdev-del");
		unplug_end(b, g, j, true);
	}
}

void vbd_unplug_start(struct backd *b, struct guest *g, const struct vbd *v, const char *devname,
		      const char *node, long fdset, bool write_state)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return; /* tried again at a later look: the record says unplugging */
	j->unplug = true;
	j->v = *v;
	j->write_state = write_state;
	j->p.fd = -1;
	j->p.fdset = fdset;
	j->fd_id = j->node_id = j->dev_id = j->bdel_id = -1;
	snprintf(j->devname, sizeof(j->devname), "%s", devname);
	snprintf(j->node, sizeof(j->node), "%s", node ? node : "");
	job_add(g, j);
	j->deadline = now_ms() + QMP_TIMEOUT;
	j->del_id = job_send(g, "device_del", json_pack("{s:s}", "id", devname));
	if (j->del_id < 0) {
		log_warn("domain %u vbd %lu: device_del %s: %s", v->domid, v->devid, devname,
			 ERR_SEND);
		unplug_end(b, g, j, false);
	} else {
		guest_ping(g, false); /* a QEMU that stops now is found out (guests_ping) */
	}
}

bool job_message(struct backd *b, struct guest *g, json_t *m)
{
	json_t *mid = json_object_get(m, "id");
	if (json_is_integer(mid)) {
		long id = (long)json_integer_value(mid);
		for (struct job *j = g->jobs; j; j = j->next) {
			if (j->unplug && (id == j->del_id || id == j->bdel_id)) {
				unplug_step(b, g, j, id, m, NULL);
				return true;
			}
			if (!j->unplug && (id == j->fd_id || id == j->node_id || id == j->dev_id)) {
				plug_step(b, g, j, id, m, NULL);
				return true;
			}
		}
		return false;
	}
	for (struct job *j = g->jobs; j; j = j->next)
		if (j->unplug && qmp_is_event(m, "DEVICE_DELETED", j->devname)) {
			j->deleted = true;
			if (j->wait_deleted) {
				crash_point("xmbackd.after-device-deleted");
				unplug_node(b, g, j);
			}
			return true;
		}
	return false;
}

/* The job ends as QEMU not answering (why) at the step it is at. */
static void no_answer(struct backd *b, struct guest *g, struct job *j, const char *why)
{
	if (!j->unplug) {
		plug_step(b, g, j, j->fd_id >= 0 ? j->fd_id : j->node_id >= 0 ? j->node_id :
				   j->dev_id, NULL, why);
	} else if (j->del_id >= 0 || j->bdel_id >= 0) {
		unplug_step(b, g, j, j->del_id >= 0 ? j->del_id : j->bdel_id, NULL, why);
	} else {
		log_warn("domain %u vbd %lu: no DEVICE_DELETED for %s", j->v.domid, j->v.devid,
			 j->devname);
		unplug_end(b, g, j, false);
	}
}

/* Each of these ends the job it is given (and no other), so "the first one
 * left, until none" terminates even when a job's end starts another one. */
void job_expire(struct backd *b, struct guest *g, long now)
{
	for (;;) {
		struct job *j = g->jobs;
		while (j && (j->done || now < j->deadline))
			j = j->next;
		if (!j)
			return;
		no_answer(b, g, j, "timed out waiting for QEMU");
	}
}

static void stuck_one(struct backd *b, struct guest *g, struct job *j)
{
	if (j->unplug) {
		unplug_end(b, g, j, false);
		return;
	}
	snprintf(j->err, sizeof(j->err), "the QEMU of domain %u does not answer (stopped or hung)",
		 g->domid);
	j->p.unsure = true;
	plug_failed(b, g, j);
}

void job_stuck(struct backd *b, struct guest *g)
{
	/* (a stuck guest gets no new job: guest_ready refuses it); those QEMU
	 * is done with are recorded as ever (vbd_connect_flush) */
	for (;;) {
		struct job *j = g->jobs;
		while (j && j->done)
			j = j->next;
		if (!j)
			return;
		stuck_one(b, g, j);
	}
}

void job_abort(struct backd *b, struct guest *g, const char *why)
{
	while (g->jobs) {
		struct job *j = g->jobs;
		if (why && !j->done) { /* (one QEMU is done with: its record says so) */
			no_answer(b, g, j, why);
			continue;
		}
		job_unlink(g, j);
		job_drop(j);
	}
}
