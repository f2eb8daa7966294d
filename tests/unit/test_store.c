/*
 * test_store.c — the XenStore tree without transactions (store.c): reads,
 * writes, mkdir, rm, permissions, ownership, quotas, generations, domains
 * going away. Expected results follow Xen 4.17's xenstored (get_node(),
 * errno_from_parents(), create_node(), do_rm(), do_set_perms() ...).
 *
 * Leak accounting: every test gets a fresh store (fixture.h); teardown
 * frees it and asserts that no node record is left (store_nodes_alive() == 0).
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
#include "fixture.h"

/* ---- helpers (outside any transaction) ---- */

static int setp(struct fx *f, const struct caller *c, const char *name, const char *spec)
{
	return fx_setp(f, NULL, c, name, spec);
}

static int wr(struct fx *f, const struct caller *c, const char *name, const char *data)
{
	return fx_write(f, NULL, c, name, data);
}

static int rd(struct fx *f, const struct caller *c, const char *name, const struct node **n)
{
	const struct node *dummy;
	return store_read(&f->s, NULL, c, name, n ? n : &dummy);
}

/* The node, read with privilege, or NULL if absent. */
static const struct node *node(struct fx *f, const char *name)
{
	return fx_node(f, NULL, name);
}

/* A node's value as a string, "<absent>" if there is no such node. */
static const char *val(struct fx *f, const char *name)
{
	return fx_val(f, NULL, name);
}

/* "n1,r2" for a node's permissions (IGNORE marks not shown). */
static const char *perms_of(struct fx *f, const char *name)
{
	static char buf[256];
	const struct node *n = node(f, name);
	if (!n)
		return "<absent>";
	size_t len = perms_format(node_perms(n), n->nperms, buf, sizeof(buf));
	assert_true(len > 0);
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] == '\0')
			buf[i] = ',';
	return buf;
}

/* "a,b,c": a node's children in DIRECTORY order. */
static const char *kids(struct fx *f, const char *name)
{
	return fx_kids(f, NULL, name);
}

static uint64_t gen(struct fx *f, const char *name)
{
	const struct node *n = node(f, name);
	assert_non_null(n);
	return n->gen;
}

static int owned(struct fx *f, uint32_t domid)
{
	return store_owned(&f->s, NULL, domid);
}

/* ---- the initial tree ---- */

static void test_initial_tree(void **state)
{
	struct fx *f = *state;
	struct store s2;
	long before = store_nodes_alive();

	assert_string_equal(kids(f, "/"), "tool,local");
	assert_string_equal(kids(f, "/tool"), "xenstored");
	assert_string_equal(perms_of(f, "/"), "n0");
	assert_string_equal(perms_of(f, "/tool/xenstored"), "n0");
	assert_string_equal(perms_of(f, "@introduceDomain"), "n0");
	assert_string_equal(perms_of(f, "@releaseDomain"), "n0");
	assert_string_equal(val(f, "/"), "");
	assert_string_equal(kids(f, "/local/domain"), "1,2,3");
	assert_string_equal(perms_of(f, "/local/domain/2"), "n2");
	assert_int_equal(owned(f, 1), 1);
	assert_int_equal(owned(f, 4), 0);

	/* A second store counts its own nodes and frees them all. */
	assert_int_equal(store_init(&s2), 0);
	assert_int_equal(store_nodes_alive(), before + 5);
	store_fini(&s2);
	assert_int_equal(store_nodes_alive(), before);
}

/* ---- reads and writes, privileged ---- */

/* A record's value and children share its allocation until they outgrow
 * it, then move to one of their own, and back when they fit again: each
 * step keeps both, in a transaction's copy as in the live tree. */
