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
		if (!w)
			return -1;
		h->who = w;
		h->cap = cap;
	}
	h->who[h->q.n] = (struct claim){ .domid = domid, .devid = devid };
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
}

struct take {
	struct backd *b;
	const struct claim *c;
	const char *must_exist, *must_be;
	const struct kv *kv;
	int n;
	struct claim holder;    /* out: who refused it */
};

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

/* The saved domains' claims (xm save writes them, so the index has none;
 * there are few): one of the same device in a mode mine conflicts with
 * refuses me, unless its save is being restored as my domain. 0,
 * CLAIM_REFUSED (t->holder) or -1. */
static int saved_conflicts(struct take *t, struct xsc *c, uint32_t tx)
{
	const struct claim *me = t->c;
	struct held h = { .cap = 0 };
	xsb_init(&h.q);
	int rc = held_saved(c, tx, &h);
	if (rc == 0 && h.q.n && xsc_run(c, &h.q) < 0)
		rc = -1;
	for (unsigned int i = 0; rc == 0 && i < h.q.n; i++) {
		struct claim *o = &h.who[i];
		if (h.q.r[i].type == XS_ERROR || claim_parse(h.q.r[i].body, o) < 0 ||
		    o->domid == me->domid)
			continue;
		if (sharing_same(me->ident, o->ident) && !sharing_compatible(me->mode, o->mode)) {
			t->holder = *o;
			rc = CLAIM_REFUSED;
		}
	}
	held_free(&h);
	return rc;
}

/* The claims that may conflict with me, read in tx: the index's holders
 * of a token of mine (their claims as the store has them). */
static int conflicts(struct take *t, struct xsc *c, uint32_t tx)
{
	struct backd *b = t->b;
	const struct claim *me = t->c;
	struct claimkey *k = NULL;
	struct held h = { .cap = 0 };
	long n;
	int rc = 0;
	if (!b->cidx_ok && index_build(b, c, tx) < 0)
		return -1;
	if ((n = claimidx_holders(b->cidx, me->ident, &k)) < 0)
		return -1;
	xsb_init(&h.q);
	for (long i = 0; i < n && rc == 0; i++) {
		char p[160];
		claim_path(p, sizeof(p), k[i].domid, k[i].devid);
		if (!(k[i].domid == me->domid && k[i].devid == me->devid))
			rc = held_add(&h, tx, p, k[i].domid, k[i].devid, "");
	}
	if (rc == 0 && h.q.n && xsc_run(c, &h.q) < 0)
		rc = -1;
	for (unsigned int i = 0; rc == 0 && i < h.q.n; i++) {
		struct claim *o = &h.who[i];
		if (h.q.r[i].type == XS_ERROR || claim_parse(h.q.r[i].body, o) < 0) {
			claimidx_drop(b->cidx, o->domid, o->devid); /* its domain cleaned up */
			continue;
		}
		if (!sharing_same(me->ident, o->ident)) { /* (now of another device) */
			if (claimidx_put(b->cidx, o->domid, o->devid, o->ident) < 0)
				b->cidx_ok = false;
			continue;
		}
		if (!sharing_compatible(me->mode, o->mode)) {
			t->holder = *o;
			rc = CLAIM_REFUSED;
		}
	}
	held_free(&h);
	free(k);
	return rc ? rc : saved_conflicts(t, c, tx);
}

/* Check against the claims of the same device, then queue the claim and
 * the intent. */
static int fill_take(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct take *t = arg;
	const struct claim *me = t->c;
	char p[160], val[SHARING_IDENT_MAX + 8];
	if (strcmp(me->mode, "w!") != 0 && me->ident[0]) {
		int rc = conflicts(t, c, tx);
		if (rc)
			return rc;
	}
	if (t->must_exist)
		xsb_read(b, tx, t->must_exist);
	claim_format(me, val, sizeof(val));
	claim_path(p, sizeof(p), me->domid, me->devid);
	xsb_write(b, tx, p, val);
	kv_queue(b, tx, t->kv, t->n);
	return 0;
}

