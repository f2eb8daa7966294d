/*
 * store-txn.c — a transaction's start and end (the design: store.c's head
 * comment; the reads and writes inside one go through store.c's views).
 * The commit checks every touched record's generation against
 * the live tree (EAGAIN if any changed since it was first seen), then
 * puts the changed copies in place (into the live records; removals deepest
 * first, new records parents first), each with a new generation, applies the
 * transaction's node counts, tells the change hook (the journal, which
 * makes one record of the whole commit) and queues the due watch events.
 */
#include "store.h"
#include "store-priv.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * At commit, the due events. Who may see one is decided as cxenstored
 * does: by the node's permissions when the transaction first touched it,
 * else by the committed node (or its parent); a node that neither existed
 * then nor does now reports nothing.
 */
static void txn_events(struct store *s, struct txn *t, struct events *ev)
{
	char parent[PATH_BUF];

	for (size_t i = 0; i < t->nfired; i++) {
		struct txnode *tn = t->fired[i];
		const struct node *live = live_find(s, tn->name), *p = NULL;
		if (!tn->first && !live)
			continue;
		if (live && tn->name[0] == '/' && tn->name[1]) {
			path_parent(tn->name, parent);
			p = live_find(s, parent);
		}
		event_add(ev, tn->name, tn->fire_exact, live, p, tn->first, tn->nfirst);
	}
}

struct txn *store_txn_begin(struct store *s)
{
	(void)s;
	struct txn *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (htab_init(&t->ov, 16) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void txn_free(struct txn *t)
{
	size_t it;
	struct htab_entry *e = htab_first(&t->ov, &it);
	while (e) {
		struct htab_entry *next = htab_next(&t->ov, &it, e);
		struct txnode *tn = htab_container(e, struct txnode, he);
		node_free(tn->n);
		free(tn->first);
		free(tn->name);
		free(tn);
		e = next;
	}
	htab_fini(&t->ov);
	if (t->charge)
		*t->charge -= t->bytes;
	free(t->fired);
	free(t->delta.v);
	free(t);
}

void store_txn_charge(struct txn *t, long *ctr)
{
	if (t->charge)
		*t->charge -= t->bytes;
	t->charge = ctr;
	if (ctr)
		*ctr += t->bytes;
}

/* Would the nodes t creates take a domain past its quota? Others may have
 * committed since t's writes were checked (Xen: transaction_fix_domains). */
static bool txn_over_quota(const struct store *s, const struct txn *t)
{
	for (size_t i = 0; i < t->delta.n; i++)
		if (t->delta.v[i].count > 0 &&
		    store_owned(s, t, t->delta.v[i].domid) > (int)s->q.nodes)
			return true;
	return false;
}

static size_t depth(const char *name)
{
	size_t d = 0;
	for (; *name; name++)
		d += *name == '/';
	return d;
}

static int by_depth(const void *a, const void *b)
{
	size_t x = depth((*(struct txnode *const *)a)->name);
	size_t y = depth((*(struct txnode *const *)b)->name);
	return x < y ? -1 : x > y;
}

/* Put t's changed copy tn in place: into the live record (changed in
 * place), as a new live record, or the live record removed. */
static int commit_one(struct store *s, struct txn *t, struct txnode *tn)
{
	struct node *live = live_find(s, tn->name);
	int err = 0;

	if (live)
		uncharge(s, NULL, live);
	if (tn->n) {
		uncharge(s, t, tn->n);
		struct node_img img = {
			.name = tn->name, .gen = ++s->gen, .data = node_data(tn->n),
			.datalen = tn->n->datalen, .children = node_children(tn->n),
			.childlen = tn->n->childlen, .perms = node_perms(tn->n),
			.nperms = tn->n->nperms,
		};
		if (live)
			err = node_copy_in(live, &img);
		else if (!(live = live_add(s, tn->name, &img)))
			err = ENOMEM; /* the live tree lost a node: cannot happen short of OOM */
		if (live)
			charge(s, NULL, live);
	} else {
		if (live)
			live_del(s, live);
		s->gen++;
	}
	note_change(s, tn->name);
	return err;
}

int store_txn_end(struct store *s, struct txn *t, bool commit,
		  const struct caller *c, struct events *ev)
{
	size_t it, nmod = 0;
	struct htab_entry *e;
	struct txnode **mod = NULL;
	int err = 0;

	if (!commit)
		goto out;
	for (e = htab_first(&t->ov, &it); e; e = htab_next(&t->ov, &it, e)) {
		struct txnode *tn = htab_container(e, struct txnode, he);
		struct node *live = live_find(s, tn->name);
		if ((live ? live->gen : 0) != tn->base_gen) {
			err = EAGAIN;
			goto out;
		}
		nmod += tn->modified;
	}
	if (c && !c->priv && txn_over_quota(s, t)) {
		err = ENOSPC;
		goto out;
	}
	/* Parents before children, so that a new record finds its parent
	 * live (its name kept as the parent and its last component);
	 * removals deepest first. */
	if (nmod && !(mod = malloc(nmod * sizeof(*mod)))) {
		err = ENOMEM;
		goto out;
	}
	nmod = 0;
	for (e = htab_first(&t->ov, &it); e; e = htab_next(&t->ov, &it, e)) {
		struct txnode *tn = htab_container(e, struct txnode, he);
		if (tn->modified)
			mod[nmod++] = tn;
	}
	if (nmod > 1)
		qsort(mod, nmod, sizeof(*mod), by_depth);
	for (size_t i = nmod; i > 0 && !err; i--)
		if (!mod[i - 1]->n)
			err = commit_one(s, t, mod[i - 1]);
	for (size_t i = 0; i < nmod && !err; i++)
		if (mod[i]->n)
			err = commit_one(s, t, mod[i]);
	free(mod);
	for (size_t i = 0; i < t->delta.n; i++)
		acct_add(&s->owned, t->delta.v[i].domid, t->delta.v[i].count);
	if (ev)
		txn_events(s, t, ev);
out:
	txn_free(t);
	return err;
}
