/*
 * agent.c — is the guest's agent alive, and is its QEMU answering?
 *
 * The agent (xmfront) is alive while it holds its end of the
 * virtio-serial port "xenbus" open: QEMU's query-chardev says so
 * (frontend-open of the chardev "xenbus"), which no dead agent can leave
 * stale, unlike its own attr/xmfront/state. xmbackd writes it to
 * /tool/xm/domain/N/agent: "connected", or "disconnected" once a connected
 * agent has let go. QEMU 7.2 tells a change at once (VSERPORT_CHANGE) only
 * for a port with a qdev id: xm create names it xenbus0, and the event makes
 * xmbackd look at once. Guests started by an older xm have no id, and an
 * event can come while xmbackd is away; so xmbackd also asks, every 200 ms
 * while the agent is not connected, every second else.
 *
 * That question (query-chardev) is sent without waiting for its answer: a
 * stopped or stuck QEMU must not hold xmbackd up. The slow timer's
 * reconcile rides on it too: a guest is reconciled (with blocking calls)
 * only once its QEMU has just answered.
 */
#include "backd.h"
#include "dom.h"
#include "qmp.h"
#include "reconcile.h"
#include "util.h"
#include "vbd-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PING_LOST_MS 3000

/* Is the chardev "xenbus" open on the guest's side, in query-chardev's
 * return ret? 1, 0, or -1 (not there). */
static int xenbus_open(json_t *ret)
{
	json_t *e;
	size_t i;
	int open = -1;
	json_array_foreach(ret, i, e) {
		const char *label = json_string_value(json_object_get(e, "label"));
		if (label && strcmp(label, "xenbus") == 0)
			open = json_is_true(json_object_get(e, "frontend-open"));
	}
	return open;
}

/* Write /tool/xm/domain/N/key = val, only into a domain still recorded
 * (never re-create a removed one). 0 or -1. */
static int record(struct backd *b, const struct guest *g, const char *key, const char *val)
{
	char path[128], st[128];
	struct kv kv = { path, NULL, val };
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/%s", g->domid, key);
	snprintf(st, sizeof(st), XM_TOOL_ROOT "/domain/%u/state", g->domid);
	return vbd_record_if(b, st, NULL, &kv, 1);
}

/* Record what QEMU said of the agent, if it changed. */
static void agent_set(struct backd *b, struct guest *g, int open)
{
	if (open < 0 || open == g->agent)
		return;
	if (!open && g->agent != 1) {
		/* not seen connected by this xmbackd: "disconnected" only if it
		 * was recorded connected (an agent that has not come up yet is
		 * not one that died) */
		char *cur = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/agent", g->domid);
		bool was = cur && strcmp(cur, "connected") == 0;
		free(cur);
		if (!was) {
			g->agent = 0;
			return;
		}
	}
	const char *val = open ? "connected" : "disconnected";
	if (record(b, g, "agent", val) == 0) {
		if (g->agent >= 0 || !open)
			log_info("domain %u: agent %s", g->domid, val);
		g->agent = open;
	}
}

void guests_agent_reset(struct backd *b)
{
	for (struct guest *g = b->guests; g; g = g->next)
		g->agent = -1;
}

void guest_ping(struct guest *g, bool reconcile)
{
	long now = now_ms();
	if (!g->ready)
		return;
	if (reconcile)
		g->want_reconcile = true;
	if (g->ping_id >= 0 && now - g->ping_at < PING_LOST_MS)
		return; /* asked already */
	long id = qmp_send(g->q, "query-chardev", NULL);
	if (id < 0 && g->ping_id >= 0)
		return; /* a QEMU that reads nothing: the ping out stands */
	g->ping_id = id;
	g->ping_at = now;
	qmp_keep(g->q, id); /* a blocking call that reads the answer leaves it to guests_events */
}

/* A ping out for STUCK_MS and nothing heard from QEMU since it went, nor
 * anything waiting to be read (xmbackd may have been busy elsewhere). */
