/*
 * store.c — the XenStore tree, permissions, quotas and transactions.
 *
 * Nodes live in one hash table keyed by their full name. A node record holds
 * its value, its permissions and the NUL-separated names of its children (in
 * creation order, as Xen's DIRECTORY returns them), plus a generation number:
 * every change to a record sets its generation to a fresh value of a global
 * counter. Adding or removing a child is a change to the parent's record.
 * A live record does not keep its full name: it points to its parent and
 * keeps the last component (store.h, struct node), so a live record stays
 * where it is for as long as it lives: changes are made to it in place.
 *
 * Transactions (as cxenstored since Xen 4.9): a transaction keeps an overlay
 * of the records it has touched. The first access to a name copies the live
 * record (or notes that it was absent) together with the generation it had at
 * that moment ("base generation"; 0 = absent). Reads and writes inside the
 * transaction then use the copy only. At commit, every touched name is checked
 * against the live tree: if any live generation differs from its base, someone
 * else changed it since we looked, and the commit fails with EAGAIN, leaving
 * the live tree untouched. Otherwise the modified copies are copied into the
 * live records (or become new ones, or the live ones go), each with a new
 * generation.
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

static bool is_root(const struct node *n)
{
	return !n->parent && n->baselen == 1 && n->base[0] == '/';
}

size_t node_name(const struct node *n, char *buf)
{
	size_t len = 0, p;
	const struct node *m;

	for (m = n; m->parent; m = m->parent)
		len += (size_t)m->baselen + 1;
	size_t top = (m != n && is_root(m)) ? 0 : m->baselen; /* "/" + base under the root */
	p = len + top;
	buf[p] = '\0';
	for (m = n; m->parent; m = m->parent) {
		p -= m->baselen;
		memcpy(buf + p, m->base, m->baselen);
		buf[--p] = '/';
	}
	memcpy(buf, m->base, top);
	return len + top;
}

static size_t name_len(const struct node *n)
{
	size_t len = 0;
	for (; n->parent; n = n->parent)
		len += (size_t)n->baselen + 1;
	return len + (is_root(n) && len ? 0 : n->baselen);
}

/* Is n's whole name name[0..len)? Compared from the end, one component
 * at a time, without building it. */
static bool node_is(const struct node *n, const char *name, size_t len)
{
	for (; n->parent; n = n->parent) {
		size_t bl = n->baselen;
		if (len < bl + 1 || name[len - bl - 1] != '/' ||
		    memcmp(name + len - bl, n->base, bl) != 0)
			return false;
		len -= bl + 1;
		if (is_root(n->parent))
			return len == 0;
	}
	return len == n->baselen && memcmp(name, n->base, len) == 0;
}

/*
 * The area after the name holds the value and then the children's names
 * (inline), or, once they do not fit there, a pointer to an allocation of
 * their own holding the same (ext). node_alloc leaves room for the pointer.
 */
static char *area(const struct node *n)
{
	return (char *)n->base + n->baselen + 1;
}

static size_t area_room(const struct node *n)
{
	return malloc_usable_size((void *)n) - (size_t)(area(n) - (const char *)n);
}

static char *node_bytes(struct node *n)
{
	return (char *)node_data(n);
}

static struct perm *perms_mut(struct node *n)
{
	return n->nperms == 1 ? &n->pv.one : n->pv.many;
}

/* Free what n holds outside its allocation. */
static void node_free_parts(struct node *n)
{
	if (n->ext)
		free(node_bytes(n));
	if (n->nperms > 1)
		free(n->pv.many);
	n->ext = 0;
	n->datalen = n->childlen = 0;
	n->nperms = 0;
}

/*
 * Free n, or, while records below still name themselves through it, keep
 * its header as their name's part (dead) until the last of them goes. A
 * parent left dead with nothing below goes too.
 */
void node_free(struct node *n)
{
	while (n) {
		node_free_parts(n);
		if (n->refs) {
			n->dead = 1;
			return;
		}
		struct node *p = n->parent;
		free(n);
		nodes_alive--;
		n = (p && --p->refs == 0 && p->dead) ? p : NULL;
	}
}

