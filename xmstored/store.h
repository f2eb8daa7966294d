/*
 * store.h — the XenStore tree: nodes, permissions, transactions and quotas.
 * No I/O: the daemon (core.c) canonicalises names, calls these, and turns
 * the returned events into watch events. The unit tests and the fuzzer link
 * this directly.
 *
 * Every operation works on a "view": the live tree (tx == NULL) or a
 * transaction (see the design comment in store.c).
 */
#ifndef XSD_STORE_H
#define XSD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"
#include "perms.h"

/*
 * A record is one allocation: this header, then its name, then its value
 * while the value fits in the room the allocation had (malloc_usable_size),
 * else the value in an allocation of its own. One permission entry (the
 * common case) lives in perm1; more in an allocation of their own. The
 * children list is its own allocation (it grows as children come).
 * bench/memory.sh measures what a node costs.
 */
struct node {
	struct htab_entry he;   /* he.key == name */
	char *name;             /* in this allocation */
	uint64_t gen;           /* generation of the last change */
	char *data;             /* in this allocation, or its own */
	char *children;         /* NUL-terminated names, in creation order */
	struct perm *perms;     /* [0] = owner and default access; &perm1 or its own */
	uint32_t datalen;
	uint32_t childlen;
	uint32_t nperms;
	/* Memory charged for it (store_mem): to its owner while live, to its
	 * transaction while a transaction's copy; 0: not charged. */
	uint32_t charged;
	struct perm perm1;
};

/* A change, for watch matching: path, and who may see it. */
struct event {
	char *path;
	bool exact;             /* fire only watches on exactly this path */
	unsigned int nperms, npperms, noldperms;
	struct perm *perms;     /* the node's, at the change */
	struct perm *pperms;    /* its parent's */
	struct perm *oldperms;  /* before SET_PERMS */
};

struct events {
	struct event **v;
	size_t n, cap;
};

struct quota {
	unsigned int nodes;     /* nodes owned per domain (Xen: 1000) */
	unsigned int node_size; /* bytes per node record (Xen: 2048) */
	unsigned int perms;     /* entries per node (Xen: 5) */
	unsigned int tx_nodes;  /* nodes touched per transaction (Xen: 1024) */
	unsigned int path_rel;  /* path length past /local/domain/N/ (2048) */
};

struct acct {
	/* count: nodes it owns; bytes: their memory; refs: permission
	 * entries past the owner's that name it, in live nodes */
	struct acct_entry { uint32_t domid; int count; int refs; long bytes; } *v;
	size_t n;
	/* The store's own counts: entry i+1 of each domain id below 0x7ff0
	 * (0: none yet), so that a lookup costs the same with 1,000 domains
	 * as with 10; NULL for a transaction's (a few entries: a scan). */
	uint32_t *idx;
};

struct store {
	struct htab nodes;
	uint64_t gen;
	struct acct owned;      /* nodes owned, per domain */
	struct quota q;
	/* Does a domain exist (for IGNORE marks on permissions)? */
	bool (*domain_exists)(void *ctx, uint32_t domid);
	void *domain_ctx;
	/* A live record changed or was removed (after the change; a transaction
	 * calls it at commit, once per record it changed). The journal's hook;
	 * NULL: nobody listens. */
	void (*on_change)(void *ctx, const char *name);
	void *change_ctx;
};

struct txn;

int store_init(struct store *s);
void store_fini(struct store *s);
/* Node objects currently allocated by all stores (leak accounting). */
long store_nodes_alive(void);

/* Names are canonical (path_canon). Each returns 0 or a positive errno. */
int store_read(struct store *s, struct txn *t, const struct caller *c,
	       const char *name, const struct node **out);
int store_get_perms(struct store *s, struct txn *t, const struct caller *c,
		    const char *name, const struct node **out);
int store_write(struct store *s, struct txn *t, const struct caller *c,
		const char *name, const char *data, size_t len, struct events *ev);
int store_mkdir(struct store *s, struct txn *t, const struct caller *c,
		const char *name, struct events *ev);
int store_rm(struct store *s, struct txn *t, const struct caller *c,
	     const char *name, struct events *ev);
/* p/n: the new permissions as parsed; IGNORE marks are added here. */
int store_set_perms(struct store *s, struct txn *t, const struct caller *c,
		    const char *name, struct perm *p, unsigned int n,
		    struct events *ev);

/* Nodes owned by a domain (including a transaction's pending changes). */
int store_owned(const struct store *s, const struct txn *t, uint32_t domid);
/* Bytes of the live records a domain owns (name, value, children, perms
 * and Xen's record header): its share of the memory quota. */
long store_owned_bytes(const struct store *s, uint32_t domid);

/* A domain went away: remove the nodes it owns, mark it IGNORE elsewhere. */
void store_forget_domain(struct store *s, uint32_t domid, struct events *ev);

struct txn *store_txn_begin(struct store *s);
/* The bytes of t's copies are added to *ctr as they change (and taken off
 * at its end): its domain's share of the memory quota. NULL: not counted. */
void store_txn_charge(struct txn *t, long *ctr);
/* Commit (or abort) and free t. Commit returns EAGAIN on a conflict, and
 * ENOSPC when c is unprivileged and the nodes t creates would take a domain
 * past its node quota (other transactions may have committed since t's
 * writes were checked: Xen checks again at commit). The transaction's
 * queued events are appended to ev on success. */
int store_txn_end(struct store *s, struct txn *t, bool commit,
		  const struct caller *c, struct events *ev);

/* An event on a special node (@introduceDomain ...), seen by whoever may
 * read that node (domain 0 by default). */
int store_special_event(struct store *s, const char *path, struct events *ev);
void events_clear(struct events *ev);   /* frees every event, keeps v */
void events_free(struct events *ev);

/*
 * Loading (store-raw.c, for the journal): records put and removed as they
 * are, with no permission check, no event and no hook. store_clear empties
 * the tree; store_loaded rebuilds the per-domain counts from the records
 * and sets the generation counter to gen (or past the largest record's).
 */
const struct node *store_lookup(const struct store *s, const char *name);
int store_put_raw(struct store *s, const struct node *img);
void store_del_raw(struct store *s, const char *name);
void store_clear(struct store *s);
int store_loaded(struct store *s, uint64_t gen);

#endif