static bool unanswered(const struct guest *g, long now)
{
	return g->ping_id >= 0 && now - g->ping_at >= STUCK_MS &&
	       now - qmp_heard(g->q) >= STUCK_MS && !qmp_pending(g->q);
}

void guest_heard(struct backd *b, struct guest *g)
{
	if (!g->stuck)
		return;
	g->stuck = false;
	record(b, g, "qemu", "answering");
	g->recheck = true; /* what waited on it: look again */
	b->recheck_due = true;
	log_info("domain %u: its QEMU answers again", g->domid);
}

bool guest_pong(struct backd *b, struct guest *g, json_t *m)
{
	json_t *id = json_object_get(m, "id");
	if (g->ping_id < 0 || !json_is_integer(id) || json_integer_value(id) != g->ping_id)
		return false;
	g->ping_id = -1;
	if (!g->heard_once) {
		/* a "not answering" left by the xmbackd before this one (or by
		 * this one, before the monitor was opened again) is stale now:
		 * xm names it in its errors */
		g->heard_once = true;
		char *cur = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/qemu", g->domid);
		if (cur && strcmp(cur, "not answering") == 0 && !g->stuck &&
		    record(b, g, "qemu", "answering") == 0)
			log_info("domain %u: its QEMU answers again", g->domid);
		free(cur);
	}
	agent_set(b, g, xenbus_open(json_object_get(m, "return")));
	if (g->want_reconcile) { /* QEMU answers: reconcile it now */
		g->want_reconcile = false;
		g->recheck = true;
		b->recheck_due = true;
	}
	return true;
}

void guests_ping(struct backd *b, bool all, bool reconcile)
{
	long now = now_ms();
	/* "all" looks at the guests whose agent is connected too: up to
	 * AGENT_LOOKS of them, the next ones each time, so that a host of
	 * 1,000 guests does not wake every QEMU every second (a connected
	 * agent that goes is told by VSERPORT_CHANGE on this xm's guests;
	 * a guest being worked on is looked at by its job: vbd_plug) */
	unsigned int nconn = 0, i = 0;
	for (struct guest *g = b->guests; all && g; g = g->next)
		nconn += !g->gone && g->ready && g->agent == 1 && !g->stuck;
	if (all && b->look_at >= nconn)
		b->look_at = 0;
	for (struct guest *g = b->guests; g; g = g->next) {
		if (g->gone || !g->ready)
			continue;
		bool look = false;
		if (all && g->agent == 1 && !g->stuck) { /* the i-th connected one */
			look = nconn <= AGENT_LOOKS || (i + nconn - b->look_at) % nconn < AGENT_LOOKS;
			i++;
		}
		if (!g->stuck && unanswered(g, now)) {
			g->stuck = true;
			record(b, g, "qemu", "not answering");
			log_warn("domain %u: its QEMU has not answered for %ld ms (stopped or "
				 "hung?): its devices wait, no other guest does", g->domid,
				 now - g->ping_at);
			job_stuck(b, g);
		}
		if (reconcile || look || g->agent != 1 || g->stuck)
			guest_ping(g, reconcile);
	}
	if (all && nconn > AGENT_LOOKS)
		b->look_at = (b->look_at + AGENT_LOOKS) % nconn;
}

void guests_sweep(struct backd *b, unsigned int max)
{
	unsigned int n = 0, i = 0, k = 0;
	for (struct guest *g = b->guests; g; g = g->next)
		n += !g->gone && g->ready;
	if (b->sweep_guest >= n)
		b->sweep_guest = 0;
	for (struct guest *g = b->guests; g && k < max; g = g->next) {
		if (g->gone || !g->ready)
			continue;
		if (i++ >= b->sweep_guest || n <= max) {
			guest_ping(g, true);
			k++;
		}
	}
	if (k < max && n > max) /* round the end of the list */
		for (struct guest *g = b->guests; g && k < max; g = g->next)
			if (!g->gone && g->ready) {
				guest_ping(g, true);
				k++;
			}
	b->sweep_guest = n ? (b->sweep_guest + k) % n : 0;
}
