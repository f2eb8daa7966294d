/*
 * diskspec.h — block device specifications as xm and xl take them.
 *
 * xm form (block-attach D BACKDEV FRONTDEV MODE):
 *   BACKDEV  phy:/dev/X | file:/path | tap:aio:/path | tap:qcow2:/path |
 *            qcow2:/path | raw:/path | tap2:... (as tap:)
 *   FRONTDEV xvda2 | /dev/xvda2 | hdc | sdb1 | 51714, optional ":cdrom"/":disk"
 *   MODE     r | w | w!  (also "ro"/"rw" as xl accepts)
 * xl form: one string "target=/srv/dvd.iso,vdev=xvdc,access=r,devtype=cdrom"
 *   or positional "target,format,vdev,access" (as xl-disk-configuration(5)).
 *
 * Parsing only: no file system access. Checks of the backend (exists,
 * readable, block device for phy:) belong to the caller.
 */
#ifndef XM_DISKSPEC_H
#define XM_DISKSPEC_H

#include <stdbool.h>
#include <stddef.h>

enum disk_backend { DISK_PHY, DISK_FILE, DISK_QDISK };
enum disk_format { DISK_FMT_RAW, DISK_FMT_QCOW2 };
enum disk_mode { DISK_MODE_R, DISK_MODE_W, DISK_MODE_W_SHARED };

struct diskspec {
	char target[4096];          /* path of the backend device or image */
	enum disk_backend backend;  /* phy: phy, file: file, tap/qcow2/raw: qdisk */
	enum disk_format format;
	char vdev[64];              /* as given, without "/dev/" and ":cdrom" */
	unsigned long devid;        /* Xen's number for vdev */
	enum disk_mode mode;
	bool cdrom;                 /* devtype=cdrom or ":cdrom" */
	bool empty;                 /* a cdrom with no medium (target "") */
};

/*
 * Parse xm's three arguments. 0, or -1 with xm's message in err, e.g.
 * "Block device must have physical details specified",
 * "Block device type \"x\" is invalid.", "Invalid mode x",
 * "Unable to find number for device (x)".
 */
int diskspec_parse_xm(const char *backdev, const char *frontdev, const char *mode,
		      struct diskspec *d, char *err, size_t errlen);
/* Parse one xl disk-spec string (as in xl's disk = [...] and
 * xl block-attach). Same messages as xl where xl has them. */
int diskspec_parse_xl(const char *spec, struct diskspec *d, char *err, size_t errlen);
/* Either form for a config's disk = [...] entry: "phy:/dev/x,xvda,w" (xm's
 * comma form) or an xl spec. */
int diskspec_parse_cfg(const char *entry, struct diskspec *d, char *err, size_t errlen);

const char *disk_backend_name(enum disk_backend b);   /* "phy", "file", "qdisk" */
const char *disk_format_name(enum disk_format f);     /* "raw", "qcow2" */
const char *disk_mode_name(enum disk_mode m);         /* "r", "w", "w!" */

#endif
