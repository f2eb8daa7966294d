/* qview.h — what a guest's QEMU really holds of xmbackd's making: the
 * xmdev-* devices and xmblk-* block nodes, and the xmnet-* NICs (see
 * qview.c). */
#ifndef XMBACKD_QVIEW_H
#define XMBACKD_QVIEW_H

#include <jansson.h>
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
	unsigned long *nic;     /* every NIC of xmbackd's, xmnet-N: its N (vif.c) */
	unsigned int nnic;
};

/* Read it as a job of the event loop, so that a QEMU that stops answering
 * midway holds up nothing else: qview_start sends qom-list
 * /machine/peripheral, query-block, query-named-block-nodes (flat) and
 * query-fdsets back to back; qview_feed takes each message from QEMU (true:
 * an answer of the view's), and asks each device's share-rw, bus and SCSI
 * id once qom-list has answered; qview_state is 0 while answers are
 * awaited, 1 once all came, -1 if a command was not sent or QEMU refused one
 * (act on nothing); qview_take then gives the view (0, or -1). The caller
 * keeps the deadline. */
struct qview_job;
struct qview_job *qview_start(struct qmp *q);
bool qview_feed(struct qview_job *j, struct qmp *q, json_t *m);
int qview_state(const struct qview_job *j);
int qview_take(struct qview_job *j, struct qview *v);
/* Has nothing been sent to QEMU since the view was asked but questions
 * (qmp_changes)? Else what it says may be out of date: an attach or a
 * detach began, or ended, meanwhile. */
bool qview_current(const struct qview_job *j, const struct qmp *q);
void qview_job_free(struct qview_job *j);
void qview_free(struct qview *v);
/* The device xmdev-devid, or NULL. */
const struct qdev *qview_dev(const struct qview *v, unsigned long devid);
/* Does QEMU have the NIC xmnet-id? */
bool qview_has_nic(const struct qview *v, unsigned long id);
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
