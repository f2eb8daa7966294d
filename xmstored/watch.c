/* watch.c — see watch.h. */
#include "watch.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void watch_list_init(struct watch_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->count = 0;
}

int watch_add(struct watch_list *l, const char *path, const char *token,
	      size_t prefix_len, struct watch **out)
{
	for (struct watch *w = l->head; w; w = w->next)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0)
			return EEXIST;
	return watch_append(l, path, token, prefix_len, out);
}

int watch_append(struct watch_list *l, const char *path, const char *token,
		 size_t prefix_len, struct watch **out)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->path = strdup(path);
	w->token = strdup(token);
	if (!w->path || !w->token) {
		free(w->path);
		free(w->token);
		free(w);
		return ENOMEM;
	}
	w->prefix_len = prefix_len;
	w->pprev = l->tail;
	*l->tail = w;
	l->tail = &w->next;
	l->count++;
	if (out)
		*out = w;
	return 0;
}

static void watch_free(struct watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

void watch_unlink(struct watch_list *l, struct watch *w)
{
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	else
		l->tail = w->pprev;
	watch_free(w);
	l->count--;
}

int watch_remove(struct watch_list *l, const char *path, const char *token)
{
	for (struct watch *w = l->head; w; w = w->next)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
			watch_unlink(l, w);
			return 0;
		}
	return ENOENT;
}

void watch_clear(struct watch_list *l)
{
	struct watch *w = l->head, *next;
	for (; w; w = next) {
		next = w->next;
		watch_free(w);
	}
	watch_list_init(l);
}

const char *watch_match(const struct watch *w, const struct event *e)
{
	bool hit = e->exact ? strcmp(e->path, w->path) == 0
			    : path_is_child(e->path, w->path);
	if (!hit)
		return NULL;
	/* A relative watch reports relative names; Xen strips the prefix. */
	return strlen(e->path) >= w->prefix_len ? e->path + w->prefix_len : e->path;
}

static bool readable(const struct caller *c, const struct perm *p, unsigned int n)
{
	return n > 0 && (perms_for(c, p, n) & PERM_READ);
}

bool event_visible(const struct caller *c, const struct event *e)
{
	if (c->priv)
		return true;
	return readable(c, e->oldperms, e->noldperms) ||
	       readable(c, e->perms, e->nperms) ||
	       readable(c, e->pperms, e->npperms);
}
