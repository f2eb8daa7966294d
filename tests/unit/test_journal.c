/*
 * test_journal.c — the journal's records (xmstored/jrec.c): encode and
 * decode every entry type, the checks that find a damaged or truncated
 * record (checksum, magic, lengths, entry count), and replay: the changes a
 * store's hook reports, written as records of the nodes as they are after
 * each change (as journal.c does), rebuild an identical tree — data,
 * permissions, children in order, generations, node counts per domain — on
 * a fresh store, after plain writes, a committed transaction, a removed
 * subtree and a released domain (its nodes gone, IGNORE marks elsewhere).
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

#include "../../xmstored/jrec.h"
#include "../../xmstored/perms.h"
#include "../../xmstored/store.h"
#include "fixture.h"

/* ---- encode / decode ---- */

static void encode_sample(struct jbuf *b)
{
	struct perm p[2] = { { 3, PERM_NONE }, { 0, PERM_READ | PERM_IGNORE } };
	struct node_img n = { .name = "/local/domain/3/x", .gen = 42, .data = "v\0w",
			      .datalen = 3, .children = "a\0bb\0", .childlen = 5,
			      .perms = p, .nperms = 2 };
	size_t start = jrec_begin(b);
	jrec_img(b, &n);
	jrec_del(b, "/gone");
	jrec_dom(b, JE_INTRO, 7, 0);
	jrec_dom(b, JE_TARGET, 7, 3);
	jrec_dom(b, JE_RELEASE, 9, 0);
	jrec_end(b, start, 5, 1234);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	struct jrec r;
	struct jent e = { 0 };
	size_t size, off = 0;

	encode_sample(&b);
	assert_false(b.oom);
	assert_int_equal(jrec_read(b.p, b.len, &r, &size), JREC_OK);
	assert_int_equal(size, b.len);
	assert_int_equal(r.gen, 1234);
	assert_int_equal(r.nent, 5);

	assert_int_equal(jent_next(&r, &off, &e), 1);
	assert_int_equal(e.type, JE_NODE);
	assert_string_equal(e.name, "/local/domain/3/x");
	assert_int_equal(e.img.gen, 42);
	assert_int_equal(e.img.datalen, 3);
	assert_memory_equal(e.img.data, "v\0w", 3);
	assert_int_equal(e.img.childlen, 5);
	assert_memory_equal(e.img.children, "a\0bb\0", 5);
	assert_int_equal(e.img.nperms, 2);
	assert_int_equal(e.img.perms[0].id, 3);
	assert_int_equal(e.img.perms[1].perms, PERM_READ | PERM_IGNORE);

	assert_int_equal(jent_next(&r, &off, &e), 1);
	assert_int_equal(e.type, JE_DEL);
	assert_string_equal(e.name, "/gone");
	assert_int_equal(jent_next(&r, &off, &e), 1);
	assert_int_equal(e.type, JE_INTRO);
	assert_int_equal(e.domid, 7);
	assert_int_equal(jent_next(&r, &off, &e), 1);
	assert_int_equal(e.type, JE_TARGET);
	assert_int_equal(e.target, 3);
	assert_int_equal(jent_next(&r, &off, &e), 1);
	assert_int_equal(e.type, JE_RELEASE);
	assert_int_equal(e.domid, 9);
	assert_int_equal(jent_next(&r, &off, &e), 0);
	jent_free(&e);
	jbuf_free(&b);
}

/* Every byte flipped, anywhere: the record is refused, never read. */
static void test_damage_detected(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	struct jrec r;
	size_t size;

	encode_sample(&b);
	for (size_t i = 0; i < b.len; i++) {
		b.p[i] ^= 0x5a;
		enum jrec_status st = jrec_read(b.p, b.len, &r, &size);
		/* a flipped length may also look like a record running past the end */
		assert_true(st == JREC_BAD || (st == JREC_SHORT && i >= 4 && i < 8));
		b.p[i] ^= 0x5a;
	}
	assert_int_equal(jrec_read(b.p, b.len, &r, &size), JREC_OK);
	jbuf_free(&b);
}

/* Any prefix is a truncated record, never a good one. */
static void test_truncation_detected(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	struct jrec r;
	size_t size;

	encode_sample(&b);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(jrec_read(b.p, n, &r, &size), JREC_SHORT);
	jbuf_free(&b);
}

