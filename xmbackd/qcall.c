/*
 * qcall.c — commands to a guest's QEMU answered through the event loop
 * (qcall.h). A guest has a few out at a time: a list, oldest first.
 */
#include "qcall.h"
#include "backd.h"
#include "vbd-int.h"
#include "qmp.h"
#include "util.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qcall {
	struct qcall *next;
	long id;
	long deadline;          /* QMP_TIMEOUT after it went (now_ms) */
	qcall_fn *fn;
	size_t len;             /* arg's bytes (0: fn gets NULL) */
	char cmd[32];
	alignas(max_align_t) unsigned char arg[];
};

bool qcall_not_found(const char *err)
{
	return err && strstr(err, "not found");
}

/* g's devices that waited for its calls (guest_any_job: deferred) are
 * looked at once the last is done: now, or after the batch being looked
 * at (as job.c's job_free). */
static void after(struct backd *b, struct guest *g)
{
	if (!g->deferred || g->gone || g->calls || g->jobs || g->vifjob)
		return;
	if (b->batch_depth) {
		b->rescan_due = true;
		return;
	}
	g->deferred = false;
	vbd_scan_domain(b, g->domid);
}

/* The call is done: out of the list first, as fn may send the next. */
static void done(struct backd *b, struct guest *g, struct qcall *c, json_t *ret, const char *err,
		 bool answered, bool rescan)
{
	for (struct qcall **p = &g->calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (c->fn)
		c->fn(b, g, c->len ? c->arg : NULL, ret, err, answered);
	else if (err && !qcall_not_found(err))
		log_warn("domain %u: %s: %s", g->domid, c->cmd, err);
	free(c);
	if (rescan)
		after(b, g);
}

void qcall(struct backd *b, struct guest *g, const char *cmd, json_t *args, int fd, qcall_fn *fn,
	   const void *arg, size_t len)
{
	struct qcall *c = calloc(1, sizeof(*c) + len);
	if (!c) {
		json_decref(args);
		if (fn) /* (a copy of arg cannot be made: fn gets none) */
			fn(b, g, NULL, NULL, "out of memory", false);
		return;
	}
	c->fn = fn;
	c->len = len;
	snprintf(c->cmd, sizeof(c->cmd), "%s", cmd);
	if (len)
		memcpy(c->arg, arg, len);
	c->deadline = now_ms() + QMP_TIMEOUT;
	/* at the end: answers come in the order sent */
	struct qcall **p = &g->calls;
	while (*p)
		p = &(*p)->next;
	*p = c;
	c->id = g->q ? (fd >= 0 ? qmp_send_fd(g->q, cmd, args, fd) : qmp_send(g->q, cmd, args)) : -1;
	if (!g->q)
		json_decref(args);
	if (c->id < 0) {
		done(b, g, c, NULL, "cannot send to QEMU's monitor", false, true);
		return;
	}
	qmp_keep(g->q, c->id); /* (a blocking call that reads it keeps it for the loop) */
}

bool qcall_message(struct backd *b, struct guest *g, json_t *m)
{
	json_t *mid = json_object_get(m, "id");
	if (!g->calls || !json_is_integer(mid))
		return false;
	long id = (long)json_integer_value(mid);
	struct qcall *c = g->calls;
	while (c && c->id != id)
		c = c->next;
	if (!c)
		return false;
	json_t *e = json_object_get(m, "error"), *ret = json_object_get(m, "return");
	if (e) {
		const char *d = json_string_value(json_object_get(e, "desc"));
		done(b, g, c, NULL, d ? d : "unknown error", true, true);
	} else if (ret) {
		done(b, g, c, ret, NULL, true, true);
	} else {
		done(b, g, c, NULL, "an answer that is neither return nor error", false, true);
	}
	return true;
}

void qcall_expire(struct backd *b, struct guest *g, long now)
{
	bool all = g->stuck || !g->q;
	for (;;) {
		struct qcall *c = g->calls;
		while (c && !all && now < c->deadline)
			c = c->next;
		if (!c)
			return;
		done(b, g, c, NULL, g->stuck ? "QEMU does not answer" : "QEMU did not answer", false,
		     true);
	}
}

void qcall_abort(struct backd *b, struct guest *g, bool tell)
{
	while (g->calls) {
		struct qcall *c = g->calls;
		if (tell) {
			/* (no rescan: the reconnect's reconcile looks at all) */
			done(b, g, c, NULL, "QEMU's monitor connection closed", false, false);
			continue;
		}
		g->calls = c->next;
		free(c);
	}
}

bool qcall_any(const struct guest *g)
{
	return g->calls != NULL;
}
