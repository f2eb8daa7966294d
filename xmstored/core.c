/*
 * core.c — request dispatch: one table of handlers (as Xen's wire_funcs),
 * every check that applies to all requests done once in core_request(), and
 * handlers that return a positive errno which becomes Xen's error string.
 */
#include "core.h"
#include "domain.h"
#include "path.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct req {
	struct daemon *d;
	struct conn *c;
	const struct xsd_sockmsg *h;
	const char *body;
	size_t len;
	struct txn *t;          /* the request's transaction, or NULL */
	bool replied;
};

#define F_NOTID   1u  /* transaction id ignored */
#define F_PRIV    2u  /* privileged connections only */
#define F_WRITE   4u  /* refused on the read-only socket */

static void core_fire(struct daemon *d);

struct handler {
	int (*fn)(struct req *r);
	unsigned int flags;
};

static void reply(struct req *r, const void *data, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX) {
		const char *e = wire_error_string(E2BIG);
		conn_queue(r->d, r->c, XS_ERROR, r->h->req_id, r->h->tx_id, e, strlen(e) + 1);
	} else {
		conn_queue(r->d, r->c, r->h->type, r->h->req_id, r->h->tx_id, data, len);
	}
	r->replied = true;
}

static void reply_str(struct req *r, const char *s)
{
	reply(r, s, strlen(s) + 1);
}

static int ack(struct req *r)
{
	core_fire(r->d);
	reply_str(r, "OK");
	return 0;
}

/* The payload as exactly one NUL-terminated string, or NULL. */
static const char *onearg(const struct req *r)
{
	if (r->len == 0 || memchr(r->body, '\0', r->len) != r->body + r->len - 1)
		return NULL;
	return r->body;
}

/* Number of NUL-terminated strings in the payload (Xen's
 * xenstore_count_strings). */
static unsigned int count_strings(const struct req *r)
{
	return (unsigned int)wire_split(r->body, r->len, NULL, 0);
}

static int canon(const struct req *r, const char *name, bool special, char out[PATH_BUF])
{
	return path_canon(name, r->c->implicit, special, r->d->store.q.path_rel, out);
}

/*
 * The one path argument of READ, DIRECTORY, GET_PERMS, MKDIR, RM. A payload
 * that is not exactly one string gets what cxenstored answers, which
 * differs by request (measured side by side): READ ENOENT, RM ENOMEM,
 * the others EINVAL.
 */
static int canon_onearg(const struct req *r, bool special, int if_missing, char out[PATH_BUF])
{
	const char *name = onearg(r);
	return name ? canon(r, name, special, out) : if_missing;
}

static int do_read(struct req *r)
{
	char name[PATH_BUF];
	const struct node *n;
	int err = canon_onearg(r, false, ENOENT, name);
	if (!err)
		err = store_read(&r->d->store, r->t, &r->c->who, name, &n);
	if (!err)
		reply(r, node_data(n), n->datalen);
	return err;
}

static int do_directory(struct req *r)
{
	char name[PATH_BUF];
	const struct node *n;
	int err = canon_onearg(r, false, EINVAL, name);
	if (!err)
		err = store_read(&r->d->store, r->t, &r->c->who, name, &n);
	if (!err)
		reply(r, node_children(n), n->childlen);
	return err;
}

/* DIRECTORY_PART: "<generation>\0" then as many children as fit from the
 * offset; a final empty string marks the end of the list (Xen's format). */
static int do_directory_part(struct req *r)
{
	char name[PATH_BUF], buf[XENSTORE_PAYLOAD_MAX + 1];
	const struct node *n;

	if (count_strings(r) != 2)
		return EINVAL;
	int err = canon(r, r->body, false, name);
	if (!err)
		err = store_read(&r->d->store, r->t, &r->c->who, name, &n);
	if (err)
		return err;
	unsigned int off = (unsigned int)atoi(r->body + strlen(r->body) + 1);
	size_t genlen = (size_t)snprintf(buf, sizeof(buf), "%llu",
					 (unsigned long long)n->gen) + 1;
	if (off >= n->childlen) {
		buf[genlen] = '\0';
		reply(r, buf, genlen + 1);
		return 0;
	}
	size_t len = 0, maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	const char *child = node_children(n) + off;
	while (len + strlen(child) < maxlen) {
		len += strlen(child) + 1;
		child += strlen(child) + 1;
		if (off + len == n->childlen)
			break;
	}
	memcpy(buf + genlen, node_children(n) + off, len);
	if (off + len == n->childlen)
		buf[genlen + len++] = '\0';
	reply(r, buf, genlen + len);
	return 0;
}

