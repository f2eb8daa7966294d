/* htab.c — see htab.h. Chained buckets, doubled when the load passes 1. */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

int htab_init(struct htab *h, size_t initial)
{
	size_t n = 16;
	while (n < initial)
		n <<= 1;
	h->slots = calloc(n, sizeof(*h->slots));
	if (!h->slots)
		return -1;
	h->nslots = n;
	h->count = 0;
	return 0;
}

void htab_fini(struct htab *h)
{
	free(h->slots);
	h->slots = NULL;
	h->nslots = h->count = 0;
}

struct htab_entry *htab_find(const struct htab *h, const char *key)
{
	uint32_t hv = hash_str(key);
	for (struct htab_entry *e = h->slots[hv & (h->nslots - 1)]; e; e = e->next)
		if (e->hash == hv && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static int grow(struct htab *h)
{
	size_t n = h->nslots * 2;
	struct htab_entry **s = calloc(n, sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; i < h->nslots; i++) {
		struct htab_entry *e = h->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = s[e->hash & (n - 1)];
			s[e->hash & (n - 1)] = e;
		}
	}
	free(h->slots);
	h->slots = s;
	h->nslots = n;
	return 0;
}

int htab_insert(struct htab *h, struct htab_entry *e)
{
	if (h->count >= h->nslots && grow(h) < 0) {
		errno = ENOMEM;
		return -1;
	}
	e->hash = hash_str(e->key);
	struct htab_entry **slot = &h->slots[e->hash & (h->nslots - 1)];
	e->next = *slot;
	*slot = e;
	h->count++;
	return 0;
}

void htab_remove(struct htab *h, struct htab_entry *e)
{
	struct htab_entry **p = &h->slots[e->hash & (h->nslots - 1)];
	for (; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			h->count--;
			return;
		}
	}
}

struct htab_entry *htab_first(const struct htab *h, size_t *it)
{
	for (*it = 0; *it < h->nslots; (*it)++)
		if (h->slots[*it])
			return h->slots[*it];
	return NULL;
}

struct htab_entry *htab_next(const struct htab *h, size_t *it, struct htab_entry *e)
{
	if (e->next)
		return e->next;
	for ((*it)++; *it < h->nslots; (*it)++)
		if (h->slots[*it])
			return h->slots[*it];
	return NULL;
}
