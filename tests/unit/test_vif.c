/*
 * test_vif.c — the network protocol's names and the vif specification
 * (lib/vif.c): paths as docs/vif.md lays them out, MACs (given, generated,
 * refused), the settings xm takes and those it refuses by name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vif.h"

static void test_paths(void **state)
{
	(void)state;
	struct vif v;
	vif_init(&v, 3, 1);
	assert_string_equal(v.be, "/local/domain/0/backend/vif/3/1");
	assert_string_equal(v.fe, "/local/domain/3/device/vif/1");
	assert_string_equal(v.tool, "/tool/xm/domain/3/vif/1");
	char tap[IFNAMSIZ];
	vif_tap_name(3, 1, "", tap);
	assert_string_equal(tap, "vif3.1");
	vif_tap_name(3, 1, "lan0", tap);
	assert_string_equal(tap, "lan0");
	/* the NICs' root ports come after the disks' */
	assert_int_equal(VIF_ROOT_PORT_FIRST, VBD_ROOT_PORTS + 1);
	assert_int_equal(VIF_ROOT_PORT_DEV0, VBD_ROOT_PORT_DEV0 + VBD_ROOT_PORTS);
}

static void test_macs(void **state)
{
	(void)state;
	uint8_t mac[6];
	char err[256], s[18];
	assert_int_equal(vif_mac_parse("00:16:3E:0a:0B:0c", mac, err, sizeof(err)), 0);
	assert_string_equal(vif_mac_str(mac, s), "00:16:3e:0a:0b:0c");
	const char *bad[] = { "", "00:16:3e:0a:0b", "00:16:3e:0a:0b:0c:0d", "00-16-3e-0a-0b-0c",
			      "0:16:3e:0a:0b:0c", "zz:16:3e:0a:0b:0c", "00:16:3e:0a:0b:0c ",
			      "01:16:3e:0a:0b:0c", "00:00:00:00:00:00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vif_mac_parse(bad[i], mac, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "bad MAC"));
	}
	vif_mac_default(300, 2, mac);
	assert_string_equal(vif_mac_str(mac, s), "00:16:3e:01:2c:02");
	vif_mac_default(0x8001, 0, mac); /* 15 bits of the domain id */
	assert_string_equal(vif_mac_str(mac, s), "00:16:3e:00:01:00");
}

static void test_spec(void **state)
{
	(void)state;
	struct vifspec s;
	char err[256], m[18];
	assert_int_equal(vifspec_parse("", &s, err, sizeof(err)), 0);
	assert_false(s.has_mac);
	assert_string_equal(s.bridge, VIF_DEFAULT_BRIDGE);
	assert_string_equal(s.model, "virtio-net");
	assert_string_equal(s.type, "vif");
	assert_int_equal(vifspec_parse(" mac = 00:16:3e:00:00:01 , bridge=br0, ip=10.0.0.1 10.0.0.2,"
				       "vifname=lan0,model=virtio,type=ioemu,script=vif-bridge",
				       &s, err, sizeof(err)), 0);
	assert_true(s.has_mac);
	assert_string_equal(vif_mac_str(s.mac, m), "00:16:3e:00:00:01");
	assert_string_equal(s.bridge, "br0");
	assert_string_equal(s.ip, "10.0.0.1 10.0.0.2");
	assert_string_equal(s.vifname, "lan0");
	assert_string_equal(s.model, "virtio-net");
	assert_string_equal(s.type, "ioemu");
	char *words[] = { "bridge=br1", "mac=00:16:3e:00:00:02" };
	assert_int_equal(vifspec_parse_words(words, 2, &s, err, sizeof(err)), 0);
	assert_string_equal(s.bridge, "br1");
	static const struct {
		const char *spec, *err;
	} refused[] = {
		{ "rate=10Mb/s", "vif key 'rate' is not supported: xm does not limit a vif's bandwidth" },
		{ "script=vif-route", "vif key 'script' is not supported: xmbackd puts the tap on the "
				      "bridge itself, as vif-bridge does; no script is run" },
		{ "backend=2", "vif key 'backend' is not supported: only Domain-0 serves vifs" },
		{ "colour=red", "unknown vif key 'colour'" },
		{ "bridge", "bad vif setting 'bridge': KEY=VALUE is wanted" },
		{ "bridge=a/b", "bad bridge 'a/b': not a host interface name" },
		{ "vifname=waytoolongname16", "bad vifname 'waytoolongname16': not a host interface "
					      "name (1 to 15 characters, no '/', ':' or blank)" },
		{ "ip=10.0.0.300", "bad ip '10.0.0.300': '10.0.0.300' is not an IPv4 address" },
		{ "model=e1000", "model=e1000 is not supported: a guest's NICs are virtio-net "
				 "(model=virtio-net)" },
		{ "type=pv", "bad type 'pv': vif or ioemu" },
		{ "bridge=a\nmac=00:16:3e:00:00:01", "bad vif setting 'bridge': a control character "
						       "in its value" },
		{ "bri\x01dge", "bad vif setting: KEY=VALUE is wanted" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(vifspec_parse(refused[i].spec, &s, err, sizeof(err)), -1);
		assert_string_equal(err, refused[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_macs),
		cmocka_unit_test(test_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
