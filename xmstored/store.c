/*
 * store.c — the XenStore tree, permissions, quotas and transactions.
 *
 * Nodes live in one hash table keyed by their full name. A node record holds
 * its value, its permissions and the NUL-separated names of its children (in
 * creation order, as Xen's DIRECTORY returns them), plus a generation number:
 * every change to a record sets its generation to a fresh value of a global
 * counter. Adding or removing a child is a change to the parent's record.
 *
 * Transactions (as cxenstored since Xen 4.9): a transaction keeps an overlay
 * of the records it has touched. The first access to a name copies the live
 * record (or notes that it was absent) together with the generation it had at
 * that moment ("base generation"; 0 = absent). Reads and writes inside the
 * transaction then use the copy only. At commit, every touched name is checked
 * against the live tree: if any live generation differs from its base, someone
 * else changed it since we looked, and the commit fails with EAGAIN, leaving
 * the live tree untouched. Otherwise the modified copies replace the live
 * records, each with a new generation.
 *
 * Worked example: T starts, reads /a (gen 7: base 7), writes /a/b (copies /a
 * again? no: /a is already in the overlay; /a/b is absent: base 0; /a gets
 * the new child in T's copy). Meanwhile another client writes /a/c: live /a
 * now has gen 9. T's commit compares /a: 9 != 7 -> EAGAIN. Had the other
 * client written /x instead, T would commit, /a and /a/b getting gens 10, 11.
 *
 * Events for watches are collected in the transaction and returned at commit
 * (the commit itself: store-txn.c; events: store-event.c).
 * Quotas: nodes owned per domain are counted live; a transaction carries its
 * own delta, applied at commit.
 */
#include "store.h"
#include "store-priv.h"
#include "path.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Size of Xen's node record header (generation + 3 counts), for the quota. */
#define NODE_HDR_SIZE 24

static long nodes_alive;

long store_nodes_alive(void)
{
	return nodes_alive;
}

/* ---- node records ---- */

static void *memdup(const void *p, size_t len)
{
	void *r = malloc(len ? len : 1);
	if (r && len)
		memcpy(r, p, len);
	return r;
}

/* The room for a value inside n's own allocation. */
static char *inline_data(const struct node *n)
{
	return n->name + strlen(n->name) + 1;
}

static size_t inline_room(const struct node *n)
{
	return malloc_usable_size((void *)n) - (size_t)(inline_data(n) - (const char *)n);
}

void node_free(struct node *n)
{
	if (!n)
		return;
	if (n->data != inline_data(n))
		free(n->data);
	free(n->children);
	if (n->perms != &n->perm1)
		free(n->perms);
	free(n);
	nodes_alive--;
}

/* Set n's permissions (a copy of p): 0 or ENOMEM (n unchanged). */
int node_set_perms(struct node *n, const struct perm *p, unsigned int np)
{
	struct perm *v = &n->perm1;
	if (np > 1 && !(v = malloc(np * sizeof(*p))))
		return ENOMEM;
	memmove(v, p, np * sizeof(*p));
	if (n->perms && n->perms != &n->perm1 && n->perms != v)
		free(n->perms);
	n->perms = v;
	n->nperms = np;
	return 0;
}

/* Set n's value (a copy): in n's own allocation if it fits. 0 or ENOMEM. */
int node_set_data(struct node *n, const char *data, size_t len)
{
	char *in = inline_data(n), *d = in;
	if (len > inline_room(n) && !(d = malloc(len)))
		return ENOMEM;
	if (len)
		memmove(d, data, len);
	if (n->data != in && n->data != d)
		free(n->data);
	n->data = d;
	n->datalen = (uint32_t)len;
	return 0;
}

/* room: bytes of value to make room for in the record's allocation. */
struct node *node_new(const char *name, const struct perm *p, unsigned int np, size_t room)
{
	size_t nl = strlen(name) + 1;
	struct node *n = calloc(1, sizeof(*n) + nl + room);
	if (!n)
		return NULL;
	nodes_alive++;
	n->name = (char *)(n + 1);
	memcpy(n->name, name, nl);
	n->data = inline_data(n);
	if (node_set_perms(n, p, np)) {
		node_free(n);
		return NULL;
	}
	n->he.key = n->name;
	return n;
}

