/*
 * vbd-int.h — what the parts of xmfront's block frontend share: the
 * device's state machine (vbd.c), its state write (xenbus.c, xenbus.h) and
 * the guest side (disk.c: the kernel disk, the /dev nodes, whether it is in
 * use). Not an interface: vbd.h is.
 */
#ifndef XMFRONT_VBD_INT_H
#define XMFRONT_VBD_INT_H

#include "mux.h"
#include "xenbus.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <xen/io/xenbus.h>

#define VBD_DIR "device/vbd"
#define MAX_PARTS 64

/* The nodes read of a device: the frontend's, then the backend's. */
enum vbd_slot { F_BACKEND, F_STATE, B_STATE, B_DEV, B_TYPE, B_FORCE, B_SLOT, NVALS };

struct vbd_dev;

/* A partition node /dev/<name><num> made for a whole-disk vbd. */
struct vbd_part {
	unsigned int num;
	dev_t rdev;
};

/* The argument of one read: which device, which value. */
struct vbd_read {
	struct vbd_dev *d;
	int slot;
};

/* One device/vbd/<devid> of the domain. */
struct vbd_dev {
	struct vbd_dev *next;
	struct vbd_front *v;
	unsigned long devid;
	char id[16];          /* devid in decimal */
	char name[32];        /* xvda2 */
	char backend_watch[192]; /* the backend state node watched, "" if none */
	unsigned int in_flight; /* requests in flight with this device as arg */
	bool forgotten;       /* its directory is gone: freed once idle */

	/* the nodes, read again on every event */
	char *val[NVALS];     /* NULL: the node does not exist */
	struct vbd_read read_arg[NVALS]; /* on_read's arg for each slot */
	bool read_busy;       /* a batch of reads is in flight */
	bool fresh;           /* not read yet: its first reads go with the
	                       * Connected write's transaction (xenbus_prepare),
	                       * and with its backend's watch and reads at the
	                       * path xm gives it (guessed_reads) */
	bool guessed_reads;   /* the batch holds the backend's reads too */
	unsigned int reads_due; /* reads of the batch still to come */
	bool read_failed;     /* one of the batch failed (the host went away) */
	bool read_again;      /* an event while reading or writing: read
			       * everything once that is done */
	bool backend_known;   /* the backend's values are read (since the
			       * last read_device) */
	bool front_stale;     /* the frontend values may be wrong (a write
			       * failed): read everything at the next event */
	unsigned int read_epoch; /* mux epoch of the last read_device */
	bool flush_read_all;  /* an event: read everything (at vbd_flush) */
	bool flush_read_backend; /* a backend state event: read its state,
			       * force, pci-root-port (written with Connected) */
	bool check_due;       /* an in-use check to make once the backend's
			       * reads are sent (vbd_sent) */
	bool checked;         /* made (checked_busy, checked_why), for the
			       * decide() those reads lead to */
	bool checked_busy;
	char checked_why[200];
	bool backend_held;    /* a backend event not read yet: the disk is
			       * awaited on the backend's root port (until
			       * it shows, or decide_at) */

	char kname[32];       /* the kernel's disk (vdb, sr0), "" unknown */
	dev_t rdev;
	long search_until;    /* searching for the disk until then (0: not) */
	long decide_at;       /* decide() again then (0: no) */
	bool close_refused;   /* the busy error is written (or on its way) */

	/* a whole-disk vbd (xvdb, not xvdb2) also gets /dev/<name><N> for
	 * each partition the kernel finds on the disk, as blkfront does */
	bool whole_disk;
	bool parts_tracked;   /* connected: kept in line with the kernel */
	bool parts_adopted;   /* nodes an earlier agent left are known */
	unsigned int nparts;
	struct vbd_part parts[MAX_PARTS];

	struct xb_write write;       /* the state write in flight (xenbus.c) */
	struct xb_prepared prepared; /* the next one's transaction (xenbus.c) */
};

struct vbd_front {
	struct mux *mux;
	struct vbd_dev *devs;
	int nl;               /* uevent socket or -1 */
	bool scanning, rescan;
	unsigned int nprepared; /* prepared transactions (one at most: they
				 * count against the guest's quota) */
	struct vbd_added {    /* disks of the "add" uevents being handled */
		char name[32];
		char path[256];   /* DEVPATH, "" if unknown */
		dev_t rdev;       /* MAJOR:MINOR, 0 if unknown */
	} added[8];
	unsigned int nadded;
	char domid[12];       /* the domain's id (its "domid" node), "" unknown */
	unsigned int domid_epoch; /* mux epoch it was read in */
	bool net_added;       /* a network interface appeared (vbd_take_net_added) */
};

/* Is d's backend a cdrom (device-type)? */
static inline bool vbd_is_cdrom(const struct vbd_dev *d)
{
	return d->val[B_TYPE] && strcmp(d->val[B_TYPE], "cdrom") == 0;
}

/* vbd.c: the device's requests (a reply's arg is d, counted in
 * d->in_flight) */
int dev_request(struct vbd_dev *d, uint32_t type, uint32_t tx, const char *body, size_t len,
		mux_reply_fn *fn);
/* "path\0" */
int dev_request_path(struct vbd_dev *d, uint32_t type, uint32_t tx, const char *path,
		     mux_reply_fn *fn);
/* "path\0value", no reply wanted */
int dev_request_write(struct vbd_dev *d, uint32_t tx, const char *path, const char *value);
/* A reply for d arrived: false if d is forgotten (and maybe freed). */
bool dev_reply(struct vbd_dev *d);
/* xenbus.c's state write of d has ended (ok: it landed). */
void vbd_state_written(struct vbd_dev *d, bool ok);
/* A disk was added (vbd-uevent.c): d looks for its own if it waits for
 * one. May free d. */
void vbd_disk_added(struct vbd_dev *d);

/* disk.c */
bool is_num(const char *s);
/* "maj:min" in a sysfs file. 0 or -1. */
int read_devnum(const char *path, dev_t *out);
/* The kernel disk QEMU plugged for d (first among v->added). true with
 * d->kname and d->rdev. slot_only: a virtio disk only by the backend's
 * root port (no request to other disks: their serials are not read). */
bool find_disk(struct vbd_dev *d, bool slot_only);
/* Is d->kname still the disk we matched? */
bool disk_present(const struct vbd_dev *d);
/* /dev/<name> as a block node of the disk. 0 or -1 (logged). */
int make_node(const struct vbd_dev *d);
/* Remove /dev/<name> if it is a block node. true if one was removed. */
bool drop_node(const struct vbd_dev *d);
/* Take over the partition nodes an earlier agent left. */
void adopt_parts(struct vbd_dev *d);
/* Remove the partition nodes made for d. */
void drop_parts(struct vbd_dev *d);
/* Bring the partition nodes in line with the kernel's (logged unless
 * quiet). */
void sync_parts(struct vbd_dev *d, bool quiet);
/* Is one of set[0..n) mounted? true with where. */
bool mounted(const dev_t *set, unsigned int n, char *where, size_t len);
/* Is the disk (or a partition) in use in the guest? true with why. */
bool in_use(const struct vbd_dev *d, char *why, size_t len);

#endif
