/*
 * xsbatch.c — see xsbatch.h.
 */
#include "xsbatch.h"
#include "wire.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void xsb_init(struct xsb *b)
{
	memset(b, 0, sizeof(*b));
}

static void free_replies(struct xsb *b)
{
	if (!b->r)
		return;
	for (unsigned int i = 0; i < b->n; i++)
		free(b->r[i].body);
	free(b->r);
	b->r = NULL;
}

void xsb_reset(struct xsb *b)
{
	free_replies(b);
	outq_free(&b->q);
	xsb_init(b);
}

void xsb_add(struct xsb *b, uint32_t type, uint32_t tx, const void *body, size_t len)
{
	if (b->err)
		return;
	if (len > XENSTORE_PAYLOAD_MAX) {
		b->err = E2BIG;
		return;
	}
	struct xsd_sockmsg h = { type, b->n, tx, (uint32_t)len };
	if (outq_put(&b->q, &h, body) < 0) {
		b->err = ENOMEM;
		return;
	}
	b->n++;
}

void xsb_read(struct xsb *b, uint32_t tx, const char *path)
{
	xsb_add(b, XS_READ, tx, path, strlen(path) + 1);
}

void xsb_rm(struct xsb *b, uint32_t tx, const char *path)
{
	xsb_add(b, XS_RM, tx, path, strlen(path) + 1);
}

void xsb_mkdir(struct xsb *b, uint32_t tx, const char *path)
{
	xsb_add(b, XS_MKDIR, tx, path, strlen(path) + 1);
}

/* A payload of the n strings of v (wire_pack), queued as one request. */
static void add_strings(struct xsb *b, uint32_t type, uint32_t tx, const char *const *v, int n,
		bool last_nul)
{
	char body[XENSTORE_PAYLOAD_MAX];
	size_t len = wire_pack(body, sizeof(body), v, n, last_nul);
	if (len > sizeof(body)) {
		if (!b->err)
			b->err = E2BIG;
		return;
	}
	xsb_add(b, type, tx, body, len);
}

void xsb_watch(struct xsb *b, const char *path, const char *token)
{
	const char *v[] = { path, token };
	add_strings(b, XS_WATCH, 0, v, 2, true);
}

void xsb_write(struct xsb *b, uint32_t tx, const char *path, const char *value)
{
	const char *v[] = { path, value };
	add_strings(b, XS_WRITE, tx, v, 2, false);
}

void xsb_set_perms(struct xsb *b, uint32_t tx, const char *path, const char *const *perms,
		   int nperms)
{
	const char *parts[1 + 16];
	if (nperms > 16) {
		b->err = EINVAL;
		return;
	}
	parts[0] = path;
	for (int i = 0; i < nperms; i++)
		parts[1 + i] = perms[i];
	add_strings(b, XS_SET_PERMS, tx, parts, 1 + nperms, true);
}

/* A watch event in a connection's buffer: the token's bit in c->fired
 * (tokens not ours are ignored). */
static void note_event(struct xsc *c, const char *body, size_t len)
{
	const char *v[2];
	if (wire_split(body, len, v, 2) < 2)
		return;
	for (unsigned int i = 0; i < c->ntokens && i < 32; i++)
		if (strcmp(v[1], c->tokens[i]) == 0)
			c->fired |= 1u << i;
}

/* Send b on fd and read its n replies through in. Watch events between
 * them go to c (none expected without one: a broken peer). The requests go
 * out as the socket takes them, with the replies read in between: a batch
 * larger than the socket holds is not written blocking while the store,
 * which stops reading a connection whose replies back up (xmstored at 64
 * KiB), waits for this end to read (both would wait for ever). */