static struct node *node_dup(const struct node *o)
{
	struct node *n = node_new(o->name, o->perms, o->nperms, o->datalen);
	if (!n)
		return NULL;
	n->gen = o->gen;
	if (node_set_data(n, o->data, o->datalen))
		goto fail;
	if (o->childlen && !(n->children = memdup(o->children, o->childlen)))
		goto fail;
	n->childlen = o->childlen;
	return n;
fail:
	node_free(n);
	return NULL;
}

static size_t node_size(const struct node *n)
{
	return NODE_HDR_SIZE + n->nperms * 8 + n->datalen + n->childlen;
}

static int node_add_child(struct node *n, const char *base)
{
	size_t bl = strlen(base) + 1;
	char *c = realloc(n->children, n->childlen + bl);
	if (!c)
		return ENOMEM;
	memcpy(c + n->childlen, base, bl);
	n->children = c;
	n->childlen += (uint32_t)bl;
	return 0;
}

static void node_del_child(struct node *n, const char *base)
{
	for (uint32_t i = 0; i < n->childlen;) {
		size_t l = strlen(n->children + i) + 1;
		if (strcmp(n->children + i, base) == 0) {
			memmove(n->children + i, n->children + i + l, n->childlen - i - l);
			n->childlen -= (uint32_t)l;
			return;
		}
		i += (uint32_t)l;
	}
}

static bool node_has_child(const struct node *n, const char *base)
{
	for (uint32_t i = 0; i < n->childlen; i += (uint32_t)strlen(n->children + i) + 1)
		if (strcmp(n->children + i, base) == 0)
			return true;
	return false;
}

struct node *live_find(const struct store *s, const char *name)
{
	struct htab_entry *e = htab_find(&s->nodes, name);
	return e ? htab_container(e, struct node, he) : NULL;
}

/* A live record changed or went: tell the hook (the journal), if any. */
void note_change(struct store *s, const char *name)
{
	if (s->on_change)
		s->on_change(s->change_ctx, name);
}

/* ---- accounting ---- */

#define ACCT_IDX_MAX 0x7ff0u /* Xen's DOMID_FIRST_RESERVED */

static struct acct_entry *acct_slot(struct acct *a, uint32_t domid, bool create)
{
	if (a->idx && domid < ACCT_IDX_MAX) {
		uint32_t k = a->idx[domid];
		if (k && k <= a->n && a->v[k - 1].domid == domid)
			return &a->v[k - 1];
	} else {
		for (size_t i = 0; i < a->n; i++)
			if (a->v[i].domid == domid)
				return &a->v[i];
	}
	if (!create)
		return NULL;
	if ((a->n & (a->n - 1)) == 0) { /* grow at powers of two */
		void *v = realloc(a->v, (a->n ? 2 * a->n : 1) * sizeof(*a->v));
		if (!v)
			return NULL;
		a->v = v;
	}
	a->v[a->n] = (struct acct_entry){ .domid = domid };
	if (a->idx && domid < ACCT_IDX_MAX)
		a->idx[domid] = (uint32_t)a->n + 1;
	return &a->v[a->n++];
}

void acct_add(struct acct *a, uint32_t domid, int d)
{
	struct acct_entry *e = acct_slot(a, domid, true);
	if (e)
		e->count += d;
}

int store_owned(const struct store *s, const struct txn *t, uint32_t domid)
{
	struct acct_entry *e = acct_slot((struct acct *)&s->owned, domid, false);
	int n = e ? e->count : 0;
	if (t && (e = acct_slot((struct acct *)&t->delta, domid, false)))
		n += e->count;
	return n;
}

long store_owned_bytes(const struct store *s, uint32_t domid)
{
	struct acct_entry *e = acct_slot((struct acct *)&s->owned, domid, false);
	return e ? e->bytes : 0;
}

/* What a record costs against the memory quota. */
static uint32_t node_mem(const struct node *n)
{
	return (uint32_t)(node_size(n) + strlen(n->name) + 1);
}