static void test_value_and_children_grow(void **state)
{
	struct fx *f = *state;
	static char big[3001], want[4096];
	char name[64];
	size_t w = 0;

	memset(big, 'b', sizeof(big) - 1);
	assert_int_equal(wr(f, &PRIV, "/g", "v"), 0);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "/g/c%d", i);
		assert_int_equal(wr(f, &PRIV, name, ""), 0);
		w += (size_t)snprintf(want + w, sizeof(want) - w, "%sc%d", i ? "," : "", i);
	}
	assert_string_equal(val(f, "/g"), "v");
	assert_string_equal(kids(f, "/g"), want);
	assert_int_equal(wr(f, &PRIV, "/g", big), 0);
	assert_string_equal(val(f, "/g"), big);
	assert_string_equal(kids(f, "/g"), want);
	struct txn *t = store_txn_begin(&f->s);
	assert_int_equal(fx_write(f, t, &PRIV, "/g", "short"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/g/c100", "x"), 0);
	assert_int_equal(store_txn_end(&f->s, t, true, NULL, &f->ev), 0);
	assert_string_equal(val(f, "/g"), "short");
	strcat(want, ",c100");
	assert_string_equal(kids(f, "/g"), want);
	for (int i = 0; i <= 100; i++) {
		snprintf(name, sizeof(name), "/g/c%d", i);
		assert_int_equal(store_rm(&f->s, NULL, &PRIV, name, &f->ev), 0);
	}
	assert_string_equal(kids(f, "/g"), "");
	assert_string_equal(val(f, "/g"), "short");
	assert_int_equal(wr(f, &PRIV, "/g", ""), 0);
	assert_string_equal(val(f, "/g"), "");
	assert_int_equal(wr(f, &PRIV, "/g/last", "1"), 0);
	assert_string_equal(kids(f, "/g"), "last");
}

static void test_write_read(void **state)
{
	struct fx *f = *state;
	const struct node *n;

	assert_int_equal(wr(f, &PRIV, "/a", "hello"), 0);
	assert_int_equal(rd(f, &PRIV, "/a", &n), 0);
	assert_int_equal(n->datalen, 5);
	assert_memory_equal(node_data(n), "hello", 5);
	char name[PATH_BUF];
	node_name(n, name);
	assert_string_equal(name, "/a");
	/* Overwrite, shorter, empty. */
	assert_int_equal(wr(f, &PRIV, "/a", "hi"), 0);
	assert_string_equal(val(f, "/a"), "hi");
	assert_int_equal(wr(f, &PRIV, "/a", ""), 0);
	assert_string_equal(val(f, "/a"), "");
	assert_int_equal(node(f, "/a")->datalen, 0);
	/* Values are bytes, NULs included. */
	assert_int_equal(store_write(&f->s, NULL, &PRIV, "/a", "x\0y", 3, &f->ev), 0);
	assert_int_equal(rd(f, &PRIV, "/a", &n), 0);
	assert_int_equal(n->datalen, 3);
	assert_memory_equal(node_data(n), "x\0y", 3);
	/* Absent nodes. */
	assert_int_equal(rd(f, &PRIV, "/nope", NULL), ENOENT);
	assert_int_equal(rd(f, &PRIV, "/nope/deeper", NULL), ENOENT);
	/* store_get_perms finds the same record. */
	const struct node *pn;
	assert_int_equal(store_get_perms(&f->s, NULL, &PRIV, "/a", &pn), 0);
	assert_ptr_equal(pn, n);
	assert_int_equal(store_get_perms(&f->s, NULL, &PRIV, "/nope", &pn), ENOENT);
}

static void test_write_creates_ancestors(void **state)
{
	struct fx *f = *state;
	int own0 = owned(f, 0);
	long alive = store_nodes_alive();

	assert_int_equal(wr(f, &PRIV, "/a/b/c", "v"), 0);
	assert_int_equal(store_nodes_alive(), alive + 3);
	assert_int_equal(owned(f, 0), own0 + 3);
	assert_string_equal(val(f, "/a"), "");
	assert_string_equal(val(f, "/a/b"), "");
	assert_string_equal(val(f, "/a/b/c"), "v");
	assert_string_equal(kids(f, "/a"), "b");
	assert_string_equal(kids(f, "/a/b"), "c");
	assert_string_equal(kids(f, "/a/b/c"), "");
	assert_string_equal(kids(f, "/"), "tool,local,a");
	/* Inherited from "/". */
	assert_string_equal(perms_of(f, "/a"), "n0");
	assert_string_equal(perms_of(f, "/a/b/c"), "n0");
}

static void test_created_nodes_inherit_perms(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &PRIV, "/a", ""), 0);
	assert_int_equal(setp(f, &PRIV, "/a", "r0,b1,w2"), 0);
	assert_int_equal(wr(f, &PRIV, "/a/x/y", "1"), 0);
	/* A privileged creator keeps the parent's owner. */
	assert_string_equal(perms_of(f, "/a/x"), "r0,b1,w2");
	assert_string_equal(perms_of(f, "/a/x/y"), "r0,b1,w2");
	/* ... also under a domain's home: the domain owns it. */
	int own3 = owned(f, 3);
	assert_int_equal(wr(f, &PRIV, "/local/domain/3/device/vbd", "x"), 0);
	assert_string_equal(perms_of(f, "/local/domain/3/device"), "n3");
	assert_string_equal(perms_of(f, "/local/domain/3/device/vbd"), "n3");
	assert_int_equal(owned(f, 3), own3 + 2);
}

/* ---- unprivileged callers ---- */