/* Set n's permissions (a copy of p): 0 or ENOMEM (n unchanged). */
int node_set_perms(struct node *n, const struct perm *p, unsigned int np)
{
	struct perm *v = NULL;
	if (np > UINT16_MAX)
		return ENOMEM;
	if (np > 1) {
		if (!(v = malloc(np * sizeof(*p))))
			return ENOMEM;
		memcpy(v, p, np * sizeof(*p));
	}
	if (n->nperms > 1)
		free(n->pv.many);
	if (np == 1)
		n->pv.one = p[0];
	else
		n->pv.many = v;
	n->nperms = (uint16_t)np;
	return 0;
}

/*
 * Make n's value dl bytes and its children cl bytes: the old value's
 * first min(dl, old) bytes and the old children's first min(cl, old)
 * bytes are kept, at their new places. Inline when they fit, else in an
 * allocation of their own (grown as needed, left when they fit inline
 * again). Returns where they now are, or NULL (ENOMEM, n unchanged).
 */
static char *node_resize(struct node *n, size_t dl, size_t cl)
{
	char *old = node_bytes(n), *a = area(n), *to;
	size_t odl = n->datalen, ocl = n->childlen;
	size_t kc = cl < ocl ? cl : ocl, keepd = dl < odl ? dl : odl;

	if (dl + cl <= area_room(n)) {
		to = a;
		if (n->ext) {           /* back inline */
			memcpy(to, old, keepd);
			memcpy(to + dl, old + odl, kc);
			free(old);
			n->ext = 0;
		} else {
			memmove(to + dl, old + odl, kc);
		}
	} else if (n->ext && dl + cl <= malloc_usable_size(old)) {
		to = old;
		memmove(to + dl, old + odl, kc);
	} else if (n->ext && dl == odl) { /* children added: grow in place if it can */
		if (!(to = realloc(old, dl + cl)))
			return NULL;
		*node_ext(n) = to;
	} else {
		if (!(to = malloc(dl + cl ? dl + cl : 1)))
			return NULL;
		memcpy(to, old, keepd);
		memcpy(to + dl, old + odl, kc);
		if (n->ext)
			free(old);
		*node_ext(n) = to;
		n->ext = 1;
	}
	n->datalen = (uint32_t)dl;
	n->childlen = (uint32_t)cl;
	return to;
}

/* Set n's value (a copy). 0 or ENOMEM (n unchanged). */
int node_set_data(struct node *n, const char *data, size_t len)
{
	char *to = node_resize(n, len, n->childlen);
	if (!to)
		return ENOMEM;
	if (len)
		memcpy(to, data, len);
	return 0;
}

/* Set n's children (a copy of len bytes): 0 or ENOMEM (n unchanged). */
static int node_set_children(struct node *n, const char *kids, size_t len)
{
	char *to = node_resize(n, n->datalen, len);
	if (!to)
		return ENOMEM;
	if (len)
		memcpy(to + n->datalen, kids, len);
	return 0;
}

/*
 * A record named base below parent (NULL: base is the whole name) with a
 * copy of the permissions; no data, no children; room: bytes of value and
 * children to make room for in the record's allocation.
 */
static struct node *node_alloc(struct node *parent, const char *base, size_t bl,
			       const struct perm *p, unsigned int np, size_t room)
{
	if (bl >= PATH_BUF)
		return NULL;
	/* room for the (aligned) address of value and children, should they
	 * outgrow the room */
	size_t at = offsetof(struct node, base) + bl + 1, ptr = sizeof(char *);
	if (room < (ptr - at % ptr) % ptr + ptr)
		room = (ptr - at % ptr) % ptr + ptr;
	struct node *n = calloc(1, at + room);
	if (!n)
		return NULL;
	nodes_alive++;
	memcpy(n->base, base, bl);
	n->baselen = (uint16_t)bl & 0x1fff;
	if (node_set_perms(n, p, np)) {
		free(n);
		nodes_alive--;
		return NULL;
	}
	if (parent) {
		n->parent = parent;
		parent->refs++;
	}
	return n;
}

struct node *node_new(const char *name, const struct perm *p, unsigned int np, size_t room)
{
	return node_alloc(NULL, name, strlen(name), p, np, room);
}

static struct node *node_dup(const struct node *o)
{
	char name[PATH_BUF];
	size_t nl = node_name(o, name);
	struct node *n = node_alloc(NULL, name, nl, node_perms(o), o->nperms,
				    o->datalen + o->childlen);
	if (!n)
		return NULL;
	n->gen = o->gen;
	if (node_set_data(n, node_data(o), o->datalen) ||
	    node_set_children(n, node_children(o), o->childlen)) {
		node_free(n);
		return NULL;
	}
	return n;
}

