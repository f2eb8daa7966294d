/*
 * test_watch.c — watches and watch events: the watch list, which events the
 * store operations produce (paths, exact flags, permissions carried), which
 * watches an event fires (watch_match) and who may learn of it
 * (event_visible). Expected results follow Xen 4.17's fire_watches(),
 * is_child(), watch_permitted() and delete_node().
 *
 * Leak accounting: store tests get a fresh store; teardown frees it and
 * asserts store_nodes_alive() == 0.
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

/* ---- the watch list ---- */

/* watch_unlink takes a watch out in O(1) wherever it is (the index found it). */
static void test_watch_unlink(void **state)
{
	struct watch_list l;
	struct watch *w[4];
	const char *names[4] = { "/a", "/b", "/c", "/d" };
	(void)state;
	watch_list_init(&l);
	for (int i = 0; i < 4; i++)
		assert_int_equal(watch_append(&l, names[i], "t", 0, &w[i]), 0);
	watch_unlink(&l, w[1]); /* middle */
	watch_unlink(&l, w[3]); /* tail */
	assert_int_equal(l.count, 2);
	assert_string_equal(l.head->path, "/a");
	assert_string_equal(l.head->next->path, "/c");
	assert_null(l.head->next->next);
	assert_int_equal(watch_append(&l, "/e", "t", 0, NULL), 0); /* the tail followed */
	assert_string_equal(l.head->next->next->path, "/e");
	watch_unlink(&l, w[0]); /* head */
	assert_string_equal(l.head->path, "/c");
	assert_int_equal(watch_remove(&l, "/e", "t"), 0);
	assert_int_equal(watch_remove(&l, "/c", "t"), 0);
	assert_null(l.head);
	assert_int_equal(watch_append(&l, "/f", "t", 0, NULL), 0);
	assert_string_equal(l.head->path, "/f");
	watch_clear(&l);
}

static void test_watch_list(void **state)
{
	struct watch_list l;
	struct watch *w = NULL;
	(void)state;

	watch_list_init(&l);
	assert_null(l.head);
	assert_int_equal(l.count, 0);
	assert_int_equal(watch_add(&l, "/a", "t1", 0, &w), 0);
	assert_non_null(w);
	assert_string_equal(w->path, "/a");
	assert_string_equal(w->token, "t1");
	assert_int_equal(watch_add(&l, "/a", "t1", 0, NULL), EEXIST);
	assert_int_equal(watch_add(&l, "/a", "t1", 16, NULL), EEXIST);
	assert_int_equal(watch_add(&l, "/a", "t2", 0, NULL), 0);
	assert_int_equal(watch_add(&l, "/b", "t1", 0, NULL), 0);
	assert_int_equal(l.count, 3);
	/* Kept in registration order. */
	assert_string_equal(l.head->token, "t1");
	assert_string_equal(l.head->next->token, "t2");
	assert_string_equal(l.head->next->next->path, "/b");
	assert_null(l.head->next->next->next);

	assert_int_equal(watch_remove(&l, "/a", "t3"), ENOENT);
	assert_int_equal(watch_remove(&l, "/c", "t1"), ENOENT);
	/* Remove the last, then append: the tail must follow. */
	assert_int_equal(watch_remove(&l, "/b", "t1"), 0);
	assert_int_equal(l.count, 2);
	assert_int_equal(watch_add(&l, "/c", "t1", 0, NULL), 0);
	assert_string_equal(l.head->next->next->path, "/c");
	/* Remove the first. */
	assert_int_equal(watch_remove(&l, "/a", "t1"), 0);
	assert_string_equal(l.head->token, "t2");
	assert_int_equal(watch_remove(&l, "/a", "t1"), ENOENT);
	/* A removed watch can be added again. */
	assert_int_equal(watch_add(&l, "/a", "t1", 0, NULL), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.head->next->next->path, "/a");
	/* Remove all one by one, then reuse. */
	assert_int_equal(watch_remove(&l, "/a", "t2"), 0);
	assert_int_equal(watch_remove(&l, "/c", "t1"), 0);
	assert_int_equal(watch_remove(&l, "/a", "t1"), 0);
	assert_null(l.head);
	assert_int_equal(l.count, 0);
	assert_int_equal(watch_add(&l, "/d", "t", 0, NULL), 0);
	assert_string_equal(l.head->path, "/d");
	watch_clear(&l);
	assert_null(l.head);
	assert_int_equal(l.count, 0);
	assert_int_equal(watch_add(&l, "/e", "t", 0, NULL), 0);
	assert_int_equal(l.count, 1);
	watch_clear(&l);
}

