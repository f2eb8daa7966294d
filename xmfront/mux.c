/*
 * mux.c — many guest clients over one XenStore connection; see mux.h.
 *
 * How it works. Every request forwarded to the host gets a fresh id of our
 * own; a pending record (in send order) maps it back to the client and the
 * client's id. XenStore answers the requests of one connection in order, so
 * the record for a reply is normally the head of the list.
 *
 * Watches: a client's token T becomes "c<id>:T" on the host (the agent's own
 * watches "a<n>:"). An event is routed by that tag, which is stripped again,
 * so it reaches only the client that set the watch; an event whose client is
 * gone is dropped. Client ids are never reused.
 *
 * Transactions: transaction ids are the host's, unique on the connection; a
 * client may only use the ones it started. When a client goes away each of
 * its watches is unwatched and each open transaction ended with "F"
 * (abort); a TRANSACTION_START still in flight is aborted when its reply
 * comes. A WATCH is recorded when it is sent, so the UNWATCH always follows
 * it on the wire. Replies for a gone client are dropped.
 *
 * Replies made here (errors, RESET_WATCHES) must not overtake the client's
 * replies still in flight: they wait in the pending list as "local" records
 * until nothing of that client is ahead of them.
 *
 * Reconnection: when the host side goes away, requests in flight fail with
 * EIO and open transactions are lost (further use: EAGAIN, which makes
 * libxenstore users retry). When it is back, RESET_WATCHES clears whatever
 * the connection still had (replies and events that arrive before its reply
 * are stale and dropped), then every watch is registered again.
 */
#include "mux.h"
#include "wire.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct watch {
	struct watch *next;
	char *path, *token; /* as the client gave them */
};

struct txn {
	uint32_t id;
	bool stale; /* lost with the previous host connection */
};

struct mux_client {
	struct mux_client *next;
	uint64_t id;
	void *user;
	struct watch *watches; /* in registration order */
	struct txn *txs;
	unsigned int ntxs;
};

enum pend_kind {
	P_CLIENT,   /* a client's request, forwarded */
	P_AGENT,    /* the agent's own request */
	P_INTERNAL, /* ours: unwatch, abort, re-registration */
	P_LOCAL,    /* a reply made here, waiting for its turn */
};

struct pending {
	struct pending *next;
	enum pend_kind kind;
	uint32_t port_id;           /* not for P_LOCAL */
	uint32_t type;              /* of the request (P_LOCAL: of the reply) */
	struct mux_client *client;  /* NULL once gone */
	uint32_t client_req, tx;
	char *body;                 /* P_LOCAL reply; P_CLIENT WATCH: path\0token\0 */
	size_t len;
	mux_reply_fn *fn;
	void *arg;
};

struct agent_watch {
	struct agent_watch *next;
	unsigned int idx;
	char *path;
	mux_event_fn *fn;
	void *arg;
};

struct mux {
	const struct mux_ops *ops;
	void *ctx;
	bool connected;
	unsigned int epoch;  /* connections lost so far */
	bool resetting;      /* RESET_WATCHES sent, its reply not yet seen */
	uint32_t reset_id;
	uint32_t next_id;
	uint64_t next_client;
	unsigned int nawatch;
	struct mux_client *clients;
	struct pending *head, *tail;
	struct agent_watch *awatches;
};

/* --- small helpers ------------------------------------------------------ */

