/*
 * mux.h — the xenbus client multiplexer of xmfront, without I/O.
 *
 * One XenStore connection (the virtio-serial port, domain N's channel) is
 * shared by the agent itself and by guest-local clients. The multiplexer
 * rewrites request ids, tags watch tokens per client, keeps each client's
 * transactions to itself, and cleans up after a client that goes away. It
 * writes nothing itself: messages leave through the two callbacks of
 * struct mux_ops, so that the unit tests drive it directly.
 */
#ifndef XMFRONT_MUX_H
#define XMFRONT_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

struct mux;
struct mux_client;

struct mux_ops {
	/* Queue one message for the host (only called while connected). */
	void (*to_port)(void *ctx, const struct xsd_sockmsg *h, const char *body);
	/* Queue one message for a client; user is mux_client_new()'s. */
	void (*to_client)(void *ctx, void *user, const struct xsd_sockmsg *h,
			  const char *body);
};

/* The agent's own requests: the reply (type XS_ERROR with "EIO" when the
 * host went away before answering). */
typedef void mux_reply_fn(void *arg, uint32_t type, const char *body, size_t len);
/* The agent's own watches: path as the store sent it. */
typedef void mux_event_fn(void *arg, const char *path);

struct mux *mux_new(const struct mux_ops *ops, void *ctx);
void mux_free(struct mux *m);

struct mux_client *mux_client_new(struct mux *m, void *user);
/* The client went away: unwatch its watches, abort its transactions,
 * forget it (replies still on their way are dropped). Frees c. */
void mux_client_gone(struct mux *m, struct mux_client *c);
/* One complete request from a client. */
void mux_client_request(struct mux *m, struct mux_client *c,
			const struct xsd_sockmsg *h, const char *body);

/* One complete message from the host. */
void mux_port_message(struct mux *m, const struct xsd_sockmsg *h, const char *body);
/* The host side went away: requests in flight fail with EIO, open
 * transactions are lost (their clients get EAGAIN), nothing is sent. */
void mux_port_lost(struct mux *m);
/* The host side is (back) there: reset the connection's watches and
 * transactions, then register every watch again (the agent's and the
 * clients'). Called once at the first connection too. */
void mux_port_up(struct mux *m);
bool mux_connected(const struct mux *m);
/* Changes with every lost connection: a transaction id the agent holds is
 * good only within the epoch that gave it. */
unsigned int mux_epoch(const struct mux *m);

/* The agent's own request (body as on the wire). 0, or -1 when not
 * connected. fn may be NULL. */
int mux_request(struct mux *m, uint32_t type, const void *body, size_t len,
		mux_reply_fn *fn, void *arg);
/* The same within transaction tx (0: none). */
int mux_request_tx(struct mux *m, uint32_t type, uint32_t tx, const void *body, size_t len,
		   mux_reply_fn *fn, void *arg);
/* The agent's own watch, kept across reconnections. 0 or -1 (ENOMEM). */
int mux_watch(struct mux *m, const char *path, mux_event_fn *fn, void *arg);
/* Remove the agent's watch with exactly this path, fn and arg (if any). */
void mux_unwatch(struct mux *m, const char *path, mux_event_fn *fn, void *arg);

/* Counters for tests and -v logging. */
struct mux_stats {
	unsigned int clients, watches, txs, pending;
};
void mux_stats(const struct mux *m, struct mux_stats *st);

#endif