static void test_unprivileged_creator_owns(void **state)
{
	struct fx *f = *state;
	int own0 = owned(f, 0);

	/* In its home: inherits "n1". */
	assert_int_equal(wr(f, &D1, "/local/domain/1/x/y", "v"), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/x"), "n1");
	assert_string_equal(perms_of(f, "/local/domain/1/x/y"), "n1");
	assert_int_equal(owned(f, 1), 3);

	/* Under a node of domain 0 it may write: the creator replaces the
	 * owner, the other entries are inherited. */
	assert_int_equal(wr(f, &PRIV, "/shared", ""), 0);
	assert_int_equal(setp(f, &PRIV, "/shared", "r0,b1,w2"), 0);
	own0 = owned(f, 0);
	assert_int_equal(wr(f, &D1, "/shared/a/b", "v"), 0);
	assert_string_equal(perms_of(f, "/shared/a"), "r1,b1,w2");
	assert_string_equal(perms_of(f, "/shared/a/b"), "r1,b1,w2");
	assert_int_equal(owned(f, 1), 5);
	assert_int_equal(owned(f, 0), own0);
	/* The owner reads and writes them; domain 2 only writes. */
	assert_int_equal(rd(f, &D1, "/shared/a/b", NULL), 0);
	assert_int_equal(rd(f, &D2, "/shared/a/b", NULL), EACCES);
	assert_int_equal(wr(f, &D2, "/shared/a/b", "2"), 0);
	assert_string_equal(val(f, "/shared/a/b"), "2");
	/* Domain 2 writing an existing node does not take it over. */
	assert_string_equal(perms_of(f, "/shared/a/b"), "r1,b1,w2");
	/* A node domain 2 creates there is its own. */
	assert_int_equal(wr(f, &D2, "/shared/a/c", "3"), 0);
	assert_string_equal(perms_of(f, "/shared/a/c"), "r2,b1,w2");
	assert_int_equal(owned(f, 2), 2);
}

static void test_read_enoent_vs_eacces(void **state)
{
	struct fx *f = *state;

	/* Own home: the truth. */
	assert_int_equal(rd(f, &D1, "/local/domain/1/missing", NULL), ENOENT);
	assert_int_equal(rd(f, &D1, "/local/domain/1/a/b/c", NULL), ENOENT);
	/* Under nodes it cannot read: EACCES, missing or not. */
	assert_int_equal(rd(f, &D1, "/local/domain/2", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/local/domain/2/missing", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/local/domain/2/a/b/c", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/local/domain/9", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/local/domain", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/nope", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/tool/xenstored", NULL), EACCES);

	/* Domain 2 lets domain 1 read one node. */
	assert_int_equal(wr(f, &D2, "/local/domain/2/pub", "p"), 0);
	assert_int_equal(setp(f, &D2, "/local/domain/2/pub", "n2,r1"), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2/pub", NULL), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2/pub/missing", NULL), ENOENT);
	assert_int_equal(rd(f, &D1, "/local/domain/2/pub/a/b", NULL), ENOENT);
	/* The nearest existing ancestor decides. */
	assert_int_equal(wr(f, &D2, "/local/domain/2/pub/hidden", "h"), 0);
	assert_int_equal(setp(f, &D2, "/local/domain/2/pub/hidden", "n2"), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2/pub/hidden", NULL), EACCES);
	assert_int_equal(rd(f, &D1, "/local/domain/2/pub/hidden/x", NULL), EACCES);
	/* Readable below an unreadable parent. */
	assert_int_equal(wr(f, &D2, "/local/domain/2/pub/hidden/open", "o"), 0);
	assert_int_equal(setp(f, &D2, "/local/domain/2/pub/hidden/open", "n2,r1"), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2/pub/hidden/open", NULL), 0);
	/* Write-only grants no read. */
	assert_int_equal(wr(f, &D2, "/local/domain/2/wo", "w"), 0);
	assert_int_equal(setp(f, &D2, "/local/domain/2/wo", "n2,w1"), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2/wo", NULL), EACCES);
	/* A default of "r" lets everyone read. */
	assert_int_equal(setp(f, &D2, "/local/domain/2", "r2"), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2", NULL), 0);
	assert_int_equal(rd(f, &D1, "/local/domain/2/missing", NULL), ENOENT);
}

static void test_read_with_target(void **state)
{
	struct fx *f = *state;
	const struct caller stub = { .domid = 3, .has_target = true, .target = 2 };

	assert_int_equal(wr(f, &D2, "/local/domain/2/x", "v"), 0);
	assert_int_equal(rd(f, &stub, "/local/domain/2/x", NULL), 0);
	assert_int_equal(rd(f, &stub, "/local/domain/2/missing", NULL), ENOENT);
	assert_int_equal(wr(f, &stub, "/local/domain/2/y", "s"), 0);
	/* Created by domain 3, so owned by it. */
	assert_string_equal(perms_of(f, "/local/domain/2/y"), "n3");
	assert_int_equal(rd(f, &stub, "/local/domain/1/x", NULL), EACCES);
}

static void test_write_permissions(void **state)
{
	struct fx *f = *state;
	int own1 = owned(f, 1);

	assert_int_equal(wr(f, &D1, "/local/domain/1/a", "1"), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/2/a", "1"), EACCES);
	assert_null(node(f, "/local/domain/2/a"));
	assert_int_equal(wr(f, &D1, "/local/domain/2/a/b", "1"), EACCES);
	assert_null(node(f, "/local/domain/2/a"));
	assert_int_equal(wr(f, &D1, "/tool/x", "1"), EACCES);
	assert_int_equal(wr(f, &D1, "/x", "1"), EACCES);
	assert_int_equal(wr(f, &D1, "/local/domain/2", "1"), EACCES);
	assert_string_equal(val(f, "/local/domain/2"), "");

	/* Read-only: neither the node nor new children. */
	assert_int_equal(wr(f, &PRIV, "/local/domain/2/ro", "r"), 0);
	assert_int_equal(setp(f, &PRIV, "/local/domain/2/ro", "n2,r1"), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/2/ro", "x"), EACCES);
	assert_string_equal(val(f, "/local/domain/2/ro"), "r");
	assert_int_equal(wr(f, &D1, "/local/domain/2/ro/child", "x"), EACCES);
	assert_null(node(f, "/local/domain/2/ro/child"));

	/* Write-only: both. */
	assert_int_equal(wr(f, &PRIV, "/local/domain/2/rw", ""), 0);
	assert_int_equal(setp(f, &PRIV, "/local/domain/2/rw", "n2,w1"), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/2/rw", "w"), 0);
	assert_string_equal(val(f, "/local/domain/2/rw"), "w");
	assert_int_equal(wr(f, &D1, "/local/domain/2/rw/c/d", "x"), 0);
	assert_string_equal(perms_of(f, "/local/domain/2/rw/c"), "n1,w1");
	assert_string_equal(perms_of(f, "/local/domain/2/rw/c/d"), "n1,w1");
	assert_int_equal(owned(f, 1), own1 + 3);
	/* What domain 0 made under /local/domain/2 is domain 2's. */
	assert_int_equal(owned(f, 2), 3);
}

/* ---- mkdir ---- */

static void test_mkdir(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/m", &f->ev), 0);
	assert_string_equal(val(f, "/m"), "");
	assert_string_equal(perms_of(f, "/m"), "n0");
	/* Missing ancestors too. */
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/m/a/b", &f->ev), 0);
	assert_string_equal(kids(f, "/m/a"), "b");
	/* An existing node is left alone. */
	assert_int_equal(wr(f, &PRIV, "/m/a/b", "keep"), 0);
	uint64_t g = gen(f, "/m/a/b");
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/m/a/b", &f->ev), 0);
	assert_string_equal(val(f, "/m/a/b"), "keep");
	assert_int_equal(gen(f, "/m/a/b"), g);

	/* Unprivileged. */
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/local/domain/1/d", &f->ev), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/d"), "n1");
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/local/domain/1/d", &f->ev), 0);
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/local/domain/2/d", &f->ev), EACCES);
	assert_null(node(f, "/local/domain/2/d"));
	/* Existing but not writable. */
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/local/domain/2", &f->ev), EACCES);
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/", &f->ev), EACCES);
}

/* ---- rm ---- */

static void test_rm_subtree(void **state)
{
	struct fx *f = *state;
	int own0 = owned(f, 0);
	long alive = store_nodes_alive();

	assert_int_equal(wr(f, &PRIV, "/a/b/c", "1"), 0);
	assert_int_equal(wr(f, &PRIV, "/a/d", "2"), 0);
	assert_int_equal(wr(f, &PRIV, "/z", "3"), 0);
	assert_int_equal(store_nodes_alive(), alive + 5);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/a", &f->ev), 0);
	assert_null(node(f, "/a"));
	assert_null(node(f, "/a/b"));
	assert_null(node(f, "/a/b/c"));
	assert_null(node(f, "/a/d"));
	assert_string_equal(val(f, "/z"), "3");
	assert_string_equal(kids(f, "/"), "tool,local,z");
	assert_int_equal(store_nodes_alive(), alive + 1);
	assert_int_equal(owned(f, 0), own0 + 1);
	/* A leaf. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/z", &f->ev), 0);
	assert_null(node(f, "/z"));
	assert_int_equal(store_nodes_alive(), alive);
	assert_int_equal(owned(f, 0), own0);
}

static void test_rm_missing(void **state)
{
	struct fx *f = *state;

	/* Already gone: fine if the parent exists. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/a", &f->ev), 0);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/tool/none", &f->ev), 0);
	/* ... else ENOENT. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/a/b", &f->ev), ENOENT);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/a/b/c", &f->ev), ENOENT);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/1/x", &f->ev), 0);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/1/x/y", &f->ev), ENOENT);
	/* Where it cannot look, it is told EACCES. */
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/2/x", &f->ev), EACCES);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/2/x/y", &f->ev), EACCES);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/nope", &f->ev), EACCES);
	assert_string_equal(fx_evs(f), "");
}

static void test_rm_root_and_permissions(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/", &f->ev), EINVAL);
	assert_string_equal(kids(f, "/"), "tool,local");
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/", &f->ev), EACCES);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/2", &f->ev), EACCES);
	assert_non_null(node(f, "/local/domain/2"));
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/tool", &f->ev), EACCES);
	/* Read-only is not enough. */
	assert_int_equal(wr(f, &PRIV, "/local/domain/2/ro", ""), 0);
	assert_int_equal(setp(f, &PRIV, "/local/domain/2/ro", "n2,r1"), 0);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/2/ro", &f->ev), EACCES);
	assert_non_null(node(f, "/local/domain/2/ro"));
	/* Write access to the node is (the parent's is not needed). */
	assert_int_equal(setp(f, &PRIV, "/local/domain/2/ro", "n2,w1"), 0);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/2/ro", &f->ev), 0);
	assert_null(node(f, "/local/domain/2/ro"));
	/* A domain may remove its own home. */
	assert_int_equal(wr(f, &D1, "/local/domain/1/a/b", "x"), 0);
	assert_int_equal(owned(f, 1), 3);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/1", &f->ev), 0);
	assert_null(node(f, "/local/domain/1"));
	assert_string_equal(kids(f, "/local/domain"), "2,3");
	assert_int_equal(owned(f, 1), 0);
}

static void test_rm_subtree_with_other_owners(void **state)
{
	struct fx *f = *state;
	int own0 = owned(f, 0);

	assert_int_equal(wr(f, &D1, "/local/domain/1/a/b", "x"), 0);
	assert_int_equal(wr(f, &PRIV, "/local/domain/1/a/tool", "t"), 0);
	assert_int_equal(setp(f, &PRIV, "/local/domain/1/a/tool", "n0"), 0);
	assert_int_equal(owned(f, 0), own0 + 1);
	assert_int_equal(owned(f, 1), 3);
	/* Deleting a subtree needs write access to its top only. */
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/1/a", &f->ev), 0);
	assert_null(node(f, "/local/domain/1/a/tool"));
	assert_int_equal(owned(f, 0), own0);
	assert_int_equal(owned(f, 1), 1);
}

/* ---- directory order ---- */

static void test_directory_order(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &PRIV, "/d/c", ""), 0);
	assert_int_equal(wr(f, &PRIV, "/d/a", ""), 0);
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/d/b", &f->ev), 0);
	assert_int_equal(wr(f, &PRIV, "/d/aa/x", ""), 0);
	assert_string_equal(kids(f, "/d"), "c,a,b,aa");
	/* Rewriting keeps the place. */
	assert_int_equal(wr(f, &PRIV, "/d/c", "new"), 0);
	assert_string_equal(kids(f, "/d"), "c,a,b,aa");
	/* Removing "a" does not touch "aa"; re-adding goes last. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/d/a", &f->ev), 0);
	assert_string_equal(kids(f, "/d"), "c,b,aa");
	assert_int_equal(wr(f, &PRIV, "/d/a", ""), 0);
	assert_string_equal(kids(f, "/d"), "c,b,aa,a");
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/d/aa", &f->ev), 0);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/d/c", &f->ev), 0);
	assert_string_equal(kids(f, "/d"), "b,a");
	assert_int_equal(node(f, "/d")->childlen, 4);
}

/* ---- generations ---- */

