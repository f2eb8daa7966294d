/*
 * store-priv.h — what the store's files share (store.c: the tree and its
 * operations; store-txn.c: commit and abort; store-event.c: watch events;
 * store-raw.c: loading): records, transactions, counts. Not for other files.
 */
#ifndef XSD_STORE_PRIV_H
#define XSD_STORE_PRIV_H

#include "store.h"

struct txnode {
	struct htab_entry he;
	char *name;
	uint64_t base_gen;      /* 0: absent when first touched */
	struct node *n;         /* our copy; NULL: absent/deleted */
	bool modified;
	struct perm *first;     /* permissions when first touched (if present) */
	unsigned int nfirst;
	bool fired, fire_exact; /* a watch event is due at commit */
};

struct txn {
	struct htab ov;
	struct txnode **fired;  /* nodes with an event due, in order */
	size_t nfired, capfired;
	struct acct delta;
	long bytes;             /* charged for its copies */
	long *charge;           /* and added here too (store_txn_charge) */
};

/* A record named name (whole, no parent pointer: a transaction's copy) with
 * a copy of the permissions; no data, no children; room: bytes of value
 * and children to make room for in its allocation. */
struct node *node_new(const char *name, const struct perm *p, unsigned int np,
		      size_t room);
void node_free(struct node *n);
/* A copy of the value / the permissions into n: 0 or ENOMEM (n unchanged). */
int node_set_data(struct node *n, const char *data, size_t len);
int node_set_perms(struct node *n, const struct perm *p, unsigned int np);
void acct_add(struct acct *a, uint32_t domid, int d);
/* Memory charging: after a record changed (live: to its owner; in t: to t),
 * and before it leaves its view. */
void charge(struct store *s, struct txn *t, struct node *n);
void uncharge(struct store *s, struct txn *t, struct node *n);
/* The live record of that name, or NULL. */
struct node *live_find(const struct store *s, const char *name);
/* A new live record named name (absent) with img's contents (not charged,
 * not counted), or NULL (ENOMEM). */
struct node *live_add(struct store *s, const char *name, const struct node_img *img);
/* img's contents and generation into n, in place. 0 or ENOMEM. */
int node_copy_in(struct node *n, const struct node_img *img);
/* Take n out of the live table and free it (uncharge it first). */
void live_del(struct store *s, struct node *n);
/* Free every live record; the table stays, empty. */
void live_clear(struct store *s);
/* Tell the change hook (if any) that the live record name changed. */
void note_change(struct store *s, const char *name);
/* Queue an event (see struct event). 0 or ENOMEM. */
int event_add(struct events *ev, const char *path, bool exact,
	      const struct node *n, const struct node *parent,
	      const struct perm *old, unsigned int nold);

#endif