static int check_take(const struct xsb *b, void *arg)
{
	const struct take *t = arg;
	if (t->must_exist && xsb_errno(b, 0) == ENOENT)
		return CLAIM_GONE;
	if (t->must_be && (b->r[0].type == XS_ERROR || strcmp(b->r[0].body, t->must_be) != 0))
		return CLAIM_GONE;
	unsigned int first = t->must_exist ? 2 : 1; /* the condition, the claim */
	for (unsigned int i = 0; i < b->n; i++) {
		int e = xsb_errno(b, i);
		if (e && !(e == ENOENT && i >= first && !t->kv[i - first].val)) {
			errno = e; /* (a removal of nothing is done) */
			return -1;
		}
	}
	return 0;
}

static int take_op(struct xsc *c, void *arg)
{
	return xsc_transaction(c, fill_take, check_take, arg);
}

int claims_take(struct backd *b, const struct claim *c, const char *target,
		const char *must_exist, const char *must_be, const struct kv *kv, int n, char *err,
		size_t errlen)
{
	struct take t = { .b = b, .c = c, .must_exist = must_exist, .must_be = must_be, .kv = kv, .n = n };
	int rc = backd_xr(b, take_op, &t);
	if (rc < 0) {
		b->cidx_ok = false; /* committed or not: the store knows */
		log_warn("domain %u vbd %lu: cannot record the claim: %s", c->domid, c->devid,
			 strerror(errno));
		snprintf(err, errlen, "cannot record the claim in XenStore: %s", strerror(errno));
		return -1;
	}
	if (rc == CLAIM_REFUSED) { /* the holder's names, read in one round trip */
		char p[3][200], *val[3];
		const char *const paths[3] = { p[0], p[1], p[2] };
		const char *id = t.holder.saved;
		char dn[16], vn[24], who[1200];
		snprintf(dn, sizeof(dn), "%u", t.holder.domid);
		snprintf(vn, sizeof(vn), "%lu", t.holder.devid);
		if (id[0]) { /* a saved domain's */
			snprintf(p[0], sizeof(p[0]), XM_SAVED_ROOT "/%s/name", id);
			snprintf(p[1], sizeof(p[1]), XM_SAVED_ROOT "/%s/vbd/%lu/dev", id, t.holder.devid);
			snprintf(p[2], sizeof(p[2]), XM_SAVED_ROOT "/%s/file", id);
		} else {
			snprintf(p[0], sizeof(p[0]), "/local/domain/%u/name", t.holder.domid);
			snprintf(p[1], sizeof(p[1]), VBD_BACKEND_ROOT "/%u/%lu/dev", t.holder.domid,
				 t.holder.devid);
		}
		backd_read_many(b, paths, id[0] ? 3 : 2, val);
		if (id[0])
			snprintf(who, sizeof(who), "%s, saved to %s", val[0] ? val[0] : id,
				 val[2] ? val[2] : "?");
		else
			snprintf(who, sizeof(who), "%s", val[0] ? val[0] : dn);
		sharing_refusal(target, t.holder.mode, who, val[1] ? val[1] : vn, err, errlen);
		for (int i = 0; i < (id[0] ? 3 : 2); i++)
			free(val[i]);
	}
	if (rc == 0 && b->cidx_ok && claimidx_put(b->cidx, c->domid, c->devid, c->ident) < 0)
		b->cidx_ok = false;
	return rc;
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

int claims_release(struct backd *b, unsigned int domid, unsigned long devid, const struct kv *kv,
		   int n)
{
	char p[160];
	struct kv all[24];
	if (n > 23)
		return -1;
	claim_path(p, sizeof(p), domid, devid);
	all[0] = (struct kv){ p, NULL, NULL };
	memcpy(all + 1, kv, (size_t)n * sizeof(*kv));
	if (vbd_record(b, NULL, all, n + 1) != 0)
		return -1; /* (an index entry left is only a hint) */
	if (b->cidx)
		claimidx_drop(b->cidx, domid, devid);
	return 0;
}
