/*
 * test_vbd.c — the block protocol's names (lib/vbd.c): a device's paths
 * as docs/vbd.md lays them out, the states read and written as Xen's
 * enum xenbus_state, and the guest's refusal text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vbd.h"

static void test_paths(void **state)
{
	(void)state;
	struct vbd v;
	char p[200];
	vbd_init(&v, 3, 51728);
	assert_int_equal(v.domid, 3);
	assert_int_equal(v.devid, 51728);
	assert_string_equal(v.be, "/local/domain/0/backend/vbd/3/51728");
	assert_string_equal(v.fe, "/local/domain/3/device/vbd/51728");
	assert_string_equal(v.errdir, "/local/domain/3/error/device/vbd/51728");
	assert_string_equal(v.err, "/local/domain/3/error/device/vbd/51728/error");
	assert_string_equal(v.tool, "/tool/xm/domain/3/vbd/51728");
	assert_string_equal(vbd_path(p, sizeof(p), v.be, "state"),
			    "/local/domain/0/backend/vbd/3/51728/state");
}

static void test_states(void **state)
{
	(void)state;
	assert_string_equal(vbd_state_str(XenbusStateInitialising), "1");
	assert_string_equal(vbd_state_str(XenbusStateConnected), "4");
	assert_string_equal(vbd_state_str(XenbusStateClosing), "5");
	assert_string_equal(vbd_state_str(XenbusStateClosed), "6");
	for (int s = XenbusStateUnknown; s <= XenbusStateReconfigured; s++)
		assert_int_equal(vbd_state_parse(vbd_state_str((enum xenbus_state)s)), s);
	assert_int_equal(vbd_state_parse(NULL), -1);
	assert_int_equal(vbd_state_parse(""), -1);
	assert_int_equal(vbd_state_parse("4x"), -1);
	assert_int_equal(vbd_state_parse(" 4"), -1);
	assert_int_equal(vbd_state_parse("-4"), -1);
	assert_int_equal(vbd_state_parse("99999999999999999999"), -1);
	assert_int_equal(vbd_state_parse("9"), 9); /* no party knows it: as it is */
}

static void test_error_text(void **state)
{
	(void)state;
	assert_string_equal(vbd_error_text("16 Device in use; refusing to close"),
			    "Device in use; refusing to close");
	assert_string_equal(vbd_error_text("no number here"), "no number here");
	assert_string_equal(vbd_error_text("19"), "19");
	assert_string_equal(vbd_error_text("19   "), "19   ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_error_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
