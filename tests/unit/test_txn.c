/*
 * test_txn.c — transactions (store.c): isolation, commit, abort, EAGAIN on
 * conflicts (generation counts, as cxenstored since Xen 4.9), queued events,
 * per-transaction accounting and the tx_nodes quota.
 *
 * Leak accounting: a fresh store per test; teardown aborts whatever
 * transaction a failed test left open, frees the store and asserts that no
 * node record is left (store_nodes_alive() == 0).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../xmstored/path.h"
#include "../../xmstored/perms.h"
#include "../../xmstored/store.h"
#include "../../xmstored/watch.h"
#include "fixture.h"

static struct txn *tx_begin(struct fx *f)
{
	struct txn *t = store_txn_begin(&f->s);
	assert_non_null(t);
	for (int i = 0; i < FX_MAXTX; i++)
		if (!f->open[i]) {
			f->open[i] = t;
			return t;
		}
	fail_msg("too many transactions");
	return NULL;
}

static int tx_end(struct fx *f, struct txn *t, bool commit)
{
	for (int i = 0; i < FX_MAXTX; i++)
		if (f->open[i] == t)
			f->open[i] = NULL;
	return store_txn_end(&f->s, t, commit, NULL, &f->ev);
}

static int rd(struct fx *f, struct txn *t, const struct caller *c, const char *name)
{
	const struct node *n;
	return store_read(&f->s, t, c, name, &n);
}

static int rm(struct fx *f, struct txn *t, const struct caller *c, const char *name)
{
	return store_rm(&f->s, t, c, name, &f->ev);
}

static uint64_t gen(struct fx *f, const char *name)
{
	const struct node *n;
	assert_int_equal(store_read(&f->s, NULL, &PRIV, name, &n), 0);
	return n->gen;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queued events as a sorted set (a transaction reports each changed
 * node once; the order is not checked here). Cleared. */
static const char *evset(struct fx *f)
{
	static char buf[4096];
	char items[64][256];
	char *v[64];
	size_t len = 0;
	assert_true(f->ev.n <= 64);
	for (size_t i = 0; i < f->ev.n; i++) {
		int w = snprintf(items[i], sizeof(items[i]), "%s%s", f->ev.v[i]->path,
				 f->ev.v[i]->exact ? "!" : "");
		assert_true(w > 0 && (size_t)w < sizeof(items[i]));
		v[i] = items[i];
	}
	qsort(v, f->ev.n, sizeof(v[0]), cmp_str);
	buf[0] = '\0';
	for (size_t i = 0; i < f->ev.n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", v[i]);
		assert_true(w > 0 && (size_t)w < sizeof(buf) - len);
		len += (size_t)w;
	}
	events_clear(&f->ev);
	return buf;
}

/* Domains 1 and 2; /p and /q with a child each. */
static int setup(void **state)
{
	struct fx *f = fx_new(2);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/old", "p"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/q/old", "q"), 0);
	events_clear(&f->ev);
	*state = f;
	return 0;
}

/* ---- isolation, commit, abort ---- */

static void test_isolation_and_commit(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/new/leaf", "1"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/p/old", "changed"), 0);
	/* The transaction sees its changes ... */
	assert_string_equal(fx_val(f, t, "/p/new/leaf"), "1");
	assert_string_equal(fx_val(f, t, "/p/old"), "changed");
	assert_string_equal(fx_kids(f, t, "/p"), "old,new");
	/* ... nobody else does. */
	assert_string_equal(fx_val(f, NULL, "/p/new/leaf"), "<absent>");
	assert_string_equal(fx_val(f, NULL, "/p/new"), "<absent>");
	assert_string_equal(fx_val(f, NULL, "/p/old"), "p");
	assert_string_equal(fx_kids(f, NULL, "/p"), "old");
	/* Another transaction neither. */
	struct txn *u = tx_begin(f);
	assert_string_equal(fx_val(f, u, "/p/new/leaf"), "<absent>");
	assert_string_equal(fx_val(f, u, "/p/old"), "p");
	assert_int_equal(tx_end(f, u, false), 0);

	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/p/new/leaf"), "1");
	assert_string_equal(fx_val(f, NULL, "/p/new"), "");
	assert_string_equal(fx_val(f, NULL, "/p/old"), "changed");
	assert_string_equal(fx_kids(f, NULL, "/p"), "old,new");
}