static void test_generations(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &PRIV, "/g", "1"), 0);
	uint64_t g1 = gen(f, "/g");
	assert_true(g1 > gen(f, "/tool"));
	assert_int_equal(wr(f, &PRIV, "/g", "1"), 0);     /* same value: a change */
	uint64_t g2 = gen(f, "/g");
	assert_true(g2 > g1);
	/* Reading changes nothing. */
	assert_int_equal(rd(f, &PRIV, "/g", NULL), 0);
	assert_int_equal(gen(f, "/g"), g2);
	/* A new child changes the parent; a child's update does not. */
	assert_int_equal(wr(f, &PRIV, "/g/c", "x"), 0);
	uint64_t g3 = gen(f, "/g");
	assert_true(g3 > g2);
	assert_true(gen(f, "/g/c") > g2);
	assert_int_equal(wr(f, &PRIV, "/g/c", "y"), 0);
	assert_int_equal(gen(f, "/g"), g3);
	/* New grandchildren change the child only. */
	uint64_t gc = gen(f, "/g/c");
	assert_int_equal(wr(f, &PRIV, "/g/c/d", "z"), 0);
	assert_int_equal(gen(f, "/g"), g3);
	assert_true(gen(f, "/g/c") > gc);
	/* mkdir of an existing node, rm of a missing one: no change. */
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/g", &f->ev), 0);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/g/none", &f->ev), 0);
	assert_int_equal(gen(f, "/g"), g3);
	/* Failed writes: no change. */
	assert_int_equal(wr(f, &D1, "/g", "no"), EACCES);
	assert_int_equal(wr(f, &D1, "/g/new", "no"), EACCES);
	assert_int_equal(gen(f, "/g"), g3);
	/* Removing a child changes the parent. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/g/c", &f->ev), 0);
	uint64_t g4 = gen(f, "/g");
	assert_true(g4 > g3);
	/* So do permissions. */
	assert_int_equal(setp(f, &PRIV, "/g", "n0,r1"), 0);
	uint64_t g5 = gen(f, "/g");
	assert_true(g5 > g4);
	/* A re-created node gets a fresh generation. */
	assert_int_equal(wr(f, &PRIV, "/g/c", "x"), 0);
	assert_true(gen(f, "/g/c") > g5);
}