static size_t node_size(const struct node *n)
{
	return NODE_HDR_SIZE + n->nperms * 8 + n->datalen + n->childlen;
}

static int node_add_child(struct node *n, const char *base)
{
	size_t bl = strlen(base) + 1, cl = n->childlen;
	char *to = node_resize(n, n->datalen, cl + bl);

	if (!to)
		return ENOMEM;
	memcpy(to + n->datalen + cl, base, bl);
	return 0;
}

static void node_del_child(struct node *n, const char *base)
{
	char *c = node_bytes(n) + n->datalen;

	for (uint32_t i = 0; i < n->childlen;) {
		size_t l = strlen(c + i) + 1;
		if (strcmp(c + i, base) == 0) {
			memmove(c + i, c + i + l, n->childlen - i - l);
			n->childlen -= (uint32_t)l;
			return;
		}
		i += (uint32_t)l;
	}
}

static bool node_has_child(const struct node *n, const char *base)
{
	const char *c = node_children(n);

	for (uint32_t i = 0; i < n->childlen; i += (uint32_t)strlen(c + i) + 1)
		if (strcmp(c + i, base) == 0)
			return true;
	return false;
}

/* ---- the live records by name ---- */

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct node *ntab_find(const struct ntab *t, const char *name, size_t len)
{
	uint32_t hv = hash_name(name, len);
	for (struct node *n = t->slots[hv & (t->nslots - 1)]; n; n = n->next)
		if (n->hash == hv && node_is(n, name, len))
			return n;
	return NULL;
}

static int ntab_init(struct ntab *t, size_t initial)
{
	size_t n = 16;
	while (n < initial)
		n <<= 1;
	if (!(t->slots = calloc(n, sizeof(*t->slots))))
		return -1;
	t->nslots = n;
	t->count = 0;
	return 0;
}

/* Insert n (n->hash set, not present): 0 or ENOMEM. */
static int ntab_insert(struct ntab *t, struct node *n)
{
	if (t->count >= 2 * t->nslots) { /* chains of two on average: 4 bytes a record */
		size_t ns = t->nslots * 2;
		struct node **s = calloc(ns, sizeof(*s));
		if (!s)
			return ENOMEM;
		for (size_t i = 0; i < t->nslots; i++)
			for (struct node *e = t->slots[i], *next; e; e = next) {
				next = e->next;
				e->next = s[e->hash & (ns - 1)];
				s[e->hash & (ns - 1)] = e;
			}
		free(t->slots);
		t->slots = s;
		t->nslots = ns;
	}
	struct node **slot = &t->slots[n->hash & (t->nslots - 1)];
	n->next = *slot;
	*slot = n;
	t->count++;
	return 0;
}

static void ntab_remove(struct ntab *t, struct node *n)
{
	for (struct node **p = &t->slots[n->hash & (t->nslots - 1)]; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			t->count--;
			return;
		}
}

const struct node *store_first(const struct store *s, size_t *it)
{
	for (*it = 0; *it < s->nodes.nslots; (*it)++)
		if (s->nodes.slots[*it])
			return s->nodes.slots[*it];
	return NULL;
}

const struct node *store_next(const struct store *s, size_t *it, const struct node *n)
{
	if (n->next)
		return n->next;
	for ((*it)++; *it < s->nodes.nslots; (*it)++)
		if (s->nodes.slots[*it])
			return s->nodes.slots[*it];
	return NULL;
}

struct node *live_find(const struct store *s, const char *name)
{
	return ntab_find(&s->nodes, name, strlen(name));
}

/*
 * A new live record named name (not present), with a copy of img's value,
 * children and permissions (name, gen: taken as they are). Its name is
 * kept as its parent and last component when the parent is live.
 */
struct node *live_add(struct store *s, const char *name, const struct node_img *img)
{
	size_t len = strlen(name);
	const char *slash = name[0] == '/' && len > 1 ? strrchr(name, '/') : NULL;
	struct node *parent = NULL;