static void charge_to(struct store *s, struct txn *t, uint32_t domid, long d)
{
	if (t) {
		t->bytes += d;
		if (t->charge)
			*t->charge += d;
		return;
	}
	struct acct_entry *e = acct_slot(&s->owned, domid, true);
	if (e)
		e->bytes += d;
}

/* A live record is charged to its owner, perms[0]: a change of owner
 * uncharges it before the permissions change (store_set_perms). */
/* A live node's permission entries past the owner's, counted per domain
 * they name (so that a domain no entry names is released without a walk). */
static void count_refs(struct store *s, const struct node *n, int d)
{
	for (uint32_t i = 1; i < n->nperms; i++) {
		struct acct_entry *e = acct_slot(&s->owned, n->perms[i].id, true);
		if (e)
			e->refs += d;
	}
}

void uncharge(struct store *s, struct txn *t, struct node *n)
{
	if (n->charged) {
		charge_to(s, t, n->perms[0].id, -(long)n->charged);
		if (!t)
			count_refs(s, n, -1);
	}
	n->charged = 0;
}

void charge(struct store *s, struct txn *t, struct node *n)
{
	uncharge(s, t, n);
	n->charged = node_mem(n);
	charge_to(s, t, n->perms[0].id, n->charged);
	if (!t)
		count_refs(s, n, 1);
}

static void account(struct store *s, struct txn *t, uint32_t domid, int d)
{
	acct_add(t ? &t->delta : &s->owned, domid, d);
}

/* ---- views: the live tree or a transaction's overlay ---- */

static struct txnode *tx_find(struct txn *t, const char *name)
{
	struct htab_entry *e = htab_find(&t->ov, name);
	return e ? htab_container(e, struct txnode, he) : NULL;
}

/* The first access to name in t: a copy of the live record (or a note
 * that it is absent) and the generation it has now. */
static int tx_touch(struct store *s, struct txn *t, const struct caller *c,
		    const char *name, struct txnode **out)
{
	struct txnode *tn = tx_find(t, name);
	if (tn) {
		*out = tn;
		return 0;
	}
	if (!c->priv && t->ov.count >= s->q.tx_nodes)
		return ENOSPC;
	tn = calloc(1, sizeof(*tn));
	if (!tn || !(tn->name = strdup(name))) {
		free(tn);
		return ENOMEM;
	}
	struct node *live = live_find(s, name);
	if (live && (!(tn->n = node_dup(live)) ||
		     !(tn->first = memdup(live->perms, live->nperms * sizeof(struct perm))))) {
		node_free(tn->n);
		free(tn->name);
		free(tn);
		return ENOMEM;
	}
	if (tn->n) {
		tn->n->charged = 0;
		charge(s, t, tn->n);
	}
	tn->nfirst = live ? live->nperms : 0;
	tn->base_gen = live ? live->gen : 0;
	tn->he.key = tn->name;
	if (htab_insert(&t->ov, &tn->he) < 0) {
		if (tn->n)
			uncharge(s, t, tn->n);
		node_free(tn->n);
		free(tn->first);
		free(tn->name);
		free(tn);
		return ENOMEM;
	}
	*out = tn;
	return 0;
}

/* Get a record for reading; *n = NULL if absent. In a transaction: its
 * copy, taken at the first access (cxenstored's snapshot semantics). */
static int v_get(struct store *s, struct txn *t, const struct caller *c,
		 const char *name, struct node **n)
{
	if (!t) {
		*n = live_find(s, name);
		return 0;
	}
	struct txnode *tn;
	int err = tx_touch(s, t, c, name, &tn);
	*n = err ? NULL : tn->n;
	return err;
}

/* The record to change in place (from v_get): in a transaction, its copy,
 * now marked as changed. NULL: not found (cannot happen). */
static struct node *v_mut(struct txn *t, struct node *n)
{
	if (!t)
		return n;
	struct txnode *tn = tx_find(t, n->name);
	if (!tn || tn->n != n)
		return NULL;
	tn->modified = true;
	return n;
}

