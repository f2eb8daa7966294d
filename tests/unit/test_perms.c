/*
 * test_perms.c — permission strings and access decisions (perms.c).
 * Expected results follow Xen 4.17: xs_strings_to_perms(),
 * xs_perm_to_string() and xenstored's perm_for_conn().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "../../xmstored/perms.h"
#include "fixture.h"

#define ALL (PERM_READ | PERM_WRITE | PERM_OWNER)

static void test_parse_letters(void **state)
{
	struct perm p[4];
	unsigned int n;
	(void)state;
	memset(p, 0xaa, sizeof(p));
	assert_int_equal(fx_perms("r5,w7,b0,n12", p, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(p[0].perms, PERM_READ);
	assert_int_equal(p[0].id, 5);
	assert_int_equal(p[1].perms, PERM_WRITE);
	assert_int_equal(p[1].id, 7);
	assert_int_equal(p[2].perms, PERM_READ | PERM_WRITE);
	assert_int_equal(p[2].id, 0);
	assert_int_equal(p[3].perms, PERM_NONE);
	assert_int_equal(p[3].id, 12);
}

static void test_parse_ids(void **state)
{
	struct perm p[3];
	unsigned int n;
	(void)state;
	/* strtol with base 0, as Xen. */
	assert_int_equal(fx_perms("r0x10,w010,b65535", p, &n), 0);
	assert_int_equal(p[0].id, 16);
	assert_int_equal(p[1].id, 8);
	assert_int_equal(p[2].id, 65535);
	assert_int_equal(fx_perms("n-1", p, &n), 0);
	assert_int_equal(p[0].id, UINT32_MAX);
}

static void test_parse_bad_letters(void **state)
{
	struct perm p[3];
	unsigned int n;
	(void)state;
	assert_int_equal(fx_perms("x1", p, &n), EINVAL);
	assert_int_equal(fx_perms("R1", p, &n), EINVAL);
	assert_int_equal(fx_perms("1", p, &n), EINVAL);
	assert_int_equal(fx_perms("", p, &n), EINVAL);
	assert_int_equal(fx_perms(" r1", p, &n), EINVAL);
	/* A bad entry after good ones fails the whole set. */
	assert_int_equal(fx_perms("r1,b2,q3", p, &n), EINVAL);
}

/* Xen rejects an id with trailing garbage or no digits at all:
 * "if (*end || !*p) return EINVAL" in xs_strings_to_perms(). */
static void test_parse_bad_ids(void **state)
{
	struct perm p[2];
	unsigned int n;
	(void)state;
	assert_int_equal(fx_perms("r5x", p, &n), EINVAL);
	assert_int_equal(fx_perms("r", p, &n), EINVAL);
	assert_int_equal(fx_perms("n0,b1 ", p, &n), EINVAL);
	assert_int_equal(fx_perms("w0,r", p, &n), EINVAL);
}

