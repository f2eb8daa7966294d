/*
 * claims.c — the claim registry on XenStore, for one host (claims.h).
 *
 * A claim is the node claim = "MODE IDENT" in the device's record
 * (/tool/xm/domain/D/vbd/DEVID/claim). Taking one is one transaction: list
 * every record's claim, refuse if one conflicts (sharing.c decides), else
 * write the claim with the caller's intent. Every record is read inside
 * the transaction, so a claim written meanwhile by anyone makes the commit
 * fail (EAGAIN) and the check is made again; xmbackd is also the only
 * writer of claims, and takes each claim before QEMU is asked anything.
 */
#include "claims.h"
#include "claimidx.h"
#include "dom.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIMS_DIR XM_TOOL_ROOT "/domain"

void claim_format(const struct claim *c, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", c->mode, c->ident[0] ? " " : "", c->ident);
}

int claim_parse(const char *s, struct claim *c)
{
	size_t m = s ? strcspn(s, " ") : 0;
	if (!m || m >= sizeof(c->mode))
		return -1;
	memcpy(c->mode, s, m);
	c->mode[m] = '\0';
	s += m;
	while (*s == ' ')
		s++;
	snprintf(c->ident, sizeof(c->ident), "%s", s);
	return 0;
}

static void claim_path(char *out, size_t len, unsigned int domid, unsigned long devid)
{
	snprintf(out, len, CLAIMS_DIR "/%u/vbd/%lu/claim", domid, devid);
}

