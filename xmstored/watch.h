/* watch.h — a connection's watches and the matching of events to them. */
#ifndef XSD_WATCH_H
#define XSD_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "perms.h"
#include "store.h"

struct watch {
	struct watch *next;
	struct watch **pprev; /* what points at it: unlinked in O(1) */
	char *path;          /* canonical */
	char *token;
	size_t prefix_len;   /* chars to strip when reporting (relative watch) */
};

struct watch_list {
	struct watch *head;
	struct watch **tail;
	unsigned int count;
};

void watch_list_init(struct watch_list *l);
/* 0, EEXIST (same path and token), ENOMEM. */
int watch_add(struct watch_list *l, const char *path, const char *token,
	      size_t prefix_len, struct watch **out);
/* The same without the check (the caller made it, e.g. through an index). */
int watch_append(struct watch_list *l, const char *path, const char *token,
		 size_t prefix_len, struct watch **out);
/* 0 or ENOENT. */
int watch_remove(struct watch_list *l, const char *path, const char *token);
/* Unlink and free w, one of l's. */
void watch_unlink(struct watch_list *l, struct watch *w);
void watch_clear(struct watch_list *l);

/* The path to report if event e fires w, else NULL (Xen's fire_watches). */
const char *watch_match(const struct watch *w, const struct event *e);
/* May caller c learn of event e? (Xen's watch_permitted.) */
bool event_visible(const struct caller *c, const struct event *e);

#endif