static int do_write(struct req *r)
{
	char name[PATH_BUF];
	const char *nul = memchr(r->body, '\0', r->len);
	if (!nul)
		return EINVAL;
	size_t off = (size_t)(nul - r->body) + 1;
	int err = canon(r, r->body, false, name);
	if (!err)
		err = store_write(&r->d->store, r->t, &r->c->who, name,
				  r->body + off, r->len - off, &r->d->ev);
	return err ? err : ack(r);
}

static int do_mkdir(struct req *r)
{
	char name[PATH_BUF];
	int err = canon_onearg(r, false, EINVAL, name);
	if (!err)
		err = store_mkdir(&r->d->store, r->t, &r->c->who, name, &r->d->ev);
	return err ? err : ack(r);
}

static int do_rm(struct req *r)
{
	char name[PATH_BUF];
	int err = canon_onearg(r, false, ENOMEM, name);
	if (!err)
		err = store_rm(&r->d->store, r->t, &r->c->who, name, &r->d->ev);
	return err ? err : ack(r);
}

static int do_get_perms(struct req *r)
{
	char name[PATH_BUF], buf[XENSTORE_PAYLOAD_MAX];
	const struct node *n;
	int err = canon_onearg(r, false, EINVAL, name);
	if (!err)
		err = store_get_perms(&r->d->store, r->t, &r->c->who, name, &n);
	if (err)
		return err;
	size_t len = perms_format(node_perms(n), n->nperms, buf, sizeof(buf));
	if (!len)
		return E2BIG;
	reply(r, buf, len);
	return 0;
}

static int do_set_perms(struct req *r)
{
	char name[PATH_BUF];
	unsigned int n = count_strings(r);

	if (n < 2)
		return EINVAL;
	n--;
	if (!r->c->who.priv && n > r->d->store.q.perms)
		return ENOSPC;
	struct perm *p = calloc(n, sizeof(*p));
	if (!p)
		return ENOMEM;
	int err = perms_parse(r->body + strlen(r->body) + 1, n, p);
	/* The owner must exist: checked before the path, as cxenstored does. */
	if (!err && p[0].id != 0 && !domain_find(r->d, p[0].id))
		err = ENOENT;
	if (!err)
		err = canon(r, r->body, true, name);
	if (!err)
		err = store_set_perms(&r->d->store, r->t, &r->c->who, name, p, n, &r->d->ev);
	free(p);
	return err ? err : ack(r);
}

/*
 * The watch index: every connection's watches by path, so that a change is
 * matched against the watches on its path and its ancestors only, not
 * against every watch of every connection (cxenstored's walk; 8,000
 * watches at 1,000 domains with 8 disks each: bench/domscale.sh).
 */
struct wref {
	struct wref *next;
	struct conn *c;
	struct watch *w;
};

struct wpath {
	struct htab_entry he;
	struct wref *refs;
	char path[];
};

static struct wpath *wpath_find(struct daemon *d, const char *path)
{
	struct htab_entry *e = htab_find(&d->watch_index, path);
	return e ? htab_container(e, struct wpath, he) : NULL;
}

static int windex_add(struct daemon *d, struct conn *c, struct watch *w)
{
	struct wpath *p = wpath_find(d, w->path);
	struct wref *r = malloc(sizeof(*r));
	if (!r)
		return ENOMEM;
	if (!p) {
		size_t len = strlen(w->path) + 1;
		if (!(p = calloc(1, sizeof(*p) + len))) {
			free(r);
			return ENOMEM;
		}
		memcpy(p->path, w->path, len);
		p->he.key = p->path;
		if (htab_insert(&d->watch_index, &p->he) < 0) {
			free(p);
			free(r);
			return ENOMEM;
		}
	}
	*r = (struct wref){ p->refs, c, w };
	p->refs = r;
	return 0;
}

/* c's watch of path with token, through the index: the watches on that one
 * path, not every watch of c (xmbackd holds one per device: thousands). */
