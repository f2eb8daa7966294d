/*
 * test_xmfront_mux.c — xmfront's multiplexer (xmfront/mux.c) without I/O:
 * the messages it sends to the host and to clients are captured and checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../xmfront/mux.h"
#include "wire.h"

#define MAXMSG 64

struct msg {
	struct xsd_sockmsg h;
	char body[256];
	int client; /* -1: to the port */
};

static struct msg msgs[MAXMSG];
static int nmsgs;
static int users[3] = { 0, 1, 2 };

static void capture(int client, const struct xsd_sockmsg *h, const char *body)
{
	assert_true(nmsgs < MAXMSG);
	assert_true(h->len <= sizeof(msgs[0].body));
	msgs[nmsgs].h = *h;
	memcpy(msgs[nmsgs].body, body, h->len);
	msgs[nmsgs].client = client;
	nmsgs++;
}

static void to_port(void *ctx, const struct xsd_sockmsg *h, const char *body)
{
	(void)ctx;
	capture(-1, h, body);
}

static void to_client(void *ctx, void *user, const struct xsd_sockmsg *h, const char *body)
{
	(void)ctx;
	capture(*(int *)user, h, body);
}

static const struct mux_ops ops = { to_port, to_client };

/* Take the next captured message; it must go to `who`, with this type. */
static struct msg *next_msg(int *cursor, int who, uint32_t type)
{
	assert_true(*cursor < nmsgs);
	struct msg *m = &msgs[(*cursor)++];
	assert_int_equal(m->client, who);
	assert_int_equal(m->h.type, type);
	return m;
}

static void req(struct mux *m, struct mux_client *c, uint32_t type, uint32_t id,
		uint32_t tx, const char *body, size_t len)
{
	struct xsd_sockmsg h = { type, id, tx, (uint32_t)len };
	mux_client_request(m, c, &h, body);
}

static void host(struct mux *m, uint32_t type, uint32_t id, uint32_t tx, const char *body,
		 size_t len)
{
	struct xsd_sockmsg h = { type, id, tx, (uint32_t)len };
	mux_port_message(m, &h, body);
}

static struct mux *setup_mux(void)
{
	nmsgs = 0;
	struct mux *m = mux_new(&ops, NULL);
	assert_non_null(m);
	mux_port_up(m);
	/* the RESET_WATCHES of a (re)connection, answered */
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].h.type, XS_RESET_WATCHES);
	host(m, XS_RESET_WATCHES, msgs[0].h.req_id, 0, "OK", 3);
	nmsgs = 0;
	return m;
}

static void test_ids_rewritten(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	struct mux_client *b = mux_client_new(m, &users[2]);
	int cur = 0;

	req(m, a, XS_READ, 7, 0, "domid", 6);
	req(m, b, XS_READ, 7, 0, "name", 5);
	struct msg *pa = next_msg(&cur, -1, XS_READ);
	struct msg *pb = next_msg(&cur, -1, XS_READ);
	assert_int_not_equal(pa->h.req_id, pb->h.req_id);
	uint32_t ida = pa->h.req_id, idb = pb->h.req_id;
	host(m, XS_READ, ida, 0, "3", 1);
	host(m, XS_READ, idb, 0, "guest", 5);
	struct msg *r = next_msg(&cur, 1, XS_READ);
	assert_int_equal(r->h.req_id, 7);
	assert_memory_equal(r->body, "3", 1);
	r = next_msg(&cur, 2, XS_READ);
	assert_int_equal(r->h.req_id, 7);
	assert_memory_equal(r->body, "guest", 5);
	/* a reply nobody waits for is dropped */
	host(m, XS_READ, ida, 0, "x", 1);
	assert_int_equal(nmsgs, cur);
	mux_free(m);
}