/* Look without recording an access (for watch permissions only). */
static const struct node *v_peek(struct store *s, struct txn *t, const char *name)
{
	if (t) {
		struct txnode *tn = tx_find(t, name);
		if (tn)
			return tn->n;
	}
	return live_find(s, name);
}

/* A record (from v_mut) was changed in place: a fresh generation (a
 * transaction's copy too: DIRECTORY_PART inside it shows that). */
static void v_changed(struct store *s, struct txn *t, struct node *n)
{
	n->gen = ++s->gen;
	charge(s, t, n);
	if (!t)
		note_change(s, n->name);
}

/* Insert a new record (absent before; v_get was called on its name). */
static int v_insert(struct store *s, struct txn *t, struct node *n)
{
	n->gen = ++s->gen;
	if (!t) {
		if (htab_insert(&s->nodes, &n->he) < 0)
			return ENOMEM;
		charge(s, t, n);
		note_change(s, n->name);
		return 0;
	}
	struct txnode *tn = tx_find(t, n->name);
	if (!tn)
		return EIO;
	if (tn->n)
		uncharge(s, t, tn->n);
	node_free(tn->n);
	tn->n = n;
	tn->modified = true;
	charge(s, t, n);
	return 0;
}

static void v_delete(struct store *s, struct txn *t, struct node *n)
{
	if (!t) {
		note_change(s, n->name);
		htab_remove(&s->nodes, &n->he);
		uncharge(s, t, n);
		node_free(n);
		s->gen++;
		return;
	}
	struct txnode *tn = tx_find(t, n->name);
	if (tn) {
		if (tn->n)
			uncharge(s, t, tn->n);
		node_free(tn->n);
		tn->n = NULL;
		tn->modified = true;
	}
}

/* ---- events (the rest: store-event.c) ---- */

/*
 * Event for a change of name (node n). A transaction's events wait for the
 * commit, one per node (a non-exact one wins over an exact one), in the
 * order first changed: Xen's queue_watches().
 */
static int fire(struct store *s, struct txn *t, struct events *ev,
		const char *name, bool exact, const struct node *n,
		const struct perm *old, unsigned int nold)
{
	char parent[PATH_BUF];
	const struct node *p = NULL;

	if (t) {
		struct txnode *tn = tx_find(t, name);
		if (!tn)
			return 0;
		if (tn->fired) {
			tn->fire_exact &= exact;
			return 0;
		}
		if (t->nfired == t->capfired) {
			size_t cap = t->capfired ? t->capfired * 2 : 8;
			void *v = realloc(t->fired, cap * sizeof(*t->fired));
			if (!v)
				return ENOMEM;
			t->fired = v;
			t->capfired = cap;
		}
		t->fired[t->nfired++] = tn;
		tn->fired = true;
		tn->fire_exact = exact;
		return 0;
	}
	if (!ev)
		return 0;
	if (name[0] == '/' && name[1] != '\0') {
		path_parent(name, parent);
		p = v_peek(s, t, parent);
	}
	return event_add(ev, name, exact, n, p, old, nold);
}

/* ---- lookups with Xen's permission rules ---- */

static unsigned int access_of(const struct caller *c, const struct node *n)
{
	return perms_for(c, n->perms, n->nperms);
}

/*
 * Xen's errno_from_parents(): a failure must not tell a caller more than its
 * rights allow. The nearest existing ancestor decides: without `want` access
 * there, the answer is EACCES whatever the real reason.
 */
static int errno_from_parents(struct store *s, struct txn *t, const struct caller *c,
			      const char *name, int err, unsigned int want)
{
	char cur[PATH_BUF];
	struct node *n = NULL;

	if (err == ENOMEM || err == ENOSPC)
		return err;
	strcpy(cur, name);
	do {
		char up[PATH_BUF];
		path_parent(cur, up);
		strcpy(cur, up);
		int e = v_get(s, t, c, cur, &n);
		if (e)
			return e;
	} while (!n && strcmp(cur, "/") != 0);
	if (!n)
		return EACCES;
	return (access_of(c, n) & want) ? err : EACCES;
}

