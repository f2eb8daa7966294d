/*
 * fuzz_diskspec.c — libFuzzer target: disk specs as xm and xl take them.
 * The input is up to three lines: the first goes to the xl parser and to
 * the config's either-form parser; the three are xm's BACKDEV FRONTDEV
 * MODE (missing ones empty). A parsed spec's vdev must give its devid
 * again; a refused one must say why.
 */
#include "diskspec.h"
#include "vdev.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const struct diskspec *d, const char *err, size_t errlen)
{
	unsigned long devid;

	if (rc < 0) {
		if (!err[0] || strnlen(err, errlen) == errlen)
			abort();
		return;
	}
	if (rc != 0 || strnlen(d->target, sizeof(d->target)) == sizeof(d->target) ||
	    strnlen(d->vdev, sizeof(d->vdev)) == sizeof(d->vdev))
		abort();
	if (vdev_parse(d->vdev, &devid) < 0 || devid != d->devid)
		abort();
	if (!disk_backend_name(d->backend) || !disk_format_name(d->format) ||
	    !disk_mode_name(d->mode) || (d->empty && !d->cdrom))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), err[256];
	const char *f[3] = { "", "", "" };
	struct diskspec d;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *p = buf;
	for (int i = 0; i < 3 && p; i++) {
		f[i] = p;
		if ((p = strchr(p, '\n')))
			*p++ = '\0';
	}
	err[0] = '\0';
	check(diskspec_parse_xl(f[0], &d, err, sizeof(err)), &d, err, sizeof(err));
	err[0] = '\0';
	check(diskspec_parse_cfg(f[0], &d, err, sizeof(err)), &d, err, sizeof(err));
	err[0] = '\0';
	check(diskspec_parse_xm(f[0], f[1], f[2], &d, err, sizeof(err)), &d, err, sizeof(err));
	free(buf);
	return 0;
}