static struct watch *windex_find(struct daemon *d, struct conn *c, const char *path,
				 const char *token)
{
	struct wpath *p = wpath_find(d, path);
	for (struct wref *r = p ? p->refs : NULL; r; r = r->next)
		if (r->c == c && strcmp(r->w->token, token) == 0)
			return r->w;
	return NULL;
}

static void windex_del(struct daemon *d, struct conn *c, struct watch *w)
{
	struct wpath *p = wpath_find(d, w->path);
	if (!p)
		return;
	for (struct wref **r = &p->refs; *r; r = &(*r)->next) {
		if ((*r)->c == c && (*r)->w == w) {
			struct wref *x = *r;
			*r = x->next;
			free(x);
			break;
		}
	}
	if (!p->refs) {
		htab_remove(&d->watch_index, &p->he);
		free(p);
	}
}

/* What a watch costs against its domain's memory quota. */
static long watch_mem(const struct watch *w)
{
	return (long)(sizeof(*w) + strlen(w->path) + strlen(w->token) + 2);
}

static int do_watch(struct req *r)
{
	const char *v[2];
	char name[PATH_BUF];
	struct conn *c = r->c;

	if (wire_split(r->body, r->len, v, 2) != 2)
		return EINVAL;
	bool relative = v[0][0] != '/' && v[0][0] != '@';
	int err = 0;
	if (v[0][0] == '@') { /* any special name may be watched, as in cxenstored */
		if (strlen(v[0]) > PATH_REL_MAX)
			return EINVAL;
		strcpy(name, v[0]);
	} else if ((err = canon(r, v[0], false, name))) {
		return err;
	}
	if (windex_find(r->d, c, name, v[1]))
		return EEXIST;
	unsigned int nw = c->dom ? c->dom->nwatches : c->watches.count;
	if (!c->who.priv && nw > r->d->max_watches)
		return E2BIG;
	struct watch *w;
	err = watch_append(&c->watches, name, v[1], relative ? strlen(c->implicit) + 1 : 0, &w);
	if (err)
		return err;
	if (windex_add(r->d, c, w)) {
		watch_unlink(&c->watches, w);
		return ENOMEM;
	}
	if (c->dom) {
		c->dom->nwatches++;
		c->dom->watch_bytes += watch_mem(w);
	}
	reply_str(r, "OK");
	/* Fire once up front (Xen does: it simplifies clients). */
	const char *ev[2] = { w->path + w->prefix_len, w->token };
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = wire_pack(buf, sizeof(buf), ev, 2, true);
	if (len <= sizeof(buf))
		conn_queue(r->d, c, XS_WATCH_EVENT, 0, 0, buf, len);
	return 0;
}

static int do_unwatch(struct req *r)
{
	struct watch *w;
	const char *v[2];
	char name[PATH_BUF];

	if (wire_split(r->body, r->len, v, 2) != 2)
		return EINVAL;
	int n = v[0][0] == '/' || v[0][0] == '@'
		? snprintf(name, sizeof(name), "%s", v[0])
		: snprintf(name, sizeof(name), "%s/%s", r->c->implicit, v[0]);
	if (n < 0 || (size_t)n >= sizeof(name))
		return ENOENT;
	if (!(w = windex_find(r->d, r->c, name, v[1])))
		return ENOENT;
	long bytes = watch_mem(w);
	windex_del(r->d, r->c, w);
	watch_unlink(&r->c->watches, w);
	if (r->c->dom) {
		r->c->dom->nwatches--;
		r->c->dom->watch_bytes -= bytes;
	}
	return ack(r);
}

static int do_reset_watches(struct req *r)
{
	core_conn_reset(r->d, r->c);
	return ack(r);
}

static int do_transaction_start(struct req *r)
{
	struct conn *c = r->c;

	if (r->t)
		return EBUSY;
	if (!c->who.priv && (c->dom ? c->dom->ntxs : c->ntxs) > r->d->max_txs)
		return ENOSPC;
	struct conn_tx *v = realloc(c->txs, (c->ntxs + 1) * sizeof(*v));
	if (!v)
		return ENOMEM;
	c->txs = v;
	struct txn *t = store_txn_begin(&r->d->store);
	if (!t)
		return ENOMEM;
	uint32_t id;
	bool clash;
	do {
		id = c->next_txid++;
		clash = id == 0;
		for (unsigned int i = 0; i < c->ntxs && !clash; i++)
			clash = c->txs[i].id == id;
	} while (clash);
	c->txs[c->ntxs++] = (struct conn_tx){ id, t };
	if (c->dom) {
		c->dom->ntxs++;
		store_txn_charge(t, &c->dom->tx_bytes);
	}
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", id);
	reply_str(r, buf);
	return 0;
}

