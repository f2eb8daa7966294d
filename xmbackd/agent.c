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
	char path[128], st[128];
	const char *val = open ? "connected" : "disconnected";
	struct kv kv = { path, NULL, val };
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/agent", g->domid);
	snprintf(st, sizeof(st), XM_TOOL_ROOT "/domain/%u/state", g->domid);
	/* only into a domain still recorded: never re-create a removed one */
	if (vbd_record_if(b, st, NULL, &kv, 1) == 0) {
		if (g->agent >= 0 || !open)
			log_info("domain %u: agent %s", g->domid, val);
		g->agent = open;
	}
}

void guests_agent(struct backd *b, struct guest *g)
{
	json_t *ret = NULL;
	if (qmp_exec(g->q, "query-chardev", NULL, &ret, NULL, 3000) == 0)
		agent_set(b, g, xenbus_open(ret));
	json_decref(ret);
}

void guests_agent_reset(struct backd *b)
{
	for (struct guest *g = b->guests; g; g = g->next)
		g->agent = -1;
}

void guest_ping(struct guest *g, bool reconcile)
{
	long now = now_ms();
	if (reconcile)
		g->want_reconcile = true;
	if (g->ping_id >= 0 && now - g->ping_at < PING_LOST_MS)
		return; /* asked already (an answer taken by a blocking call is lost) */
	g->ping_id = qmp_send(g->q, "query-chardev", NULL);
	g->ping_at = now;
}

bool guest_pong(struct backd *b, struct guest *g, json_t *m)
{
	json_t *id = json_object_get(m, "id");
	if (g->ping_id < 0 || !json_is_integer(id) || json_integer_value(id) != g->ping_id)
		return false;
	g->ping_id = -1;
	agent_set(b, g, xenbus_open(json_object_get(m, "return")));
	if (g->want_reconcile) { /* QEMU answers: reconcile it now */
		g->want_reconcile = false;
		g->recheck = true;
	}
	return true;
}

void guests_ping(struct backd *b, bool all, bool reconcile)
{
	for (struct guest *g = b->guests; g; g = g->next)
		if (!g->gone && g->q && (reconcile || all || g->agent != 1))
			guest_ping(g, reconcile);
}
