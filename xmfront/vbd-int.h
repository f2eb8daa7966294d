/*
 * vbd-int.h — what the two halves of xmfront's block frontend share: the
 * XenStore side (vbd.c: the device's state machine) and the guest side
 * (disk.c: the kernel disk, the /dev nodes, whether it is in use). Not an
 * interface: vbd.h is.
 */
#ifndef XMFRONT_VBD_INT_H
#define XMFRONT_VBD_INT_H

#include "mux.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_PARTS 64

enum { F_BACKEND, F_STATE, B_STATE, B_DEV, B_TYPE, B_FORCE, B_SLOT, NVALS };

struct vdev;

/* A partition node /dev/<name><num> made for a whole-disk vbd. */
struct part {
	unsigned int num;
	dev_t rdev;
};

/* The argument of one read: which device, which value. */
struct rq {
	struct vdev *d;
	int slot;
};

struct vdev {
	struct vdev *next;
	struct vbd_front *v;
	unsigned long devid;
	char id[16];          /* devid in decimal */
	char name[32];        /* xvda2 */
	char bstate[192];     /* the watched backend state node, "" if none */
	unsigned int busy;    /* requests in flight with this device as arg */
	bool gone;            /* forgotten: freed once idle */

	bool reading, again, read_failed;
	bool bread;           /* the backend's values are read (since the
			       * last read_device) */
	bool fstale;          /* the frontend values may be wrong (a write
			       * failed): read everything at the next event */
	unsigned int read_epoch; /* mux epoch of the last read_device */
	bool dirty;           /* an event: read everything (at vbd_flush) */
	bool bdirty;          /* a backend state event: read its state, force,
			       * pci-root-port (written with Connected) */
	unsigned int nreads;  /* reads of the batch still to come */
	char *val[NVALS];     /* NULL: the node does not exist */
	struct rq rq[NVALS];

	char kname[32];       /* the kernel's disk (vdb, sr0), "" unknown */
	dev_t rdev;
	long search_until;    /* searching for the disk until then (0: not) */
	long timer_at;        /* decide() again then (0: no) */
	bool refusing;        /* the busy error is written */
	bool closed;          /* node removed for a close */

	/* a whole-disk vbd (xvdb, not xvdb2) also gets /dev/<name><N> for
	 * each partition the kernel finds on the disk, as blkfront does */
	bool whole;
	bool parts_on;        /* connected: kept in line with the kernel */
	bool parts_adopted;   /* nodes an earlier agent left are known */
	unsigned int nparts;
	struct part parts[MAX_PARTS];

	/* the transactional state write in flight */
	bool writing;
	uint32_t tx;
	int tries;
	int wstate;           /* state to write, 0: none */
	const char *werr;     /* error text to write, or NULL */
	void (*wdone)(struct vdev *d, bool ok);
	bool from_prep;       /* the write in flight is the prepared one */

	/* The transaction of the next state write, opened and the state read in
	 * it ahead of time: while the disk is awaited (Connected), and from the
	 * backend event that may be a Closing (Closed, while the in-use check
	 * runs). The write then costs one round trip instead of three. */
	enum { PREP_NONE, PREP_STARTING, PREP_READY } prep;
	bool prep_drop;       /* STARTING but no longer wanted: end it */
	bool prep_then;       /* STARTING, and the write waits for it */
	uint32_t prep_tx;     /* 0 until known */
	unsigned int prep_epoch;
};

struct vbd_front {
	struct mux *mux;
	struct vdev *devs;
	int nl;               /* uevent socket or -1 */
	bool scanning, rescan;
	unsigned int nprep;   /* prepared transactions (one at most: they
			       * count against the guest's quota) */
	struct added {        /* disks of the "add" uevents being handled */
		char name[32];
		char path[256];   /* DEVPATH, "" if unknown */
		dev_t rdev;       /* MAJOR:MINOR, 0 if unknown */
	} added[8];
	unsigned int nadded;
};

bool is_num(const char *s);

/* disk.c */
/* "maj:min" in a sysfs file. 0 or -1. */
int read_devnum(const char *path, dev_t *out);
/* The kernel disk QEMU plugged for d (first among v->added). true with
 * d->kname and d->rdev. */
bool find_disk(struct vdev *d);
/* Is d->kname still the disk we matched? */
bool disk_present(const struct vdev *d);
/* /dev/<name> as a block node of the disk. 0 or -1 (logged). */
int make_node(const struct vdev *d);
/* Remove /dev/<name> if it is a block node. true if one was removed. */
bool drop_node(const struct vdev *d);
/* Take over the partition nodes an earlier agent left. */
void adopt_parts(struct vdev *d);
/* Remove the partition nodes made for d. */
void drop_parts(struct vdev *d);
/* Bring the partition nodes in line with the kernel's (logged unless
 * quiet). */
void sync_parts(struct vdev *d, bool quiet);
/* Is one of set[0..n) mounted? true with where. */
bool mounted(const dev_t *set, unsigned int n, char *where, size_t len);
/* Is the disk (or a partition) in use in the guest? true with why. */
bool in_use(const struct vdev *d, char *why, size_t len);

#endif