static int do_transaction_end(struct req *r)
{
	const char *arg = onearg(r);
	struct conn *c = r->c;
	bool commit;

	if (!arg)
		return EINVAL;
	if (strcmp(arg, "T") == 0)
		commit = true;
	else if (strcmp(arg, "F") == 0)
		commit = false;
	else
		return EINVAL;
	if (!r->t)
		return ENOENT;
	for (unsigned int i = 0; i < c->ntxs; i++) {
		if (c->txs[i].t == r->t) {
			c->txs[i] = c->txs[--c->ntxs];
			if (c->dom)
				c->dom->ntxs--;
			break;
		}
	}
	int err = store_txn_end(&r->d->store, r->t, commit, &c->who, &r->d->ev);
	r->t = NULL;
	return err ? err : ack(r);
}

static int parse_domid(const char *s, uint32_t *out)
{
	*out = 0;
	if (!s)
		return EINVAL;
	*out = (uint32_t)atoi(s);
	return 0;
}

static int do_introduce(struct req *r)
{
	const char *v[3];
	uint32_t domid;

	if (wire_split(r->body, r->len, v, 3) < 3)
		return EINVAL;
	parse_domid(v[0], &domid);
	if (atoi(v[2]) <= 0)
		return EINVAL;
	if (domid == 0)
		return ack(r);
	int err = domain_introduce(r->d, domid);
	return err ? err : ack(r);
}

static int do_release(struct req *r)
{
	uint32_t domid;
	int err = parse_domid(onearg(r), &domid);
	if (!err && domid == 0)
		err = EINVAL;
	if (!err)
		err = domain_release(r->d, domid);
	return err ? err : ack(r);
}

static int do_is_domain_introduced(struct req *r)
{
	uint32_t domid;
	int err = parse_domid(onearg(r), &domid);
	if (err)
		return err;
	/* DOMID_SELF (0x7ff0) is introduced as far as Xen's answer goes */
	reply_str(r, domid == 0 || domid == 0x7ff0 || domain_find(r->d, domid) ? "T" : "F");
	return 0;
}

static int do_get_domain_path(struct req *r)
{
	uint32_t domid;
	char buf[32];
	int err = parse_domid(onearg(r), &domid);
	if (err)
		return err;
	snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
	reply_str(r, buf);
	return 0;
}

static int do_resume(struct req *r)
{
	uint32_t domid;
	int err = parse_domid(onearg(r), &domid);
	if (err || domid == 0)
		return EINVAL;
	struct domain *dom = domain_find(r->d, domid);
	if (!dom)
		return ENOENT;
	dom->shutdown = false;
	return ack(r);
}

static int do_set_target(struct req *r)
{
	const char *v[2];
	if (wire_split(r->body, r->len, v, 2) < 2)
		return EINVAL;
	uint32_t domid = (uint32_t)atoi(v[0]), target = (uint32_t)atoi(v[1]);
	/* Domain 0 is always there (cxenstored: OK, and nothing changes for a
	 * privileged connection); atoi's answer for junk is 0, as there. */
	if (domid == 0)
		return target == 0 || domain_find(r->d, target) ? ack(r) : ENOENT;
	int err = domain_set_target(r->d, domid, target);
	return err ? err : ack(r);
}

static int do_control(struct req *r)
{
	char *out = NULL;
	size_t olen = 0;
	int err = control_run(r->d, r->body, r->len, &out, &olen);
	if (!err)
		reply(r, out, olen);
	free(out);
	return err;
}