static void test_abort_discards(void **state)
{
	struct fx *f = *state;
	long alive = store_nodes_alive();
	uint64_t gp = gen(f, "/p");
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/new/leaf", "1"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/p/old", "changed"), 0);
	assert_int_equal(rm(f, t, &PRIV, "/q"), 0);
	assert_int_equal(fx_setp(f, t, &PRIV, "/p", "n0,r1"), 0);
	assert_int_equal(tx_end(f, t, false), 0);
	assert_string_equal(fx_evs(f), "");
	assert_string_equal(fx_val(f, NULL, "/p/new"), "<absent>");
	assert_string_equal(fx_val(f, NULL, "/p/old"), "p");
	assert_string_equal(fx_val(f, NULL, "/q/old"), "q");
	assert_int_equal(rd(f, NULL, &D1, "/p"), EACCES);
	assert_int_equal(gen(f, "/p"), gp);
	assert_int_equal(store_nodes_alive(), alive);
}

static void test_commit_rm_and_perms(void **state)
{
	struct fx *f = *state;
	long alive = store_nodes_alive();
	struct txn *t = tx_begin(f);

	assert_int_equal(rm(f, t, &PRIV, "/q"), 0);
	assert_string_equal(fx_val(f, t, "/q/old"), "<absent>");
	assert_string_equal(fx_val(f, t, "/q"), "<absent>");
	assert_string_equal(fx_val(f, NULL, "/q/old"), "q");
	assert_int_equal(fx_setp(f, t, &PRIV, "/p/old", "n0,r1"), 0);
	assert_int_equal(rd(f, t, &D1, "/p/old"), 0);
	assert_int_equal(rd(f, NULL, &D1, "/p/old"), EACCES);
	/* Removing a missing node in the tx: fine if its parent exists there. */
	assert_int_equal(rm(f, t, &PRIV, "/q"), 0);
	assert_int_equal(rm(f, t, &PRIV, "/q/old"), ENOENT);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/q"), "<absent>");
	assert_string_equal(fx_val(f, NULL, "/q/old"), "<absent>");
	assert_string_equal(fx_kids(f, NULL, "/"), "tool,local,p");
	assert_int_equal(rd(f, NULL, &D1, "/p/old"), 0);
	assert_int_equal(store_nodes_alive(), alive - 2);
}

