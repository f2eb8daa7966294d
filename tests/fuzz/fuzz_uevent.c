/*
 * fuzz_uevent.c — libFuzzer target: the guest agent's uevent parser, on a
 * buffer as a netlink datagram gives it ("add@/devices/...\0ACTION=add\0
 * SUBSYSTEM=block\0..."). What it finds must point into the buffer, and
 * device numbers are -1 or in range.
 */
#include "xmfront/uevent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *s, const char *buf, size_t size)
{
	if (s && (s < buf || s > buf + size || strlen(s) > (size_t)(buf + size - s)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct uevent u;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	int rc = uevent_parse(buf, size, &u);
	if (rc == 0 ? !u.action || !u.subsys : rc != -1)
		abort();
	inside(u.action, buf, size);
	inside(u.subsys, buf, size);
	inside(u.devname, buf, size);
	inside(u.devtype, buf, size);
	inside(u.devpath, buf, size);
	if (u.major < -1 || u.major > 0xfffff || u.minor < -1 || u.minor > 0xfffff)
		abort();
	free(buf);
	return 0;
}