static char *memdup0(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void pend_append(struct mux *m, struct pending *p)
{
	p->next = NULL;
	if (m->tail)
		m->tail->next = p;
	else
		m->head = p;
	m->tail = p;
}

static void pend_unlink(struct mux *m, struct pending *p)
{
	struct pending *prev = NULL;
	for (struct pending *q = m->head; q; prev = q, q = q->next) {
		if (q != p)
			continue;
		if (prev)
			prev->next = q->next;
		else
			m->head = q->next;
		if (m->tail == q)
			m->tail = prev;
		return;
	}
}

static void pend_free(struct pending *p)
{
	free(p->body);
	free(p);
}

/* Send to the host with a fresh id; returns the id. */
static uint32_t port_send(struct mux *m, uint32_t type, uint32_t tx, const char *body,
			  size_t len)
{
	uint32_t id = m->next_id++;
	struct xsd_sockmsg h = { type, id, tx, (uint32_t)len };
	m->ops->to_port(m->ctx, &h, body);
	return id;
}

static void send_internal(struct mux *m, uint32_t type, uint32_t tx, const char *body,
			  size_t len)
{
	struct pending *p = calloc(1, sizeof(*p));
	uint32_t id = port_send(m, type, tx, body, len);
	if (!p) {
		log_err("out of memory: reply to %s will be ignored", wire_type_name(type));
		return;
	}
	p->kind = P_INTERNAL;
	p->port_id = id;
	p->type = type;
	pend_append(m, p);
}

static void deliver(struct mux *m, struct mux_client *c, uint32_t type, uint32_t req,
		    uint32_t tx, const char *body, size_t len)
{
	struct xsd_sockmsg h = { type, req, tx, (uint32_t)len };
	m->ops->to_client(m->ctx, c->user, &h, body);
}

static bool client_has_pending(const struct mux *m, const struct mux_client *c,
			       const struct pending *upto)
{
	for (const struct pending *p = m->head; p && p != upto; p = p->next)
		if (p->client == c)
			return true;
	return false;
}

/* A reply made here, in order with the client's replies in flight. */
static void reply_local(struct mux *m, struct mux_client *c, uint32_t req, uint32_t type,
			uint32_t tx, const char *body, size_t len)
{
	if (!client_has_pending(m, c, NULL)) {
		deliver(m, c, type, req, tx, body, len);
		return;
	}
	struct pending *p = calloc(1, sizeof(*p));
	char *b = memdup0(body, len);
	if (!p || !b) {
		free(p);
		free(b);
		log_err("out of memory: reply to a client dropped");
		return;
	}
	p->kind = P_LOCAL;
	p->type = type;
	p->client = c;
	p->client_req = req;
	p->tx = tx;
	p->body = b;
	p->len = len;
	pend_append(m, p);
}

static void reply_error(struct mux *m, struct mux_client *c, uint32_t req, int err)
{
	const char *s = wire_error_string(err);
	reply_local(m, c, req, XS_ERROR, 0, s, strlen(s) + 1);
}

/* Deliver local replies that nothing of their client is ahead of. */
static void flush_local(struct mux *m)
{
	struct pending *p = m->head;
	while (p) {
		struct pending *next = p->next;
		if (p->kind == P_LOCAL && !client_has_pending(m, p->client, p)) {
			pend_unlink(m, p);
			deliver(m, p->client, p->type, p->client_req, p->tx, p->body, p->len);
			pend_free(p);
		}
		p = next;
	}
}

/* "c<id>:" + token, path first: the WATCH/UNWATCH payload for the host. */
static size_t tagged(char *out, size_t cap, char kind, uint64_t id, const char *path,
		     const char *token)
{
	int n = snprintf(out, cap, "%s%c%c%" PRIu64 ":%s", path, '\0', kind, id, token);
	if (n < 0 || (size_t)n + 1 > cap)
		return 0;
	return (size_t)n + 1;
}

/* --- transactions and watches of a client -------------------------------- */

static struct txn *tx_find(struct mux_client *c, uint32_t id)
{
	for (unsigned int i = 0; i < c->ntxs; i++)
		if (c->txs[i].id == id)
			return &c->txs[i];
	return NULL;
}

static void tx_remove(struct mux_client *c, struct txn *t)
{
	*t = c->txs[--c->ntxs];
}

static int tx_add(struct mux_client *c, uint32_t id)
{
	struct txn *v = realloc(c->txs, (c->ntxs + 1) * sizeof(*v));
	if (!v)
		return -1;
	c->txs = v;
	c->txs[c->ntxs++] = (struct txn){ id, false };
	return 0;
}

static void abort_tx(struct mux *m, uint32_t id)
{
	send_internal(m, XS_TRANSACTION_END, id, "F", 2);
}

static void watch_free(struct watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

static int watch_add(struct mux_client *c, const char *path, const char *token)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->token = strdup(token))) {
		if (w)
			watch_free(w);
		return -1;
	}
	struct watch **pp = &c->watches;
	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
	return 0;
}

/* Remove the first (or last) watch with this path and token. */
static void watch_remove(struct mux_client *c, const char *path, const char *token, bool last)
{
	struct watch **hit = NULL;
	for (struct watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->path, path) == 0 && strcmp((*pp)->token, token) == 0) {
			hit = pp;
			if (!last)
				break;
		}
	}
	if (hit) {
		struct watch *w = *hit;
		*hit = w->next;
		watch_free(w);
	}
}

static void send_watch(struct mux *m, uint32_t type, char kind, uint64_t id,
		       const char *path, const char *token)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t n = tagged(buf, sizeof(buf), kind, id, path, token);
	if (n)
		send_internal(m, type, 0, buf, n);
}

