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
 *
 * xm form, as xend's BlkifController checked it:
 *   - FRONTDEV: an "ioemu:" prefix is dropped; ":cdrom" marks a cdrom,
 *     ":disk" a disk, any other ":type" is an error; "/dev/" is dropped
 *     from vdev. The number per vdev.h.
 *   - BACKDEV: "type:params"; no colon (or nothing) -> "Block device must
 *     have physical details specified", except "" / "phy:" for a cdrom,
 *     which is an empty drive (empty = true). phy: -> phy (a relative path
 *     gets "/dev/" in front, as Xen's block script does); file: -> file;
 *     tap:/tap2:[tapdisk:] with aio/sync/raw or qcow2 -> qdisk ("tap:path"
 *     is aio); qcow2:, raw: -> qdisk. Other types (also tap:vhd ...) ->
 *     "Block device type \"x\" is invalid." An empty path for a disk is
 *     the "physical details" error too.
 *   - MODE: r, ro, w, rw, w!; a cdrom is always r.
 *   Checks run in xend's order: backend, mode, number.
 *
 * xl form, as libxlutil's xlu_disk_parse (Xen 4.17) reads it: the same
 * keys, flags, positional order, deprecated prefixes, defaults (access rw,
 * a cdrom always read-only and "empty" without a target) and the same
 * errors, worded as libxlutil prints them minus its "<source>: " prefix:
 *   config parsing error in disk specification: MSG[: near `X'] in `SPEC'
 * One extension: "target=" consumes the rest of the string in xl, so a
 * spec with target= first and vdev= after it is always an error there; we
 * then read the target up to the first comma, if the spec parses that way
 * (xm block-attach D 'target=/srv/dvd.iso,vdev=xvdc,access=r,devtype=cdrom').
 * Then what libxl would refuse later, in libxl's words where it has them:
 *   "Invalid or unsupported virtual disk identifier X" (vdev, per vdev.h;
 *   "/dev/" in front is accepted and dropped), "Disk vdev=X is empty but
 *   not cdrom", "Disk vdev=X is empty but an image has been provided: T",
 *   "no suitable backend for disk X" (phy with qcow2, standalone);
 * and what we do not serve: "Disk format \"vhd\" is not supported (raw or
 * qcow2)" (qcow, vhd, qed), "Block scripts are not supported (script=S)"
 * (script=, iscsi:, nbd:, enbd:, drbd:), "Backend domain X is not
 * supported: only Domain-0 serves block devices here" (backend= other than
 * 0 / Domain-0). backendtype=tap means qdisk here. The target is kept as
 * given (xl does not add "/dev/" either).
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
	bool backend_auto;          /* xl form without backendtype= or prefix:
	                             * backend guessed from the path (raw under
	                             * /dev/ -> phy, other raw -> file, qcow2 ->
	                             * qdisk); the caller may correct it after
	                             * stat(), as libxl does */
};

/*
 * Parse xm's three arguments. 0, or -1 with xm's message in err:
 * "Block device must have physical details specified",
 * "Block device type \"x\" is invalid.", "Invalid mode",
 * "Unable to find number for device (x)" (x as given, without ":cdrom"),
 * and ours: "Invalid device type \"x\" (disk or cdrom)",
 * "Block device path too long".
 */
int diskspec_parse_xm(const char *backdev, const char *frontdev, const char *mode,
		      struct diskspec *d, char *err, size_t errlen);
/* Parse one xl disk-spec string (as in xl's disk = [...] and
 * xl block-attach). Same messages as xl where xl has them. */
int diskspec_parse_xl(const char *spec, struct diskspec *d, char *err, size_t errlen);
/* Either form for a config's disk = [...] entry: xm's comma form
 * "phy:/dev/x,xvda,w" (no '=', exactly three fields, the first with a
 * phy: file: tap: tap2: qcow2: raw: prefix, or empty with a ":type"
 * frontdev: ",hdc:cdrom,r") goes to diskspec_parse_xm, so "w!" works;
 * anything else is an xl spec. */
int diskspec_parse_cfg(const char *entry, struct diskspec *d, char *err, size_t errlen);

const char *disk_backend_name(enum disk_backend b);   /* "phy", "file", "qdisk" */
const char *disk_format_name(enum disk_format f);     /* "raw", "qcow2" */
const char *disk_mode_name(enum disk_mode m);         /* "r", "w", "w!" */

#endif
