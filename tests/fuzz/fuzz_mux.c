/*
 * fuzz_mux.c — libFuzzer target: the guest agent's xenbus multiplexer
 * (xmfront/mux.c), which rewrites the requests of guest-local clients onto
 * one XenStore connection and routes the host's replies and watch events
 * back. The input is a script of steps, one byte each and then its
 * arguments: a client comes or goes, a client sends a request (type, req
 * id, transaction, body), the host sends a message (type, the id of a
 * request the mux sent or any, transaction, body), the connection is lost
 * or comes back, the agent sends its own request or watch. Checked:
 *  - every message out, to the host or to a client, fits a XenStore
 *    payload, and its body is readable for its length;
 *  - a message goes only to a live client, and a reply carries a request
 *    id that client sent (a watch event: id 0);
 *  - once the connection is lost nothing is pending, and once every
 *    client is gone none is counted.
 */
#include "xmfront/mux.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCLIENT 4
#define NREQ 1024

struct fclient {
	struct mux_client *c;
	uint32_t reqs[NREQ]; /* the req ids it sent (the last NREQ) */
	unsigned int nreq;
};

static struct fclient cl[NCLIENT];
static uint32_t port_ids[16];
static unsigned int nport;
static volatile uint8_t sink;

static void touch(const char *body, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sink ^= (uint8_t)body[i];
}

static void to_port(void *ctx, const struct xsd_sockmsg *h, const char *body)
{
	(void)ctx;
	if (h->len > XENSTORE_PAYLOAD_MAX)
		abort();
	touch(body, h->len);
	port_ids[nport++ % 16] = h->req_id;
}

static void to_client(void *ctx, void *user, const struct xsd_sockmsg *h, const char *body)
{
	struct fclient *f = user;
	(void)ctx;
	if (f < cl || f >= cl + NCLIENT || !f->c || h->len > XENSTORE_PAYLOAD_MAX)
		abort();
	touch(body, h->len);
	if (h->type == XS_WATCH_EVENT) {
		if (h->req_id != 0)
			abort();
		return;
	}
	unsigned int n = f->nreq < NREQ ? f->nreq : NREQ;
	for (unsigned int i = 0; i < n; i++)
		if (f->reqs[i] == h->req_id)
			return;
	abort();
}

static void agent_reply(void *arg, uint32_t type, const char *body, size_t len)
{
	(void)arg;
	(void)type;
	touch(body, len);
}

static void agent_event(void *arg, const char *path)
{
	(void)arg;
	touch(path, strlen(path));
}

struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* A message from the script: type, id (via pick), tx, body. */
static void message(struct in *in, struct xsd_sockmsg *h, char *body, bool to_host)
{
	h->type = byte(in) % (XS_TYPE_COUNT + 2);
	uint8_t id = byte(in);
	h->req_id = to_host && (id & 0x80) && nport ? port_ids[id % 16 % (nport < 16 ? nport : 16)]
						    : id;
	h->tx_id = byte(in) % 4;
	size_t len = byte(in);
	if (len == 255)
		len = (size_t)byte(in) << 4;
	if (len > in->left)
		len = in->left;
	memcpy(body, in->p, len);
	in->p += len;
	in->left -= len;
	h->len = (uint32_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mux_ops ops = { to_port, to_client };
	static char body[XENSTORE_PAYLOAD_MAX + 1];
	static bool quiet;
	struct in in = { data, size };
	struct xsd_sockmsg h;
	struct mux_stats st;

	if (!quiet) {
		log_open("fuzz_mux", fopen("/dev/null", "w"), LOG_ERR_);
		quiet = true;
	}
	memset(cl, 0, sizeof(cl));
	nport = 0;
	struct mux *m = mux_new(&ops, NULL);
	if (!m)
		return 0;
	while (in.left) {
		uint8_t op = byte(&in);
		struct fclient *f = &cl[(op >> 4) % NCLIENT];
		switch (op & 15) {
		case 0:
		case 1:
			if (!f->c)
				f->c = mux_client_new(m, f);
			break;
		case 2:
			if (f->c) {
				mux_client_gone(m, f->c);
				memset(f, 0, sizeof(*f));
			}
			break;
		case 3:
		case 4:
		case 5:
		case 6:
			message(&in, &h, body, false);
			if (f->c) {
				f->reqs[f->nreq++ % NREQ] = h.req_id;
				mux_client_request(m, f->c, &h, body);
			}
			break;
		case 7:
		case 8:
		case 9:
		case 10:
			message(&in, &h, body, true);
			mux_port_message(m, &h, body);
			break;
		case 11:
			mux_port_lost(m);
			mux_stats(m, &st);
			if (st.pending)
				abort();
			break;
		case 12:
			if (!mux_connected(m))
				mux_port_up(m);
			break;
		case 13:
			message(&in, &h, body, false);
			mux_request_tx(m, h.type, h.tx_id, body, h.len, agent_reply, NULL);
			break;
		case 14:
			message(&in, &h, body, false);
			body[h.len] = '\0';
			mux_watch(m, body, agent_event, NULL);
			break;
		default:
			message(&in, &h, body, false);
			body[h.len] = '\0';
			mux_unwatch(m, body, agent_event, NULL);
			break;
		}
	}
	for (int i = 0; i < NCLIENT; i++)
		if (cl[i].c) {
			mux_client_gone(m, cl[i].c);
			memset(&cl[i], 0, sizeof(cl[i]));
		}
	mux_port_lost(m);
	mux_stats(m, &st);
	if (st.clients || st.pending || st.txs)
		abort();
	mux_free(m);
	return 0;
}