/* ---- matching ---- */

static struct event mkev(const char *path, bool exact)
{
	struct event e = { .path = (char *)path, .exact = exact };
	return e;
}

static const char *match(const char *wpath, size_t prefix, const char *epath, bool exact)
{
	struct watch w = { .path = (char *)wpath, .token = (char *)"tok", .prefix_len = prefix };
	struct event e = mkev(epath, exact);
	return watch_match(&w, &e);
}

static void test_match_children(void **state)
{
	(void)state;
	assert_string_equal(match("/a", 0, "/a", false), "/a");
	assert_string_equal(match("/a", 0, "/a/b", false), "/a/b");
	assert_string_equal(match("/a", 0, "/a/b/c/d", false), "/a/b/c/d");
	assert_null(match("/a", 0, "/ab", false));
	assert_null(match("/a", 0, "/b", false));
	/* A change of a parent does not fire the child's watch. */
	assert_null(match("/a/b", 0, "/a", false));
	assert_null(match("/a/b", 0, "/", false));
}

static void test_match_exact(void **state)
{
	(void)state;
	/* Exact events (a descendant being removed) fire only the watch on
	 * that very node. */
	assert_string_equal(match("/a/b", 0, "/a/b", true), "/a/b");
	assert_null(match("/a", 0, "/a/b", true));
	assert_null(match("/", 0, "/a/b", true));
	assert_null(match("/a/b/c", 0, "/a/b", true));
}

static void test_match_root_and_special(void **state)
{
	(void)state;
	assert_string_equal(match("/", 0, "/", false), "/");
	assert_string_equal(match("/", 0, "/x", false), "/x");
	assert_string_equal(match("/", 0, "/local/domain/3/a", false), "/local/domain/3/a");
	assert_string_equal(match("@introduceDomain", 0, "@introduceDomain", false), "@introduceDomain");
	assert_null(match("@introduceDomain", 0, "@releaseDomain", false));
	assert_null(match("@releaseDomain", 0, "/local/domain/3", false));
	/* Xen's is_child(): "/" is everyone's parent. */
	assert_string_equal(match("/", 0, "@releaseDomain", false), "@releaseDomain");
}

static void test_match_relative(void **state)
{
	/* A watch set as "device" by domain 3 reports names relative to its
	 * home: the prefix is "/local/domain/3/". */
	const size_t pre = strlen("/local/domain/3/");
	(void)state;
	assert_string_equal(match("/local/domain/3/device", pre, "/local/domain/3/device", false), "device");
	assert_string_equal(match("/local/domain/3/device", pre, "/local/domain/3/device/vbd/51714", false),
			    "device/vbd/51714");
	assert_string_equal(match("/local/domain/3/device", pre, "/local/domain/3/device", true), "device");
	assert_null(match("/local/domain/3/device", pre, "/local/domain/3/devices", false));
	assert_null(match("/local/domain/3/device", pre, "/local/domain/3", false));
	/* Absolute watches report absolute names. */
	assert_string_equal(match("/local/domain/3/device", 0, "/local/domain/3/device/vbd", false),
			    "/local/domain/3/device/vbd");
}

/* ---- visibility ---- */