/* Unwatch everything of c and abort its live transactions (on the host),
 * then forget them here. */
static void client_drop_state(struct mux *m, struct mux_client *c)
{
	while (c->watches) {
		struct watch *w = c->watches;
		c->watches = w->next;
		if (m->connected)
			send_watch(m, XS_UNWATCH, 'c', c->id, w->path, w->token);
		watch_free(w);
	}
	for (unsigned int i = 0; i < c->ntxs; i++)
		if (m->connected && !c->txs[i].stale)
			abort_tx(m, c->txs[i].id);
	c->ntxs = 0;
}

/* --- public ------------------------------------------------------------------ */

struct mux *mux_new(const struct mux_ops *ops, void *ctx)
{
	struct mux *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->ops = ops;
	m->ctx = ctx;
	/* ids of another run of the agent may still be on the wire */
	m->next_id = (uint32_t)time(NULL) * 2654435761u ^ (uint32_t)getpid() << 16;
	m->next_client = 1;
	return m;
}

void mux_free(struct mux *m)
{
	if (!m)
		return;
	while (m->clients) {
		struct mux_client *c = m->clients;
		m->clients = c->next;
		while (c->watches) {
			struct watch *w = c->watches;
			c->watches = w->next;
			watch_free(w);
		}
		free(c->txs);
		free(c);
	}
	while (m->head) {
		struct pending *p = m->head;
		m->head = p->next;
		pend_free(p);
	}
	while (m->awatches) {
		struct agent_watch *a = m->awatches;
		m->awatches = a->next;
		free(a->path);
		free(a);
	}
	free(m);
}

bool mux_connected(const struct mux *m)
{
	return m->connected;
}

unsigned int mux_epoch(const struct mux *m)
{
	return m->epoch;
}

struct mux_client *mux_client_new(struct mux *m, void *user)
{
	struct mux_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = m->next_client++;
	c->user = user;
	c->next = m->clients;
	m->clients = c;
	return c;
}

void mux_client_gone(struct mux *m, struct mux_client *c)
{
	client_drop_state(m, c);
	free(c->txs);
	for (struct pending *p = m->head, *next; p; p = next) {
		next = p->next;
		if (p->client != c)
			continue;
		if (p->kind == P_LOCAL) {
			pend_unlink(m, p);
			pend_free(p);
		} else {
			p->client = NULL; /* its reply will be dropped */
		}
	}
	for (struct mux_client **pp = &m->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c);
}

/* What every client request passes before it goes to the host: the port is
 * up, the type is one a client sends, its transaction is live (and a
 * TRANSACTION_END ends it from now on, whatever the reply). false when it
 * was answered here. */
static bool client_check(struct mux *m, struct mux_client *c, const struct xsd_sockmsg *h)
{
	uint32_t type = h->type;

	if (!m->connected) {
		reply_error(m, c, h->req_id, EIO);
		return false;
	}
	if (type >= XS_TYPE_COUNT || type == XS_WATCH_EVENT || type == XS_ERROR) {
		reply_error(m, c, h->req_id, EINVAL);
		return false;
	}
	if (!h->tx_id)
		return true;
	struct txn *t = tx_find(c, h->tx_id);
	if (!t) {
		reply_error(m, c, h->req_id, ENOENT);
		return false;
	}
	if (t->stale) {
		if (type == XS_TRANSACTION_END)
			tx_remove(c, t);
		reply_error(m, c, h->req_id, EAGAIN);
		return false;
	}
	if (type == XS_TRANSACTION_END)
		tx_remove(c, t);
	return true;
}

/* WATCH and UNWATCH: v gets the path and token, the client's watch is
 * recorded (or dropped), and buf the request for the host, its token
 * tagged with the client. The length of that, or 0 when answered here. */
static size_t client_watch(struct mux *m, struct mux_client *c, const struct xsd_sockmsg *h,
			   const char *body, const char *v[2], char *buf, size_t cap)
{
	if (wire_split(body, h->len, v, 2) < 2) {
		reply_error(m, c, h->req_id, EINVAL);
		return 0;
	}
	size_t len = tagged(buf, cap, 'c', c->id, v[0], v[1]);
	if (!len) {
		reply_error(m, c, h->req_id, E2BIG);
		return 0;
	}
	if (h->type == XS_UNWATCH) {
		watch_remove(c, v[0], v[1], false);
	} else if (watch_add(c, v[0], v[1]) < 0) {
		reply_error(m, c, h->req_id, ENOMEM);
		return 0;
	}
	return len;
}

