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
 * A record is one allocation: this header, then the last component of its
 * name (or the whole name, for a record with no parent pointer: "/", the
 * special names, a transaction's copies, and a record loaded before its
 * parent), then its value and its children's names while they fit in the
 * room the allocation had (malloc_usable_size), else the address of an
 * allocation of their own that holds them (ext). A live record's name is its parent's name, "/" and the last
 * component: full names are rebuilt by walking up (node_name), and a lookup
 * by name hashes the whole name and compares it component by component from
 * the end. Live records are changed in place (a transaction's commit copies
 * into them), so that a parent pointer stays valid while the child lives.
 * One permission entry (the common case) lives in the record; more in an
 * allocation of their own. bench/memory.sh measures what a node costs.
 */
struct node {
	struct node *next;      /* the store's hash chain */
	struct node *parent;    /* NULL: base is the whole name */
	uint64_t gen;           /* generation of the last change */
	union {                 /* node_perms(): [0] = owner, default access */
		struct perm one;        /* nperms == 1 */
		struct perm *many;      /* nperms > 1 */
	} pv;
	uint32_t hash;          /* of the whole name */
	uint32_t datalen;
	uint32_t childlen;
	/* Memory charged for it (store_mem): to its owner while live, to its
	 * transaction while a transaction's copy; 0: not charged. */
	uint32_t charged;
	uint32_t refs;          /* records whose parent pointer is this one;
				 * a removed record with refs left stays as
				 * their name until the last goes */
	uint16_t nperms;
	uint16_t baselen : 13;  /* strlen(base) */
	uint16_t ext : 1;       /* value and children in an allocation of
				 * their own, its address after base (at
				 * node_ext: aligned, for leak checkers) */
	uint16_t dead : 1;      /* removed; kept for refs */
	char base[];
};

/* The value (datalen bytes), then the children: NUL-terminated names, in
 * creation order (childlen bytes). */
static inline char **node_ext(const struct node *n)
{
	uintptr_t a = (uintptr_t)(n->base + n->baselen + 1);
	return (char **)((a + sizeof(char *) - 1) & ~(uintptr_t)(sizeof(char *) - 1));
}

static inline const char *node_data(const struct node *n)
{
	return n->ext ? *node_ext(n) : n->base + n->baselen + 1;
}

static inline const char *node_children(const struct node *n)
{
	return node_data(n) + n->datalen;
}

static inline const struct perm *node_perms(const struct node *n)
{
	return n->nperms == 1 ? &n->pv.one : n->pv.many;
}

/* n's whole name into buf (PATH_BUF bytes); returns its length. */
size_t node_name(const struct node *n, char *buf);

/* A record as plain fields: what the journal writes and loads. */
struct node_img {
	const char *name;
	uint64_t gen;
	const char *data;
	uint32_t datalen;
	const char *children;
	uint32_t childlen;
	const struct perm *perms;
	uint32_t nperms;
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

/* The live records by whole name: chained buckets, doubled past a load of 2. */
struct ntab {
	struct node **slots;
	size_t nslots;          /* power of two */
	size_t count;
};

struct store {
	struct ntab nodes;
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
int store_put_raw(struct store *s, const struct node_img *img);
/* n's fields as an image (name into namebuf, PATH_BUF bytes). */
void store_img(const struct node *n, char *namebuf, struct node_img *img);
/* Every live record, in no order: for (n = store_first(s, &it); n;
 * n = store_next(s, &it, n)); no change to the tree while walking. */
const struct node *store_first(const struct store *s, size_t *it);
const struct node *store_next(const struct store *s, size_t *it, const struct node *n);
/* Every live record (s->nodes.count of them), parents before their
 * children: what a snapshot writes, so that its records load back each
 * below its parent. A malloc'd array, or NULL (ENOMEM). */
const struct node **store_list(const struct store *s);
void store_del_raw(struct store *s, const char *name);
void store_clear(struct store *s);
int store_loaded(struct store *s, uint64_t gen);

#endif
