/*
 * vdev.c — Xen virtual block device names <-> numbers.
 *
 * Rules from Xen's docs/man/xen-vbd-interface.7 and the way libxl reads
 * them (libxl__device_disk_dev_number): disk letters are a bijective
 * base-26 number ("a" = 0, "z" = 25, "aa" = 26, ...), a partition number
 * has no leading zero ("xvda0" is not a name), xvd names choose the
 * 202<<8 encoding while disk and partition both fit in 4 bits and the
 * extended 1<<28 encoding otherwise. See vdev.h.
 */
#include "vdev.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define XVD_MAJOR 202u
#define SD_MAJOR 8u
#define IDE0_MAJOR 3u
#define IDE1_MAJOR 22u
#define EXT_BIT (1ul << 28)
#define EXT_DISKS (1ul << 20)   /* disks 0 .. 2^20-1 in the extended form */
#define EXT_PARTS 256ul         /* partitions 0 .. 255 */

/* Letters "a".."z"... as a bijective base-26 number; *p moves past them.
 * false if there is no letter or the index exceeds max. */
static bool disk_letters(const char **p, unsigned long max, unsigned long *disk)
{
	const char *s = *p;
	unsigned long n = 0;
	bool any = false;

	while (*s >= 'a' && *s <= 'z') {
		/* n = (n + 1) * 26 + c, counting "a" as the first value */
		n = any ? (n + 1) * 26 + (unsigned long)(*s - 'a') : (unsigned long)(*s - 'a');
		any = true;
		if (n > max)
			return false;
		s++;
	}
	*p = s;
	*disk = n;
	return any;
}

/* A partition suffix: "" (0) or a decimal without leading zero, <= max. */
static bool part_number(const char *s, unsigned long max, unsigned long *part)
{
	unsigned long n = 0;

	if (*s == '\0') {
		*part = 0;
		return true;
	}
	if (*s < '1' || *s > '9')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return false;
	}
	*part = n;
	return true;
}

/* A decimal run without leading zeros (a lone "0" is fine), <= max.
 * *p moves past it. */
static bool decimal(const char **p, unsigned long max, unsigned long *out)
{
	const char *s = *p;
	unsigned long n = 0;

	if (*s < '0' || *s > '9')
		return false;
	if (*s == '0' && s[1] >= '0' && s[1] <= '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return false;
	}
	*p = s;
	*out = n;
	return true;
}

static unsigned long xvd_number(unsigned long disk, unsigned long part)
{
	if (disk <= 15 && part <= 15)
		return XVD_MAJOR << 8 | disk << 4 | part;
	return EXT_BIT | disk << 8 | part;
}

/* "xvd" / "hd" / "sd" + letters + partition. */
static bool prefixed(const char *name, const char *prefix, unsigned long maxdisk,
		     unsigned long maxpart, unsigned long *disk, unsigned long *part)
{
	size_t n = strlen(prefix);
	const char *p = name + n;

	if (strncmp(name, prefix, n) != 0)
		return false;
	return disk_letters(&p, maxdisk, disk) && part_number(p, maxpart, part);
}

/* "d<disk>p<part>" or (as the vbd document lists it) "d<disk>". */
static bool dp_form(const char *name, unsigned long *disk, unsigned long *part)
{
	const char *p = name;

	if (*p++ != 'd')
		return false;
	if (!decimal(&p, EXT_DISKS - 1, disk))
		return false;
	if (*p == '\0') {
		*part = 0;
		return true;
	}
	if (*p++ != 'p')
		return false;
	if (!decimal(&p, EXT_PARTS - 1, part))
		return false;
	return *p == '\0';
}

/* A number as C's strtoul(.., 0) reads it (decimal, 0x hex, 0 octal), but
 * strictly: digits only, no sign, no blanks, <= INT_MAX (as libxl). */
static bool plain_number(const char *s, unsigned long *out)
{
	unsigned long base = 10, n = 0;

	if (*s < '0' || *s > '9')
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (*s == '\0')
			return false;
	} else if (s[0] == '0' && s[1] != '\0') {
		base = 8;
		s++;
	}
	for (; *s; s++) {
		unsigned long v;
		if (*s >= '0' && *s <= '9')
			v = (unsigned long)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			v = (unsigned long)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			v = (unsigned long)(*s - 'A' + 10);
		else
			return false;
		if (v >= base)
			return false;
		n = n * base + v;
		if (n > INT_MAX)
			return false;
	}
	*out = n;
	return true;
}

int vdev_parse(const char *name, unsigned long *devid)
{
	unsigned long disk, part, n;

	if (!name || !devid)
		return -1;
	if (strncmp(name, "/dev/", 5) == 0)
		name += 5;
	if (*name == '\0')
		return -1;

	if (dp_form(name, &disk, &part) ||
	    prefixed(name, "xvd", EXT_DISKS - 1, EXT_PARTS - 1, &disk, &part)) {
		*devid = xvd_number(disk, part);
		return 0;
	}
	if (plain_number(name, &n)) {
		*devid = n;
		return 0;
	}
	/* IDE: hda..hdd, partitions 0..63 (3<<8 for disks 0-1, 22<<8 for 2-3) */
	if (prefixed(name, "hd", 3, 63, &disk, &part)) {
		*devid = (disk < 2 ? IDE0_MAJOR : IDE1_MAJOR) << 8 | (disk & 1) << 6 | part;
		return 0;
	}
	/* SCSI: sda..sdp, partitions 0..15 */
	if (prefixed(name, "sd", 15, 15, &disk, &part)) {
		*devid = SD_MAJOR << 8 | disk << 4 | part;
		return 0;
	}
	return -1;
}

int vdev_split(unsigned long devid, unsigned int *disk, unsigned int *part)
{
	unsigned long d, p;

	if (devid >> 28 == 1) {
		d = (devid & (EXT_BIT - 1)) >> 8;
		p = devid & 0xff;
	} else if (devid >> 16 != 0) {
		return -1;      /* 2<<28 onwards reserved; others deprecated */
	} else {
		unsigned long major = devid >> 8, minor = devid & 0xff;
		switch (major) {
		case XVD_MAJOR:
		case SD_MAJOR:
			d = minor >> 4;
			p = minor & 15;
			break;
		case IDE0_MAJOR:
			d = minor >> 6;
			p = minor & 63;
			break;
		case IDE1_MAJOR:
			d = 2 + (minor >> 6);
			p = minor & 63;
			break;
		default:
			return -1;
		}
	}
	if (disk)
		*disk = (unsigned int)d;
	if (part)
		*part = (unsigned int)p;
	return 0;
}

int vdev_name(unsigned long devid, char *out, size_t len)
{
	unsigned int disk, part;
	char letters[8];        /* 2^20 disks need at most 5 letters */
	size_t nl = 0;
	int n;

	if (!out || vdev_split(devid, &disk, &part) < 0)
		return -1;
	/* bijective base 26, most significant letter first */
	for (unsigned long d = disk;; d = d / 26 - 1) {
		letters[nl++] = (char)('a' + d % 26);
		if (d < 26)
			break;
	}
	char name[32];
	size_t k = 0;
	memcpy(name, "xvd", 3);
	k = 3;
	while (nl)
		name[k++] = letters[--nl];
	name[k] = '\0';
	if (part)
		n = snprintf(out, len, "%s%u", name, part);
	else
		n = snprintf(out, len, "%s", name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}