static void test_watch_tagged_and_routed(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	struct mux_client *b = mux_client_new(m, &users[2]);
	int cur = 0;

	req(m, a, XS_WATCH, 1, 0, "data\0tok", 9);
	req(m, b, XS_WATCH, 1, 0, "data\0tok", 9);
	struct msg *wa = next_msg(&cur, -1, XS_WATCH);
	struct msg *wb = next_msg(&cur, -1, XS_WATCH);
	assert_int_equal(wa->h.len, 12);
	assert_memory_equal(wa->body, "data\0c1:tok", 12);
	assert_memory_equal(wb->body, "data\0c2:tok", 12);

	host(m, XS_WATCH_EVENT, 0, 0, "data/x\0c2:tok", 14);
	struct msg *e = next_msg(&cur, 2, XS_WATCH_EVENT);
	assert_int_equal(e->h.len, 11);
	assert_memory_equal(e->body, "data/x\0tok", 11);
	assert_int_equal(nmsgs, cur); /* client 1 got nothing */

	/* UNWATCH carries the tag too */
	req(m, a, XS_UNWATCH, 2, 0, "data\0tok", 9);
	struct msg *u = next_msg(&cur, -1, XS_UNWATCH);
	assert_memory_equal(u->body, "data\0c1:tok", 12);
	struct mux_stats st;
	mux_stats(m, &st);
	assert_int_equal(st.watches, 1);
	/* events with foreign or broken tokens go nowhere */
	host(m, XS_WATCH_EVENT, 0, 0, "data/x\0tok", 11);
	host(m, XS_WATCH_EVENT, 0, 0, "data/x\0c9:tok", 14);
	host(m, XS_WATCH_EVENT, 0, 0, "data/x\0cx:tok", 14);
	assert_int_equal(nmsgs, cur);
	mux_free(m);
}

static void test_gone_client_cleaned_up(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	int cur = 0;

	req(m, a, XS_WATCH, 1, 0, "data\0w", 7);
	host(m, XS_WATCH, next_msg(&cur, -1, XS_WATCH)->h.req_id, 0, "OK", 3);
	next_msg(&cur, 1, XS_WATCH);
	req(m, a, XS_TRANSACTION_START, 2, 0, "", 1);
	host(m, XS_TRANSACTION_START, next_msg(&cur, -1, XS_TRANSACTION_START)->h.req_id, 0,
	     "42", 3);
	next_msg(&cur, 1, XS_TRANSACTION_START);
	/* a request in flight when the client goes */
	req(m, a, XS_WRITE, 3, 42, "data/t\0v", 8);
	struct msg *w = next_msg(&cur, -1, XS_WRITE);
	assert_int_equal(w->h.tx_id, 42);
	uint32_t wid = w->h.req_id;

	mux_client_gone(m, a);
	struct msg *u = next_msg(&cur, -1, XS_UNWATCH);
	assert_memory_equal(u->body, "data\0c1:w", 10);
	struct msg *t = next_msg(&cur, -1, XS_TRANSACTION_END);
	assert_int_equal(t->h.tx_id, 42);
	assert_memory_equal(t->body, "F", 2);
	assert_int_equal(nmsgs, cur);
	/* its late reply and events are dropped */
	host(m, XS_WRITE, wid, 42, "OK", 3);
	host(m, XS_WATCH_EVENT, 0, 0, "data\0c1:w", 10);
	assert_int_equal(nmsgs, cur);
	struct mux_stats st;
	mux_stats(m, &st);
	assert_int_equal(st.clients, 0);
	assert_int_equal(st.pending, 2); /* the UNWATCH and the abort */
	mux_free(m);
}

static void test_start_in_flight_aborted(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	int cur = 0;

	req(m, a, XS_TRANSACTION_START, 1, 0, "", 1);
	uint32_t id = next_msg(&cur, -1, XS_TRANSACTION_START)->h.req_id;
	mux_client_gone(m, a);
	assert_int_equal(nmsgs, cur);
	host(m, XS_TRANSACTION_START, id, 0, "9", 2);
	struct msg *t = next_msg(&cur, -1, XS_TRANSACTION_END);
	assert_int_equal(t->h.tx_id, 9);
	assert_memory_equal(t->body, "F", 2);
	assert_int_equal(nmsgs, cur);
	mux_free(m);
}