/* Xen's get_node(): the record if it exists and c has `want` on it. */
static int get_node(struct store *s, struct txn *t, const struct caller *c,
		    const char *name, unsigned int want, struct node **out)
{
	struct node *n;
	int err = v_get(s, t, c, name, &n);

	*out = NULL;
	if (err)
		return err;
	if (n && (access_of(c, n) & want) == want) {
		*out = n;
		return 0;
	}
	return errno_from_parents(s, t, c, name, n ? EACCES : ENOENT, want);
}

int store_read(struct store *s, struct txn *t, const struct caller *c,
	       const char *name, const struct node **out)
{
	struct node *n;
	int err = get_node(s, t, c, name, PERM_READ, &n);
	*out = n;
	return err;
}

int store_get_perms(struct store *s, struct txn *t, const struct caller *c,
		    const char *name, const struct node **out)
{
	return store_read(s, t, c, name, out);
}

/*
 * Xen's create_node(): make name and any missing ancestors, each inheriting
 * its parent's permissions (an unprivileged creator owns what it creates).
 * Every quota is checked before anything changes, so a refusal leaves
 * nothing half-made.
 */
static int create_node(struct store *s, struct txn *t, const struct caller *c,
		       const char *name, const char *data, size_t len,
		       struct node **out)
{
	/* Walk up to the first existing ancestor, remembering the levels. */
	char *chain[PATH_BUF / 2];
	unsigned int levels = 0;
	struct node *parent = NULL, *n = NULL;
	char cur[PATH_BUF];
	int err = 0;

	strcpy(cur, name);
	while (!parent) {
		if (!(chain[levels] = strdup(cur))) {
			err = ENOMEM;
			goto out;
		}
		levels++;
		char up[PATH_BUF];
		path_parent(cur, up);
		strcpy(cur, up);
		if ((err = v_get(s, t, c, cur, &parent)))
			goto out;
		if (!parent && strcmp(cur, "/") == 0) {
			err = EIO;
			goto out;
		}
	}
	if (!c->priv) {
		size_t perms_sz = NODE_HDR_SIZE + parent->nperms * 8;
		if (store_owned(s, t, c->domid) + (int)levels > (int)s->q.nodes ||
		    node_size(parent) + strlen(path_base(chain[levels - 1])) + 1 >= s->q.node_size ||
		    perms_sz + len >= s->q.node_size) {
			err = ENOSPC;
			goto out;
		}
		for (unsigned int l = levels; l > 1; l--) /* each new inner node holds one child */
			if (perms_sz + strlen(path_base(chain[l - 2])) + 1 >= s->q.node_size) {
				err = ENOSPC;
				goto out;
			}
	}
	for (unsigned int l = levels; l > 0; l--) {
		const char *nm = chain[l - 1];
		if (!(parent = v_mut(t, parent)) || (err = node_add_child(parent, path_base(nm)))) {
			err = err ? err : ENOMEM;
			goto out;
		}
		v_changed(s, t, parent);
		struct node *dummy;
		if ((err = v_get(s, t, c, nm, &dummy)))
			goto out;
		if (!(n = node_new(nm, parent->perms, parent->nperms, l == 1 ? len : 0))) {
			err = ENOMEM;
			goto out;
		}
		if (!c->priv)
			n->perms[0].id = c->domid;
		if ((err = v_insert(s, t, n))) {
			node_free(n);
			goto out;
		}
		account(s, t, n->perms[0].id, 1);
		parent = n;
	}
	if (len) {
		if ((err = node_set_data(n, data, len)))
			goto out;
		charge(s, t, n);
	}
	*out = n;
out:
	while (levels > 0)
		free(chain[--levels]);
	return err;
}

int store_write(struct store *s, struct txn *t, const struct caller *c,
		const char *name, const char *data, size_t len, struct events *ev)
{
	struct node *n;
	int err = get_node(s, t, c, name, PERM_WRITE, &n);

	if (err == ENOENT) {
		err = create_node(s, t, c, name, data, len, &n);
	} else if (!err) {
		if (!c->priv && NODE_HDR_SIZE + n->nperms * 8 + len + n->childlen >= s->q.node_size)
			return ENOSPC;
		if (!(n = v_mut(t, n)) || node_set_data(n, data, len))
			return ENOMEM;
		v_changed(s, t, n);
	}
	if (err)
		return err;
	return fire(s, t, ev, name, false, n, NULL, 0);
}

