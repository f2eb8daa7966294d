/*
 * xsbatch.h — several XenStore requests sent at once on a plain connection
 * and answered in order: one round trip for all of them.
 *
 * libxenstore has one request in flight per handle, so the twenty-odd
 * writes of a device's transaction cost twenty-odd round trips; xenstored
 * answers a connection's requests in order, so they can all go out
 * together.
 *
 * struct xsc adds watch events to such a connection, for a command that
 * sets a few watches and waits (xm block-attach): the events that arrive
 * between replies are kept by token, and no reader thread is needed, as
 * libxenstore needs one for a handle with watches.
 */
#ifndef XM_XSBATCH_H
#define XM_XSBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outq.h"

struct wire_in;
struct xsd_sockmsg;

struct xsb_reply {
	uint32_t type;   /* the request's type, or XS_ERROR */
	char *body;      /* NUL-terminated (malloc'd) */
	unsigned int len;
};

struct xsb {
	struct outq q;   /* the requests, framed */
	unsigned int n;  /* requests */
	int err;         /* first error while building (errno), 0 if none */
	struct xsb_reply *r; /* after xsb_run: n replies */
};

void xsb_init(struct xsb *b);
/* Queue one request in transaction tx: the payload is the strings given,
 * each with its NUL, except a WRITE's value (last, without one). */
void xsb_add(struct xsb *b, uint32_t type, uint32_t tx, const void *body, size_t len);
void xsb_read(struct xsb *b, uint32_t tx, const char *path);
void xsb_write(struct xsb *b, uint32_t tx, const char *path, const char *value);
void xsb_mkdir(struct xsb *b, uint32_t tx, const char *path);
void xsb_rm(struct xsb *b, uint32_t tx, const char *path);
void xsb_watch(struct xsb *b, const char *path, const char *token);
/* perms as XenStore spells them: "n0", "r3" ... */
void xsb_set_perms(struct xsb *b, uint32_t tx, const char *path, const char *const *perms,
		   int nperms);
/* Send everything on fd (blocking), read one reply per request. 0, or -1
 * (errno) if building or the connection failed. */
int xsb_run(struct xsb *b, int fd);
/* errno of reply i (0: not an error). */
int xsb_errno(const struct xsb *b, unsigned int i);
/* Reply i, the read of a node that writes depend on: is the node gone
 * (absent), or, with want, not exactly want? */
bool xsb_gone(const struct xsb *b, unsigned int i, const char *want);
/* Forget the requests and replies; b can be used again. */
void xsb_reset(struct xsb *b);

/* One request on its own: type, tx, payload; the reply in *r. 0 or -1. */
int xsb_call(int fd, uint32_t type, uint32_t tx, const void *body, size_t len,
	     struct xsb_reply *r);

/* A connection that watches: tokens[i] (i < 32) is what a watch of it was
 * set with; events are kept as bits of fired. */
struct xsc {
	int fd;
	struct wire_in *in;
	const char *const *tokens;
	unsigned int ntokens;
	unsigned int fired;
	struct outq out;        /* xsc_send's requests the socket has not taken yet */
};

/* Take over the connected fd. 0 or -1 (no memory). */
int xsc_init(struct xsc *c, int fd, const char *const *tokens, unsigned int ntokens);
/* The tokens of c's watches from now on (none set yet). */
static inline void xsc_set_tokens(struct xsc *c, const char *const *tokens, unsigned int n)
{
	c->tokens = tokens;
	c->ntokens = n;
}
/* Close the connection (its watches go with it); a zeroed struct xsc, never
 * connected, is left as it is. */
void xsc_close(struct xsc *c);
/* As xsb_run / xsb_call on c; watch events meanwhile are kept. EBUSY while
 * requests of xsc_send are queued (xsc_out_pending). */
int xsc_run(struct xsc *c, struct xsb *b);
int xsc_call(struct xsc *c, uint32_t type, uint32_t tx, const void *body, size_t len,
	     struct xsb_reply *r);
/* Wait up to timeout_ms for watch events (none may be requested): the bits
 * of the tokens that fired since the last call (then cleared), 0 when none
 * did in time, -1 on a broken connection (errno). */
int xsc_wait(struct xsc *c, int timeout_ms);
/* As xsc_wait until deadline (now_ms()), 200 ms at most, so that a caller
 * reads again now and then: -1 with ETIMEDOUT once the deadline has
 * passed. */
int xsc_wait_until(struct xsc *c, long deadline);
/* Forget the events kept so far: the caller reads what they watch next,
 * and those reads stand for them (events that come after the reads are
 * sent are kept as ever). */