static void test_tx_owned(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	struct mux_client *b = mux_client_new(m, &users[2]);
	int cur = 0;

	req(m, a, XS_TRANSACTION_START, 1, 0, "", 1);
	host(m, XS_TRANSACTION_START, next_msg(&cur, -1, XS_TRANSACTION_START)->h.req_id, 0,
	     "5", 2);
	next_msg(&cur, 1, XS_TRANSACTION_START);
	req(m, b, XS_READ, 4, 5, "data", 5);
	struct msg *e = next_msg(&cur, 2, XS_ERROR);
	assert_int_equal(e->h.req_id, 4);
	assert_string_equal(e->body, "ENOENT");
	/* the owner ends it; afterwards the id is no longer its */
	req(m, a, XS_TRANSACTION_END, 2, 5, "T", 2);
	host(m, XS_TRANSACTION_END, next_msg(&cur, -1, XS_TRANSACTION_END)->h.req_id, 0,
	     "OK", 3);
	next_msg(&cur, 1, XS_TRANSACTION_END);
	req(m, a, XS_READ, 3, 5, "data", 5);
	assert_string_equal(next_msg(&cur, 1, XS_ERROR)->body, "ENOENT");
	mux_client_gone(m, a);
	assert_int_equal(nmsgs, cur); /* nothing left to abort */
	mux_free(m);
}

static void test_local_reply_waits_its_turn(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	int cur = 0;

	req(m, a, XS_READ, 1, 0, "domid", 6);
	uint32_t id = next_msg(&cur, -1, XS_READ)->h.req_id;
	req(m, a, XS_WATCH_EVENT, 2, 0, "", 0); /* not a request: EINVAL */
	assert_int_equal(nmsgs, cur);          /* ... but not before the READ's reply */
	host(m, XS_READ, id, 0, "3", 1);
	assert_int_equal(next_msg(&cur, 1, XS_READ)->h.req_id, 1);
	struct msg *e = next_msg(&cur, 1, XS_ERROR);
	assert_int_equal(e->h.req_id, 2);
	assert_string_equal(e->body, "EINVAL");
	mux_free(m);
}

static void test_reconnect(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	struct mux_client *a = mux_client_new(m, &users[1]);
	int cur = 0;

	req(m, a, XS_WATCH, 1, 0, "data\0w", 7);
	host(m, XS_WATCH, next_msg(&cur, -1, XS_WATCH)->h.req_id, 0, "OK", 3);
	next_msg(&cur, 1, XS_WATCH);
	req(m, a, XS_TRANSACTION_START, 2, 0, "", 1);
	host(m, XS_TRANSACTION_START, next_msg(&cur, -1, XS_TRANSACTION_START)->h.req_id, 0,
	     "7", 2);
	next_msg(&cur, 1, XS_TRANSACTION_START);
	req(m, a, XS_READ, 3, 0, "domid", 6);
	next_msg(&cur, -1, XS_READ);

	mux_port_lost(m);
	struct msg *e = next_msg(&cur, 1, XS_ERROR);
	assert_int_equal(e->h.req_id, 3);
	assert_string_equal(e->body, "EIO");
	assert_false(mux_connected(m));

	mux_port_up(m);
	uint32_t rid = next_msg(&cur, -1, XS_RESET_WATCHES)->h.req_id;
	struct msg *w = next_msg(&cur, -1, XS_WATCH);
	assert_memory_equal(w->body, "data\0c1:w", 10);
	/* before the reset's reply everything is stale */
	host(m, XS_WATCH_EVENT, 0, 0, "data\0c1:w", 10);
	assert_int_equal(nmsgs, cur);
	host(m, XS_RESET_WATCHES, rid, 0, "OK", 3);
	host(m, XS_WATCH_EVENT, 0, 0, "data\0c1:w", 10);
	assert_memory_equal(next_msg(&cur, 1, XS_WATCH_EVENT)->body, "data\0w", 7);
	/* the lost transaction: EAGAIN, so that libxenstore users retry */
	req(m, a, XS_WRITE, 4, 7, "data/x\0v", 8);
	assert_string_equal(next_msg(&cur, 1, XS_ERROR)->body, "EAGAIN");
	req(m, a, XS_TRANSACTION_END, 5, 7, "T", 2);
	assert_string_equal(next_msg(&cur, 1, XS_ERROR)->body, "EAGAIN");
	mux_client_gone(m, a);
	assert_memory_equal(next_msg(&cur, -1, XS_UNWATCH)->body, "data\0c1:w", 10);
	assert_int_equal(nmsgs, cur); /* no abort of the lost transaction */
	mux_free(m);
}

static int agent_calls;
static char agent_last[64];