int store_mkdir(struct store *s, struct txn *t, const struct caller *c,
		const char *name, struct events *ev)
{
	struct node *n;
	int err = get_node(s, t, c, name, PERM_WRITE, &n);

	if (err != ENOENT)
		return err;
	if ((err = create_node(s, t, c, name, NULL, 0, &n)))
		return err;
	return fire(s, t, ev, name, false, n, NULL, 0);
}

/*
 * Remove n and everything below it, children first (Xen's order). Each
 * child's entry leaves n's list as the child goes, so that a walk stopped
 * half-way (only possible in a stale transaction) leaves what cxenstored
 * leaves.
 */
static int rm_tree(struct store *s, struct txn *t, const struct caller *c,
		   struct node *n, const char *root, struct events *ev)
{
	while (n->childlen > 0) {
		char child[PATH_BUF];
		int w = snprintf(child, sizeof(child), "%s/%s",
				 n->name[1] ? n->name : "", n->children);
		if (w < 0 || (size_t)w >= sizeof(child))
			return EIO;
		struct node *cn;
		int err = v_get(s, t, c, child, &cn);
		if (err)
			return err;
		/* A listed child that is gone: a transaction whose copy of n is
		 * older than the live tree. cxenstored says EIO. */
		if (!cn)
			return EIO;
		if ((err = rm_tree(s, t, c, cn, root, ev)))
			return err;
		if (!(n = v_mut(t, n)))
			return ENOMEM;
		node_del_child(n, path_base(child));
	}
	int err = fire(s, t, ev, n->name, strcmp(n->name, root) != 0, n, NULL, 0);
	account(s, t, n->perms[0].id, -1);
	v_delete(s, t, n);
	return err;
}

int store_rm(struct store *s, struct txn *t, const struct caller *c,
	     const char *name, struct events *ev)
{
	struct node *n, *parent;
	char pname[PATH_BUF];
	int err = get_node(s, t, c, name, PERM_WRITE, &n);

	if (err == ENOENT) {
		/* Already gone: fine, if the parent exists. */
		path_parent(name, pname);
		if ((err = v_get(s, t, c, pname, &parent)))
			return err;
		return parent ? 0 : ENOENT;
	}
	if (err)
		return err;
	if (strcmp(name, "/") == 0)
		return EINVAL;
	path_parent(name, pname);
	if ((err = v_get(s, t, c, pname, &parent)))
		return err;
	/* Both below happen only in a transaction whose view mixes its own
	 * copies with newer live nodes: cxenstored's answers, at the same
	 * points (the subtree is gone before the parent turns out stale). */
	if (!parent)
		return EINVAL;
	if ((err = rm_tree(s, t, c, n, name, ev)))
		return err;
	if (!node_has_child(parent, path_base(name)))
		return EIO;
	if (!(parent = v_mut(t, parent)))
		return ENOMEM;
	node_del_child(parent, path_base(name));
	v_changed(s, t, parent);
	return 0;
}

static bool domain_exists(const struct store *s, uint32_t domid)
{
	if (domid == 0)
		return true;
	return s->domain_exists && s->domain_exists(s->domain_ctx, domid);
}

int store_set_perms(struct store *s, struct txn *t, const struct caller *c,
		    const char *name, struct perm *p, unsigned int np,
		    struct events *ev)
{
	struct node *n;

	for (unsigned int i = 0; i < np; i++)
		if (!domain_exists(s, p[i].id))
			p[i].perms |= PERM_IGNORE;
	if (p[0].perms & PERM_IGNORE)
		return ENOENT;

	int err = get_node(s, t, c, name, PERM_WRITE | PERM_OWNER, &n);
	if (err)
		return err;
	if (!c->priv && p[0].id != n->perms[0].id)
		return EPERM;
	if (!c->priv && NODE_HDR_SIZE + np * 8 + n->datalen + n->childlen >= s->q.node_size)
		return ENOSPC;

