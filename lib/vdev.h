/*
 * vdev.h — Xen virtual block device names and numbers, per Xen's
 * docs/man/xen-vbd-interface.7 as libxl reads it
 * (libxl__device_disk_dev_number):
 *   xvd<disk>N, disk 0..15 and N 0..15  -> 202<<8 | disk<<4 | N
 *   xvd<disk>N beyond that              -> 1<<28 | disk<<8 | N
 *                                          (disk 0..2^20-1, N 0..255)
 *   d<disk>p<N>, d<disk> (decimal)      -> as xvd<disk>N (d1p2 = xvdb2)
 *   hd[a-d]N  (N 0..63)                 -> (3 or 22)<<8 | (disk&1)<<6 | N
 *                                          (3 for hda/hdb, 22 for hdc/hdd)
 *   sd[a-p]N  (N 0..15)                 -> 8<<8 | disk<<4 | N
 *   a plain number                      -> itself, read as strtoul(.., 0)
 *                                          does (51714, 0xca02, 0145002),
 *                                          at most INT_MAX
 * <disk> is letters, a bijective base 26 ("a" 0, "z" 25, "aa" 26 ...);
 * N is empty (0) or a decimal without leading zero ("xvda0" is invalid).
 * hd beyond hdd and sd beyond sdp (Linux-specific, deprecated by the vbd
 * document, refused by libxl) are invalid. (xm read a bare number as hex;
 * we follow libxl and the vbd document here.)
 * Names may carry "/dev/" in front; ":cdrom" / ":disk" after is split off by
 * the disk-spec parser, not here. xvda2 = 51714, xvdb = 51728.
 */
#ifndef XM_VDEV_H
#define XM_VDEV_H

#include <stdbool.h>
#include <stddef.h>

/* Parse a name or number. 0 with *devid, -1 if invalid ("Unable to find
 * number for device (NAME)" is the message xm gives). */
int vdev_parse(const char *name, unsigned long *devid);
/* The xvd name for a devid, as the guest sees it ("xvda2", "xvdaa3").
 * For hd/sd numbers the xvd name of the same disk/partition (hdc -> xvdc,
 * as Linux's blkfront names them). -1 for numbers that are none of the
 * encodings above (or if len is too small). 0 or -1. */
int vdev_name(unsigned long devid, char *out, size_t len);
/* Disk index and partition of a devid (any form above; -1 for 2<<28
 * onwards and for unknown majors). Either pointer may be NULL. 0 or -1. */
int vdev_split(unsigned long devid, unsigned int *disk, unsigned int *part);

#endif