static void test_rm_then_recreate(void **state)
{
	struct fx *f = *state;
	long alive = store_nodes_alive();
	struct txn *t = tx_begin(f);

	assert_int_equal(rm(f, t, &PRIV, "/p"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/p", "again"), 0);
	assert_string_equal(fx_kids(f, t, "/p"), "");
	assert_string_equal(fx_val(f, t, "/p/old"), "<absent>");
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/p"), "again");
	assert_string_equal(fx_kids(f, NULL, "/p"), "");
	assert_string_equal(fx_val(f, NULL, "/p/old"), "<absent>");
	assert_string_equal(fx_kids(f, NULL, "/"), "tool,local,q,p");
	assert_int_equal(store_nodes_alive(), alive - 1);
}

static void test_create_then_rm_in_tx(void **state)
{
	struct fx *f = *state;
	long alive = store_nodes_alive();
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/tmp/a", "x"), 0);
	assert_int_equal(store_owned(&f->s, t, 1), 3);
	assert_int_equal(rm(f, t, &D1, "/local/domain/1/tmp"), 0);
	assert_int_equal(store_owned(&f->s, t, 1), 1);
	assert_string_equal(fx_val(f, t, "/local/domain/1/tmp"), "<absent>");
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/local/domain/1/tmp"), "<absent>");
	assert_string_equal(fx_kids(f, NULL, "/local/domain/1"), "");
	assert_int_equal(store_owned(&f->s, NULL, 1), 1);
	assert_int_equal(store_nodes_alive(), alive);
	/* Nodes that neither existed when the transaction first touched them
	 * nor exist after it report nothing (cxenstored 4.17, measured side
	 * by side in tests/proto/compare.sh). */
	assert_string_equal(evset(f), "");
}

/* ---- conflicts ---- */

static void test_eagain_read_node_changed(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_string_equal(fx_val(f, t, "/p/old"), "p");
	assert_int_equal(fx_write(f, t, &PRIV, "/q/mine", "t"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/old", "outside"), 0);
	events_clear(&f->ev);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_evs(f), "");
	assert_string_equal(fx_val(f, NULL, "/q/mine"), "<absent>");
	assert_string_equal(fx_val(f, NULL, "/p/old"), "outside");
	assert_string_equal(fx_kids(f, NULL, "/q"), "old");
}

static void test_eagain_read_only_tx(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_string_equal(fx_val(f, t, "/p/old"), "p");
	assert_int_equal(rm(f, NULL, &PRIV, "/p/old"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
}

static void test_eagain_written_node_changed(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/old", "tx"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/old", "outside"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/p/old"), "outside");
}

static void test_eagain_child_added_to_modified_parent(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/x", "tx"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/y", "outside"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/p/x"), "<absent>");
	assert_string_equal(fx_kids(f, NULL, "/p"), "old,y");
}

static void test_eagain_child_removed_from_modified_parent(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/x", "tx"), 0);
	assert_int_equal(rm(f, NULL, &PRIV, "/p/old"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_kids(f, NULL, "/p"), "");
}

static void test_eagain_new_top_level(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	/* Both add a child to "/". */
	assert_int_equal(fx_write(f, t, &PRIV, "/t1/a", "tx"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/o1", "outside"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/t1"), "<absent>");
}

static void test_eagain_absent_node_appeared(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	/* Looked, was not there; then someone made it. */
	assert_int_equal(rd(f, t, &PRIV, "/p/ghost"), ENOENT);
	assert_int_equal(fx_write(f, t, &PRIV, "/q/mine", "t"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/ghost", "boo"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/q/mine"), "<absent>");
}

static void test_eagain_both_create_same_node(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/n", "tx"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/n", "outside"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/p/n"), "outside");
}

static void test_eagain_removed_node_changed(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(rm(f, t, &PRIV, "/q"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/q/old", "outside"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/q/old"), "outside");
}

static void test_eagain_perms_changed(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/old", "tx"), 0);
	assert_int_equal(fx_setp(f, NULL, &PRIV, "/p/old", "n0,r1"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_val(f, NULL, "/p/old"), "p");
}

static void test_no_conflict_unrelated(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/x", "tx"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/p/old", "tx"), 0);
	/* Outside: other nodes, other parents, even "/" (a new top node). */
	assert_int_equal(fx_write(f, NULL, &PRIV, "/q/y", "outside"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/q/old", "outside"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/r", "outside"), 0);
	assert_int_equal(rm(f, NULL, &PRIV, "/r"), 0);
	/* Reading the same nodes outside is not a change. */
	assert_string_equal(fx_val(f, NULL, "/p/old"), "p");
	assert_string_equal(fx_kids(f, NULL, "/p"), "old");
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/p/x"), "tx");
	assert_string_equal(fx_val(f, NULL, "/p/old"), "tx");
	assert_string_equal(fx_val(f, NULL, "/q/y"), "outside");
	assert_string_equal(fx_val(f, NULL, "/q/old"), "outside");
	assert_string_equal(fx_kids(f, NULL, "/p"), "old,x");
}

static void test_two_transactions(void **state)
{
	struct fx *f = *state;
	struct txn *t1 = tx_begin(f);
	struct txn *t2 = tx_begin(f);
	struct txn *t3 = tx_begin(f);

	assert_int_equal(fx_write(f, t1, &PRIV, "/p/old", "t1"), 0);
	assert_int_equal(fx_write(f, t2, &PRIV, "/p/old", "t2"), 0);
	assert_int_equal(fx_write(f, t3, &PRIV, "/q/old", "t3"), 0);
	assert_int_equal(tx_end(f, t1, true), 0);
	assert_int_equal(tx_end(f, t2, true), EAGAIN);
	assert_int_equal(tx_end(f, t3, true), 0);
	assert_string_equal(fx_val(f, NULL, "/p/old"), "t1");
	assert_string_equal(fx_val(f, NULL, "/q/old"), "t3");
	/* A retry after EAGAIN works. */
	t2 = tx_begin(f);
	assert_int_equal(fx_write(f, t2, &PRIV, "/p/old", "t2"), 0);
	assert_int_equal(tx_end(f, t2, true), 0);
	assert_string_equal(fx_val(f, NULL, "/p/old"), "t2");
}

/* ---- generations ---- */

static void test_commit_generations(void **state)
{
	struct fx *f = *state;
	uint64_t gq = gen(f, "/q/old"), gp = gen(f, "/p"), gpo = gen(f, "/p/old");
	struct txn *t = tx_begin(f);

	assert_string_equal(fx_val(f, t, "/q/old"), "q");
	assert_int_equal(fx_write(f, t, &PRIV, "/p/new", "n"), 0);
	/* Nothing live changes before the commit. */
	assert_int_equal(gen(f, "/p"), gp);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/other", "o"), 0);   /* unrelated */
	uint64_t go = gen(f, "/other");
	assert_int_equal(tx_end(f, t, true), 0);
	/* Written records get fresh generations; read ones keep theirs. */
	assert_true(gen(f, "/p") > go);
	assert_true(gen(f, "/p/new") > go);
	assert_true(gen(f, "/p") != gen(f, "/p/new"));
	assert_int_equal(gen(f, "/q/old"), gq);
	assert_int_equal(gen(f, "/p/old"), gpo);
}

/* ---- events ---- */

static void test_events_at_commit(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/a", "1"), 0);
	assert_int_equal(store_mkdir(&f->s, t, &PRIV, "/p/b", &f->ev), 0);
	assert_int_equal(fx_setp(f, t, &PRIV, "/p/a", "n0,r1"), 0);
	assert_int_equal(rm(f, t, &PRIV, "/q"), 0);
	assert_int_equal(f->ev.n, 0);
	/* Outside changes report at once ("/" is T's: rm /q changed it). */
	assert_int_equal(fx_write(f, NULL, &PRIV, "/local/domain/2/o", "o"), 0);
	assert_string_equal(fx_evs(f), "/local/domain/2/o");
	assert_int_equal(tx_end(f, t, true), 0);
	/* One event per changed node (Xen's queue_watches()): /p/a once. */
	assert_string_equal(evset(f), "/p/a /p/b /q /q/old!");
}

/* Xen's queue_watches(): one event per node; a non-exact event replaces an
 * exact one, not the other way round. */
static void test_events_one_per_node(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/q/old", "x"), 0);
	assert_int_equal(rm(f, t, &PRIV, "/q"), 0);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(evset(f), "/q /q/old");

	t = tx_begin(f);
	assert_int_equal(rm(f, t, &PRIV, "/p"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/p/old", "y"), 0);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(evset(f), "/p /p/old");
}

static void test_events_dropped_on_abort_and_eagain(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/a", "1"), 0);
	assert_int_equal(tx_end(f, t, false), 0);
	assert_string_equal(fx_evs(f), "");

	t = tx_begin(f);
	assert_int_equal(fx_write(f, t, &PRIV, "/p/a", "1"), 0);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/p/z", "2"), 0);
	assert_string_equal(fx_evs(f), "/p/z");
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_string_equal(fx_evs(f), "");
}

/* A transaction's events are judged by the nodes as committed (Xen fires
 * them at commit and reads the node then): a node the transaction made
 * readable to domain 1 is an event domain 1 may see. */
static void test_event_perms_in_tx(void **state)
{
	struct fx *f = *state;
	const struct caller d1 = { .domid = 1 };
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &PRIV, "/p/a", "1"), 0);
	assert_int_equal(fx_setp(f, t, &PRIV, "/p/a", "n0,r1"), 0);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_int_equal(f->ev.n, 1);
	const struct event *e = f->ev.v[0];
	assert_string_equal(e->path, "/p/a");
	assert_false(e->exact);
	assert_true(event_visible(&PRIV, e));
	assert_true(event_visible(&d1, e));
	events_clear(&f->ev);
}

/* ---- accounting and quotas ---- */

static void test_accounting_at_commit(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(store_owned(&f->s, NULL, 1), 1);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/a/b", "x"), 0);
	assert_int_equal(store_owned(&f->s, NULL, 1), 1);
	assert_int_equal(store_owned(&f->s, t, 1), 3);
	assert_int_equal(store_owned(&f->s, t, 2), 1);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_int_equal(store_owned(&f->s, NULL, 1), 3);

	/* Removal and a change of owner: applied at commit only. */
	int own0 = store_owned(&f->s, NULL, 0);
	t = tx_begin(f);
	assert_int_equal(rm(f, t, &D1, "/local/domain/1/a"), 0);
	assert_int_equal(fx_setp(f, t, &PRIV, "/p/old", "n2"), 0);
	assert_int_equal(store_owned(&f->s, t, 1), 1);
	assert_int_equal(store_owned(&f->s, t, 2), 2);
	assert_int_equal(store_owned(&f->s, t, 0), own0 - 1);
	assert_int_equal(store_owned(&f->s, NULL, 1), 3);
	assert_int_equal(store_owned(&f->s, NULL, 2), 1);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_int_equal(store_owned(&f->s, NULL, 1), 1);
	assert_int_equal(store_owned(&f->s, NULL, 2), 2);
	assert_int_equal(store_owned(&f->s, NULL, 0), own0 - 1);
}

static void test_accounting_dropped(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/a/b", "x"), 0);
	assert_int_equal(tx_end(f, t, false), 0);
	assert_int_equal(store_owned(&f->s, NULL, 1), 1);

	t = tx_begin(f);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/a/b", "x"), 0);
	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/c", "y"), 0);
	assert_int_equal(tx_end(f, t, true), EAGAIN);
	assert_int_equal(store_owned(&f->s, NULL, 1), 2);
}

static void test_quota_nodes_in_tx(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	f->s.q.nodes = 3;
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/a", "x"), 0);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/b", "x"), 0);
	/* The pending nodes count. */
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/c", "x"), ENOSPC);
	assert_string_equal(fx_val(f, t, "/local/domain/1/c"), "<absent>");
	assert_int_equal(rm(f, t, &D1, "/local/domain/1/a"), 0);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/c", "x"), 0);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_kids(f, NULL, "/local/domain/1"), "b,c");
	assert_int_equal(store_owned(&f->s, NULL, 1), 3);
}

static void test_quota_tx_nodes(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	f->s.q.tx_nodes = 3;
	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/r1", "1"), 0);
	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/r2", "2"), 0);
	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/r3", "3"), 0);
	/* Every node touched counts, read or written, and only once. */
	assert_int_equal(rd(f, t, &D1, "/local/domain/1/r1"), 0);
	assert_int_equal(rd(f, t, &D1, "/local/domain/1/r1"), 0);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/r2", "x"), 0);
	assert_int_equal(rd(f, t, &D1, "/local/domain/1/r3"), 0);
	assert_int_equal(rd(f, t, &D1, "/local/domain/1/r1"), 0);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/r2", "y"), 0);
	assert_int_equal(rd(f, t, &D1, "/local/domain/1"), ENOSPC);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/r4", "4"), ENOSPC);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/local/domain/1/r2"), "y");
	assert_string_equal(fx_val(f, NULL, "/local/domain/1/r4"), "<absent>");
	/* Privileged transactions are not limited. */
	t = tx_begin(f);
	assert_int_equal(fx_write(f, t, &PRIV, "/many/a/b/c/d/e", "x"), 0);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_string_equal(fx_val(f, NULL, "/many/a/b/c/d/e"), "x");
}

static void test_unprivileged_in_tx(void **state)
{
	struct fx *f = *state;
	struct txn *t = tx_begin(f);

	/* The same permission rules in a transaction's view. */
	assert_int_equal(rd(f, t, &D1, "/local/domain/2/missing"), EACCES);
	assert_int_equal(rd(f, t, &D1, "/local/domain/1/missing"), ENOENT);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/2/x", "x"), EACCES);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/x", "x"), 0);
	assert_int_equal(fx_setp(f, t, &D1, "/local/domain/1/x", "n2"), EPERM);
	assert_int_equal(fx_setp(f, t, &D1, "/local/domain/1/x", "n1,r2"), 0);
	assert_int_equal(rd(f, t, &D2, "/local/domain/1/x"), 0);
	assert_int_equal(rd(f, NULL, &D2, "/local/domain/1/x"), EACCES);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_int_equal(rd(f, NULL, &D2, "/local/domain/1/x"), 0);
}