/* ---- set_perms ---- */

static void test_set_perms_priv(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &PRIV, "/sp", "v"), 0);
	assert_int_equal(setp(f, &PRIV, "/sp", "n0,r1"), 0);
	assert_string_equal(perms_of(f, "/sp"), "n0,r1");
	assert_int_equal(setp(f, &PRIV, "/sp", "b0"), 0);
	assert_string_equal(perms_of(f, "/sp"), "b0");
	/* Privileged callers may give a node away. */
	int own0 = owned(f, 0);
	assert_int_equal(setp(f, &PRIV, "/sp", "n2,r1"), 0);
	assert_string_equal(perms_of(f, "/sp"), "n2,r1");
	assert_int_equal(owned(f, 0), own0 - 1);
	assert_int_equal(owned(f, 2), 2);
	assert_int_equal(rd(f, &D2, "/sp", NULL), 0);
	assert_int_equal(setp(f, &PRIV, "/sp", "n0"), 0);
	assert_int_equal(owned(f, 0), own0);
	assert_int_equal(owned(f, 2), 1);
	/* Missing node. */
	assert_int_equal(setp(f, &PRIV, "/nope", "n0"), ENOENT);
	assert_null(node(f, "/nope"));
	/* Special nodes are nodes here. */
	assert_int_equal(setp(f, &PRIV, "@releaseDomain", "n0,r1"), 0);
	assert_string_equal(perms_of(f, "@releaseDomain"), "n0,r1");
}