static const struct handler handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { do_control, F_PRIV },
	[XS_DIRECTORY] = { do_directory, 0 },
	[XS_READ] = { do_read, 0 },
	[XS_GET_PERMS] = { do_get_perms, 0 },
	[XS_WATCH] = { do_watch, F_NOTID },
	[XS_UNWATCH] = { do_unwatch, F_NOTID },
	[XS_TRANSACTION_START] = { do_transaction_start, F_WRITE },
	[XS_TRANSACTION_END] = { do_transaction_end, F_WRITE },
	[XS_INTRODUCE] = { do_introduce, F_PRIV | F_WRITE },
	[XS_RELEASE] = { do_release, F_PRIV | F_WRITE },
	[XS_GET_DOMAIN_PATH] = { do_get_domain_path, 0 },
	[XS_WRITE] = { do_write, F_WRITE },
	[XS_MKDIR] = { do_mkdir, F_WRITE },
	[XS_RM] = { do_rm, F_WRITE },
	[XS_SET_PERMS] = { do_set_perms, F_WRITE },
	[XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV },
	[XS_RESUME] = { do_resume, F_PRIV | F_WRITE },
	[XS_SET_TARGET] = { do_set_target, F_PRIV | F_WRITE },
	[XS_RESET_WATCHES] = { do_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { do_directory_part, 0 },
};

static struct txn *tx_lookup(struct conn *c, uint32_t id)
{
	for (unsigned int i = 0; i < c->ntxs; i++)
		if (c->txs[i].id == id)
			return c->txs[i].t;
	return NULL;
}

long core_dom_mem(const struct daemon *d, const struct domain *dom)
{
	return store_owned_bytes(&d->store, dom->domid) + dom->tx_bytes +
	       dom->watch_bytes + dom->out_bytes;
}

/*
 * The memory quota (Xen's quota-memory): past the hard limit a domain may
 * only give back (RM, UNWATCH, RESET_WATCHES, TRANSACTION_END, reads
 * outside a transaction): ENOMEM for anything that could make it hold
 * more, and its watch events drop. One request may take it past the limit
 * by at most its own size. Past the soft limit: one warning.
 */
static bool mem_refused(struct daemon *d, struct domain *dom, const struct xsd_sockmsg *h)
{
	long mem = core_dom_mem(d, dom);
	if (mem > d->mem_soft && !dom->over_soft) {
		log_warn("domain %u holds %ld bytes, past the soft memory quota (%ld)",
			 dom->domid, mem, d->mem_soft);
		dom->over_soft = true;
	} else if (mem <= d->mem_soft) {
		dom->over_soft = false;
	}
	if (mem <= d->mem_hard)
		return false;
	switch (h->type) {
	case XS_RM: case XS_UNWATCH: case XS_RESET_WATCHES: case XS_TRANSACTION_END:
		return false;
	case XS_READ: case XS_DIRECTORY: case XS_DIRECTORY_PART: case XS_GET_PERMS:
		return h->tx_id != 0;
	default:
		return true;
	}
}

void core_request(struct daemon *d, struct conn *c, const struct xsd_sockmsg *h,
		  const char *body)
{
	struct req r = { d, c, h, body, h->len, NULL, false };
	const struct handler *hd = h->type < XS_TYPE_COUNT ? &handlers[h->type] : NULL;
	int err;

	d->requests++;
	if (!hd || !hd->fn) {
		err = ENOSYS;
	} else if ((hd->flags & F_PRIV) && !c->who.priv) {
		err = EACCES;
	} else if ((hd->flags & F_WRITE) && c->readonly) {
		err = EROFS;
	} else if (!(hd->flags & F_NOTID) && h->tx_id &&
		   !(r.t = tx_lookup(c, h->tx_id))) {
		err = ENOENT;
	} else if (c->dom && !c->who.priv && mem_refused(d, c->dom, h)) {
		err = ENOMEM;
	} else {
		err = hd->fn(&r);
	}
	if (err) {
		/* A failed request's events (none, normally) are not fired. */
		events_clear(&d->ev);
		const char *s = wire_error_string(err);
		conn_queue(d, c, XS_ERROR, h->req_id, h->tx_id, s, strlen(s) + 1);
	} else if (d->ev.n) {
		core_fire(d);
	}
	if (d->persist.request_end)
		d->persist.request_end(d->persist.ctx);
}

/*
 * Is an identical watch event still queued for c? cxenstored sends one
 * event per (path, token) while an earlier copy is unsent; so do we. The
 * scan is bounded: a client that far behind has events dropped anyway.
 */