static inline void xsc_forget_events(struct xsc *c)
{
	c->fired = 0;
}

/*
 * The same connection as an event stream, for a daemon's loop (xmbackd):
 * requests are sent without waiting (their replies come through xsc_next
 * like the events), and each message is taken with its path when poll says
 * the fd is readable. A connection read this way is not given to xsc_run or
 * xsc_call, which keep only the bits of events.
 */
/* Queue the strings a, b (each with its NUL; b may be NULL) as one request
 * of type, waiting neither for its reply nor for the peer to take it: what
 * the socket does not take at once stays queued (xsc_out_pending), and
 * xsc_flush writes more of it when poll says the fd is writable. (Written
 * blocking, a thousand guests' watches set at once met the store's
 * replies and events filling the other direction: each side waited for
 * the other to read.) 0 or -1 (errno; the connection is broken). */
int xsc_send(struct xsc *c, uint32_t type, const char *a, const char *b);
/* Has c requests queued that the socket has not taken yet? */
bool xsc_out_pending(const struct xsc *c);
/* Write what the socket takes of them now. 0, or -1 (errno). */
int xsc_flush(struct xsc *c);
/* The next message: 1 with *h and *body (valid until the next call; a
 * payload of h->len bytes), 0 when none is complete after one read (call
 * it only when the fd is readable, or with fill false), -1 on a broken
 * connection or a malformed message (errno). */
int xsc_next(struct xsc *c, bool fill, struct xsd_sockmsg *h, const char **body);

/*
 * Single requests on c, in transaction tx (0: none), for code that must
 * see a value before it can go on (a transaction's fill, a wait loop).
 */
/* The node's value (malloc'd), or NULL: absent (errno ENOENT), refused or
 * a broken connection (errno). */
char *xsc_read(struct xsc *c, uint32_t tx, const char *path);
/* The node's children as one malloc'd block of NUL-terminated names
 * (*n of them, *n may be 0), or NULL (errno). */
char *xsc_directory(struct xsc *c, uint32_t tx, const char *path, unsigned int *n);
/* Set a watch and wait for its reply. 0 (also when it was set already:
 * EEXIST) or -1 (errno). */
int xsc_watch(struct xsc *c, const char *path, const char *token);

/*
 * Transactions: every transaction of xm and xmbackd runs through
 * xsc_transaction(), with one retry policy. fill queues the transaction's
 * requests on b in transaction tx (it may read in tx on c first, to decide
 * what to queue); check then looks at their replies and decides to commit.
 * Without a check the transaction's end goes out with the requests (one
 * round trip) and it commits whatever the replies were.
 *
 * fill and check return 0 to go on, a positive value to veto: the
 * transaction is ended without effect and xsc_transaction returns that
 * value; -1 (errno) aborts it as a failure.
 */
typedef int xsc_fill_fn(struct xsc *c, struct xsb *b, uint32_t tx, void *arg);
typedef int xsc_check_fn(const struct xsb *b, void *arg);

/* Tries while the store answers EAGAIN (another transaction committed
 * first): enough for a burst of xm creates racing for domain ids. */
#define XSC_TXN_TRIES 100

/* 0 committed, > 0 a veto (nothing written), -1 failed (errno: EAGAIN
 * when every try conflicted). */
int xsc_transaction(struct xsc *c, xsc_fill_fn *fill, xsc_check_fn *check, void *arg);
/* A check: commit only if every reply succeeded; else -1 with the first
 * failure's errno. */
int xsb_all_ok(const struct xsb *b, void *arg);

/*
 * A transaction in two round trips, when what decides its writes can be
 * read outside it: pre queues those reads on p (the caller's, emptied
 * before each try), and they go with the transaction's start; fill finds
 * their replies in p->r (the start's own reply last) and queues the
 * requests, which go with the end. After the commit, after (if given)
 * looks at their replies: a positive value is returned as it is, the
 * transaction committed (the caller undoes what it must). For reads
 * that nobody else changes meanwhile (xm block-attach's: the device's
 * lock keeps other xm off it); a read whose change must make the commit
 * fail belongs inside the transaction.
 */
typedef void xsc_pre_fn(struct xsb *p, void *arg);
int xsc_transaction_pre(struct xsc *c, struct xsb *p, xsc_pre_fn *pre, xsc_fill_fn *fill,
			xsc_check_fn *after, void *arg);

/* Is c connected (xsc_init done, xsc_close not)? A zeroed struct xsc is
 * not. */
static inline bool xsc_connected(const struct xsc *c)
{
	return c->in != NULL;
}

#endif