/* The record of a client's request on its way to the host; a WATCH's keeps
 * "path\0token\0" to undo the client's watch if the host refuses it. NULL
 * when out of memory (the watch undone already). */
static struct pending *client_pending(struct mux_client *c, uint32_t type, const char *v[2])
{
	struct pending *p = calloc(1, sizeof(*p));
	if (p && type == XS_WATCH) {
		p->len = wire_pack(NULL, 0, v, 2, true);
		p->body = malloc(p->len);
		if (!p->body) {
			free(p);
			p = NULL;
		} else {
			wire_pack(p->body, p->len, v, 2, true);
		}
	}
	if (!p && type == XS_WATCH)
		watch_remove(c, v[0], v[1], true);
	return p;
}

void mux_client_request(struct mux *m, struct mux_client *c, const struct xsd_sockmsg *h,
			const char *body)
{
	const char *v[2] = { NULL, NULL };
	char buf[XENSTORE_PAYLOAD_MAX];
	const char *out = body;
	size_t olen = h->len;

	if (!client_check(m, c, h))
		return;
	if (h->type == XS_WATCH || h->type == XS_UNWATCH) {
		olen = client_watch(m, c, h, body, v, buf, sizeof(buf));
		if (!olen)
			return;
		out = buf;
	} else if (h->type == XS_RESET_WATCHES) {
		client_drop_state(m, c);
		reply_local(m, c, h->req_id, XS_RESET_WATCHES, 0, "OK", 3);
		return;
	}
	struct pending *p = client_pending(c, h->type, v);
	if (!p) {
		reply_error(m, c, h->req_id, ENOMEM);
		return;
	}
	p->kind = P_CLIENT;
	p->type = h->type;
	p->client = c;
	p->client_req = h->req_id;
	p->port_id = port_send(m, h->type, h->tx_id, out, olen);
	pend_append(m, p);
}

static void client_reply(struct mux *m, struct pending *p, const struct xsd_sockmsg *h,
			 const char *body)
{
	struct mux_client *c = p->client;
	bool ok = h->type != XS_ERROR;

	if (p->type == XS_TRANSACTION_START && ok) {
		char num[16];
		size_t n = h->len < sizeof(num) - 1 ? h->len : sizeof(num) - 1;
		memcpy(num, body, n);
		num[n] = '\0';
		uint32_t id = (uint32_t)strtoul(num, NULL, 10);
		if (!c) {
			abort_tx(m, id); /* its client went away meanwhile */
		} else if (tx_add(c, id) < 0) {
			abort_tx(m, id);
			reply_error(m, c, p->client_req, ENOMEM);
			return;
		}
	}
	if (!c)
		return;
	if (p->type == XS_WATCH && !ok && p->body)
		watch_remove(c, p->body, p->body + strlen(p->body) + 1, true);
	deliver(m, c, h->type, p->client_req, h->tx_id, body, h->len);
}

static void route_event(struct mux *m, const struct xsd_sockmsg *h, const char *body)
{
	const char *v[2];
	char buf[XENSTORE_PAYLOAD_MAX];

	if (m->resetting || wire_split(body, h->len, v, 2) < 2)
		return;
	const char *tok = v[1];
	char *end;
	if (tok[0] != 'c' && tok[0] != 'a')
		return;
	unsigned long long id = strtoull(tok + 1, &end, 10);
	if (end == tok + 1 || *end != ':')
		return;
	const char *orig = end + 1;

	if (tok[0] == 'a') {
		for (struct agent_watch *a = m->awatches; a; a = a->next)
			if (a->idx == id)
				a->fn(a->arg, v[0]);
		return;
	}
	for (struct mux_client *c = m->clients; c; c = c->next) {
		if (c->id != id)
			continue;
		int n = snprintf(buf, sizeof(buf), "%s%c%s", v[0], '\0', orig);
		if (n > 0 && (size_t)n + 1 <= sizeof(buf))
			deliver(m, c, XS_WATCH_EVENT, 0, 0, buf, (size_t)n + 1);
		return;
	}
	/* a watch of a client that is gone: its UNWATCH is on the way */
}

