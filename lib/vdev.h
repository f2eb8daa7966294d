/*
 * vdev.h — Xen virtual block device names and numbers, per Xen's
 * docs/man/xen-vbd-interface.7:
 *   xvd[a-p]N  (N 0..15)      -> 202<<8 | disk<<4 | N
 *   xvd<disk>N beyond that    -> 1<<28 | disk<<8 | N   (disk 0..2^20-1, N 0..255)
 *   hd[a-t]N                  -> IDE majors (3, 22, 33, 34, ...) | (disk&1)<<6 | N (N 0..63)
 *   sd[a-p]N                  -> 8<<8 | disk<<4 | N    (N 0..15)
 *   sd<disk>N beyond that     -> 1<<28 | disk<<8 | N
 *   d<disk>p<N>, d<disk>      -> the extended form
 *   a plain number            -> itself (with or without "0x")
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
 * For hd/sd numbers the xvd name of the same disk/partition. 0 or -1. */
int vdev_name(unsigned long devid, char *out, size_t len);
/* Disk index and partition of a devid (any form). 0 or -1. */
int vdev_split(unsigned long devid, unsigned int *disk, unsigned int *part);

#endif
