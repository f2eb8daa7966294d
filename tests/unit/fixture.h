/*
 * fixture.h — the unit tests' store fixture (linked into every unit test):
 * a fresh store per test with domains made as a toolstack makes them, the
 * helpers that drive it, and the leak check at teardown (no node record
 * left: store_nodes_alive() == 0). Include after <cmocka.h>.
 */
#ifndef XM_TEST_FIXTURE_H
#define XM_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../xmstored/perms.h"
#include "../../xmstored/store.h"

#define FX_MAXDOM 16
#define FX_MAXTX 4

struct fx {
	struct store s;
	struct events ev;
	struct txn *open[FX_MAXTX]; /* aborted at teardown */
	bool dom[FX_MAXDOM];        /* domains that exist */
};

/* dom0 (privileged) and three guests. */
extern const struct caller PRIV, D1, D2, D3;

/* A fresh store (asserting that no node record is left from before) with
 * domains 1..ndom, events cleared. */
struct fx *fx_new(unsigned int ndom);
/* Abort the open transactions, free everything, assert no record is left. */
void fx_free(struct fx *f);
/* cmocka: fx_new(3) into *state; fx_free of it. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* /local/domain/<id>, owned by the domain, as a toolstack makes it. */
void fx_domain(struct fx *f, uint32_t id);
/* "n1,r2" -> perms (NUL-separated on the wire); perms_parse's answer. */
int fx_perms(const char *spec, struct perm *p, unsigned int *n);

/* Store operations in transaction t (NULL: none), events into f->ev. */
int fx_setp(struct fx *f, struct txn *t, const struct caller *c, const char *name,
	    const char *spec);
int fx_write(struct fx *f, struct txn *t, const struct caller *c, const char *name,
	     const char *data);
/* The node as a privileged reader sees it in t, or NULL if absent. */
const struct node *fx_node(struct fx *f, struct txn *t, const char *name);
/* A node's value, and its children "a,b,c" in DIRECTORY order, as a
 * privileged reader sees them in t; "<absent>" when there is no node. */
const char *fx_val(struct fx *f, struct txn *t, const char *name);
const char *fx_kids(struct fx *f, struct txn *t, const char *name);
/* The queued events, "path" or "path!" (exact), space-separated; cleared. */
const char *fx_evs(struct fx *f);

#endif