static void test_format(void **state)
{
	const struct perm p[] = {
		{ 5, PERM_READ }, { 0, PERM_READ | PERM_WRITE },
		{ 7, PERM_WRITE }, { 3, PERM_NONE },
	};
	static const char want[] = "r5\0b0\0w7\0n3";   /* + final NUL */
	char buf[64];
	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(perms_format(p, 4, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Exactly enough room, and one byte short. */
	assert_int_equal(perms_format(p, 4, buf, sizeof(want)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(perms_format(p, 4, buf, sizeof(want) - 1), 0);
	assert_int_equal(perms_format(p, 1, buf, 2), 0);
	assert_int_equal(perms_format(p, 1, buf, 3), 3);
	assert_memory_equal(buf, "r5", 3);
}

static void test_format_flags_and_ids(void **state)
{
	const struct perm p[] = {
		{ 2, PERM_READ | PERM_IGNORE },            /* IGNORE is internal */
		{ 4, PERM_WRITE | PERM_IGNORE },
		{ 65535, PERM_NONE },
		{ UINT32_MAX, PERM_READ },                  /* as Xen's "%i" */
	};
	static const char want[] = "r2\0w4\0n65535\0r-1";
	char buf[64];
	(void)state;
	assert_int_equal(perms_format(p, 4, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_parse_format_roundtrip(void **state)
{
	static const char wire[] = "n0\0r1\0w2\0b3\0n4";
	struct perm p[5];
	char buf[64];
	(void)state;
	assert_int_equal(perms_parse(wire, 5, p), 0);
	assert_int_equal(perms_format(p, 5, buf, sizeof(buf)), sizeof(wire));
	assert_memory_equal(buf, wire, sizeof(wire));
}

static void test_for_owner_and_priv(void **state)
{
	const struct perm p[] = { { 4, PERM_NONE }, { 1, PERM_READ } };
	const struct caller owner = { .domid = 4 };
	const struct caller priv = { .domid = 0, .priv = true };
	const struct caller priv7 = { .domid = 7, .priv = true };
	const struct caller dom0_unpriv = { .domid = 0 };
	(void)state;
	assert_int_equal(perms_for(&owner, p, 2), ALL);
	assert_int_equal(perms_for(&priv, p, 2), ALL);
	assert_int_equal(perms_for(&priv7, p, 2), ALL);
	/* Without the privilege, domain 0 is like anyone else. */
	assert_int_equal(perms_for(&dom0_unpriv, p, 2), PERM_NONE);
}

static void test_for_default_and_entries(void **state)
{
	const struct perm p[] = {
		{ 0, PERM_READ }, { 1, PERM_NONE }, { 2, PERM_WRITE },
		{ 3, PERM_READ | PERM_WRITE }, { 5, PERM_READ },
	};
	struct caller c = { .domid = 0 };
	(void)state;
	c.domid = 1;
	assert_int_equal(perms_for(&c, p, 5), PERM_NONE);   /* entry beats default */
	c.domid = 2;
	assert_int_equal(perms_for(&c, p, 5), PERM_WRITE);
	c.domid = 3;
	assert_int_equal(perms_for(&c, p, 5), PERM_READ | PERM_WRITE);
	c.domid = 5;
	assert_int_equal(perms_for(&c, p, 5), PERM_READ);
	c.domid = 9;
	assert_int_equal(perms_for(&c, p, 5), PERM_READ);   /* default */
	/* Only the first n entries count. */
	c.domid = 3;
	assert_int_equal(perms_for(&c, p, 3), PERM_READ);
	/* The default never grants ownership. */
	const struct perm all_default[] = { { 0, PERM_READ | PERM_WRITE } };
	c.domid = 9;
	assert_int_equal(perms_for(&c, all_default, 1), PERM_READ | PERM_WRITE);
}

static void test_for_first_entry_wins(void **state)
{
	const struct perm p[] = { { 0, PERM_NONE }, { 1, PERM_READ }, { 1, PERM_WRITE } };
	const struct caller c = { .domid = 1 };
	(void)state;
	assert_int_equal(perms_for(&c, p, 3), PERM_READ);
}

static void test_for_ignore_skipped(void **state)
{
	const struct perm p[] = {
		{ 0, PERM_READ }, { 1, PERM_WRITE | PERM_IGNORE },
		{ 2, PERM_READ | PERM_WRITE | PERM_IGNORE }, { 2, PERM_NONE },
	};
	struct caller c = { .domid = 1 };
	(void)state;
	/* IGNORE entry: domain 1 falls back to the default. */
	assert_int_equal(perms_for(&c, p, 4), PERM_READ);
	/* Skipped to the next entry for the same domain. */
	c.domid = 2;
	assert_int_equal(perms_for(&c, p, 4), PERM_NONE);
	/* An owner is an owner (IGNORE applies to entries 1..n only). */
	const struct perm own[] = { { 1, PERM_NONE | PERM_IGNORE } };
	c.domid = 1;
	assert_int_equal(perms_for(&c, own, 1), ALL);
}

static void test_for_target(void **state)
{
	const struct perm owned_by_2[] = { { 2, PERM_NONE } };
	const struct perm entry_for_2[] = { { 0, PERM_NONE }, { 2, PERM_READ } };
	const struct perm both[] = { { 0, PERM_NONE }, { 5, PERM_WRITE }, { 2, PERM_READ } };
	const struct caller stub = { .domid = 5, .has_target = true, .target = 2 };
	const struct caller no_target = { .domid = 5, .target = 2 };
	(void)state;
	/* A device model acts with its target's rights as well as its own. */
	assert_int_equal(perms_for(&stub, owned_by_2, 1), ALL);
	assert_int_equal(perms_for(&stub, entry_for_2, 2), PERM_READ);
	assert_int_equal(perms_for(&stub, both, 3), PERM_WRITE);
	/* target without has_target means nothing. */
	assert_int_equal(perms_for(&no_target, owned_by_2, 1), PERM_NONE);
	assert_int_equal(perms_for(&no_target, entry_for_2, 2), PERM_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_letters),
		cmocka_unit_test(test_parse_ids),
		cmocka_unit_test(test_parse_bad_letters),
		cmocka_unit_test(test_parse_bad_ids),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_flags_and_ids),
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_for_owner_and_priv),
		cmocka_unit_test(test_for_default_and_entries),
		cmocka_unit_test(test_for_first_entry_wins),
		cmocka_unit_test(test_for_ignore_skipped),
		cmocka_unit_test(test_for_target),
	};
	return cmocka_run_group_tests_name("perms", tests, NULL, NULL);
}