static void test_event_visible(void **state)
{
	const struct perm owner2[] = { { 2, PERM_NONE } };
	const struct perm read1[] = { { 2, PERM_NONE }, { 1, PERM_READ } };
	const struct perm write1[] = { { 2, PERM_NONE }, { 1, PERM_WRITE } };
	const struct perm ign1[] = { { 2, PERM_NONE }, { 1, PERM_READ | PERM_IGNORE } };
	const struct perm everyone[] = { { 2, PERM_READ } };
	struct event e = mkev("/local/domain/2/x", false);
	(void)state;

	/* Nothing readable: only the owner and the privileged. */
	e.perms = (struct perm *)owner2; e.nperms = 1;
	e.pperms = (struct perm *)owner2; e.npperms = 1;
	assert_false(event_visible(&D1, &e));
	assert_true(event_visible(&D2, &e));
	assert_true(event_visible(&PRIV, &e));
	/* The node readable. */
	e.perms = (struct perm *)read1; e.nperms = 2;
	assert_true(event_visible(&D1, &e));
	assert_false(event_visible(&D3, &e));
	/* Write access is not enough. */
	e.perms = (struct perm *)write1;
	assert_false(event_visible(&D1, &e));
	/* IGNOREd entries do not count. */
	e.perms = (struct perm *)ign1;
	assert_false(event_visible(&D1, &e));
	/* The parent readable. */
	e.perms = (struct perm *)owner2; e.nperms = 1;
	e.pperms = (struct perm *)read1; e.npperms = 2;
	assert_true(event_visible(&D1, &e));
	assert_false(event_visible(&D3, &e));
	/* The old permissions (before SET_PERMS) readable. */
	e.pperms = (struct perm *)owner2; e.npperms = 1;
	e.oldperms = (struct perm *)read1; e.noldperms = 2;
	assert_true(event_visible(&D1, &e));
	assert_false(event_visible(&D3, &e));
	/* A default of "r". */
	e.oldperms = NULL; e.noldperms = 0;
	e.perms = (struct perm *)everyone;
	assert_true(event_visible(&D3, &e));
	/* No permissions at all (a node gone, no parent): privileged only. */
	struct event bare = mkev("@releaseDomain", false);
	assert_false(event_visible(&D1, &bare));
	assert_true(event_visible(&PRIV, &bare));
	/* A target's rights count. */
	const struct caller stub = { .domid = 5, .has_target = true, .target = 2 };
	e.perms = (struct perm *)owner2;
	assert_true(event_visible(&stub, &e));
}

/* ---- events produced by store operations ---- */

static int setp(struct fx *f, const struct caller *c, const char *name, const char *spec)
{
	return fx_setp(f, NULL, c, name, spec);
}

static int wr(struct fx *f, const struct caller *c, const char *name, const char *data)
{
	return fx_write(f, NULL, c, name, data);
}

/* Who (of domains 1..3) may see each queued event: "1-3 1 -" ...; cleared. */
static const char *seen_by(struct fx *f)
{
	static char buf[1024];
	size_t len = 0;
	const struct caller *who[] = { &D1, &D2, &D3 };
	buf[0] = '\0';
	for (size_t i = 0; i < f->ev.n; i++) {
		char one[8];
		size_t k = 0;
		for (int d = 0; d < 3; d++)
			if (event_visible(who[d], f->ev.v[i]))
				one[k++] = (char)('1' + d);
		if (!k)
			one[k++] = '-';
		one[k] = '\0';
		assert_true(event_visible(&PRIV, f->ev.v[i]));
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", one);
		assert_true(w > 0 && (size_t)w < sizeof(buf) - len);
		len += (size_t)w;
	}
	events_clear(&f->ev);
	return buf;
}

static void test_events_write_mkdir(void **state)
{
	struct fx *f = *state;

	/* One event for the named node, none for the ancestors made. */
	assert_int_equal(wr(f, &PRIV, "/a/b/c", "1"), 0);
	assert_string_equal(fx_evs(f), "/a/b/c");
	assert_int_equal(wr(f, &PRIV, "/a/b/c", "2"), 0);
	assert_string_equal(fx_evs(f), "/a/b/c");
	assert_int_equal(wr(f, &PRIV, "/a", "3"), 0);
	assert_string_equal(fx_evs(f), "/a");
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/m/n", &f->ev), 0);
	assert_string_equal(fx_evs(f), "/m/n");
	/* mkdir of an existing node changes nothing, tells nobody. */
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/m/n", &f->ev), 0);
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, "/m", &f->ev), 0);
	assert_string_equal(fx_evs(f), "");
	/* A NULL event list is allowed. */
	assert_int_equal(store_write(&f->s, NULL, &PRIV, "/q", "x", 1, NULL), 0);
	assert_int_equal(f->ev.n, 0);
}