static int run(struct xsb *b, int fd, struct wire_in *in, struct xsc *c)
{
	if (b->err) {
		errno = b->err;
		return -1;
	}
	free_replies(b);
	b->r = calloc(b->n ? b->n : 1, sizeof(*b->r));
	if (!b->r)
		return -1;
	if (outq_flush(&b->q, fd) < 0)
		return -1;
	for (unsigned int got = 0; got < b->n;) {
		struct xsd_sockmsg h;
		const char *body;
		enum wire_status st = wire_in_next(in, &h, &body);
		if (st == WIRE_AGAIN) {
			/* nothing whole in: wait for more (a blocking read once
			 * all is written), writing meanwhile */
			if (outq_size(&b->q)) {
				struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
				if (poll(&p, 1, -1) < 0) {
					if (errno == EINTR)
						continue;
					return -1;
				}
				if ((p.revents & POLLOUT) && outq_flush(&b->q, fd) < 0)
					return -1;
				if (!(p.revents & ~POLLOUT))
					continue;
			}
			st = wire_in_fill(in, fd);
			if (st == WIRE_EOF || st == WIRE_ERR) {
				if (st == WIRE_EOF)
					errno = ECONNRESET;
				return -1;
			}
			continue;
		}
		if (st == WIRE_OK && h.type == XS_WATCH_EVENT && c) {
			note_event(c, body, h.len);
			continue;
		}
		/* replies come in order; anything else is a broken peer */
		if (st != WIRE_OK || h.req_id != got) {
			errno = EPROTO;
			return -1;
		}
		char *copy = malloc(h.len + 1);
		if (!copy)
			return -1;
		memcpy(copy, body, h.len);
		copy[h.len] = '\0';
		b->r[got++] = (struct xsb_reply){ h.type, copy, h.len };
	}
	return 0;
}

int xsb_run(struct xsb *b, int fd)
{
	struct wire_in *in = malloc(sizeof(*in));
	if (!in)
		return -1;
	in->start = in->end = 0;
	int rc = run(b, fd, in, NULL);
	free(in);
	return rc;
}

int xsb_errno(const struct xsb *b, unsigned int i)
{
	if (!b->r || i >= b->n || b->r[i].type != XS_ERROR)
		return 0;
	return wire_error_num(b->r[i].body);
}

bool xsb_gone(const struct xsb *b, unsigned int i, const char *want)
{
	return xsb_errno(b, i) == ENOENT ||
	       (want && (b->r[i].type == XS_ERROR || strcmp(b->r[i].body, want) != 0));
}

int xsb_call(int fd, uint32_t type, uint32_t tx, const void *body, size_t len,
	     struct xsb_reply *r)
{
	struct xsd_sockmsg h = { type, 0, tx, (uint32_t)len };
	char buf[WIRE_MSG_MAX], *rb;
	r->body = NULL;
	if (len > XENSTORE_PAYLOAD_MAX) {
		errno = E2BIG;
		return -1;
	}
	memcpy(buf, &h, WIRE_HDR_LEN);
	memcpy(buf + WIRE_HDR_LEN, body, len);
	if (write_full(fd, buf, WIRE_HDR_LEN + len) < 0 || wire_recv(fd, &h, &rb) < 0)
		return -1;
	*r = (struct xsb_reply){ h.type, rb, h.len };
	return 0;
}

/* --- a connection with watches ------------------------------------------ */

int xsc_init(struct xsc *c, int fd, const char *const *tokens, unsigned int ntokens)
{
	c->fd = fd;
	c->tokens = tokens;
	c->ntokens = ntokens;
	c->fired = 0;
	c->out = (struct outq){ 0 };
	c->in = malloc(sizeof(*c->in));
	if (!c->in)
		return -1;
	c->in->start = c->in->end = 0;
	return 0;
}

