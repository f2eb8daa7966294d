/*
 * test_path.c — node names: canonical form, validation, parents (path.c).
 * Expected results follow Xen 4.17's canonicalize() and is_valid_nodename().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../xmstored/path.h"

#define HOME "/local/domain/3"

/* Canonicalise with the daemon's default limit; out is "" on error. */
static int canon(const char *name, bool special, char out[PATH_BUF])
{
	out[0] = '\0';
	int err = path_canon(name, HOME, special, PATH_REL_MAX, out);
	if (err)
		out[0] = '\0';
	return err;
}

/* A string of n copies of c (caller frees). */
static char *rep(const char *prefix, char c, size_t n)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + n + 1);
	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	s[pl + n] = '\0';
	return s;
}

static void test_absolute_kept(void **state)
{
	char out[PATH_BUF];
	(void)state;
	assert_int_equal(canon("/", false, out), 0);
	assert_string_equal(out, "/");
	assert_int_equal(canon("/a", false, out), 0);
	assert_string_equal(out, "/a");
	assert_int_equal(canon("/Az09-_/x@y", false, out), 0);
	assert_string_equal(out, "/Az09-_/x@y");
	assert_int_equal(canon("/local/domain/7/device/vbd/51714", false, out), 0);
	assert_string_equal(out, "/local/domain/7/device/vbd/51714");
}

static void test_relative_against_home(void **state)
{
	char out[PATH_BUF];
	(void)state;
	assert_int_equal(canon("name", false, out), 0);
	assert_string_equal(out, HOME "/name");
	assert_int_equal(canon("device/vbd/51714/state", false, out), 0);
	assert_string_equal(out, HOME "/device/vbd/51714/state");
	/* A different implicit path (another connection). */
	assert_int_equal(path_canon("x", "/local/domain/0", false, PATH_REL_MAX, out), 0);
	assert_string_equal(out, "/local/domain/0/x");
	/* '@' inside a relative name is just a character. */
	assert_int_equal(canon("a@b", false, out), 0);
	assert_string_equal(out, HOME "/a@b");
}

static void test_invalid_chars(void **state)
{
	static const char *const bad[] = {
		"/a b", "/a.b", "/a:b", "/a\tb", "/a\nb", "/a+b", "/a*", "/a=1",
		"/\xc3\xa4", "/a\\b", "/a~", "a.b", "rel path", "/a,b",
	};
	char out[PATH_BUF];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(canon(bad[i], true, out), EINVAL);
		assert_int_equal(canon(bad[i], false, out), EINVAL);
	}
	assert_int_equal(path_canon(NULL, HOME, true, PATH_REL_MAX, out), EINVAL);
}

static void test_trailing_slash_and_double_slash(void **state)
{
	char out[PATH_BUF];
	(void)state;
	assert_int_equal(canon("/a/", false, out), EINVAL);
	assert_int_equal(canon("/a/b/", false, out), EINVAL);
	assert_int_equal(canon("a/", false, out), EINVAL);
	/* The empty name becomes "<home>/": invalid. */
	assert_int_equal(canon("", false, out), EINVAL);
	assert_int_equal(canon("//", false, out), EINVAL);
	assert_int_equal(canon("//a", false, out), EINVAL);
	assert_int_equal(canon("/a//b", false, out), EINVAL);
	assert_int_equal(canon("a//b", false, out), EINVAL);
	/* "/" alone is fine. */
	assert_int_equal(canon("/", false, out), 0);
}

static void test_special_names(void **state)
{
	char out[PATH_BUF];
	(void)state;
	assert_int_equal(canon("@introduceDomain", true, out), 0);
	assert_string_equal(out, "@introduceDomain");
	assert_int_equal(canon("@releaseDomain", true, out), 0);
	assert_string_equal(out, "@releaseDomain");
	/* Not where special names are not allowed (READ, WRITE, ...). */
	assert_int_equal(canon("@introduceDomain", false, out), EINVAL);
	assert_int_equal(canon("@", false, out), EINVAL);
	/* Special names are never relative. */
	assert_int_equal(canon("@x", true, out), 0);
	assert_string_equal(out, "@x");
}

