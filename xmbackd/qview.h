/* qview.h — what a guest's QEMU really holds of xmbackd's making: the
 * xmdev-* devices and xmblk-* block nodes (see qview.c). */
#ifndef XMBACKD_QVIEW_H
#define XMBACKD_QVIEW_H

#include <stdbool.h>

struct qmp;

struct qdev {
	unsigned long devid;    /* of its id xmdev-DEVID */
	bool cdrom;             /* scsi-cd, else virtio-blk-pci */
	char node[64];          /* its drive's node name ("" none: an empty cdrom) */
	char file[512];         /* the image QEMU has open ("" none); for a
	                         * descriptor xmbackd gave (/dev/fdset/N), the
	                         * path its fdset's opaque names (else left as is) */
	long fdset;             /* that fdset, or -1 */
	bool ro;                /* opened read-only */
	bool share_rw;          /* share-rw=on (w!) */
	char bus[32];           /* rpN or scsi0.0 */
	int scsi_id;            /* -1 for a disk */
};

struct qview {
	struct qdev *dev;
	unsigned int ndev;
	char (*node)[64];       /* every xmblk-* node */
	unsigned int nnode;
	long *fdset;            /* every fdset of xmbackd's (opaque xmblk-*) */
	unsigned long *fdset_devid; /* ... the device it was made for */
	unsigned int nfdset;
	long *fdset_used;       /* fdsets some block node has open */
	unsigned int nused;
};

/* Read it (query-named-block-nodes flat, qom-list /machine/peripheral,
 * query-block, query-fdsets, and each device's share-rw, bus, scsi-id)
 * within timeout_ms a call. 0, or -1 (QEMU did not answer: act on nothing). */
int qview_read(struct qmp *q, struct qview *v, int timeout_ms);
void qview_free(struct qview *v);
/* The device xmdev-devid, or NULL. */
const struct qdev *qview_dev(const struct qview *v, unsigned long devid);
/* Does QEMU have block node name? */
bool qview_has_node(const struct qview *v, const char *name);
/* An fdset opaque of xmbackd's (fdpass.c), "xmblk-DEVID:PATH": its devid
 * and path (in opaque). */
bool fdpass_opaque(const char *opaque, unsigned long *devid, const char **path);
/* N of a file name /dev/fdset/N, or -1. */
long fdpass_parse(const char *file);
/* Does some block node have fdset set open? */
bool qview_fdset_used(const struct qview *v, long set);
/* Is block node name some device's drive? */
bool qview_node_used(const struct qview *v, const char *name);

#endif
