/*
 * test_xmfront_uevent.c — the agent's parse of the kernel's uevents
 * (xmfront/uevent.c) on messages as NETLINK_KOBJECT_UEVENT delivers them:
 * a header line, then NUL-separated KEY=value pairs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../xmfront/uevent.h"

/* A message from its pairs ("KEY=value" each), as the kernel frames it. */
static size_t frame(char *buf, size_t cap, const char *const *kv, int n)
{
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(kv[i]) + 1;
		assert_true(off + l < cap);
		memcpy(buf + off, kv[i], l);
		off += l;
	}
	return off;
}

static void test_disk_add(void **state)
{
	(void)state;
	static const char *const kv[] = {
		"add@/devices/pci0000:00/0000:00:10.0/0000:01:00.0/virtio3/block/vdb",
		"ACTION=add",
		"DEVPATH=/devices/pci0000:00/0000:00:10.0/0000:01:00.0/virtio3/block/vdb",
		"SUBSYSTEM=block",
		"MAJOR=254",
		"MINOR=16",
		"DEVNAME=vdb",
		"DEVTYPE=disk",
		"DISKSEQ=9",
		"SEQNUM=1234",
	};
	char buf[1024];
	size_t n = frame(buf, sizeof(buf), kv, 10);
	struct uevent u;
	assert_int_equal(uevent_parse(buf, n, &u), 0);
	assert_string_equal(u.action, "add");
	assert_string_equal(u.subsys, "block");
	assert_string_equal(u.devname, "vdb");
	assert_string_equal(u.devtype, "disk");
	assert_string_equal(u.devpath,
			    "/devices/pci0000:00/0000:00:10.0/0000:01:00.0/virtio3/block/vdb");
	assert_int_equal(u.major, 254);
	assert_int_equal(u.minor, 16);
	assert_false(u.eject);
}

/* A NIC hot-plugged (virtio-net): its interface name, no device node. */
static void test_net_add(void **state)
{
	(void)state;
	static const char *const kv[] = {
		"add@/devices/pci0000:00/0000:00:18.0/0000:09:00.0/virtio5/net/eth1",
		"ACTION=add",
		"DEVPATH=/devices/pci0000:00/0000:00:18.0/0000:09:00.0/virtio5/net/eth1",
		"SUBSYSTEM=net",
		"INTERFACE=eth1",
		"IFINDEX=3",
		"SEQNUM=1240",
	};
	char buf[1024];
	struct uevent u;
	assert_int_equal(uevent_parse(buf, frame(buf, sizeof(buf), kv, 7), &u), 0);
	assert_string_equal(u.action, "add");
	assert_string_equal(u.subsys, "net");
	assert_string_equal(u.ifname, "eth1");
	assert_null(u.devname);
	assert_int_equal(u.major, -1);
}

/* No device number, or a malformed one: -1, never a wrong number. */
static void test_numbers(void **state)
{
	(void)state;
	static const char *const none[] = { "change@/x", "ACTION=change", "SUBSYSTEM=block",
					    "DISK_EJECT_REQUEST=1", "DEVNAME=sr0" };
	static const char *const bad[] = { "add@/x", "ACTION=add", "SUBSYSTEM=block",
					   "MAJOR=25x", "MINOR=", "DEVPATH=/y" };
	static const char *const big[] = { "add@/x", "ACTION=add", "SUBSYSTEM=block",
					   "MAJOR=99999999999999999999", "MINOR=-1" };
	char buf[512];
	struct uevent u;
	assert_int_equal(uevent_parse(buf, frame(buf, sizeof(buf), none, 5), &u), 0);
	assert_int_equal(u.major, -1);
	assert_int_equal(u.minor, -1);
	assert_null(u.devpath);
	assert_true(u.eject);
	assert_int_equal(uevent_parse(buf, frame(buf, sizeof(buf), bad, 6), &u), 0);
	assert_int_equal(u.major, -1);
	assert_int_equal(u.minor, -1);
	assert_string_equal(u.devpath, "/y");
	assert_int_equal(uevent_parse(buf, frame(buf, sizeof(buf), big, 5), &u), 0);
	assert_int_equal(u.major, -1);
	assert_int_equal(u.minor, -1);
}

/* Without ACTION or SUBSYSTEM it is not an event (libudev's own
 * messages on the socket, say); a message cut without its last NUL is
 * still read up to its end. */
static void test_not_an_event(void **state)
{
	(void)state;
	static const char *const noaction[] = { "libudev", "SUBSYSTEM=block" };
	char buf[256];
	struct uevent u;
	assert_int_equal(uevent_parse(buf, frame(buf, sizeof(buf), noaction, 2), &u), -1);
	static const char cut[] = "add@/x\0ACTION=add\0SUBSYSTEM=block\0DEVNAME=vdc";
	memcpy(buf, cut, sizeof(cut) - 1); /* no final NUL: uevent_parse adds one */
	assert_int_equal(uevent_parse(buf, sizeof(cut) - 1, &u), 0);
	assert_string_equal(u.devname, "vdc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_add),
		cmocka_unit_test(test_net_add),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_not_an_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