void mux_port_message(struct mux *m, const struct xsd_sockmsg *h, const char *body)
{
	if (h->type == XS_WATCH_EVENT) {
		route_event(m, h, body);
		return;
	}
	struct pending *p = m->head;
	while (p && (p->kind == P_LOCAL || p->port_id != h->req_id))
		p = p->next;
	if (!p) {
		log_debug("dropping a stale %s reply (id %u)",
			  wire_type_name(h->type) ? wire_type_name(h->type) : "?", h->req_id);
		return;
	}
	if (m->resetting && p->port_id != m->reset_id)
		return; /* cannot happen: ours follow the reset */
	pend_unlink(m, p);

	switch (p->kind) {
	case P_CLIENT:
		client_reply(m, p, h, body);
		break;
	case P_AGENT:
		if (p->fn)
			p->fn(p->arg, h->type, body, h->len);
		break;
	case P_INTERNAL:
		if (p->port_id == m->reset_id)
			m->resetting = false;
		if (h->type == XS_ERROR && p->type != XS_UNWATCH && p->type != XS_TRANSACTION_END)
			log_warn("%s: %.*s", wire_type_name(p->type), (int)h->len, body);
		break;
	case P_LOCAL:
		break;
	}
	pend_free(p);
	flush_local(m);
}

void mux_port_lost(struct mux *m)
{
	struct pending *list = m->head;

	m->connected = false;
	m->epoch++;
	m->resetting = false;
	m->head = m->tail = NULL;
	while (list) {
		struct pending *p = list;
		list = p->next;
		struct mux_client *c = p->client;
		switch (p->kind) {
		case P_CLIENT:
			if (!c)
				break;
			if (p->type == XS_WATCH && p->body)
				watch_remove(c, p->body, p->body + strlen(p->body) + 1, true);
			deliver(m, c, XS_ERROR, p->client_req, 0, "EIO", 4);
			break;
		case P_LOCAL:
			deliver(m, c, p->type, p->client_req, p->tx, p->body, p->len);
			break;
		case P_AGENT:
			if (p->fn)
				p->fn(p->arg, XS_ERROR, "EIO", 4);
			break;
		case P_INTERNAL:
			break;
		}
		pend_free(p);
	}
	for (struct mux_client *c = m->clients; c; c = c->next)
		for (unsigned int i = 0; i < c->ntxs; i++)
			c->txs[i].stale = true;
}

void mux_port_up(struct mux *m)
{
	m->connected = true;
	m->resetting = true;
	m->reset_id = m->next_id;
	send_internal(m, XS_RESET_WATCHES, 0, "", 0);
	for (struct agent_watch *a = m->awatches; a; a = a->next)
		send_watch(m, XS_WATCH, 'a', a->idx, a->path, "");
	for (struct mux_client *c = m->clients; c; c = c->next)
		for (struct watch *w = c->watches; w; w = w->next)
			send_watch(m, XS_WATCH, 'c', c->id, w->path, w->token);
}

int mux_request(struct mux *m, uint32_t type, const void *body, size_t len,
		mux_reply_fn *fn, void *arg)
{
	return mux_request_tx(m, type, 0, body, len, fn, arg);
}

int mux_request_tx(struct mux *m, uint32_t type, uint32_t tx, const void *body, size_t len,
		   mux_reply_fn *fn, void *arg)
{
	if (!m->connected) {
		errno = ENOTCONN;
		return -1;
	}
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->kind = P_AGENT;
	p->type = type;
	p->fn = fn;
	p->arg = arg;
	p->port_id = port_send(m, type, tx, body, len);
	pend_append(m, p);
	return 0;
}

int mux_watch(struct mux *m, const char *path, mux_event_fn *fn, void *arg)
{
	struct agent_watch *a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path))) {
		free(a);
		errno = ENOMEM;
		return -1;
	}
	a->idx = m->nawatch++;
	a->fn = fn;
	a->arg = arg;
	a->next = m->awatches;
	m->awatches = a;
	if (m->connected)
		send_watch(m, XS_WATCH, 'a', a->idx, a->path, "");
	return 0;
}

void mux_unwatch(struct mux *m, const char *path, mux_event_fn *fn, void *arg)
{
	for (struct agent_watch **pp = &m->awatches; *pp; pp = &(*pp)->next) {
		struct agent_watch *a = *pp;
		if (a->fn != fn || a->arg != arg || strcmp(a->path, path) != 0)
			continue;
		*pp = a->next;
		/* events still on their way find no watch and are dropped */
		if (m->connected)
			send_watch(m, XS_UNWATCH, 'a', a->idx, a->path, "");
		free(a->path);
		free(a);
		return;
	}
}

void mux_stats(const struct mux *m, struct mux_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (const struct mux_client *c = m->clients; c; c = c->next) {
		st->clients++;
		st->txs += c->ntxs;
		for (const struct watch *w = c->watches; w; w = w->next)
			st->watches++;
	}
	for (const struct pending *p = m->head; p; p = p->next)
		st->pending++;
}