	if (slash)
		parent = slash == name ? live_find(s, "/") :
			 ntab_find(&s->nodes, name, (size_t)(slash - name));
	if (parent && slash != name && is_root(parent))
		parent = NULL; /* "//x": not "/" and "x" */
	const char *base = parent ? slash + 1 : name;
	size_t bl = len - (size_t)(base - name);
	struct node *n = node_alloc(parent, base, bl, img->perms, img->nperms,
				    (size_t)img->datalen + img->childlen);
	if (!n)
		return NULL;
	n->gen = img->gen;
	n->hash = hash_name(name, len);
	if (node_set_data(n, img->data, img->datalen) ||
	    node_set_children(n, img->children, img->childlen) ||
	    ntab_insert(&s->nodes, n)) {
		node_free(n);
		return NULL;
	}
	return n;
}

/* Put img's value, children and permissions into the record n. 0 or ENOMEM. */
int node_copy_in(struct node *n, const struct node_img *img)
{
	if (node_set_data(n, img->data, img->datalen) ||
	    node_set_children(n, img->children, img->childlen) ||
	    node_set_perms(n, img->perms, img->nperms))
		return ENOMEM;
	n->gen = img->gen;
	return 0;
}

/* Take a live record out of the table and free it (see node_free). */
void live_del(struct store *s, struct node *n)
{
	ntab_remove(&s->nodes, n);
	node_free(n);
}

void store_img(const struct node *n, char *namebuf, struct node_img *img)
{
	node_name(n, namebuf);
	*img = (struct node_img){
		.name = namebuf, .gen = n->gen, .data = node_data(n), .datalen = n->datalen,
		.children = node_children(n), .childlen = n->childlen,
		.perms = node_perms(n), .nperms = n->nperms,
	};
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
	return (uint32_t)(node_size(n) + name_len(n) + 1);
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
		struct acct_entry *e = acct_slot(&s->owned, node_perms(n)[i].id, true);
		if (e)
			e->refs += d;
	}
}

void uncharge(struct store *s, struct txn *t, struct node *n)
{
	if (n->charged) {
		charge_to(s, t, node_perms(n)[0].id, -(long)n->charged);
		if (!t)
			count_refs(s, n, -1);
	}
	n->charged = 0;
}