static void test_set_perms_unknown_domains(void **state)
{
	struct fx *f = *state;
	struct perm p[3];
	unsigned int n;

	assert_int_equal(wr(f, &PRIV, "/sp", "v"), 0);
	/* An owner that does not exist: ENOENT, for anyone. */
	assert_int_equal(setp(f, &PRIV, "/sp", "n7"), ENOENT);
	assert_int_equal(setp(f, &PRIV, "/sp", "n7,r1"), ENOENT);
	assert_string_equal(perms_of(f, "/sp"), "n0");
	assert_int_equal(setp(f, &PRIV, "/nope", "n7"), ENOENT);
	/* Other entries naming missing domains are kept, marked IGNORE. */
	assert_int_equal(fx_perms("r0,b9,w1", p, &n), 0);
	assert_int_equal(store_set_perms(&f->s, NULL, &PRIV, "/sp", p, n, &f->ev), 0);
	const struct node *nd = node(f, "/sp");
	assert_int_equal(nd->nperms, 3);
	assert_int_equal(node_perms(nd)[0].perms, PERM_READ);
	assert_int_equal(node_perms(nd)[1].id, 9);
	assert_int_equal(node_perms(nd)[1].perms, PERM_READ | PERM_WRITE | PERM_IGNORE);
	assert_int_equal(node_perms(nd)[2].perms, PERM_WRITE);
	assert_string_equal(perms_of(f, "/sp"), "r0,b9,w1");
	/* Without a domain_exists callback only domain 0 exists. */
	f->s.domain_exists = NULL;
	assert_int_equal(setp(f, &PRIV, "/sp", "n1"), ENOENT);
	assert_int_equal(setp(f, &PRIV, "/sp", "n0,r1"), 0);
	assert_true(node_perms(node(f, "/sp"))[1].perms & PERM_IGNORE);
}