static void test_events_rm(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &PRIV, "/a/b/d", "1"), 0);
	assert_int_equal(wr(f, &PRIV, "/a/c", "2"), 0);
	assert_int_equal(wr(f, &PRIV, "/a/b/e/f", "3"), 0);
	events_clear(&f->ev);
	/* Children first, each exact; then the node itself, not exact. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/a", &f->ev), 0);
	assert_string_equal(fx_evs(f), "/a/b/d! /a/b/e/f! /a/b/e! /a/b! /a/c! /a");
	/* A leaf. */
	assert_int_equal(wr(f, &PRIV, "/l", "1"), 0);
	events_clear(&f->ev);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/l", &f->ev), 0);
	assert_string_equal(fx_evs(f), "/l");
	/* Nothing to remove: no event. */
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/l", &f->ev), 0);
	assert_string_equal(fx_evs(f), "");
}

static void test_events_rm_watchers(void **state)
{
	struct fx *f = *state;
	struct watch_list l;
	char fired[1024];
	size_t len = 0;

	assert_int_equal(wr(f, &PRIV, "/a/b/c", "1"), 0);
	events_clear(&f->ev);
	watch_list_init(&l);
	assert_int_equal(watch_add(&l, "/a", "A", 0, NULL), 0);
	assert_int_equal(watch_add(&l, "/a/b", "B", 0, NULL), 0);
	assert_int_equal(watch_add(&l, "/a/b/c", "C", 0, NULL), 0);
	assert_int_equal(watch_add(&l, "/", "R", 0, NULL), 0);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/a/b", &f->ev), 0);
	/* Each watcher hears of the removal once. */
	fired[0] = '\0';
	for (size_t i = 0; i < f->ev.n; i++)
		for (struct watch *w = l.head; w; w = w->next) {
			const char *p = watch_match(w, f->ev.v[i]);
			if (p) {
				int n = snprintf(fired + len, sizeof(fired) - len, "%s%s:%s",
						 len ? " " : "", w->token, p);
				assert_true(n > 0 && (size_t)n < sizeof(fired) - len);
				len += (size_t)n;
			}
		}
	assert_string_equal(fired, "C:/a/b/c A:/a/b B:/a/b R:/a/b");
	watch_clear(&l);
	events_clear(&f->ev);
}

static void test_events_set_perms(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &PRIV, "/s", "1"), 0);
	assert_int_equal(setp(f, &PRIV, "/s", "n0,r1"), 0);
	events_clear(&f->ev);
	assert_int_equal(setp(f, &PRIV, "/s", "n0,r2"), 0);
	assert_int_equal(f->ev.n, 1);
	const struct event *e = f->ev.v[0];
	assert_string_equal(e->path, "/s");
	assert_false(e->exact);
	assert_int_equal(e->nperms, 2);
	assert_int_equal(e->perms[1].id, 2);
	assert_int_equal(e->noldperms, 2);
	assert_int_equal(e->oldperms[1].id, 1);
	assert_int_equal(e->npperms, 1);
	assert_int_equal(e->pperms[0].id, 0);
	/* The one who lost access learns of it, as the one who gained it. */
	assert_string_equal(seen_by(f), "12");
}