void xsc_close(struct xsc *c)
{
	if (xsc_connected(c) && c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	outq_free(&c->out);
}

int xsc_run(struct xsc *c, struct xsb *b)
{
	if (xsc_out_pending(c)) { /* its replies would come first */
		errno = EBUSY;
		return -1;
	}
	return run(b, c->fd, c->in, c);
}

int xsc_call(struct xsc *c, uint32_t type, uint32_t tx, const void *body, size_t len,
	     struct xsb_reply *r)
{
	struct xsb b;
	xsb_init(&b);
	xsb_add(&b, type, tx, body, len);
	r->body = NULL;
	int rc = xsc_run(c, &b);
	if (rc == 0) {
		*r = b.r[0];
		b.r[0].body = NULL;
	}
	xsb_reset(&b);
	return rc;
}

int xsc_wait(struct xsc *c, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct xsd_sockmsg h;
		const char *body;
		enum wire_status st;
		while ((st = wire_in_next(c->in, &h, &body)) == WIRE_OK) {
			if (h.type != XS_WATCH_EVENT) { /* no request is in flight */
				errno = EPROTO;
				return -1;
			}
			note_event(c, body, h.len);
		}
		if (st != WIRE_AGAIN) {
			errno = EPROTO;
			return -1;
		}
		if (c->fired) {
			int m = (int)c->fired;
			c->fired = 0;
			return m;
		}
		long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		st = wire_in_fill(c->in, c->fd);
		if (st == WIRE_EOF || st == WIRE_ERR) {
			if (st == WIRE_EOF)
				errno = ECONNRESET;
			return -1;
		}
	}
}

int xsc_wait_until(struct xsc *c, long deadline)
{
	long left = deadline - now_ms();
	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return xsc_wait(c, left > 200 ? 200 : (int)left);
}

int xsc_send(struct xsc *c, uint32_t type, const char *a, const char *b)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	const char *v[] = { a, b };
	size_t len = wire_pack(buf, XENSTORE_PAYLOAD_MAX, v, b ? 2 : 1, true);
	if (len > XENSTORE_PAYLOAD_MAX) {
		errno = E2BIG;
		return -1;
	}
	struct xsd_sockmsg h = { type, 0, 0, (uint32_t)len };
	if (outq_put(&c->out, &h, buf) < 0)
		return -1;
	return xsc_flush(c);
}

bool xsc_out_pending(const struct xsc *c)
{
	return outq_size(&c->out) > 0;
}

int xsc_flush(struct xsc *c)
{
	return outq_flush(&c->out, c->fd) < 0 ? -1 : 0;
}

int xsc_next(struct xsc *c, bool fill, struct xsd_sockmsg *h, const char **body)
{
	enum wire_status st = wire_in_next(c->in, h, body);
	if (st == WIRE_AGAIN && fill) {
		st = wire_in_fill(c->in, c->fd);
		if (st == WIRE_OK)
			st = wire_in_next(c->in, h, body);
	}
	if (st == WIRE_OK)
		return 1;
	if (st == WIRE_AGAIN)
		return 0;
	if (st == WIRE_EOF)
		errno = ECONNRESET;
	else if (st == WIRE_PROTO)
		errno = EPROTO;
	return -1;
}

/* --- single requests and transactions ------------------------------------ */

/* One request of strings; the reply's body (malloc'd) or NULL (errno). */
static char *call(struct xsc *c, uint32_t type, uint32_t tx, const char *path,
		  unsigned int *len)
{
	struct xsb_reply r;
	if (xsc_call(c, type, tx, path, strlen(path) + 1, &r) < 0)
		return NULL;
	if (r.type == XS_ERROR) {
		errno = wire_error_num(r.body);
		free(r.body);
		return NULL;
	}
	if (len)
		*len = r.len;
	return r.body;
}

char *xsc_read(struct xsc *c, uint32_t tx, const char *path)
{
	return call(c, XS_READ, tx, path, NULL);
}

char *xsc_directory(struct xsc *c, uint32_t tx, const char *path, unsigned int *n)
{
	unsigned int len = 0;
	char *body = call(c, XS_DIRECTORY, tx, path, &len);
	*n = 0;
	for (unsigned int i = 0; body && i < len; i++)
		if (body[i] == '\0')
			(*n)++;
	return body;
}

int xsc_watch(struct xsc *c, const char *path, const char *token)
{
	struct xsb b;
	xsb_init(&b);
	xsb_watch(&b, path, token);
	int rc = xsc_run(c, &b), err = rc == 0 ? xsb_errno(&b, 0) : 0;
	xsb_reset(&b);
	if (err && err != EEXIST) {
		errno = err;
		return -1;
	}
	return rc;
}

