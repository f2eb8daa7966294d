/*
 * job.h — the attach and detach jobs (vbd-int.h) as plug.c and job.c share
 * them: plug.c prepares a batch of attaches (the checks, the slots, the
 * claims in one transaction) and hands each to its guest's QEMU; job.c
 * carries the jobs on as QEMU answers. Not an interface: vbd-int.h is.
 */
#ifndef XMBACKD_JOB_H
#define XMBACKD_JOB_H

#include "vbd-int.h"

#include <jansson.h>

struct guest;

/* One device being realised. */
struct plug {
	const struct vbd *v;
	const char *params, *mode, *type, *format, *dev;
	const char *bootindex; /* xm's, for an HVM guest's firmware, or NULL */
	const char *want;  /* the slot asked for (VBD_SLOT_NODE), or NULL */
	bool cdrom, media;
	bool unsure;       /* QEMU did not answer a call: what it holds is unknown */
	char node[64];     /* the block node (media only) */
	char devname[64];  /* the device's QEMU id */
	char bus[32];      /* rpN or scsi0.0 */
	char slot[32];     /* the root port's PCI address, for the guest ("" for a cdrom) */
	int scsi_id;       /* -1 for a disk */
	int fd;            /* the image, opened for QEMU (fdpass.c), or -1 */
	bool blk;          /* ... a block device */
	long fdset;        /* the fdset QEMU gets it in, or -1 */
};

/*
 * A job (vbd-int.h): the QMP half of an attach or a detach in flight on a
 * guest's QEMU.
 */
struct job {
	struct job *next;       /* the guest's next job */
	bool unplug;
	struct vbd v;
	long deadline;          /* QMP_TIMEOUT after its last step (now_ms) */
	/* attach: add-fd, blockdev-add and device_add, sent back to back */
	struct plug p;          /* p.v is &v, its strings sn's */
	struct snap sn;         /* the backend as the attach found it */
	long fd_id, node_id, dev_id; /* their replies, awaited (-1: come, or none) */
	bool node_added;        /* the node is ours to delete if the device fails */
	bool node_failed;       /* its error is the one told */
	long long t_plug, t_qmp; /* us: the attach taken up, its first QMP command sent */
	bool done;              /* QEMU holds the device: recorded at vbd_connect_flush */
	char err[1024];
	/* detach: device_del, its DEVICE_DELETED, blockdev-del */
	long del_id, bdel_id;   /* their replies, awaited (-1: come, or none) */
	bool deleted;           /* DEVICE_DELETED for devname came */
	bool wait_deleted;      /* device_del answered: DEVICE_DELETED awaited */
	bool write_state;
	bool refuse_after;      /* an attach's device found on a stale node, taken
				 * out again: then the attach is refused (err) */
	char devname[64], node[64];
};

#define ERR_SEND "cannot send to QEMU's monitor"

/* job.c */
/* Send a job's command; its reply comes to job_message, even when a
 * blocking call on the guest reads it first (qmp_keep). The id, or -1. */
long job_send(struct guest *g, const char *cmd, json_t *args);
/* The same with a descriptor passed along (add-fd). */
long job_send_fd(struct guest *g, const char *cmd, json_t *args, int fd);
/* The job into the guest's list. */
void job_add(struct guest *g, struct job *j);
/* A job never added, or taken out of its guest's list: freed. */
void job_drop(struct job *j);
/* The attach failed (why in j->err): undone, unless QEMU did not answer
 * and may hold the device yet (the claim is kept; reconcile.c settles it). */
void plug_failed(struct backd *b, struct guest *g, struct job *j);

/* plug.c */
/* The refusal of an attach (why), in one transaction, into a backend that
 * still exists (xm may have given up and removed it). */
void plug_refuse(struct backd *b, const struct vbd *v, const char *why);
/* Undo the intent: QEMU holds nothing of it (any more). */
void plug_release(struct backd *b, const struct vbd *v);

#endif
