/*
 * fuzz_config.c — libFuzzer target: xm's domain config loader (libxlutil's
 * parser, then our key scan and checks). config_load takes a path, so the
 * input is written to a memfd and read back as /proc/self/fd/N. A config
 * that loads has a name, a kernel (or is HVM, with a boot order) and its
 * disks; one that does not says why.
 */
#include "xm/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512] = "";
	struct domcfg c;

	int fd = memfd_create("xm-fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, &c, err, sizeof(err)) == 0) {
		/* an HVM guest without a kernel is booted by its BIOS, in the
		 * order of one to three of c, d, n; a PV guest has a kernel */
		size_t nb = strlen(c.boot);
		if (!c.name || !c.name[0] || (!c.kernel && !c.hvm) || c.ndisks < 0 ||
		    (c.ndisks && !c.disks) || (c.hvm ? nb < 1 || nb > 3 ||
						strspn(c.boot, "cdn") != nb : nb != 0))
			abort();
		for (int i = 0; i < c.ndisks; i++)
			if (!c.disks[i])
				abort();
	} else if (!err[0]) {
		abort();
	}
	config_free(&c);
	close(fd);
	return 0;
}