static bool event_queued(const struct conn *c, const char *body, size_t len)
{
	const char *q = outq_data(&c->out);
	size_t off = 0, end = outq_size(&c->out);
	if (end > 65536)
		return false;
	while (off + WIRE_HDR_LEN <= end) {
		struct xsd_sockmsg h;
		memcpy(&h, q + off, WIRE_HDR_LEN);
		if (h.type == XS_WATCH_EVENT && h.len == len &&
		    memcmp(q + off + WIRE_HDR_LEN, body, len) == 0)
			return true;
		off += WIRE_HDR_LEN + h.len;
	}
	return false;
}

/* Queue e to c for watch w, if it fires w (and c may see it). */
static void fire_to(struct daemon *d, struct conn *c, struct watch *w, const struct event *e)
{
	char buf[XENSTORE_PAYLOAD_MAX];

	if (c->dead || !event_visible(&c->who, e))
		return;
	const char *p = watch_match(w, e);
	if (!p)
		return;
	const char *ev[2] = { p, w->token };
	size_t len = wire_pack(buf, sizeof(buf), ev, 2, true);
	if (len > sizeof(buf))
		return;
	if (c->dom ? (size_t)c->dom->out_bytes > d->out_max ||
			     core_dom_mem(d, c->dom) > d->mem_hard
		   : outq_size(&c->out) > d->out_max) {
		c->dropped_events++;
		return;
	}
	if (p[0] != '@' && event_queued(c, buf, len))
		return;
	conn_queue(d, c, XS_WATCH_EVENT, 0, 0, buf, len);
	c->got_event = true;
}

static void fire_path(struct daemon *d, const char *path, const struct event *e)
{
	struct wpath *wp = wpath_find(d, path);
	for (struct wref *r = wp ? wp->refs : NULL; r; r = r->next)
		fire_to(d, r->c, r->w, e);
}

/* The watches that may fire: on the event's path, on each of its
 * ancestors, and on "/" (watch_match decides, as before the index). */
static void fire_one(struct daemon *d, const struct event *e)
{
	char pre[PATH_BUF];
	size_t len = strlen(e->path);

	if (len >= sizeof(pre))
		return;
	fire_path(d, e->path, e);
	if (strcmp(e->path, "/") != 0)
		fire_path(d, "/", e);
	memcpy(pre, e->path, len + 1);
	for (size_t i = len; i > 1; i--) {
		if (pre[i - 1] != '/' || i - 1 == 0)
			continue;
		pre[i - 1] = '\0';
		fire_path(d, pre, e);
	}
}

/* Deliver the events in d->ev to every watcher and clear them. */
static void core_fire(struct daemon *d)
{
	for (size_t i = 0; i < d->ev.n; i++)
		fire_one(d, d->ev.v[i]);
	events_clear(&d->ev);
}

void core_conn_reset(struct daemon *d, struct conn *c)
{
	for (struct watch *w = c->watches.head; w; w = w->next) {
		windex_del(d, c, w);
		if (c->dom)
			c->dom->watch_bytes -= watch_mem(w);
	}
	if (c->dom) {
		c->dom->nwatches -= c->watches.count;
		c->dom->ntxs -= c->ntxs;
	}
	watch_clear(&c->watches);
	for (unsigned int i = 0; i < c->ntxs; i++)
		store_txn_end(&d->store, c->txs[i].t, false, NULL, NULL);
	free(c->txs);
	c->txs = NULL;
	c->ntxs = 0;
}

int core_store_init(struct daemon *d)
{
	if (store_init(&d->store) < 0)
		return -1;
	d->store.domain_exists = domain_exists_cb;
	d->store.domain_ctx = d;
	return 0;
}

int core_init(struct daemon *d)
{
	if (htab_init(&d->watch_index, 256) < 0)
		return -1;
	d->max_watches = 128;
	d->max_txs = 10;
	d->out_max = 1024 * 1024;
	d->mem_hard = 2 * 1024 * 1024 + 512 * 1024;
	d->mem_soft = 2 * 1024 * 1024;
	return core_store_init(d);
}

void core_fini(struct daemon *d)
{
	while (d->conns)
		conn_close(d, d->conns);
	domain_release_all(d);
	events_free(&d->ev);
	htab_fini(&d->watch_index);
	store_fini(&d->store);
}