	/* the old entries, for the event (perm1 is about to be overwritten) */
	unsigned int nold = n->nperms;
	struct perm *old = memdup(n->perms, nold * sizeof(*p));
	if (!old || !(n = v_mut(t, n))) {
		free(old);
		return ENOMEM;
	}
	uncharge(s, t, n); /* charged to the old owner */
	if (node_set_perms(n, p, np)) {
		charge(s, t, n);
		free(old);
		return ENOMEM;
	}
	account(s, t, old[0].id, -1);
	account(s, t, p[0].id, 1);
	v_changed(s, t, n);
	/* A special name's permissions only say who sees its events; setting
	 * them fires nothing (cxenstored's set_perms_special). */
	err = name[0] == '@' ? 0 : fire(s, t, ev, name, false, n, old, nold);
	free(old);
	return err;
}

/* ---- domains going away ---- */

void store_forget_domain(struct store *s, uint32_t domid, struct events *ev)
{
	const struct caller dom0 = { .domid = 0, .priv = true };
	size_t it;
	bool again = true;

	/* Nothing it owns and no entry naming it: nothing to walk (releasing
	 * a domain costs the same with 10 domains or 1,000). */
	struct acct_entry *ae = acct_slot(&s->owned, domid, false);
	if (!ae || (ae->count == 0 && ae->refs == 0))
		return;
	/* Remove every subtree whose top node the domain owns. */
	while (again) {
		again = false;
		for (struct htab_entry *e = htab_first(&s->nodes, &it); e;
		     e = htab_next(&s->nodes, &it, e)) {
			struct node *n = htab_container(e, struct node, he);
			if (n->perms[0].id == domid && n->name[0] == '/' && n->name[1]) {
				char name[PATH_BUF];
				strcpy(name, n->name);
				store_rm(s, NULL, &dom0, name, ev);
				again = true;
				break;
			}
		}
	}
	for (struct htab_entry *e = htab_first(&s->nodes, &it); e;
	     e = htab_next(&s->nodes, &it, e)) {
		struct node *n = htab_container(e, struct node, he);
		for (unsigned int i = 1; i < n->nperms; i++)
			if (n->perms[i].id == domid) {
				n->perms[i].perms |= PERM_IGNORE;
				note_change(s, n->name);
			}
	}
}

/* ---- setup ---- */

static int add_initial(struct store *s, const char *name, const char *child)
{
	const struct perm p = { 0, PERM_NONE };
	struct node *n = node_new(name, &p, 1, 0);
	if (!n)
		return -1;
	if (child && node_add_child(n, child)) {
		node_free(n);
		return -1;
	}
	if (v_insert(s, NULL, n)) {
		node_free(n);
		return -1;
	}
	acct_add(&s->owned, 0, 1);
	return 0;
}

int store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	s->q = (struct quota){ .nodes = 1000, .node_size = 2048,
			       .perms = PERMS_MAX_DEFAULT, .tx_nodes = 1024,
			       .path_rel = 2048 };
	if (htab_init(&s->nodes, 1024) < 0)
		return -1;
	if (!(s->owned.idx = calloc(ACCT_IDX_MAX, sizeof(*s->owned.idx)))) {
		htab_fini(&s->nodes);
		return -1;
	}
	if (add_initial(s, "/", "tool") || add_initial(s, "/tool", "xenstored") ||
	    add_initial(s, "/tool/xenstored", NULL) ||
	    add_initial(s, "@introduceDomain", NULL) ||
	    add_initial(s, "@releaseDomain", NULL)) {
		store_fini(s);
		return -1;
	}
	return 0;
}

void store_fini(struct store *s)
{
	size_t it;
	struct htab_entry *e = htab_first(&s->nodes, &it);
	while (e) {
		struct htab_entry *next = htab_next(&s->nodes, &it, e);
		node_free(htab_container(e, struct node, he));
		e = next;
	}
	htab_fini(&s->nodes);
	free(s->owned.v);
	free(s->owned.idx);
	s->owned.v = NULL;
	s->owned.idx = NULL;
	s->owned.n = 0;
}
