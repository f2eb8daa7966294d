/*
 * store-priv.h — what store.c shares with store-raw.c (the loading side of
 * the tree): node records and the per-domain counts. Not for other files.
 */
#ifndef XSD_STORE_PRIV_H
#define XSD_STORE_PRIV_H

#include "store.h"

/* A record named name with a copy of the permissions; no data, no children. */
struct node *node_new(const char *name, const struct perm *p, unsigned int np);
void node_free(struct node *n);
void acct_add(struct acct *a, uint32_t domid, int d);

#endif