static void test_events_carry_perms(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &D2, "/local/domain/2/x", "1"), 0);
	assert_int_equal(f->ev.n, 1);
	const struct event *e = f->ev.v[0];
	assert_int_equal(e->nperms, 1);
	assert_int_equal(e->perms[0].id, 2);
	assert_int_equal(e->npperms, 1);
	assert_int_equal(e->pperms[0].id, 2);
	assert_int_equal(e->noldperms, 0);
	assert_string_equal(seen_by(f), "2");
	/* Open the parent to domain 1: it sees changes of the children. */
	assert_int_equal(setp(f, &D2, "/local/domain/2", "n2,r1"), 0);
	assert_string_equal(seen_by(f), "12");
	assert_int_equal(wr(f, &D2, "/local/domain/2/x", "2"), 0);
	assert_string_equal(seen_by(f), "12");
	/* ... but not of grandchildren. */
	assert_int_equal(wr(f, &D2, "/local/domain/2/x/y", "3"), 0);
	assert_string_equal(seen_by(f), "2");
	/* Open one node to domain 3. */
	assert_int_equal(setp(f, &D2, "/local/domain/2/x/y", "n2,r3"), 0);
	assert_string_equal(seen_by(f), "23");
	assert_int_equal(wr(f, &D2, "/local/domain/2/x/y", "4"), 0);
	assert_string_equal(seen_by(f), "23");
	/* Removal: each event with the perms the node had. */
	assert_int_equal(store_rm(&f->s, NULL, &D2, "/local/domain/2/x", &f->ev), 0);
	assert_int_equal(f->ev.n, 2);
	assert_string_equal(f->ev.v[0]->path, "/local/domain/2/x/y");
	assert_string_equal(seen_by(f), "23 12");
}

static void test_events_failed_ops(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &D1, "/local/domain/2/x", "1"), EACCES);
	assert_int_equal(store_mkdir(&f->s, NULL, &D1, "/local/domain/2/x", &f->ev), EACCES);
	assert_int_equal(store_rm(&f->s, NULL, &D1, "/local/domain/2", &f->ev), EACCES);
	assert_int_equal(setp(f, &D1, "/local/domain/2", "n2"), EACCES);
	assert_int_equal(setp(f, &PRIV, "/local/domain/2", "n9"), ENOENT);
	assert_int_equal(store_rm(&f->s, NULL, &PRIV, "/", &f->ev), EINVAL);
	f->s.q.nodes = 1;
	assert_int_equal(wr(f, &D1, "/local/domain/1/x", "1"), ENOSPC);
	assert_string_equal(fx_evs(f), "");
}

static void test_special_event(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_special_event(&f->s, "@introduceDomain", &f->ev), 0);
	assert_int_equal(f->ev.n, 1);
	const struct event *e = f->ev.v[0];
	assert_string_equal(e->path, "@introduceDomain");
	assert_false(e->exact);
	assert_int_equal(e->nperms, 1);
	assert_int_equal(e->npperms, 0);
	assert_false(event_visible(&D1, e));
	assert_true(event_visible(&PRIV, e));
	events_clear(&f->ev);
	/* Whoever may read the special node hears of it. */
	assert_int_equal(setp(f, &PRIV, "@releaseDomain", "n0,r1"), 0);
	events_clear(&f->ev);
	assert_int_equal(store_special_event(&f->s, "@releaseDomain", &f->ev), 0);
	assert_string_equal(seen_by(f), "1");
}

static void test_events_forget_domain(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wr(f, &D3, "/local/domain/3/a/b", "1"), 0);
	events_clear(&f->ev);
	f->dom[3] = false;
	store_forget_domain(&f->s, 3, &f->ev);
	assert_string_equal(fx_evs(f), "/local/domain/3/a/b! /local/domain/3/a! /local/domain/3");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_list),
		cmocka_unit_test(test_watch_unlink),
		cmocka_unit_test(test_match_children),
		cmocka_unit_test(test_match_exact),
		cmocka_unit_test(test_match_root_and_special),
		cmocka_unit_test(test_match_relative),
		cmocka_unit_test(test_event_visible),
		T(test_events_write_mkdir),
		T(test_events_rm),
		T(test_events_rm_watchers),
		T(test_events_set_perms),
		T(test_events_carry_perms),
		T(test_events_failed_ops),
		T(test_special_event),
		T(test_events_forget_domain),
	};
	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
