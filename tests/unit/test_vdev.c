/*
 * test_vdev.c — Xen virtual-device names and numbers (lib/vdev.c).
 * Expected values follow Xen's docs/man/xen-vbd-interface.7 and libxl's
 * libxl__device_disk_dev_number / libxl__devid_to_vdev.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "vdev.h"

#define XVD(disk, part) (202ul << 8 | (unsigned long)(disk) << 4 | (unsigned long)(part))
#define EXT(disk, part) (1ul << 28 | (unsigned long)(disk) << 8 | (unsigned long)(part))

struct named {
	const char *name;
	unsigned long devid;
};

static void check_table(const struct named *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long devid = 0;
		if (vdev_parse(t[i].name, &devid) != 0)
			fail_msg("vdev_parse(\"%s\") failed", t[i].name);
		if (devid != t[i].devid)
			fail_msg("vdev_parse(\"%s\") = %lu, want %lu", t[i].name, devid, t[i].devid);
	}
}

static void test_design_examples(void **state)
{
	(void)state;
	static const struct named t[] = {
		{ "xvda2", 51714 }, { "xvdb", 51728 }, { "/dev/xvda2", 51714 },
		{ "/dev/xvdb", 51728 }, { "xvda", 51712 },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_xvd_short_form(void **state)
{
	(void)state;
	static const struct named t[] = {
		{ "xvda1", XVD(0, 1) },   { "xvda15", XVD(0, 15) }, { "xvdc", XVD(2, 0) },
		{ "xvde3", XVD(4, 3) },   { "xvdp", XVD(15, 0) },   { "xvdp15", XVD(15, 15) },
		{ "xvdp15", 51967 },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_xvd_extended_form(void **state)
{
	(void)state;
	static const struct named t[] = {
		/* past xvdp */
		{ "xvdq", EXT(16, 0) }, { "xvdq", 268439552 }, { "xvdz", EXT(25, 0) },
		{ "xvdq1", EXT(16, 1) },
		/* past partition 15 */
		{ "xvda16", EXT(0, 16) }, { "xvda16", 268435472 }, { "xvdp16", EXT(15, 16) },
		{ "xvda255", EXT(0, 255) },
		/* two and more letters */
		{ "xvdaa", EXT(26, 0) }, { "xvdaz", EXT(51, 0) }, { "xvdba", EXT(52, 0) },
		{ "xvdzz", EXT(701, 0) }, { "xvdaaa", EXT(702, 0) },
		/* the vbd document's example: d536p37 = xvdtq37 */
		{ "xvdtq37", EXT(536, 37) },
		/* the largest disk, 2^20-1 */
		{ "xvdbgqcv", EXT(1048575, 0) }, { "xvdbgqcv255", EXT(1048575, 255) },
		{ "/dev/xvdaa3", EXT(26, 3) },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_d_p_form(void **state)
{
	(void)state;
	static const struct named t[] = {
		{ "d0", XVD(0, 0) },       { "d0p0", XVD(0, 0) },       { "d1p2", XVD(1, 2) },
		{ "d1p2", 51730 },          { "d15p15", XVD(15, 15) },   { "d16", EXT(16, 0) },
		{ "d0p16", EXT(0, 16) },   { "d536p37", EXT(536, 37) }, { "d1048575p255", EXT(1048575, 255) },
		{ "/dev/d1p2", XVD(1, 2) },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_hd(void **state)
{
	(void)state;
	static const struct named t[] = {
		{ "hda", 3 << 8 },           { "hda", 768 },
		{ "hda1", 3 << 8 | 1 },      { "hda63", 3 << 8 | 63 },
		{ "hdb", 3 << 8 | 64 },      { "hdb5", 3 << 8 | 64 | 5 },
		{ "hdc", 22 << 8 },          { "hdc", 5632 },
		{ "hdc2", 22 << 8 | 2 },     { "hdd", 22 << 8 | 64 },
		{ "hdd63", 22 << 8 | 64 | 63 }, { "/dev/hdc", 5632 },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_sd(void **state)
{
	(void)state;
	static const struct named t[] = {
		{ "sda", 8 << 8 },       { "sda", 2048 },          { "sdb3", 8 << 8 | 1 << 4 | 3 },
		{ "sdb1", 2065 },        { "sdp", 8 << 8 | 15 << 4 }, { "sdp15", 2303 },
		{ "/dev/sdc", 8 << 8 | 2 << 4 },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_numbers(void **state)
{
	(void)state;
	static const struct named t[] = {
		{ "51714", 51714 },   { "0xca02", 51714 },  { "0XCA02", 51714 },
		{ "0145002", 51714 }, { "0", 0 },           { "768", 768 },
		{ "268439552", 268439552 }, { "2147483647", 2147483647 },
		{ "/dev/51714", 51714 },
	};
	check_table(t, sizeof(t) / sizeof(t[0]));
}

static void test_bad_names(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "/dev/", "xvd", "xvdA", "xvda0", "xvda01", "xvda256", "xvda-1", "xvda2 ",
		" xvda2", "xvda2x", "xvda:cdrom", "xvdbgqcw", /* disk 2^20 */
		"hd", "hde", "hdt", "hda64", "hda0", "hdaa",
		"sd", "sdq", "sda16", "sdaa", "sda0",
		"vda", "foo", "dev/xvda", "/dev/dev/xvda", "/xvda", "XVDA",
		"d", "dp1", "d1p", "d01", "d1p02", "d1048576", "d0p256", "d-1p2", "d1p2x", "d 1",
		"0x", "0xg", "08", "-1", "+1", " 1", "1 ", "1a", "2147483648", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long devid = 4242;
		if (vdev_parse(bad[i], &devid) != -1)
			fail_msg("vdev_parse(\"%s\") accepted (%lu)", bad[i], devid);
	}
	unsigned long devid;
	assert_int_equal(vdev_parse(NULL, &devid), -1);
	assert_int_equal(vdev_parse("xvda", NULL), -1);
}

struct numbered {
	unsigned long devid;
	const char *name;
};

static void test_name_from_number(void **state)
{
	(void)state;
	static const struct numbered t[] = {
		{ 51714, "xvda2" },       { 51728, "xvdb" },       { 51712, "xvda" },
		{ XVD(15, 15), "xvdp15" }, { EXT(16, 0), "xvdq" },  { EXT(0, 16), "xvda16" },
		{ EXT(26, 3), "xvdaa3" }, { EXT(536, 37), "xvdtq37" }, { EXT(701, 0), "xvdzz" },
		{ EXT(702, 1), "xvdaaa1" }, { EXT(1048575, 255), "xvdbgqcv255" },
		/* hd and sd numbers: the xvd name of the same disk and partition */
		{ 768, "xvda" },          { 769, "xvda1" },        { 832, "xvdb" },
		{ 5632, "xvdc" },         { 22 << 8 | 64 | 63, "xvdd63" },
		{ 2048, "xvda" },         { 2065, "xvdb1" },       { 2303, "xvdp15" },
		/* the extended form with small numbers still decodes */
		{ EXT(1, 2), "xvdb2" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[32];
		if (vdev_name(t[i].devid, out, sizeof(out)) != 0)
			fail_msg("vdev_name(%lu) failed", t[i].devid);
		assert_string_equal(out, t[i].name);
	}
}

static void test_name_bad_numbers(void **state)
{
	(void)state;
	static const unsigned long bad[] = {
		0, 5, 1ul << 8, 4ul << 8, 201ul << 8, 203ul << 8, 0xffff, 1ul << 16, 1ul << 27,
		2ul << 28, 3ul << 28, 0xffffffff,
	};
	char out[32];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vdev_name(bad[i], out, sizeof(out)) != -1)
			fail_msg("vdev_name(%lu) gave \"%s\"", bad[i], out);
		assert_int_equal(vdev_split(bad[i], NULL, NULL), -1);
	}
	/* too small a buffer */
	assert_int_equal(vdev_name(51714, out, 5), -1);
	assert_int_equal(vdev_name(51714, out, 6), 0);
	assert_string_equal(out, "xvda2");
	assert_int_equal(vdev_name(51714, NULL, 6), -1);
}

static void test_split(void **state)
{
	(void)state;
	unsigned int disk = 99, part = 99;
	assert_int_equal(vdev_split(51714, &disk, &part), 0);
	assert_int_equal(disk, 0);
	assert_int_equal(part, 2);
	assert_int_equal(vdev_split(51728, &disk, &part), 0);
	assert_int_equal(disk, 1);
	assert_int_equal(part, 0);
	assert_int_equal(vdev_split(EXT(536, 37), &disk, &part), 0);
	assert_int_equal(disk, 536);
	assert_int_equal(part, 37);
	assert_int_equal(vdev_split(22 << 8 | 64 | 7, &disk, &part), 0);
	assert_int_equal(disk, 3);
	assert_int_equal(part, 7);
	assert_int_equal(vdev_split(8 << 8 | 3 << 4 | 9, &disk, &part), 0);
	assert_int_equal(disk, 3);
	assert_int_equal(part, 9);
	assert_int_equal(vdev_split(51714, NULL, &part), 0);
	assert_int_equal(vdev_split(51714, &disk, NULL), 0);
}

/* Every xvd name parses to a number whose name is the same string, and the
 * encoding is the short one exactly when disk and partition fit. */
static void test_round_trip(void **state)
{
	(void)state;
	static const unsigned int disks[] = { 0, 1, 2, 14, 15, 16, 25, 26, 27, 51, 52, 675, 701,
					      702, 18277, 18278, 1048574, 1048575 };
	for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++) {
		for (unsigned int part = 0; part < 256; part++) {
			unsigned long devid;
			char name[48], back[32];
			unsigned int d, p;
			/* the d<disk>p<part> form gives the number */
			snprintf(name, sizeof(name), "d%up%u", disks[i], part);
			assert_int_equal(vdev_parse(name, &devid), 0);
			if (disks[i] <= 15 && part <= 15)
				assert_true(devid == XVD(disks[i], part));
			else
				assert_true(devid == EXT(disks[i], part));
			assert_int_equal(vdev_split(devid, &d, &p), 0);
			assert_int_equal(d, disks[i]);
			assert_int_equal(p, part);
			/* its xvd name parses back to it */
			assert_int_equal(vdev_name(devid, back, sizeof(back)), 0);
			unsigned long again;
			assert_int_equal(vdev_parse(back, &again), 0);
			assert_true(again == devid);
			/* and so does the /dev/ form */
			snprintf(name, sizeof(name), "/dev/%s", back);
			assert_int_equal(vdev_parse(name, &again), 0);
			assert_true(again == devid);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_examples),
		cmocka_unit_test(test_xvd_short_form),
		cmocka_unit_test(test_xvd_extended_form),
		cmocka_unit_test(test_d_p_form),
		cmocka_unit_test(test_hd),
		cmocka_unit_test(test_sd),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_name_from_number),
		cmocka_unit_test(test_name_bad_numbers),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
