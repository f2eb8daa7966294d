/*
 * vbd-int.h — what xmbackd's block backend shares between its files:
 * vbd.c (events: what to do with a device), plug.c (preparing attaches),
 * job.c (the QMP half of attaches and detaches), nodes.c (the device's
 * XenStore nodes),
 * media.c (CD/DVD media changes), claims.c (the claim registry) and
 * reconcile.c (XenStore against QEMU). Not an interface: backd.h is. The
 * protocol's names are lib/vbd.h's.
 */
#ifndef XMBACKD_VBD_INT_H
#define XMBACKD_VBD_INT_H

#include "backd.h"
#include "vbd.h"

#include <stdbool.h>
#include <stdint.h>

#define QMP_TIMEOUT 10000

struct qmp;

/* nodes.c: single nodes of the backend (b->xs). */
/* The backend's node key (malloc'd), or NULL. */
char *be_read(struct backd *b, const struct vbd *v, const char *key);
bool be_is(struct backd *b, const struct vbd *v, const char *key, const char *val);
void be_write(struct backd *b, const struct vbd *v, const char *key, const char *val);
void be_write_state(struct backd *b, const struct vbd *v, enum xenbus_state st);
/* xmbackd's record of what it made: /tool/xm/domain/D/vbd/DEVID/key. */
void tool_write(struct backd *b, const struct vbd *v, const char *key, const char *val);

/* What decides a device's fate, read in one round trip (nodes.c) instead
 * of one per node while the guest waits for the disk. K_TOOLDEV and
 * K_PHASE are xmbackd's record's. */
enum { K_STATE, K_HS, K_MC, K_ONLINE, K_FORCE, K_FE, K_PARAMS, K_MODE, K_TYPE, K_FORMAT,
       K_DTYPE, K_DEV, K_BOOT, K_SLOT, K_TOOLDEV, K_PHASE, K_NODE, K_FDSET, K_FESTATE, NKEYS };
struct snap {
	char *v[NKEYS]; /* NULL: no such node */
	bool ok;        /* read (false: XenStore unreachable, all NULL) */
	/* the guest's records, /tool/xm/domain/D/vbd: their names, each
	 * with its NUL (recs_len bytes; an attach's free slot is theirs) */
	char *recs;
	unsigned int recs_len;
	bool recs_ok;   /* listed (absent: none) */
};
/* All of sn's nodes, or none (XenStore unreachable: logged). K_TOOLDEV,
 * K_PHASE, K_NODE and K_FDSET are xmbackd's record's; K_FESTATE is the
 * state of the frontend at its standard place (v->fe). */
void snap_read(struct backd *b, const struct vbd *v, struct snap *sn);
/* The same for n devices, in one round trip. */
void snap_read_many(struct backd *b, const struct vbd *v, struct snap *sn, int n);
void snap_free(struct snap *sn);
bool snap_is(const struct snap *sn, int k, const char *val);

/* The record's phases (/tool/xm/domain/D/vbd/DEVID/phase): the intent is
 * written before QEMU is touched, the record goes only once QEMU has let
 * the device go (docs/vbd.md). */
#define PHASE_PLUGGING "plugging"
#define PHASE_CONNECTED "connected"
#define PHASE_UNPLUGGING "unplugging"

/* One node to write: dir/key = val; key NULL: the path is dir; val NULL:
 * remove it (absent already is fine). */
struct kv {
	const char *dir, *key, *val;
};
struct xsb;
/* Queue kv's writes and removals in transaction tx. */
void kv_queue(struct xsb *b, uint32_t tx, const struct kv *kv, int n);
/* Write the nodes in one transaction, in one round trip, if must_exist
 * (NULL: no condition) still does (a directory removed meanwhile is not
 * made again). 0 written, 1 not (must_exist is gone), -1 failed (logged). */
int vbd_record(struct backd *b, const char *must_exist, const struct kv *kv, int n);
/* The same, if must_exist's value is must_be (NULL: any). */
int vbd_record_if(struct backd *b, const char *must_exist, const char *must_be,
		  const struct kv *kv, int n);
/* Several devices' records (vbd_record_if each) in one transaction of
 * three round trips, however many: one whose condition fails is left out
 * (rc 1) and the others are written without it. At most REC_MAX. */
#define REC_MAX 64
struct rec {
	const char *must_exist, *must_be;
	const struct kv *kv;
	int n;
	int rc;                 /* out: 0 written, 1 not (the condition), -1 failed (logged) */
};
void vbd_record_many(struct backd *b, struct rec *r, int n);
/* Run op on the request connection b->xr, connecting first if need be, once
 * more on a new connection after a failure. op's result. */
int backd_xr(struct backd *b, int (*op)(struct xsc *c, void *arg), void *arg);
/* n nodes read in one round trip on b's connection: vals[i] malloc'd, or
 * NULL (absent, or all NULL when the store cannot be reached). */
void backd_read_many(struct backd *b, const char *const *paths, int n, char **vals);
/* Is the node absent (not: unreadable)? errno after a read that gave
 * NULL. */
bool absent(void);

/* plug.c */
/* Devices looked at as one batch at most (vbd_consider_many). */
#define VBD_BATCH 64
/* SCSI targets of a guest's virtio-scsi bus that xmbackd gives out. */
#define VBD_SCSI_IDS 64
/* Realise n new backends (n <= VBD_BATCH) in their guests' QEMU: each
 * one's claim and intent, in one transaction for all (claims.h), then its
 * add-fd, blockdev-add, device_add; then its record and Connected (job.c);
 * or say why not. */
void vbd_plug_many(struct backd *b, const struct vbd *const *v, const struct snap *const *sn,
		   int n);
