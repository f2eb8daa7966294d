/*
 * store-event.c — the watch events the store returns: one record per change
 * (its path, and the permissions that decide who may see it: the node's,
 * its parent's, and for SET_PERMS the old ones), in one allocation each.
 */
#include "store.h"
#include "store-priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int events_push(struct events *ev, struct event *e)
{
	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 8;
		void *v = realloc(ev->v, cap * sizeof(*ev->v));
		if (!v)
			return ENOMEM;
		ev->v = v;
		ev->cap = cap;
	}
	ev->v[ev->n++] = e;
	return 0;
}

int event_add(struct events *ev, const char *path, bool exact,
		     const struct node *n, const struct node *parent,
		     const struct perm *old, unsigned int nold)
{
	unsigned int np = n ? n->nperms : 0, npp = parent ? parent->nperms : 0;
	size_t plen = strlen(path) + 1;
	struct event *e = malloc(sizeof(*e) + (np + npp + nold) * sizeof(struct perm) + plen);
	if (!e)
		return ENOMEM;
	e->perms = (struct perm *)(e + 1);
	e->pperms = e->perms + np;
	e->oldperms = e->pperms + npp;
	e->path = (char *)(e->oldperms + nold);
	memcpy(e->path, path, plen);
	e->exact = exact;
	e->nperms = np;
	e->npperms = npp;
	e->noldperms = nold;
	if (np)
		memcpy(e->perms, node_perms(n), np * sizeof(struct perm));
	if (npp)
		memcpy(e->pperms, node_perms(parent), npp * sizeof(struct perm));
	if (nold)
		memcpy(e->oldperms, old, nold * sizeof(struct perm));
	if (events_push(ev, e)) {
		free(e);
		return ENOMEM;
	}
	return 0;
}

int store_special_event(struct store *s, const char *path, struct events *ev)
{
	return event_add(ev, path, false, live_find(s, path), NULL, NULL, 0);
}

void events_clear(struct events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->v[i]);
	ev->n = 0;
}

void events_free(struct events *ev)
{
	events_clear(ev);
	free(ev->v);
	ev->v = NULL;
	ev->cap = 0;
}