static void on_reply(void *arg, uint32_t type, const char *body, size_t len)
{
	(void)arg;
	agent_calls++;
	snprintf(agent_last, sizeof(agent_last), "%u:%.*s", type, (int)len, body);
}

static void on_event(void *arg, const char *path)
{
	(void)arg;
	agent_calls++;
	snprintf(agent_last, sizeof(agent_last), "event:%s", path);
}

static void test_agent_requests_and_watches(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	int cur = 0;

	assert_int_equal(mux_watch(m, "control/shutdown", on_event, NULL), 0);
	struct msg *w = next_msg(&cur, -1, XS_WATCH);
	assert_memory_equal(w->body, "control/shutdown\0a0:", 21);
	host(m, XS_WATCH, w->h.req_id, 0, "OK", 3);
	host(m, XS_WATCH_EVENT, 0, 0, "control/shutdown\0a0:", 21);
	assert_int_equal(agent_calls, 1);
	assert_string_equal(agent_last, "event:control/shutdown");

	assert_int_equal(mux_request(m, XS_READ, "control/shutdown", 17, on_reply, NULL), 0);
	host(m, XS_READ, next_msg(&cur, -1, XS_READ)->h.req_id, 0, "poweroff", 8);
	assert_int_equal(agent_calls, 2);
	assert_string_equal(agent_last, "2:poweroff");

	/* in flight when the host goes: EIO; while away: refused */
	assert_int_equal(mux_request(m, XS_READ, "x", 2, on_reply, NULL), 0);
	mux_port_lost(m);
	assert_int_equal(agent_calls, 3);
	assert_string_equal(agent_last, "16:EIO");
	assert_int_equal(mux_request(m, XS_READ, "x", 2, on_reply, NULL), -1);
	mux_free(m);
}

/* The agent's transactional requests and the removal of its own watch. */
static void test_agent_tx_and_unwatch(void **state)
{
	(void)state;
	struct mux *m = setup_mux();
	int cur = 0;

	assert_int_equal(mux_request_tx(m, XS_WRITE, 7, "a\0b", 3, on_reply, NULL), 0);
	struct msg *w = next_msg(&cur, -1, XS_WRITE);
	assert_int_equal(w->h.tx_id, 7);
	host(m, XS_WRITE, w->h.req_id, 7, "OK", 3);
	assert_string_equal(agent_last, "11:OK");

	int before = agent_calls;
	assert_int_equal(mux_watch(m, "device/vbd", on_event, NULL), 0);
	assert_int_equal(mux_watch(m, "/be/state", on_event, &cur), 0);
	w = next_msg(&cur, -1, XS_WATCH);
	host(m, XS_WATCH, w->h.req_id, 0, "OK", 3);
	w = next_msg(&cur, -1, XS_WATCH);
	assert_memory_equal(w->body, "/be/state\0a1:", 14);
	host(m, XS_WATCH, w->h.req_id, 0, "OK", 3);
	mux_unwatch(m, "/be/state", on_event, &cur);
	struct msg *u = next_msg(&cur, -1, XS_UNWATCH);
	assert_memory_equal(u->body, "/be/state\0a1:", 14);
	host(m, XS_UNWATCH, u->h.req_id, 0, "OK", 3);
	/* a late event of the removed watch is dropped; the other still fires */
	host(m, XS_WATCH_EVENT, 0, 0, "/be/state\0a1:", 14);
	assert_int_equal(agent_calls, before);
	host(m, XS_WATCH_EVENT, 0, 0, "device/vbd\0a0:", 15);
	assert_int_equal(agent_calls, before + 1);
	/* a reconnection registers only the remaining one */
	mux_port_lost(m);
	mux_port_up(m);
	next_msg(&cur, -1, XS_RESET_WATCHES);
	w = next_msg(&cur, -1, XS_WATCH);
	assert_memory_equal(w->body, "device/vbd\0a0:", 15);
	assert_int_equal(cur, nmsgs);
	mux_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_rewritten),
		cmocka_unit_test(test_watch_tagged_and_routed),
		cmocka_unit_test(test_gone_client_cleaned_up),
		cmocka_unit_test(test_start_in_flight_aborted),
		cmocka_unit_test(test_tx_owned),
		cmocka_unit_test(test_local_reply_waits_its_turn),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_agent_requests_and_watches),
		cmocka_unit_test(test_agent_tx_and_unwatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