/* Two open transactions, each under the node quota alone: the second
 * commit would pass it and fails with ENOSPC, leaving nothing (Xen checks
 * again at commit); a privileged commit is not held to it. */
static void test_quota_nodes_at_commit(void **state)
{
	struct fx *f = *state;

	/* parents of their own: no conflict, only the quota can refuse */
	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/pa", ""), 0);
	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/pb", ""), 0);
	f->s.q.nodes = 5;
	struct txn *a = tx_begin(f), *b = tx_begin(f);
	assert_int_equal(fx_write(f, a, &D1, "/local/domain/1/pa/x", "x"), 0);
	assert_int_equal(fx_write(f, b, &D1, "/local/domain/1/pb/x", "x"), 0);
	assert_int_equal(fx_write(f, b, &D1, "/local/domain/1/pb/y", "x"), 0);
	for (int i = 0; i < FX_MAXTX; i++)
		if (f->open[i] == a || f->open[i] == b)
			f->open[i] = NULL;
	assert_int_equal(store_txn_end(&f->s, a, true, &D1, &f->ev), 0);
	assert_int_equal(store_txn_end(&f->s, b, true, &D1, &f->ev), ENOSPC);
	assert_string_equal(fx_kids(f, NULL, "/local/domain/1/pa"), "x");
	assert_string_equal(fx_kids(f, NULL, "/local/domain/1/pb"), "");
	assert_int_equal(store_owned(&f->s, NULL, 1), 4);
	struct txn *p = tx_begin(f);
	assert_int_equal(fx_write(f, p, &PRIV, "/local/domain/1/d", "x"), 0);
	assert_int_equal(fx_write(f, p, &PRIV, "/local/domain/1/e", "x"), 0);
	for (int i = 0; i < FX_MAXTX; i++)
		if (f->open[i] == p)
			f->open[i] = NULL;
	assert_int_equal(store_txn_end(&f->s, p, true, &PRIV, &f->ev), 0);
}

