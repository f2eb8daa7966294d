/*
 * store-raw.c — the tree as the journal loads it (see store.h, "Loading"):
 * whole node records put and removed by name, with no permission check, no
 * watch event and no change hook, then the per-domain counts and the
 * generation counter rebuilt from what is there. Replaying the journal's
 * physical records this way needs no caller and cannot half-apply a request.
 */
#include "store.h"
#include "store-priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct node *store_lookup(const struct store *s, const char *name)
{
	return live_find(s, name);
}

/* A record put again is changed in place: the records below it name
 * themselves through it. */
int store_put_raw(struct store *s, const struct node_img *img)
{
	if (img->nperms == 0 || img->nperms > UINT16_MAX)
		return EINVAL;
	struct node *n = live_find(s, img->name);
	if (!n)
		return live_add(s, img->name, img) ? 0 : ENOMEM;
	uncharge(s, NULL, n);
	return node_copy_in(n, img);
}

void store_del_raw(struct store *s, const char *name)
{
	struct node *n = live_find(s, name);
	if (!n)
		return;
	uncharge(s, NULL, n);
	live_del(s, n);
}

void store_clear(struct store *s)
{
	live_clear(s);
	s->owned.n = 0;
}

int store_loaded(struct store *s, uint64_t gen)
{
	size_t it;

	s->owned.n = 0;
	if (s->gen < gen)
		s->gen = gen;
	for (const struct node *cn = store_first(s, &it); cn; cn = store_next(s, &it, cn)) {
		struct node *n = (struct node *)cn;
		acct_add(&s->owned, node_perms(n)[0].id, 1);
		n->charged = 0;
		charge(s, NULL, n);
		if (n->gen > s->gen)
			s->gen = n->gen;
	}
	return store_lookup(s, "/") ? 0 : EINVAL;
}

/* Components in n's name: its depth below "/". */
static size_t node_depth(const struct node *n)
{
	size_t d = 0;
	for (; n->parent; n = n->parent)
		d++;
	for (const char *p = n->base; *p; p++)
		d += *p == '/';
	return d;
}

const struct node **store_list(const struct store *s)
{
	size_t n = s->nodes.count, it, i = 0, maxd = 0;
	const struct node **v = malloc((n ? n : 1) * sizeof(*v));
	uint32_t *depth = malloc((n ? n : 1) * sizeof(*depth));
	size_t *at = NULL;

	if (!v || !depth)
		goto fail;
	for (const struct node *e = store_first(s, &it); e; e = store_next(s, &it, e), i++) {
		size_t d = node_depth(e);
		depth[i] = (uint32_t)d;
		if (d > maxd)
			maxd = d;
	}
	/* a counting sort by depth: at[d] is where the next of depth d goes */
	if (!(at = calloc(maxd + 2, sizeof(*at))))
		goto fail;
	for (i = 0; i < n; i++)
		at[depth[i] + 1]++;
	for (size_t d = 1; d <= maxd + 1; d++)
		at[d] += at[d - 1];
	i = 0;
	for (const struct node *e = store_first(s, &it); e; e = store_next(s, &it, e), i++)
		v[at[depth[i]]++] = e;
	free(at);
	free(depth);
	return v;
fail:
	free(v);
	free(depth);
	return NULL;
}