/* A transaction's callbacks: pre and p for xsc_transaction_pre, check
 * for xsc_transaction, after for either (with no check). */
struct txn {
	xsc_pre_fn *pre;
	struct xsb *p;
	xsc_fill_fn *fill;
	xsc_check_fn *check, *after;
	void *arg;
};

static uint32_t tx_id(const char *id)
{
	uint32_t tx = id ? (uint32_t)strtoul(id, NULL, 10) : 0;
	if (id && !tx)
		errno = EIO;
	return tx;
}

/* Start a transaction, with pre's requests if any: its id, or 0 (errno). */
static uint32_t tx_start(struct xsc *c, const struct txn *t)
{
	if (!t->pre) {
		char *id = call(c, XS_TRANSACTION_START, 0, "", NULL);
		uint32_t tx = tx_id(id);
		free(id);
		return tx;
	}
	xsb_reset(t->p);
	t->pre(t->p, t->arg);
	xsb_add(t->p, XS_TRANSACTION_START, 0, "", 1);
	if (xsc_run(c, t->p) < 0)
		return 0;
	const struct xsb_reply *r = &t->p->r[t->p->n - 1];
	if (r->type == XS_ERROR) {
		errno = wire_error_num(r->body);
		return 0;
	}
	return tx_id(r->body);
}

/* End transaction tx: 0, or the store's errno (EAGAIN: conflict), or -1
 * with errno on a broken connection. */
static int tx_end(struct xsc *c, uint32_t tx, bool commit)
{
	struct xsb_reply r;
	if (xsc_call(c, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, &r) < 0)
		return -1;
	int err = r.type == XS_ERROR ? wire_error_num(r.body) : 0;
	free(r.body);
	return err;
}

/* One try: 0 committed, > 0 a veto (or after's value), -1 failed or
 * conflicted (errno). */
static int tx_try(struct xsc *c, struct xsb *b, const struct txn *t)
{
	uint32_t tx = tx_start(c, t);
	if (!tx)
		return -1;
	xsb_reset(b);
	int v = t->fill(c, b, tx, t->arg);
	if (v == 0 && !t->check) { /* requests and end in one go */
		xsb_add(b, XS_TRANSACTION_END, tx, "T", 2);
		if (xsc_run(c, b) < 0)
			return -1;
		int end = xsb_errno(b, b->n - 1);
		if (end) {
			errno = end;
			return -1;
		}
		int after = t->after ? t->after(b, t->arg) : 0;
		return after > 0 ? after : 0; /* committed: never tried again */
	}
	if (v == 0 && xsc_run(c, b) < 0)
		return -1;
	if (v == 0)
		v = t->check(b, t->arg);
	int e = errno, end = tx_end(c, tx, v == 0);
	if (v != 0) {
		errno = e;
		return v;
	}
	if (end)
		errno = end > 0 ? end : errno;
	return end ? -1 : 0;
}

static int tx_run(struct xsc *c, const struct txn *t)
{
	struct xsb b;
	xsb_init(&b);
	int rc = -1;
	for (int i = 0; i < XSC_TXN_TRIES; i++) {
		rc = tx_try(c, &b, t);
		if (rc >= 0 || errno != EAGAIN)
			break;
	}
	xsb_reset(&b);
	return rc;
}

int xsc_transaction(struct xsc *c, xsc_fill_fn *fill, xsc_check_fn *check, void *arg)
{
	struct txn t = { .fill = fill, .check = check, .arg = arg };
	return tx_run(c, &t);
}

int xsc_transaction_pre(struct xsc *c, struct xsb *p, xsc_pre_fn *pre, xsc_fill_fn *fill,
			xsc_check_fn *after, void *arg)
{
	struct txn t = { .pre = pre, .p = p, .fill = fill, .after = after, .arg = arg };
	return tx_run(c, &t);
}

int xsb_all_ok(const struct xsb *b, void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < b->n; i++) {
		int e = xsb_errno(b, i);
		if (e) {
			errno = e;
			return -1;
		}
	}
	return 0;
}
