/* config.h — domain config files (xm/xl syntax) through libxlutil. */
#ifndef XM_CONFIG_H
#define XM_CONFIG_H

#include <stddef.h>

struct domcfg {
	char *file;
	char *name;
	long memory_mib;
	long vcpus;
	char *kernel;       /* absolute */
	char *ramdisk;      /* absolute, or NULL */
	char *extra;        /* appended to the kernel command line */
	char *uuid;         /* NULL: make one */
	char *on_poweroff, *on_reboot, *on_crash;
	char **disks;       /* disk = [...] specs */
	int ndisks;
};

/* Load and check a config; on failure one message in err, -1. */
int config_load(const char *path, struct domcfg *c, char *err, size_t errlen);
void config_free(struct domcfg *c);

#endif
