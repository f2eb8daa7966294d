/*
 * fuzz_vdev.c — libFuzzer target: Xen virtual block device names and
 * numbers. A name that parses must format (vdev_name) to an xvd name of
 * the same disk and partition, which parses back and formats the same; and
 * the first bytes, read as a number, must go round the same way.
 */
#include "vdev.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* devid formats iff it splits; its name is canonical and parses to the
 * same disk and partition. */
static void round_trip(unsigned long devid)
{
	unsigned int disk, part, disk2, part2;
	unsigned long again;
	char name[32], name2[32];

	int split = vdev_split(devid, &disk, &part);
	if (vdev_name(devid, name, sizeof(name)) != split)
		abort();
	if (split < 0)
		return;
	if (strncmp(name, "xvd", 3) != 0 || vdev_parse(name, &again) < 0 ||
	    vdev_split(again, &disk2, &part2) < 0 || disk2 != disk || part2 != part ||
	    vdev_name(again, name2, sizeof(name2)) < 0 || strcmp(name, name2) != 0)
		abort();
	/* a name the caller's buffer cannot hold is refused, not cut */
	if (vdev_name(devid, name2, strlen(name)) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	unsigned long devid = 0;

	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	if (vdev_parse(name, &devid) == 0) {
		/* xvd names and d-forms keep their number exactly */
		const char *n = strncmp(name, "/dev/", 5) == 0 ? name + 5 : name;
		unsigned long again;
		char canon[32];
		if ((n[0] == 'd' || strncmp(n, "xvd", 3) == 0) &&
		    (vdev_name(devid, canon, sizeof(canon)) < 0 ||
		     vdev_parse(canon, &again) < 0 || again != devid))
			abort();
		round_trip(devid);
	}
	memcpy(&devid, data, size < sizeof(devid) ? size : sizeof(devid));
	round_trip(devid);
	free(name);
	return 0;
}