/* A device that QEMU holds and the backend still wants: record it as
 * connected and say Connected (the end of an attach, done again by
 * reconcile.c). bus, scsi_id and node as QEMU has them. vbd_record's
 * result. */
int vbd_connected(struct backd *b, const struct vbd *v, const struct snap *sn,
		  const char *bus, int scsi_id, const char *node);
/* The same as a record to write with others' (vbd_record_many: c->rec),
 * until connected_free; slot_known: the intent wrote pci-root-port. */
struct connected {
	struct kv kv[16];
	int n;
	struct rec rec;
	char pd[32], sectors[32], info[8], sid[16], slot[32], st[200], devname[64];
	char *real;
};
void connected_make(struct connected *c, const struct vbd *v,
		    const struct snap *sn, const char *bus, int scsi_id, const char *node,
		    bool slot_known);
void connected_free(struct connected *c);
/* job.c */
/*
 * The QMP half of an attach (vbd_plug_many) or a detach (vbd_unplug_start) is a
 * job on the guest: its commands are sent, and the event loop brings their
 * replies and events to job_message, so that xmbackd never waits on one
 * guest's QEMU while another's work is ready. A guest has up to
 * GUEST_JOBS_MAX at once, one per device (guest_busy): the commands of
 * several go out together, and each reply or event finds its job by id or
 * device name. A job's deadline (QMP_TIMEOUT from its last step) ends it as
 * QEMU not answering.
 */
/* Start taking devname (then node) out of g's QEMU; once QEMU has let it
 * go, its fdset (the record's, or -1) removed and
 * vbd_teardown_done(write_state); if not, the record stays at phase
 * unplugging. */
void vbd_unplug_start(struct backd *b, struct guest *g, const struct vbd *v, const char *devname,
		      const char *node, long fdset, bool write_state);
/* Has g a job in flight for device devid? */
bool job_holds(const struct guest *g, unsigned long devid);
/* m came from g's QEMU: a reply or event one of g's jobs waits for? Then taken. */
bool job_message(struct backd *b, struct guest *g, json_t *m);
/* g's jobs whose deadline has passed end as QEMU not answering. */
void job_expire(struct backd *b, struct guest *g, long now);
/* g's QEMU was found not answering (agent.c): its jobs end so at once, as
 * unanswered (what was sent may yet be done: the record says so). */
void job_stuck(struct backd *b, struct guest *g);
/* g's QEMU is gone, or its monitor connection lost (why: the job ends as
 * not answered, for that reason), or xmbackd stops (why NULL: the jobs are
 * dropped; their records say what QEMU may hold). */
void job_abort(struct backd *b, struct guest *g, const char *why);

/* vbd.c: act on one device as its XenStore nodes say. */
void vbd_consider(struct backd *b, unsigned int domid, unsigned long devid);
/* The same for n devices: their nodes read in one round trip, the attaches
 * among them made as one batch (vbd_plug_many). */
void vbd_consider_many(struct backd *b, const struct vbd_key *keys, unsigned int n);
/* Does the backend exist (true also when it cannot be read)? */
bool be_exists(struct backd *b, const struct vbd *v);
/* Watch (on) or stop watching what the frontend fe answers: its state and
 * the guest's error node. */
void vbd_watch_frontend(struct backd *b, const struct vbd *v, const char *fe, bool on);
/* Take the device out of QEMU (if the guest still runs), then release its
 * record and claim (and say Closed when write_state): the record stays, at
 * phase unplugging, until QEMU has let the device go. sn: the device's
 * snapshot, just read (NULL: read here). */
void vbd_teardown(struct backd *b, const struct vbd *v, const struct snap *sn, bool write_state);
/* The end of a teardown, once QEMU has let the device go: the record and
 * the claim released (and Closed said when write_state). */
void vbd_teardown_done(struct backd *b, const struct vbd *v, bool write_state);
/* Every device of domain domid, as vbd_scan does for all. */
void vbd_scan_domain(struct backd *b, unsigned int domid);
/* Remove a backend and frontend left by an xm that died, as its
 * blk_remove would: only while the backend's state is still state (as
 * it was seen: else someone else has moved them on). */
void vbd_remove_dirs(struct backd *b, const struct vbd *v, const char *state);

/* fdpass.c: QEMU gets each image as a descriptor xmbackd opened, in an
 * fdset of xmbackd's (add-fd), opened by the node as /dev/fdset/N. */
/* Open params as mode allows (r: read-only, else read-write): an image
 * file or a block device (*blk). The descriptor, or -1 (errno). */
int fdpass_open(const char *params, const char *mode, bool *blk);
/* A new fdset id (from 1 to INT_MAX) for a descriptor of device devid. */
long fdpass_new_id(unsigned long devid);
/* add-fd's arguments: fdset set, opaque "xmblk-DEVID:PATH" (params' real
 * path). Sent with qmp_send_fd. */
json_t *fdpass_add_args(long set, unsigned long devid, const char *params);
/* The name a node opens: /dev/fdset/SET. */
void fdpass_name(char *out, size_t len, long set);
/* A decimal fdset id (the record's), or -1. */
long fdpass_parse_id(const char *s);
/* remove-fd of fdset set (< 0: none), its reply not waited for: QEMU closes
 * its descriptor, and the fdset goes once no node uses it. */
void fdpass_remove(struct qmp *q, long set);
/* The fdset the device's record names, or -1. */
long fdpass_recorded(struct backd *b, const struct vbd *v);

/* media.c: block-configure / cd-insert / cd-eject (what = "insert" or
 * "eject"), the medium change asked in the backend's media-change. */
void media_change(struct backd *b, const struct vbd *v, const char *what);

#endif