/* Each NUL-terminated name of a directory's reply block, in turn. */
#define FOR_NAMES(p, body, n) \
	for (unsigned int i_##p = 0, o_##p = 0; i_##p < (n); \
	     o_##p += (unsigned int)strlen((body) + o_##p) + 1, i_##p++) \
		for (const char *p = (body) + o_##p; p; p = NULL)

/* The records' claims, read in transaction tx: who (keys) and what
 * (q's replies). 0, or -1 (errno). */
struct held {
	struct xsb q;
	struct claim *who;      /* q.n of them: domid, devid */
	int *own;               /* ... and whose check each one is for (conflicts) */
	unsigned int cap;
};

/* A saved domain's claim counts as held by this id when no domain restores it. */
#define SAVED_HOLDER 0xFFFFFFFFu

static int held_add(struct held *h, uint32_t tx, const char *path, unsigned int domid,
		    unsigned long devid, const char *saved)
{
	if (h->q.n == h->cap) {
		unsigned int cap = h->cap ? h->cap * 2 : 16;
		struct claim *w = realloc(h->who, cap * sizeof(*w));
		if (w)
			h->who = w;
		int *o = w ? realloc(h->own, cap * sizeof(*o)) : NULL;
		if (!o)
			return -1;
		h->own = o;
		h->cap = cap;
	}
	h->who[h->q.n] = (struct claim){ .domid = domid, .devid = devid };
	h->own[h->q.n] = 0;
	snprintf(h->who[h->q.n].saved, sizeof(h->who[h->q.n].saved), "%s", saved);
	xsb_read(&h->q, tx, path);
	return 0;
}

/* The saved domains' claims (XM_SAVED_ROOT), queued into h. 0 or -1. */
static int held_saved(struct xsc *c, uint32_t tx, struct held *h)
{
	unsigned int ns = 0;
	char *saves = xsc_directory(c, tx, XM_SAVED_ROOT, &ns);
	int rc = 0;
	if (!saves)
		return errno == ENOENT ? 0 : -1;
	FOR_NAMES(s, saves, ns) {
		char p[200];
		unsigned int nv = 0;
		snprintf(p, sizeof(p), XM_SAVED_ROOT "/%s/restoring", s);
		char *r = rc == 0 ? xsc_read(c, tx, p) : NULL;
		unsigned int holder = r && *r ? (unsigned int)atoi(r) : SAVED_HOLDER;
		free(r);
		snprintf(p, sizeof(p), XM_SAVED_ROOT "/%s/vbd", s);
		char *devs = rc == 0 ? xsc_directory(c, tx, p, &nv) : NULL;
		if (!devs && rc == 0 && errno != ENOENT)
			rc = -1;
		FOR_NAMES(v, devs, nv) {
			snprintf(p, sizeof(p), XM_SAVED_ROOT "/%s/vbd/%s/claim", s, v);
			if (rc == 0)
				rc = held_add(h, tx, p, holder, strtoul(v, NULL, 10), s);
		}
		free(devs);
	}
	free(saves);
	return rc;
}

static int held_read(struct xsc *c, uint32_t tx, struct held *h)
{
	unsigned int nd = 0;
	char *doms = xsc_directory(c, tx, CLAIMS_DIR, &nd);
	int rc = 0;
	if (!doms)
		return errno == ENOENT ? 0 : -1;
	FOR_NAMES(d, doms, nd) {
		char p[128];
		unsigned int nv = 0;
		snprintf(p, sizeof(p), CLAIMS_DIR "/%s/vbd", d);
		char *devs = rc == 0 ? xsc_directory(c, tx, p, &nv) : NULL;
		if (!devs && rc == 0 && errno != ENOENT)
			rc = -1;
		FOR_NAMES(v, devs, nv) {
			unsigned int domid = (unsigned int)atoi(d);
			unsigned long devid = strtoul(v, NULL, 10);
			claim_path(p, sizeof(p), domid, devid);
			if (rc == 0)
				rc = held_add(h, tx, p, domid, devid, "");
		}
		free(devs);
	}
	free(doms);
	if (rc == 0 && h->q.n && xsc_run(c, &h->q) < 0)
		rc = -1;
	for (unsigned int i = 0; rc == 0 && i < h->q.n; i++) {
		struct claim *w = &h->who[i];
		if (h->q.r[i].type == XS_ERROR || claim_parse(h->q.r[i].body, w) < 0)
			w->mode[0] = '\0'; /* no claim (yet): holds nothing */
	}
	return rc;
}

static void held_free(struct held *h)
{
	xsb_reset(&h->q);
	free(h->who);
	free(h->own);
}

/* The index from every claim in the store (read in transaction tx): when
 * xmbackd starts, after the store came back, after a failure that may
 * have hidden a claim from it. 0, or -1 (errno). */
static int index_build(struct backd *b, struct xsc *c, uint32_t tx)
{
	struct held h = { .cap = 0 };
	int rc;
	if (!b->cidx && !(b->cidx = claimidx_new()))
		return -1;
	claimidx_clear(b->cidx);
	xsb_init(&h.q);
	rc = held_read(c, tx, &h);
	for (unsigned int i = 0; rc == 0 && i < h.q.n; i++)
		if (h.who[i].mode[0])
			rc = claimidx_put(b->cidx, h.who[i].domid, h.who[i].devid, h.who[i].ident);
	held_free(&h);
	b->cidx_ok = rc == 0;
	if (rc == 0)
		log_debug("claims: %zu in the index", claimidx_count(b->cidx));
	return rc;
}

/* Several claims taken in one transaction (claims_take_many). */
struct takes {
	struct backd *b;
	struct claim_req *r;
	int n;
	unsigned int at[CLAIMS_MAX]; /* each one's first request in the batch, or UINT_MAX */
	bool saved;             /* the saved domains' claims are read (some were found) */
	bool any;               /* a claim of the batch is checked */
};

/* Is r's claim one that is checked (w! never is, nor a claim of nothing)? */
static bool checked(const struct claim_req *r)
{
	return strcmp(r->c->mode, "w!") != 0 && r->c->ident[0];
}

/* o (a holder read from the store, or an earlier claim of the batch)
 * against r: refused when it holds the same device in a mode r's
 * conflicts with. */
static void against(struct claim_req *r, const struct claim *o)
{
	if (r->rc == 0 && sharing_same(r->c->ident, o->ident) &&
	    !sharing_compatible(r->c->mode, o->mode)) {
		r->holder = *o;
		r->rc = CLAIM_REFUSED;
	}
}

/* The saved domains' claims (xm save writes them, so the index has none;
 * there are few) against each claim: one of the same device in a
 * conflicting mode refuses it, unless its save is being restored as the
 * claim's domain. 0 or -1. */
static int saved_conflicts(struct takes *t, struct xsc *c, uint32_t tx)
{
	struct held h = { .cap = 0 };
	xsb_init(&h.q);
	int rc = held_saved(c, tx, &h);
	if (rc == 0 && h.q.n && xsc_run(c, &h.q) < 0)
		rc = -1;
	for (unsigned int i = 0; rc == 0 && i < h.q.n; i++) {
		struct claim *o = &h.who[i];
		if (h.q.r[i].type == XS_ERROR || claim_parse(h.q.r[i].body, o) < 0)
			continue;
		for (int k = 0; k < t->n; k++)
			if (checked(&t->r[k]) && o->domid != t->r[k].c->domid)
				against(&t->r[k], o);
	}
	held_free(&h);
	return rc;
}

/* The claims that may conflict with each one, read in tx in one batch: the
 * index's holders of a token of its (their claims as the store has them);
 * then the saved domains'. 0 or -1. */
static int conflicts(struct takes *t, struct xsc *c, uint32_t tx)
{
	struct backd *b = t->b;
	struct held h = { .cap = 0 };
	int rc = 0;
	bool any = false;
	if (!b->cidx_ok && index_build(b, c, tx) < 0)
		return -1;
	xsb_init(&h.q);
	for (int k = 0; k < t->n && rc == 0; k++) {
		const struct claim *me = t->r[k].c;
		struct claimkey *key = NULL;
		if (t->r[k].rc || !checked(&t->r[k]))
			continue;
		any = true;
		long n = claimidx_holders(b->cidx, me->ident, &key);
		if (n < 0)
			rc = -1;
		for (long i = 0; i < n && rc == 0; i++) {
			char p[160];
			if (key[i].domid == me->domid && key[i].devid == me->devid)
				continue;
			claim_path(p, sizeof(p), key[i].domid, key[i].devid);
			if ((rc = held_add(&h, tx, p, key[i].domid, key[i].devid, "")) == 0)
				h.own[h.q.n - 1] = k;
		}
		free(key);
	}
	if (rc == 0 && h.q.n && xsc_run(c, &h.q) < 0)
		rc = -1;
	for (unsigned int i = 0; rc == 0 && i < h.q.n; i++) {
		struct claim *o = &h.who[i];
		struct claim_req *r = &t->r[h.own[i]];
		if (h.q.r[i].type == XS_ERROR || claim_parse(h.q.r[i].body, o) < 0) {
			claimidx_drop(b->cidx, o->domid, o->devid); /* its domain cleaned up */
			continue;
		}
		if (!sharing_same(r->c->ident, o->ident)) { /* (now of another device) */
			if (claimidx_put(b->cidx, o->domid, o->devid, o->ident) < 0)
				b->cidx_ok = false;
			continue;
		}
		against(r, o);
	}
	held_free(&h);
	t->any = any;
	return rc == 0 && any && t->saved ? saved_conflicts(t, c, tx) : rc;
}

/* Check each claim against the holders of its device, and against the
 * claims before it in the batch; then queue each one's condition, claim
 * and intent. */
static int fill_take(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct takes *t = arg;
	char p[160], val[SHARING_IDENT_MAX + 8];
	for (int k = 0; k < t->n; k++)
		if (t->r[k].rc != CLAIM_GONE)
			t->r[k].rc = 0; /* decided again in each try */
	if (conflicts(t, c, tx) < 0)
		return -1;
	/* Saved domains are few and rarely there: their directory is read
	 * with the claims' writes, and only if it has any are they read (the
	 * transaction made again: check_take) */
	if (t->any && !t->saved)
		xsb_add(b, XS_DIRECTORY, tx, XM_SAVED_ROOT, sizeof(XM_SAVED_ROOT));
	for (int k = 0; k < t->n; k++) {
		struct claim_req *r = &t->r[k];
		t->at[k] = UINT_MAX;
		for (int e = 0; e < k && checked(r); e++)
			if (t->r[e].rc == 0)
				against(r, t->r[e].c);
		if (r->rc)
			continue;
		t->at[k] = b->n;
		if (r->must_exist)
			xsb_read(b, tx, r->must_exist);
		claim_format(r->c, val, sizeof(val));
		claim_path(p, sizeof(p), r->c->domid, r->c->devid);
		xsb_write(b, tx, p, val);
		kv_queue(b, tx, r->kv, r->n);
	}
	return 0;
}

enum { TAKE_AGAIN = 100 };

static int check_take(const struct xsb *b, void *arg)
{
	struct takes *t = arg;
	bool again = false;
	if (t->any && !t->saved) {
		int e = xsb_errno(b, 0);
		bool some = false;
		for (unsigned int i = 0; !e && i < b->r[0].len; i++)
			some = some || b->r[0].body[i] == '\0';
		if (e != ENOENT && (e || some)) {
			t->saved = true; /* there are saved domains: their claims too */
			return TAKE_AGAIN;
		}
	}
	for (int k = 0; k < t->n; k++) {
		struct claim_req *r = &t->r[k];
		unsigned int a = t->at[k];
		if (a == UINT_MAX || !r->must_exist)
			continue;
		if (xsb_gone(b, a, r->must_be)) {
			r->rc = CLAIM_GONE; /* the others without it (it may have refused one) */
			again = true;
		}
	}
	if (again)
		return TAKE_AGAIN;
	for (int k = 0; k < t->n; k++) {
		const struct claim_req *r = &t->r[k];
		if (t->at[k] == UINT_MAX)
			continue;
		unsigned int i = t->at[k] + (r->must_exist ? 1 : 0); /* the claim */
		int e = xsb_errno(b, i);
		for (int j = 0; !e && j < r->n; j++) {
			e = xsb_errno(b, i + 1 + (unsigned int)j);
			if (e == ENOENT && !r->kv[j].val)
				e = 0; /* a removal of nothing is done */
		}
		if (e) {
			errno = e;
			return -1;
		}
	}
	return 0;
}

static int take_op(struct xsc *c, void *arg)
{
	struct takes *t = arg;
	int rc;
	do {
		rc = xsc_transaction(c, fill_take, check_take, arg);
	} while (rc == TAKE_AGAIN);
	if (rc < 0)
		for (int k = 0; k < t->n; k++)
			if (t->r[k].rc != CLAIM_GONE)
				t->r[k].rc = -1;
	return rc < 0 ? -1 : 0;
}

/* Xen's refusal of r, with its holder's names read in one round trip. */
static void refusal(struct backd *b, struct claim_req *r)
{
	char p[3][200], *val[3];
	const char *const paths[3] = { p[0], p[1], p[2] };
	const struct claim *h = &r->holder;
	const char *id = h->saved;
	char dn[16], vn[24], who[1200];
	snprintf(dn, sizeof(dn), "%u", h->domid);
	snprintf(vn, sizeof(vn), "%lu", h->devid);
	if (id[0]) { /* a saved domain's */
		snprintf(p[0], sizeof(p[0]), XM_SAVED_ROOT "/%s/name", id);
		snprintf(p[1], sizeof(p[1]), XM_SAVED_ROOT "/%s/vbd/%lu/dev", id, h->devid);
		snprintf(p[2], sizeof(p[2]), XM_SAVED_ROOT "/%s/file", id);
	} else {
		snprintf(p[0], sizeof(p[0]), "/local/domain/%u/name", h->domid);
		snprintf(p[1], sizeof(p[1]), VBD_BACKEND_ROOT "/%u/%lu/dev", h->domid, h->devid);
	}
	backd_read_many(b, paths, id[0] ? 3 : 2, val);
	if (id[0])
		snprintf(who, sizeof(who), "%s, saved to %s", val[0] ? val[0] : id,
			 val[2] ? val[2] : "?");
	else
		snprintf(who, sizeof(who), "%s", val[0] ? val[0] : dn);
	sharing_refusal(r->target, h->mode, who, val[1] ? val[1] : vn, r->err, r->errlen);
	for (int i = 0; i < (id[0] ? 3 : 2); i++)
		free(val[i]);
}

void claims_take_many(struct backd *b, struct claim_req *r, int n)
{
	struct takes t = { .b = b, .r = r, .n = n };
	for (int k = 0; k < n; k++)
		r[k].rc = 0;
	if (n > CLAIMS_MAX) {
		for (int k = 0; k < n; k++) {
			r[k].rc = -1;
			snprintf(r[k].err, r[k].errlen, "too many claims at once");
		}
		return;
	}
	if (n && backd_xr(b, take_op, &t) < 0) {
		int e = errno;
		b->cidx_ok = false; /* committed or not: the store knows */
		for (int k = 0; k < n; k++) {
			r[k].rc = r[k].rc == CLAIM_GONE ? CLAIM_GONE : -1;
			log_warn("domain %u vbd %lu: cannot record the claim: %s", r[k].c->domid,
				 r[k].c->devid, strerror(e));
			snprintf(r[k].err, r[k].errlen, "cannot record the claim in XenStore: %s",
				 strerror(e));
		}
		return;
	}
	for (int k = 0; k < n; k++) {
		if (r[k].rc == CLAIM_REFUSED)
			refusal(b, &r[k]);
		if (r[k].rc == 0 && b->cidx_ok &&
		    claimidx_put(b->cidx, r[k].c->domid, r[k].c->devid, r[k].c->ident) < 0)
			b->cidx_ok = false;
	}
}

int claims_take(struct backd *b, const struct claim *c, const char *target,
		const char *must_exist, const char *must_be, const struct kv *kv, int n, char *err,
		size_t errlen)
{
	struct claim_req r = { .c = c, .target = target, .must_exist = must_exist,
			       .must_be = must_be, .kv = kv, .n = n, .err = err, .errlen = errlen };
	claims_take_many(b, &r, 1);
	return r.rc;
}

int claims_set(struct backd *b, const struct claim *c)
{
	char p[160], val[SHARING_IDENT_MAX + 8];
	struct kv kv = { NULL, NULL, val };
	claim_path(p, sizeof(p), c->domid, c->devid);
	claim_format(c, val, sizeof(val));
	kv.dir = p;
	if (vbd_record(b, NULL, &kv, 1) != 0) {
		b->cidx_ok = false;
		return -1;
	}
	if (b->cidx_ok && claimidx_put(b->cidx, c->domid, c->devid, c->ident) < 0)
		b->cidx_ok = false;
	return 0;
}

int claims_release(struct backd *b, unsigned int domid, unsigned long devid,
		   const char *must_exist, const struct kv *kv, int n)
{
	char p[160];
	struct kv all[24];
	if (n > 23)
		return -1;
	claim_path(p, sizeof(p), domid, devid);
	all[0] = (struct kv){ p, NULL, NULL };
	memcpy(all + 1, kv, (size_t)n * sizeof(*kv));
	int rc = vbd_record(b, must_exist, all, n + 1);
	if (rc != 0)
		return rc; /* (an index entry left is only a hint) */
	if (b->cidx)
		claimidx_drop(b->cidx, domid, devid);
	return 0;
}