void charge(struct store *s, struct txn *t, struct node *n)
{
	uncharge(s, t, n);
	n->charged = node_mem(n);
	charge_to(s, t, node_perms(n)[0].id, n->charged);
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
		     !(tn->first = memdup(node_perms(live), live->nperms * sizeof(struct perm))))) {
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

/* The record to change in place (from v_get): in a transaction, its copy
 * (whose base is its whole name), now marked as changed. NULL: not found
 * (cannot happen). */
static struct node *v_mut(struct txn *t, struct node *n)
{
	if (!t)
		return n;
	struct txnode *tn = tx_find(t, n->base);
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
static void v_changed(struct store *s, struct txn *t, struct node *n, const char *name)
{
	n->gen = ++s->gen;
	charge(s, t, n);
	if (!t)
		note_change(s, name);
}

/* Insert a new record named name (absent before; v_get was called on its
 * name): live, one made by node_alloc below its live parent; in t, one
 * made by node_new. */
static int v_insert(struct store *s, struct txn *t, struct node *n, const char *name)
{
	n->gen = ++s->gen;
	if (!t) {
		n->hash = hash_name(name, strlen(name));
		if (ntab_insert(&s->nodes, n))
			return ENOMEM;
		charge(s, t, n);
		note_change(s, name);
		return 0;
	}
	struct txnode *tn = tx_find(t, name);
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

static void v_delete(struct store *s, struct txn *t, struct node *n, const char *name)
{
	if (!t) {
		note_change(s, name);
		uncharge(s, t, n);
		live_del(s, n);
		s->gen++;
		return;
	}
	struct txnode *tn = tx_find(t, name);
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
	return perms_for(c, node_perms(n), n->nperms);
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
	const char *pname = cur;
	for (unsigned int l = levels; l > 0; l--) {
		const char *nm = chain[l - 1], *base = path_base(nm);
		if (!(parent = v_mut(t, parent)) || (err = node_add_child(parent, base))) {
			err = err ? err : ENOMEM;
			goto out;
		}
		v_changed(s, t, parent, pname);
		struct node *dummy;
		if ((err = v_get(s, t, c, nm, &dummy)))
			goto out;
		/* room for the value, or for the one child an inner node gets */
		size_t room = l == 1 ? len : strlen(path_base(chain[l - 2])) + 1;
		n = t ? node_new(nm, node_perms(parent), parent->nperms, room) :
			node_alloc(parent, base, strlen(base), node_perms(parent), parent->nperms, room);
		if (!n) {
			err = ENOMEM;
			goto out;
		}
		if (!c->priv)
			perms_mut(n)[0].id = c->domid;
		if ((err = v_insert(s, t, n, nm))) {
			node_free(n);
			goto out;
		}
		account(s, t, node_perms(n)[0].id, 1);
		parent = n;
		pname = nm;
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
		v_changed(s, t, n, name);
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
		   struct node *n, const char *name, const char *root, struct events *ev)
{
	while (n->childlen > 0) {
		char child[PATH_BUF];
		int w = snprintf(child, sizeof(child), "%s/%s",
				 name[1] ? name : "", node_children(n));
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
		if ((err = rm_tree(s, t, c, cn, child, root, ev)))
			return err;
		if (!(n = v_mut(t, n)))
			return ENOMEM;
		node_del_child(n, path_base(child));
	}
	int err = fire(s, t, ev, name, strcmp(name, root) != 0, n, NULL, 0);
	account(s, t, node_perms(n)[0].id, -1);
	v_delete(s, t, n, name);
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
	if ((err = rm_tree(s, t, c, n, name, name, ev)))
		return err;
	if (!node_has_child(parent, path_base(name)))
		return EIO;
	if (!(parent = v_mut(t, parent)))
		return ENOMEM;
	node_del_child(parent, path_base(name));
	v_changed(s, t, parent, pname);
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
	if (!c->priv && p[0].id != node_perms(n)[0].id)
		return EPERM;
	if (!c->priv && NODE_HDR_SIZE + np * 8 + n->datalen + n->childlen >= s->q.node_size)
		return ENOSPC;

	/* the old entries, for the event (perm1 is about to be overwritten) */
	unsigned int nold = n->nperms;
	struct perm *old = memdup(node_perms(n), nold * sizeof(*p));
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
	v_changed(s, t, n, name);
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
		for (const struct node *n = store_first(s, &it); n; n = store_next(s, &it, n)) {
			char name[PATH_BUF];
			if (node_perms(n)[0].id == domid && node_name(n, name) > 1 &&
			    name[0] == '/') {
				store_rm(s, NULL, &dom0, name, ev);
				again = true;
				break;
			}
		}
	}
	for (const struct node *cn = store_first(s, &it); cn; cn = store_next(s, &it, cn)) {
		struct node *n = (struct node *)cn;
		struct perm *p = perms_mut(n);
		for (unsigned int i = 1; i < n->nperms; i++)
			if (p[i].id == domid) {
				char name[PATH_BUF];
				p[i].perms |= PERM_IGNORE;
				node_name(n, name);
				note_change(s, name);
			}
	}
}

/* ---- setup ---- */

static int add_initial(struct store *s, const char *name, const char *child)
{
	const struct perm p = { 0, PERM_NONE };
	const struct node_img img = {
		.name = name, .data = "", .children = child ? child : "",
		.childlen = child ? (uint32_t)strlen(child) + 1 : 0, .perms = &p, .nperms = 1,
	};
	struct node *n = live_add(s, name, &img);
	if (!n)
		return -1;
	n->gen = ++s->gen;
	charge(s, NULL, n);
	note_change(s, name);
	acct_add(&s->owned, 0, 1);
	return 0;
}

int store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	s->q = (struct quota){ .nodes = 1000, .node_size = 2048,
			       .perms = PERMS_MAX_DEFAULT, .tx_nodes = 1024,
			       .path_rel = 2048 };
	if (ntab_init(&s->nodes, 1024) < 0)
		return -1;
	if (!(s->owned.idx = calloc(ACCT_IDX_MAX, sizeof(*s->owned.idx)))) {
		free(s->nodes.slots);
		s->nodes.slots = NULL;
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

/* Every live record freed (a record goes once nothing below names itself
 * through it), the table left empty. */
void live_clear(struct store *s)
{
	for (size_t i = 0; i < s->nodes.nslots; i++)
		while (s->nodes.slots[i]) {
			struct node *n = s->nodes.slots[i];
			s->nodes.slots[i] = n->next;
			s->nodes.count--;
			node_free(n);
		}
}

void store_fini(struct store *s)
{
	live_clear(s);
	free(s->nodes.slots);
	s->nodes.slots = NULL;
	s->nodes.nslots = 0;
	free(s->owned.v);
	free(s->owned.idx);
	s->owned.v = NULL;
	s->owned.idx = NULL;
	s->owned.n = 0;
}
