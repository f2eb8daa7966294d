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
	struct htab_entry *e = htab_find(&s->nodes, name);
	return e ? htab_container(e, struct node, he) : NULL;
}

static int copy_bytes(char **dst, const char *src, uint32_t len)
{
	*dst = NULL;
	if (!len)
		return 0;
	if (!(*dst = malloc(len)))
		return ENOMEM;
	memcpy(*dst, src, len);
	return 0;
}

int store_put_raw(struct store *s, const struct node *img)
{
	struct node *n = node_new(img->name, img->perms, img->nperms, img->datalen);
	if (!n)
		return ENOMEM;
	if (node_set_data(n, img->data, img->datalen) ||
	    copy_bytes(&n->children, img->children, img->childlen)) {
		node_free(n);
		return ENOMEM;
	}
	n->childlen = img->childlen;
	n->gen = img->gen;
	store_del_raw(s, img->name);
	if (htab_insert(&s->nodes, &n->he) < 0) {
		node_free(n);
		return ENOMEM;
	}
	return 0;
}

void store_del_raw(struct store *s, const char *name)
{
	struct htab_entry *e = htab_find(&s->nodes, name);
	if (!e)
		return;
	htab_remove(&s->nodes, e);
	uncharge(s, NULL, htab_container(e, struct node, he));
	node_free(htab_container(e, struct node, he));
}

void store_clear(struct store *s)
{
	size_t it;
	struct htab_entry *e = htab_first(&s->nodes, &it);
	while (e) {
		struct htab_entry *next = htab_next(&s->nodes, &it, e);
		htab_remove(&s->nodes, e);
		node_free(htab_container(e, struct node, he));
		e = next;
	}
	s->owned.n = 0;
}

int store_loaded(struct store *s, uint64_t gen)
{
	size_t it;

	s->owned.n = 0;
	if (s->gen < gen)
		s->gen = gen;
	for (struct htab_entry *e = htab_first(&s->nodes, &it); e;
	     e = htab_next(&s->nodes, &it, e)) {
		struct node *n = htab_container(e, struct node, he);
		acct_add(&s->owned, n->perms[0].id, 1);
		n->charged = 0;
		charge(s, NULL, n);
		if (n->gen > s->gen)
			s->gen = n->gen;
	}
	return store_lookup(s, "/") ? 0 : EINVAL;
}
