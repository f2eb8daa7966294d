/*
 * same-tree.h — for the journal's fuzz targets (fuzz_jrec, fuzz_journal):
 * do two stores hold the same nodes? Included by each; not a library.
 */
#ifndef FUZZ_SAME_TREE_H
#define FUZZ_SAME_TREE_H

#include "path.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Same nodes (name, generation, data, children, permissions)? */
static bool same_tree(const struct store *a, const struct store *b)
{
	size_t it;

	if (a->nodes.count != b->nodes.count)
		return false;
	for (const struct node *x = store_first(a, &it); x; x = store_next(a, &it, x)) {
		char name[PATH_BUF];
		node_name(x, name);
		const struct node *y = store_lookup(b, name);
		if (!y || x->gen != y->gen || x->datalen != y->datalen ||
		    x->childlen != y->childlen || x->nperms != y->nperms ||
		    (x->datalen && memcmp(node_data(x), node_data(y), x->datalen)) ||
		    (x->childlen && memcmp(node_children(x), node_children(y), x->childlen)))
			return false;
		for (uint32_t i = 0; i < x->nperms; i++)
			if (node_perms(x)[i].id != node_perms(y)[i].id ||
			    node_perms(x)[i].perms != node_perms(y)[i].perms)
				return false;
	}
	return true;
}

#endif