static void test_set_perms_unprivileged(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &D1, "/local/domain/1/x", "v"), 0);
	assert_int_equal(setp(f, &D1, "/local/domain/1/x", "n1,r2"), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/x"), "n1,r2");
	assert_int_equal(setp(f, &D1, "/local/domain/1/x", "r1,r2,b3"), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/x"), "r1,r2,b3");
	/* An owner may not hand the node to someone else. */
	assert_int_equal(setp(f, &D1, "/local/domain/1/x", "n2"), EPERM);
	assert_int_equal(setp(f, &D1, "/local/domain/1/x", "n0,r1"), EPERM);
	assert_string_equal(perms_of(f, "/local/domain/1/x"), "r1,r2,b3");
	assert_int_equal(owned(f, 1), 2);
	assert_int_equal(owned(f, 2), 1);
	/* An owner that does not exist is checked first. */
	assert_int_equal(setp(f, &D1, "/local/domain/1/x", "n7"), ENOENT);
	/* Write access is not ownership. */
	assert_int_equal(setp(f, &D1, "/local/domain/1/x", "n1,b2"), 0);
	assert_int_equal(setp(f, &D2, "/local/domain/1/x", "n1,b2"), EACCES);
	assert_int_equal(setp(f, &D2, "/local/domain/1/x", "n2"), EACCES);
	assert_string_equal(perms_of(f, "/local/domain/1/x"), "n1,b2");
	/* Not visible: EACCES; visible parent: ENOENT. */
	assert_int_equal(setp(f, &D2, "/local/domain/1/none", "n1"), EACCES);
	assert_int_equal(setp(f, &D1, "/local/domain/1/none", "n1"), ENOENT);
	assert_int_equal(setp(f, &D1, "/local/domain", "n0"), EACCES);
	/* Acting for a target: as its owner, but still not handing over. */
	const struct caller stub = { .domid = 3, .has_target = true, .target = 1 };
	assert_int_equal(setp(f, &stub, "/local/domain/1/x", "n1"), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/x"), "n1");
	assert_int_equal(setp(f, &stub, "/local/domain/1/x", "n3"), EPERM);
}

/* ---- quotas ---- */

static void test_quota_nodes(void **state)
{
	struct fx *f = *state;
	long alive = store_nodes_alive();
	uint64_t g = gen(f, "/local/domain/1");

	f->s.q.nodes = 3;                    /* domain 1 owns 1 */
	assert_int_equal(wr(f, &D1, "/local/domain/1/a/b/c", "x"), ENOSPC);
	/* Nothing half-made. */
	assert_null(node(f, "/local/domain/1/a"));
	assert_string_equal(kids(f, "/local/domain/1"), "");
	assert_int_equal(gen(f, "/local/domain/1"), g);
	assert_int_equal(owned(f, 1), 1);
	assert_int_equal(store_nodes_alive(), alive);
	assert_string_equal(fx_evs(f), "");
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/local/domain/1/a/b/c", &f->ev), ENOSPC);
	assert_null(node(f, "/local/domain/1/a"));
	/* Up to the quota. */
	assert_int_equal(wr(f, &D1, "/local/domain/1/a/b", "x"), 0);
	assert_int_equal(owned(f, 1), 3);
	assert_int_equal(wr(f, &D1, "/local/domain/1/c", "x"), ENOSPC);
	assert_null(node(f, "/local/domain/1/c"));
	/* Changing existing nodes is fine. */
	assert_int_equal(wr(f, &D1, "/local/domain/1/a/b", "y"), 0);
	/* Other domains have their own count. */
	assert_int_equal(wr(f, &D2, "/local/domain/2/a/b", "x"), 0);
	/* Privileged callers are not held to it (the node is domain 1's). */
	assert_int_equal(wr(f, &PRIV, "/local/domain/1/c", "p"), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/c"), "n1");
	assert_int_equal(owned(f, 1), 4);
	/* Removing frees quota. */
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/1/a", &f->ev), 0);
	assert_int_equal(owned(f, 1), 2);
	assert_int_equal(wr(f, &D1, "/local/domain/1/d", "x"), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/1/e", "x"), ENOSPC);
}

static void test_quota_node_size(void **state)
{
	struct fx *f = *state;
	static char big[4096];
	memset(big, 'x', sizeof(big));
	long alive = store_nodes_alive();

	/* Xen's record: 24-byte header + 8 per permission + data + children,
	 * and it must stay below 2048: 24 + 8 + 2015 = 2047. */
	assert_int_equal(f->s.q.node_size, 2048);
	assert_int_equal(store_write(&f->s, NULL, &D1, "/local/domain/1/big", big, 2016, &f->ev), ENOSPC);
	assert_null(node(f, "/local/domain/1/big"));
	assert_int_equal(store_nodes_alive(), alive);
	assert_int_equal(owned(f, 1), 1);
	assert_int_equal(store_write(&f->s, NULL, &D1, "/local/domain/1/big", big, 2015, &f->ev), 0);
	assert_int_equal(node(f, "/local/domain/1/big")->datalen, 2015);
	/* Growing an existing node: refused, value kept. */
	assert_int_equal(store_write(&f->s, NULL, &D1, "/local/domain/1/big", big, 2016, &f->ev), ENOSPC);
	assert_int_equal(node(f, "/local/domain/1/big")->datalen, 2015);
	/* More permissions, less room. */
	assert_int_equal(setp(f, &D1, "/local/domain/1/big", "n1,r2"), ENOSPC);
	assert_string_equal(perms_of(f, "/local/domain/1/big"), "n1");
	assert_int_equal(store_write(&f->s, NULL, &D1, "/local/domain/1/big", big, 2007, &f->ev), 0);
	assert_int_equal(setp(f, &D1, "/local/domain/1/big", "n1,r2"), 0);
	assert_int_equal(store_write(&f->s, NULL, &D1, "/local/domain/1/big", big, 2008, &f->ev), ENOSPC);
	/* Privileged: no limit. */
	assert_int_equal(store_write(&f->s, NULL, &PRIV, "/local/domain/1/big", big, 4096, &f->ev), 0);
	assert_int_equal(node(f, "/local/domain/1/big")->datalen, 4096);
}

static void test_quota_node_size_parent(void **state)
{
	struct fx *f = *state;
	long alive = store_nodes_alive();

	/* /local/domain/1: 24 + 8 = 32; each 10-char child adds 11. */
	f->s.q.node_size = 64;
	assert_int_equal(wr(f, &D1, "/local/domain/1/aaaaaaaaa0", ""), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/1/aaaaaaaaa1", ""), 0);
	uint64_t g = gen(f, "/local/domain/1");
	events_clear(&f->ev);
	assert_int_equal(wr(f, &D1, "/local/domain/1/aaaaaaaaa2", ""), ENOSPC);
	assert_null(node(f, "/local/domain/1/aaaaaaaaa2"));
	assert_string_equal(kids(f, "/local/domain/1"), "aaaaaaaaa0,aaaaaaaaa1");
	assert_int_equal(gen(f, "/local/domain/1"), g);
	assert_int_equal(owned(f, 1), 3);
	assert_int_equal(store_nodes_alive(), alive + 2);
	assert_string_equal(fx_evs(f), "");
	/* The new node's own record counts too: 24 + 8 + 31 < 64 <= 24 + 8 + 32. */
	assert_int_equal(wr(f, &D1, "/local/domain/1/aaaaaaaaa0/b",
			    "1234567890123456789012345678901"), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/1/aaaaaaaaa1/b",
			    "12345678901234567890123456789012"), ENOSPC);
	assert_null(node(f, "/local/domain/1/aaaaaaaaa1/b"));
}

/* A new ancestor that would be too big once it holds the next level's name:
 * Xen's create_node() writes nothing then (ENOSPC, no node left behind). */
static void test_quota_node_size_new_ancestor(void **state)
{
	struct fx *f = *state;
	char name[PATH_BUF];
	long alive = store_nodes_alive();
	uint64_t g = gen(f, "/local/domain/1");

	/* "/local/domain/1/a" would hold a 2020-char child name:
	 * 24 + 8 + 2021 >= 2048. */
	int w = snprintf(name, sizeof(name), "/local/domain/1/a/%02020d", 0);
	assert_true(w > 0 && (size_t)w < sizeof(name));
	events_clear(&f->ev);
	assert_int_equal(wr(f, &D1, name, "x"), ENOSPC);
	assert_null(node(f, "/local/domain/1/a"));
	assert_string_equal(kids(f, "/local/domain/1"), "");
	assert_int_equal(gen(f, "/local/domain/1"), g);
	assert_int_equal(owned(f, 1), 1);
	assert_int_equal(store_nodes_alive(), alive);
	assert_string_equal(fx_evs(f), "");
}

/* ---- a domain goes away ---- */

static void test_forget_domain(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &D3, "/local/domain/3/a/b", "x"), 0);
	assert_int_equal(wr(f, &PRIV, "/local/domain/3/dev", "d"), 0);
	assert_int_equal(wr(f, &PRIV, "/local/domain/3/p0", "p"), 0);
	assert_int_equal(setp(f, &PRIV, "/local/domain/3/p0", "n0"), 0);
	assert_int_equal(wr(f, &PRIV, "/vm/x/y", "v"), 0);
	assert_int_equal(setp(f, &PRIV, "/vm/x", "n3"), 0);
	assert_int_equal(wr(f, &PRIV, "/other", "o"), 0);
	assert_int_equal(setp(f, &PRIV, "/other", "n0,r3"), 0);
	assert_int_equal(wr(f, &D1, "/local/domain/1/shared", "s"), 0);
	assert_int_equal(setp(f, &D1, "/local/domain/1/shared", "n1,b3,r2"), 0);
	assert_int_equal(owned(f, 3), 5);
	int own0 = owned(f, 0);
	long alive = store_nodes_alive();
	events_clear(&f->ev);
	assert_int_equal(rd(f, &D3, "/other", NULL), 0);

	f->dom[3] = false;
	store_forget_domain(&f->s, 3, &f->ev);

	assert_null(node(f, "/local/domain/3"));
	assert_null(node(f, "/local/domain/3/p0"));
	assert_null(node(f, "/vm/x"));
	assert_null(node(f, "/vm/x/y"));
	assert_string_equal(kids(f, "/vm"), "");
	assert_string_equal(kids(f, "/local/domain"), "1,2");
	assert_int_equal(owned(f, 3), 0);
	assert_int_equal(owned(f, 0), own0 - 2);    /* p0, /vm/x/y */
	assert_int_equal(store_nodes_alive(), alive - 7);
	/* Its entries elsewhere are IGNOREd, others kept. */
	const struct node *o = node(f, "/other");
	assert_int_equal(o->nperms, 2);
	assert_int_equal(node_perms(o)[1].id, 3);
	assert_true(node_perms(o)[1].perms & PERM_IGNORE);
	assert_int_equal(rd(f, &D3, "/other", NULL), EACCES);
	const struct node *sh = node(f, "/local/domain/1/shared");
	assert_true(node_perms(sh)[1].perms & PERM_IGNORE);
	assert_false(node_perms(sh)[2].perms & PERM_IGNORE);
	assert_int_equal(rd(f, &D2, "/local/domain/1/shared", NULL), 0);
	assert_string_equal(perms_of(f, "/local/domain/1/shared"), "n1,b3,r2");
	/* Two removals, each children first. */
	assert_int_equal(f->ev.n, 7);
	int tops = 0;
	for (size_t i = 0; i < f->ev.n; i++) {
		const struct event *e = f->ev.v[i];
		if (strcmp(e->path, "/local/domain/3") == 0 || strcmp(e->path, "/vm/x") == 0) {
			assert_false(e->exact);
			tops++;
		} else {
			assert_true(e->exact);
		}
	}
	assert_int_equal(tops, 2);
	events_clear(&f->ev);
	/* Forgetting a domain that owns nothing changes nothing. */
	store_forget_domain(&f->s, 9, &f->ev);
	assert_int_equal(f->ev.n, 0);
	assert_int_equal(store_nodes_alive(), alive - 7);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_initial_tree),
		T(test_write_read),
		T(test_value_and_children_grow),
		T(test_write_creates_ancestors),
		T(test_created_nodes_inherit_perms),
		T(test_unprivileged_creator_owns),
		T(test_read_enoent_vs_eacces),
		T(test_read_with_target),
		T(test_write_permissions),
		T(test_mkdir),
		T(test_rm_subtree),
		T(test_rm_missing),
		T(test_rm_root_and_permissions),
		T(test_rm_subtree_with_other_owners),
		T(test_directory_order),
		T(test_generations),
		T(test_set_perms_priv),
		T(test_set_perms_unknown_domains),
		T(test_set_perms_unprivileged),
		T(test_quota_nodes),
		T(test_quota_node_size),
		T(test_quota_node_size_parent),
		T(test_quota_node_size_new_ancestor),
		T(test_forget_domain),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