static void test_length_past_home(void **state)
{
	char out[PATH_BUF];
	(void)state;
	/* Limit 10 past "/local/domain/N/". */
	char *ok = rep("/local/domain/3/", 'a', 10);
	char *bad = rep("/local/domain/3/", 'a', 11);
	assert_int_equal(path_canon(ok, HOME, false, 10, out), 0);
	assert_string_equal(out, ok);
	assert_int_equal(path_canon(bad, HOME, false, 10, out), EINVAL);
	/* A relative name is measured after expansion, the same way. */
	assert_int_equal(path_canon(ok + strlen("/local/domain/3/"), HOME, false, 10, out), 0);
	assert_int_equal(path_canon(bad + strlen("/local/domain/3/"), HOME, false, 10, out), EINVAL);
	free(ok);
	free(bad);

	/* Elsewhere the whole name counts. */
	assert_int_equal(path_canon("/aaaaaaaaa", HOME, false, 10, out), 0);
	assert_int_equal(path_canon("/aaaaaaaaaa", HOME, false, 10, out), EINVAL);
	/* A domain id of more than 5 digits is not a home (Xen's %5u). */
	assert_int_equal(path_canon("/local/domain/12345/aaaaaaaaaa", HOME, false, 10, out), 0);
	assert_int_equal(path_canon("/local/domain/123456/aaaaaaaaa", HOME, false, 10, out), EINVAL);
	/* Special names count whole too. */
	assert_int_equal(path_canon("@aaaaaaaaa", HOME, true, 10, out), 0);
	assert_int_equal(path_canon("@aaaaaaaaaa", HOME, true, 10, out), EINVAL);
}

static void test_length_default_limit(void **state)
{
	char out[PATH_BUF];
	(void)state;
	char *ok = rep("/local/domain/3/", 'b', PATH_REL_MAX);
	char *bad = rep("/local/domain/3/", 'b', PATH_REL_MAX + 1);
	assert_int_equal(canon(ok, false, out), 0);
	assert_int_equal(canon(bad, false, out), EINVAL);
	assert_int_equal(canon(ok + strlen("/local/domain/3/"), false, out), 0);
	assert_string_equal(out, ok);
	assert_int_equal(canon(bad + strlen("/local/domain/3/"), false, out), EINVAL);
	free(ok);
	free(bad);
	/* Names beyond the buffer are refused, not truncated. */
	char *huge = rep("/", 'c', PATH_BUF + 10);
	assert_int_equal(path_canon(huge, HOME, false, (size_t)-1, out), EINVAL);
	assert_int_equal(path_canon(huge + 1, HOME, false, (size_t)-1, out), EINVAL);
	free(huge);
}

static void test_parent_and_base(void **state)
{
	char out[PATH_BUF];
	(void)state;
	path_parent("/a", out);
	assert_string_equal(out, "/");
	path_parent("/a/b", out);
	assert_string_equal(out, "/a");
	path_parent("/local/domain/3/device/vbd", out);
	assert_string_equal(out, "/local/domain/3/device");
	assert_string_equal(path_base("/a"), "a");
	assert_string_equal(path_base("/a/b/cd"), "cd");
}

static void test_is_child(void **state)
{
	(void)state;
	assert_true(path_is_child("/a", "/a"));
	assert_true(path_is_child("/a/b", "/a"));
	assert_true(path_is_child("/a/b/c", "/a"));
	assert_false(path_is_child("/ab", "/a"));
	assert_false(path_is_child("/a", "/a/b"));
	assert_false(path_is_child("/b", "/a"));
	assert_true(path_is_child("/", "/"));
	assert_true(path_is_child("/anything/at/all", "/"));
	/* Xen's is_child(): "/" is everyone's parent, special names too. */
	assert_true(path_is_child("@introduceDomain", "/"));
	assert_true(path_is_child("@releaseDomain", "@releaseDomain"));
	assert_false(path_is_child("@releaseDomain", "@introduceDomain"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_kept),
		cmocka_unit_test(test_relative_against_home),
		cmocka_unit_test(test_invalid_chars),
		cmocka_unit_test(test_trailing_slash_and_double_slash),
		cmocka_unit_test(test_special_names),
		cmocka_unit_test(test_length_past_home),
		cmocka_unit_test(test_length_default_limit),
		cmocka_unit_test(test_parent_and_base),
		cmocka_unit_test(test_is_child),
	};
	return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
