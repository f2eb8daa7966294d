/* config.h — domain config files (xm/xl syntax) through libxlutil. */
#ifndef XM_CONFIG_H
#define XM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct domcfg {
	char *file;
	char *name;
	long memory_mib;
	long maxmem_mib;   /* maxmem =, default memory: QEMU's -m, ballooned to memory */
	long vcpus;
	long maxvcpus;     /* maxvcpus =, default vcpus: -smp vcpus,maxcpus=maxvcpus */
	char **cpus;       /* cpus =: one CPU list a vCPU (cpus.h), NULL: unpinned */
	int ncpus;         /* entries of cpus; a string cpus = gives maxvcpus of them */
	bool hvm;           /* builder = "hvm" / type = "hvm": firmware, boots
			     * its disk (or kernel, xl's direct boot) */
	char boot[4];       /* HVM: the boot order, letters of "cdn" ("" for PV) */
	char *kernel;       /* absolute; NULL: an HVM guest's BIOS boots a disk */
	char *ramdisk;      /* absolute, or NULL */
	char *extra;        /* appended to the kernel command line */
	char *uuid;         /* NULL: make one */
	char *on_poweroff, *on_reboot, *on_crash;
	char **disks;       /* disk = [...] specs */
	int ndisks;
	char **vifs;        /* vif = [...] specs */
	int nvifs;
};

/* Load and check a config; on failure one message in err, -1. */
int config_load(const char *path, struct domcfg *c, char *err, size_t errlen);
void config_free(struct domcfg *c);

/* Where `xm create NAME` reads NAME from, as xm did: NAME itself when it
 * names a path (has a "/") or exists; else the first of DIR/NAME and
 * DIR/NAME.cfg for each DIR of $XM_CONFIG_PATH (default ".:/etc/xen").
 * Not found anywhere: NAME (whose reading then fails with its error). The
 * result is NAME or buf. */
#define XM_CONFIG_PATH_DEFAULT ".:/etc/xen"
const char *config_find(const char *name, char *buf, size_t len);

#endif
