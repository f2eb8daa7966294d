/*
 * htab.h — a string-keyed hash table with intrusive entries.
 *
 * Written here rather than taken from a library: Debian's candidates (glib's
 * GHashTable, hsearch(3)) either pull a large dependency into a static guest
 * binary or cannot delete entries; this is ~100 lines.
 *
 * Entries embed struct htab_entry and own their key string.
 */
#ifndef XM_HTAB_H
#define XM_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab_entry {
	struct htab_entry *next;
	const char *key;
	uint32_t hash;
};

struct htab {
	struct htab_entry **slots;
	size_t nslots;  /* power of two */
	size_t count;
};

int htab_init(struct htab *h, size_t initial);
void htab_fini(struct htab *h);  /* frees the slot array, not the entries */
struct htab_entry *htab_find(const struct htab *h, const char *key);
/* Insert e (e->key set by caller; must not be present). 0 or -1 (ENOMEM). */
int htab_insert(struct htab *h, struct htab_entry *e);
void htab_remove(struct htab *h, struct htab_entry *e);

/* Iteration: for (e = htab_first(h, &i); e; e = htab_next(h, &i, e)) —
 * removing the current entry is not allowed while iterating. */
struct htab_entry *htab_first(const struct htab *h, size_t *it);
struct htab_entry *htab_next(const struct htab *h, size_t *it, struct htab_entry *e);

#define htab_container(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