/* A checksum that matches but entries that do not: refused. */
static void test_bad_entries(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	struct jrec r;
	size_t size, start;

	start = jrec_begin(&b);
	jrec_del(&b, "/a");
	jrec_end(&b, start, 2, 1); /* says 2 entries, holds 1 */
	assert_int_equal(jrec_read(b.p, b.len, &r, &size), JREC_BAD);
	b.len = 0;
	start = jrec_begin(&b);
	jbuf_put(&b, "\x09", 1); /* no such entry type */
	jrec_end(&b, start, 1, 1);
	assert_int_equal(jrec_read(b.p, b.len, &r, &size), JREC_BAD);
	b.len = 0;
	start = jrec_begin(&b);
	jbuf_put(&b, "\x02\x00\x00\x00\x00", 5); /* a removal of an empty name */
	jrec_end(&b, start, 1, 1);
	assert_int_equal(jrec_read(b.p, b.len, &r, &size), JREC_BAD);
	jbuf_free(&b);
}

/* ---- replay ---- */

struct rec {
	struct store *s;
	struct jbuf out;
	char names[64][128];
	unsigned int n;
};

static void hook(void *ctx, const char *name)
{
	struct rec *r = ctx;
	for (unsigned int i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return;
	assert_true(r->n < 64);
	snprintf(r->names[r->n++], sizeof(r->names[0]), "%s", name);
}

/* The changes since the last call as one record, as journal.c makes it. */
static void record(struct rec *r)
{
	size_t start = jrec_begin(&r->out);
	for (unsigned int i = 0; i < r->n; i++) {
		const struct node *n = store_lookup(r->s, r->names[i]);
		if (n)
			jrec_node(&r->out, n);
		else
			jrec_del(&r->out, r->names[i]);
	}
	jrec_end(&r->out, start, r->n, r->s->gen);
	r->n = 0;
}

static void replay_all(const struct jbuf *b, struct store *s, struct jdoms *d)
{
	size_t off = 0, size;
	struct jrec r;
	while (off < b->len) {
		assert_int_equal(jrec_read(b->p + off, b->len - off, &r, &size), JREC_OK);
		assert_int_equal(jrec_apply(&r, s, d), 0);
		off += size;
	}
}

static void same_node(const struct node *a, const struct node *b)
{
	assert_non_null(b);
	assert_int_equal(a->gen, b->gen);
	assert_int_equal(a->datalen, b->datalen);
	assert_memory_equal(node_data(a), node_data(b), a->datalen);
	assert_int_equal(a->childlen, b->childlen);
	if (a->childlen)
		assert_memory_equal(node_children(a), node_children(b), a->childlen);
	assert_int_equal(a->nperms, b->nperms);
	for (unsigned int i = 0; i < a->nperms; i++) {
		assert_int_equal(node_perms(a)[i].id, node_perms(b)[i].id);
		assert_int_equal(node_perms(a)[i].perms, node_perms(b)[i].perms);
	}
}

static void same_store(struct store *a, struct store *b)
{
	size_t it;
	assert_int_equal(a->nodes.count, b->nodes.count);
	for (const struct node *n = store_first(a, &it); n; n = store_next(a, &it, n)) {
		char name[PATH_BUF];
		node_name(n, name);
		same_node(n, store_lookup(b, name));
	}
	for (uint32_t d = 0; d < 5; d++)
		assert_int_equal(store_owned(a, NULL, d), store_owned(b, NULL, d));
	assert_int_equal(a->gen, b->gen);
}

static void test_replay_rebuilds(void **state)
{
	struct fx *f = *state;
	struct rec r = { .s = &f->s };
	struct store b;
	struct jdoms doms = { 0 };
	struct perm p[2];
	unsigned int np;

	/* The fixture's domains so far, as a record of everything. */
	size_t it;
	for (const struct node *n = store_first(&f->s, &it); n; n = store_next(&f->s, &it, n)) {
		char name[PATH_BUF];
		node_name(n, name);
		hook(&r, name);
	}
	record(&r);
	f->s.on_change = hook;
	f->s.change_ctx = &r;

	assert_int_equal(fx_write(f, NULL, &D1, "/local/domain/1/a/b", "x"), 0);
	record(&r);
	assert_int_equal(fx_setp(f, NULL, &PRIV, "/local/domain/1/a", "n1,r2,b3"), 0);
	record(&r);
	struct txn *t = store_txn_begin(&f->s);
	assert_int_equal(fx_write(f, t, &PRIV, "/t/one", "1"), 0);
	assert_int_equal(fx_write(f, t, &PRIV, "/t/two", "2"), 0);
	assert_int_equal(store_rm(&f->s, t, &PRIV, "/local/domain/1/a/b", &f->ev), 0);
	assert_int_equal(r.n, 0); /* nothing live yet */
	assert_int_equal(store_txn_end(&f->s, t, true, NULL, &f->ev), 0);
	record(&r);
	assert_int_equal(fx_write(f, NULL, &PRIV, "/t/sub/deep/x", "y"), 0);
	record(&r);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/t/sub", &f->ev), 0);
	record(&r);
	assert_int_equal(fx_perms("n0,r2", p, &np), 0);
	assert_int_equal(store_set_perms(&f->s, NULL, &PRIV, "/t", p, np, &f->ev), 0);
	record(&r);
	f->dom[2] = false;
	store_forget_domain(&f->s, 2, &f->ev);
	record(&r);
	f->s.on_change = NULL;

	assert_int_equal(store_init(&b), 0);
	store_clear(&b);
	replay_all(&r.out, &b, &doms);
	assert_int_equal(store_loaded(&b, 0), 0);
	same_store(&f->s, &b);
	/* the IGNORE mark made by the release is there */
	const struct node *n = store_lookup(&b, "/t");
	assert_true(node_perms(n)[1].perms & PERM_IGNORE);
	/* and replaying again changes nothing (whole images) */
	replay_all(&r.out, &b, &doms);
	assert_int_equal(store_loaded(&b, 0), 0);
	same_store(&f->s, &b);
	store_fini(&b);
	free(doms.v);
	jbuf_free(&r.out);
}

/* Records put and removed in any order (a damaged or hand-made journal):
 * a child put before its parent, a parent removed before its child, a
 * parent put again over its children. Names and lookups stay right and
 * nothing is left allocated. */
static void put(struct store *s, const char *name, const char *kids, uint32_t kl)
{
	static const struct perm p = { 0, PERM_NONE };
	const struct node_img img = { .name = name, .gen = 1, .data = "v", .datalen = 1,
				      .children = kids, .childlen = kl, .perms = &p, .nperms = 1 };
	assert_int_equal(store_put_raw(s, &img), 0);
}

static void named(const struct store *s, const char *name)
{
	char buf[PATH_BUF];
	const struct node *n = store_lookup(s, name);
	assert_non_null(n);
	node_name(n, buf);
	assert_string_equal(buf, name);
}

static void test_raw_any_order(void **state)
{
	(void)state;
	struct store s;

	assert_int_equal(store_init(&s), 0);
	long base = store_nodes_alive();
	put(&s, "/a/b/c", "", 0);         /* before its parents */
	put(&s, "/a", "b", 2);
	put(&s, "/a/b", "c", 2);
	put(&s, "/a/b/d", "", 0);         /* below a live parent */
	put(&s, "//x", "", 0);            /* not "/" and "x" */
	named(&s, "/a/b/c");
	named(&s, "/a/b/d");
	named(&s, "//x");
	assert_null(store_lookup(&s, "/x"));
	assert_null(store_lookup(&s, "/a/b/c/"));
	store_del_raw(&s, "/a/b");        /* before its children */
	assert_null(store_lookup(&s, "/a/b"));
	named(&s, "/a/b/d");
	put(&s, "/a/b", "d", 2);          /* again, a new record */
	named(&s, "/a/b");
	named(&s, "/a/b/d");
	put(&s, "/a", "b\0e", 4);         /* again, over its children */
	named(&s, "/a/b/d");
	assert_int_equal(store_lookup(&s, "/a")->childlen, 4);
	store_del_raw(&s, "/a");
	store_del_raw(&s, "/a/b/d");
	named(&s, "/a/b/c");
	assert_int_equal(store_loaded(&s, 0), 0);
	store_del_raw(&s, "/a/b/c");
	store_del_raw(&s, "/a/b");
	store_del_raw(&s, "//x");
	assert_int_equal(store_nodes_alive(), base);
	put(&s, "/a", "", 0);
	put(&s, "/a/b", "", 0);
	store_fini(&s);                   /* with a parent before its child */
	assert_int_equal(store_nodes_alive(), 0);
}

static void test_domains(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	struct store s;
	struct jdoms d = { 0 };
	size_t start = jrec_begin(&b);

	jrec_dom(&b, JE_INTRO, 4, 0);
	jrec_dom(&b, JE_INTRO, 5, 0);
	jrec_dom(&b, JE_TARGET, 5, 4);
	jrec_end(&b, start, 3, 0);
	start = jrec_begin(&b);
	jrec_dom(&b, JE_RELEASE, 4, 0);
	jrec_end(&b, start, 1, 0);
	assert_int_equal(store_init(&s), 0);
	replay_all(&b, &s, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].domid, 5);
	assert_false(d.v[0].has_target); /* its target went away */
	store_fini(&s);
	free(d.v);
	jbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damage_detected),
		cmocka_unit_test(test_truncation_detected),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test_setup_teardown(test_replay_rebuilds, fx_setup, fx_teardown),
		cmocka_unit_test(test_raw_any_order),
		cmocka_unit_test(test_domains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