/* Permission entries (past the owner's) naming a domain, as counted. */
static int refs_of(struct fx *f, uint32_t domid)
{
	for (size_t i = 0; i < f->s.owned.n; i++)
		if (f->s.owned.v[i].domid == domid)
			return f->s.owned.v[i].refs;
	return 0;
}

/* The bytes charged to each owner as records change equal a count made
 * from scratch (store_loaded recounts), through writes, a transaction's
 * commit and abort, removal and a change of owner; a transaction's copies
 * are charged to its counter and given back at its end. */
static void test_memory_charges(void **state)
{
	struct fx *f = *state;
	long tx = 0;

	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/a/b", "1234567890"), 0);
	struct txn *t = tx_begin(f);
	store_txn_charge(t, &tx);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/a/c", "x"), 0);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/a/b", "longer value"), 0);
	assert_int_equal(fx_setp(f, t, &PRIV, "/p/old", "n2"), 0);
	assert_true(tx > 0);
	assert_int_equal(tx_end(f, t, true), 0);
	assert_int_equal(tx, 0);
	t = tx_begin(f);
	store_txn_charge(t, &tx);
	assert_int_equal(fx_write(f, t, &D1, "/local/domain/1/z", "dropped"), 0);
	assert_int_equal(tx_end(f, t, false), 0);
	assert_int_equal(tx, 0);
	assert_int_equal(rm(f, NULL, &D1, "/local/domain/1/a/c"), 0);
	assert_int_equal(fx_setp(f, NULL, &PRIV, "/local/domain/1/a/b", "n1,r2"), 0);
	long b[3], want[3];
	int refs[3];
	for (uint32_t d = 0; d < 3; d++) {
		b[d] = store_owned_bytes(&f->s, d);
		refs[d] = refs_of(f, d);
	}
	assert_int_equal(store_loaded(&f->s, 0), 0);
	for (uint32_t d = 0; d < 3; d++) {
		want[d] = store_owned_bytes(&f->s, d);
		assert_int_equal(b[d], want[d]);
		assert_int_equal(refs[d], refs_of(f, d));
	}
	assert_true(refs[2] >= 1);
	/* /local/domain/1 (home), a, a/b with its value, all named */
	assert_true(b[1] > 3 * 24 && b[1] < 3 * 24 + 200);
	assert_int_equal(rm(f, NULL, &PRIV, "/local/domain/1/a"), 0);
	assert_true(store_owned_bytes(&f->s, 1) < b[1]);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_isolation_and_commit),
		T(test_abort_discards),
		T(test_commit_rm_and_perms),
		T(test_rm_then_recreate),
		T(test_create_then_rm_in_tx),
		T(test_eagain_read_node_changed),
		T(test_eagain_read_only_tx),
		T(test_eagain_written_node_changed),
		T(test_eagain_child_added_to_modified_parent),
		T(test_eagain_child_removed_from_modified_parent),
		T(test_eagain_new_top_level),
		T(test_eagain_absent_node_appeared),
		T(test_eagain_both_create_same_node),
		T(test_eagain_removed_node_changed),
		T(test_eagain_perms_changed),
		T(test_no_conflict_unrelated),
		T(test_two_transactions),
		T(test_commit_generations),
		T(test_events_at_commit),
		T(test_events_one_per_node),
		T(test_events_dropped_on_abort_and_eagain),
		T(test_event_perms_in_tx),
		T(test_accounting_at_commit),
		T(test_accounting_dropped),
		T(test_quota_nodes_in_tx),
		T(test_quota_tx_nodes),
		T(test_quota_nodes_at_commit),
		T(test_memory_charges),
		T(test_unprivileged_in_tx),
	};
	return cmocka_run_group_tests_name("txn", tests, NULL, NULL);
}
