/*
 * claimidx.c — the claims by identity token (claimidx.h). Two hash tables
 * (lib/htab): each claim by "domid/devid" with its identity's text, and
 * each token with the claims that hold it (a small array: a token is held
 * by one device, or by the few sharing it r or w!).
 */
#include "claimidx.h"
#include "htab.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ent {
	struct htab_entry he;
	struct claimkey k;
	char *ident;
	char key[32];
};

struct tok {
	struct htab_entry he;
	struct claimkey *v;
	unsigned int n, cap;
	char key[];
};

struct claimidx {
	struct htab ents;  /* struct ent by "domid/devid" */
	struct htab toks;  /* struct tok by token */
};

static void ent_key(char *out, size_t len, unsigned int domid, unsigned long devid)
{
	snprintf(out, len, "%u/%lu", domid, devid);
}

/* Each space-separated token of s: p, its length m. */
#define FOR_TOKENS(p, m, s) \
	for (const char *p = (s) ? (s) : ""; (p += strspn(p, " ")), *p; p += strcspn(p, " ")) \
		for (size_t m = strcspn(p, " "), once_ = 1; once_; once_ = 0)

static struct tok *tok_find(const struct claimidx *x, const char *p, size_t m)
{
	char t[128];
	if (m >= sizeof(t))
		return NULL;
	memcpy(t, p, m);
	t[m] = '\0';
	struct htab_entry *e = htab_find(&x->toks, t);
	return e ? htab_container(e, struct tok, he) : NULL;
}

static int tok_add(struct claimidx *x, const char *p, size_t m, struct claimkey k)
{
	struct tok *t = tok_find(x, p, m);
	if (!t) {
		if (m >= 128 || !(t = calloc(1, sizeof(*t) + m + 1)))
			return -1;
		memcpy(t->key, p, m);
		t->he.key = t->key;
		if (htab_insert(&x->toks, &t->he) < 0) {
			free(t);
			return -1;
		}
	}
	for (unsigned int i = 0; i < t->n; i++)
		if (t->v[i].domid == k.domid && t->v[i].devid == k.devid)
			return 0;
	if (t->n == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 2;
		struct claimkey *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = k;
	return 0;
}

static void tok_del(struct claimidx *x, const char *p, size_t m, struct claimkey k)
{
	struct tok *t = tok_find(x, p, m);
	if (!t)
		return;
	for (unsigned int i = 0; i < t->n; i++)
		if (t->v[i].domid == k.domid && t->v[i].devid == k.devid) {
			t->v[i] = t->v[--t->n];
			break;
		}
	if (t->n == 0) {
		htab_remove(&x->toks, &t->he);
		free(t->v);
		free(t);
	}
}

static struct ent *ent_find(const struct claimidx *x, unsigned int domid, unsigned long devid)
{
	char key[32];
	ent_key(key, sizeof(key), domid, devid);
	struct htab_entry *e = htab_find(&x->ents, key);
	return e ? htab_container(e, struct ent, he) : NULL;
}

static void ent_free(struct claimidx *x, struct ent *e)
{
	FOR_TOKENS(p, m, e->ident)
		tok_del(x, p, m, e->k);
	htab_remove(&x->ents, &e->he);
	free(e->ident);
	free(e);
}

/* The entries of domid (or all of them), freed: they
 * are gathered first, as htab allows no removal while iterating. */
static void drop_where(struct claimidx *x, bool all, unsigned int domid)
{
	size_t it, n = 0;
	struct htab_entry *h;
	struct ent **v = malloc((x->ents.count + 1) * sizeof(*v));
	if (!v) { /* one at a time, then */
		for (;;) {
			struct ent *e = NULL;
			for (h = htab_first(&x->ents, &it); h && !e; h = htab_next(&x->ents, &it, h))
				if (all || htab_container(h, struct ent, he)->k.domid == domid)
					e = htab_container(h, struct ent, he);
			if (!e)
				return;
			ent_free(x, e);
		}
	}
	for (h = htab_first(&x->ents, &it); h; h = htab_next(&x->ents, &it, h))
		if (all || htab_container(h, struct ent, he)->k.domid == domid)
			v[n++] = htab_container(h, struct ent, he);
	for (size_t i = 0; i < n; i++)
		ent_free(x, v[i]);
	free(v);
}

struct claimidx *claimidx_new(void)
{
	struct claimidx *x = calloc(1, sizeof(*x));
	if (!x || htab_init(&x->ents, 64) < 0) {
		free(x);
		return NULL;
	}
	if (htab_init(&x->toks, 64) < 0) {
		htab_fini(&x->ents);
		free(x);
		return NULL;
	}
	return x;
}

void claimidx_clear(struct claimidx *x)
{
	drop_where(x, true, 0);
}

void claimidx_free(struct claimidx *x)
{
	if (!x)
		return;
	claimidx_clear(x);
	htab_fini(&x->ents);
	htab_fini(&x->toks);
	free(x);
}

void claimidx_drop(struct claimidx *x, unsigned int domid, unsigned long devid)
{
	struct ent *e = ent_find(x, domid, devid);
	if (e)
		ent_free(x, e);
}

void claimidx_drop_domain(struct claimidx *x, unsigned int domid)
{
	drop_where(x, false, domid);
}

int claimidx_put(struct claimidx *x, unsigned int domid, unsigned long devid, const char *ident)
{
	claimidx_drop(x, domid, devid);
	if (!ident || !ident[strspn(ident, " ")])
		return 0;
	struct ent *e = calloc(1, sizeof(*e));
	if (!e || !(e->ident = strdup(ident))) {
		free(e);
		claimidx_clear(x);
		return -1;
	}
	e->k = (struct claimkey){ domid, devid };
	ent_key(e->key, sizeof(e->key), domid, devid);
	e->he.key = e->key;
	if (htab_insert(&x->ents, &e->he) < 0) {
		free(e->ident);
		free(e);
		claimidx_clear(x);
		return -1;
	}
	FOR_TOKENS(p, m, ident)
		if (tok_add(x, p, m, e->k) < 0) {
			claimidx_clear(x);
			return -1;
		}
	return 0;
}

long claimidx_holders(const struct claimidx *x, const char *ident, struct claimkey **out)
{
	struct claimkey *v = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	FOR_TOKENS(p, m, ident) {
		const struct tok *t = tok_find(x, p, m);
		for (unsigned int i = 0; t && i < t->n; i++) {
			size_t j = 0;
			while (j < n && !(v[j].domid == t->v[i].domid && v[j].devid == t->v[i].devid))
				j++;
			if (j < n)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				struct claimkey *w = realloc(v, cap * sizeof(*w));
				if (!w) {
					free(v);
					return -1;
				}
				v = w;
			}
			v[n++] = t->v[i];
		}
	}
	*out = v;
	return (long)n;
}

size_t claimidx_count(const struct claimidx *x)
{
	return x->ents.count;
}
