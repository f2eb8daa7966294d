/* backd.h — xmbackd's state: the guests it watches over. */
#ifndef XMBACKD_BACKD_H
#define XMBACKD_BACKD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <xenstore.h>

#include "xsbatch.h"

struct qmp;
struct job;
struct claimidx;
struct qview;
struct vif_job;

#define GUEST_LEFT_MAX 8
#define GUEST_TAB 1024 /* buckets of the guests by domain id */

struct guest {
	struct guest *next;
	struct guest *hnext;     /* in its gtab bucket */
	unsigned int domid;
	struct qmp *q;          /* our QMP connection to its QEMU (NULL: to open again) */
	bool ready;             /* q's handshake done: commands may be sent */
	bool stuck;             /* its QEMU has not answered a ping for STUCK_MS */
	bool warned;            /* "does not answer" logged for this spell */
	long since;             /* q opened then (or when to open it again) */
	bool gone;              /* cleaned up: drop at the end of the loop turn */
	bool booting;           /* an HVM guest whose xm create has yet to let it run
				 * (state "booting"): undone if that create is gone */
	bool recheck;           /* reconcile it at the end of the loop turn */
	int agent;              /* its agent, as last written: -1 not yet, 0 disconnected, 1 connected */
	long ping_id;           /* the query-chardev in flight (agent.c), or -1 */
	long ping_at;           /* sent then */
	bool want_reconcile;    /* reconcile once it answers */
	bool fresh;             /* ... as after new watches (reconcile_guest) */
	bool taken;             /* reconciled once since its handshake (guests_recheck) */
	bool heard_once;        /* a ping answered since its handshake (guest_pong) */
	struct qview_job *view; /* the reconcile's view of its QEMU, being answered (reconcile.c) */
	long view_deadline;     /* ... until then (now_ms) */
	unsigned long left[GUEST_LEFT_MAX]; /* xmblk-* nodes left over at its last reconcile */
	unsigned int nleft;
	struct job *jobs;       /* the attaches and detaches in flight on its QEMU (plug.c) */
	struct vif_job *vifjob; /* a NIC's attach in flight on its QEMU (vif.c), or NULL */
	struct qcall *calls;    /* other commands whose answers are awaited (qcall.c) */
	unsigned int njobs;     /* how many: up to GUEST_JOBS_MAX */
	bool deferred;          /* a device of it waited for the job: look at them after */
	/* on_poweroff, on_reboot, on_crash in progress (actions.c) */
	bool cont_on_reset;     /* restart: cont once QEMU says RESET */
	long dump_id;           /* the dump-guest-memory sent, or 0 */
	char then[16];          /* after the dump: "destroy" or "restart" */
};

/* A device a watch event was about, to act on once the events are read. */
struct vbd_key {
	unsigned int domid;
	unsigned long devid;
};

#define VBD_PENDING_MAX 64
#define MEDIA_WAIT_MAX 16

/* A media change waiting for the guest to let go of the tray. */
struct media_wait {
	unsigned int domid;
	unsigned long devid;
	long deadline;          /* give up then (ms, CLOCK_MONOTONIC) */
	long next;              /* try again then */
	bool touched;           /* still wanted after the last try */
};

struct backd {
	/* Requests go on xs, which never has a watch: libxenstore then reads
	 * each reply in the calling thread (with a watch, everything would
	 * pass through its reader thread: two more wake-ups each). The watches
	 * are on xw, a plain connection read as an event stream (xsbatch.h):
	 * a burst of events is one read, in this thread. */
	struct xs_handle *xs;
	struct xsc xw;
	struct xsc xr;          /* batched reads, transactions (nodes.c); made
	                         * when first needed: zeroed is not connected */
	int epfd;              /* the loop waits on it: xw and each guest's monitor (main.c) */
	int xw_reg;            /* xw's descriptor as added to epfd, or -1 */
	uint32_t xw_events;     /* ... with these events */
	bool recheck_due;       /* a guest has recheck set (guests_recheck walks them) */
	bool reap_due;          /* a guest is gone (guests_reap frees it) */
	struct guest *guests;
	struct guest *gtab[GUEST_TAB]; /* the guests by domain id (guests.c: find) */
	struct vbd_key pending[VBD_PENDING_MAX];
	unsigned int dpending[VBD_PENDING_MAX]; /* domains whose record changed (guests_note) */
	unsigned int ndpending;
	unsigned int sweep_be, sweep_rec, sweep_guest; /* the slow sweep's places */
	unsigned int npending;
	bool pending_overflow;  /* too many: vbd_flush() looks at everything */
	struct media_wait mwait[MEDIA_WAIT_MAX];
	unsigned int nmwait;
	int tick_ms;            /* the slow timer: reconcile every guest */
	long next_tick;         /* then (now_ms()) */
	long next_agent;        /* look at agents not yet connected then */
	unsigned int agent_passes;
	unsigned int look_at;    /* the next connected agent to look at (guests_ping) */
	const char *dump_dir;   /* core dumps of coredump-* (actions.c) */
	struct claimidx *cidx;  /* the claims by identity (claimidx.h), or NULL */
	bool cidx_ok;           /* it holds every claim of the store */
	bool vif_dirty;         /* a vif backend changed: vif_flush() scans them */
	struct vbd_key connect[VBD_PENDING_MAX]; /* attaches QEMU is done with (job.c) */
	unsigned int nconnect;
	unsigned int batch_depth; /* devices being looked at as a batch (vbd_consider_many) */
	bool rescan_due;        /* a guest's devices wait to be looked at after it (deferred) */
};

/* guests.c */
/* Bring the guest list in line with /tool/xm/domain: attach to new guests'
 * QMP, clean up those whose QEMU is gone. */
void guests_scan(struct backd *b);
/* A watch fired on path: if it is in one domain's record (/tool/xm/domain/N/...),
 * note the domain and return true; guests_flush() then looks at each noted
 * domain alone (its record, its devices), as guests_scan and vbd_scan would
 * for all: one xm create writes a dozen nodes of its record, and a scan of
 * every domain for each made filling a host quadratic. false: not one
 * domain's (the caller rescans everything). */
bool guests_note(struct backd *b, const char *path);
void guests_flush(struct backd *b);
/* The guest's QMP socket is readable: events, or its QEMU went away. */
void guests_qmp_ready(struct backd *b, struct guest *g);
/* Handle the QMP events that arrived while xmbackd waited for replies
 * (qmp_exec keeps them): the kept list never grows. */
void guests_events(struct backd *b);
/* Free the guests marked gone. */
void guests_reap(struct backd *b);
void guests_free(struct backd *b);
/* Reconcile the guests whose QEMU reported a change (reconcile.c). */
void guests_recheck(struct backd *b);
/* agent.c */
/* Forget what was written (the store restarted): written again. */
void guests_agent_reset(struct backd *b);
/* Ask the guest's QEMU about its agent without waiting (and reconcile the
 * guest once it answers). */
void guest_ping(struct guest *g, bool reconcile);
/* The same for the guests whose agent is not connected, or all (of those
 * whose agent is connected, AGENT_LOOKS at a time, the next ones each time:
 * all of them up to that many guests). */
#define AGENT_LOOKS 50
void guests_ping(struct backd *b, bool all, bool reconcile);
/* Reconcile the next max guests (round the list; all when they are fewer) as
 * each QEMU answers: the slow sweep's share. */
void guests_sweep(struct backd *b, unsigned int max);
/* QEMU sent something: a guest taken for stuck is not (logged). */
void guest_heard(struct backd *b, struct guest *g);
/* Is m the answer to the guest's ping? Then taken (true). */
bool guest_pong(struct backd *b, struct guest *g, json_t *m);
/* The guest domid, if its QEMU can be asked now: watched, connected, taken
 * over (reconciled once since the handshake), answering (not guest_stuck)
 * and room for a job more (GUEST_JOBS_MAX); else NULL. */
struct guest *guest_ready(struct backd *b, unsigned int domid);
/* The guest domid (watched, not gone), or NULL. */
struct guest *guest_find(struct backd *b, unsigned int domid);
/* Its QMP connection: guest_ready's, or NULL. */
struct qmp *guest_qmp(struct backd *b, unsigned int domid);
/* Has domid an attach or detach of device devid in flight on its QEMU
 * (plug.c), or as many jobs as it may have? Then the caller leaves the device
 * alone: the guest's devices are looked at again once a job ends
 * (vbd_scan_domain). Other devices' jobs go on meanwhile: several disks
 * attached at once reach QEMU together, as raw QMP would send them. */
#define GUEST_JOBS_MAX 8
bool guest_busy(struct backd *b, unsigned int domid, unsigned long devid);
/* Has domid any attach or detach in flight, a disk's or a NIC's (the same
 * deferral): for the steps made as blocking calls, which wait until none
 * is (vif.c). */
bool guest_any_job(struct backd *b, unsigned int domid);
/* Jobs whose deadline passed end as QEMU not answering (timers). */
void guests_expire(struct backd *b);
/* Is domid watched but its QEMU not answering: its monitor unreachable or
 * its handshake not done after STUCK_MS, or a ping unanswered for STUCK_MS
 * (stopped, hung)? Its own operations are refused or wait; no other
 * guest's wait on it. */
#define STUCK_MS 2000
bool guest_stuck(struct backd *b, unsigned int domid);
/* Open again the QMP connections to open again, and say once of one whose
 * QEMU does not complete the handshake (timers, every 200 ms). */
void guests_connect(struct backd *b);

/* actions.c: on_poweroff, on_reboot, on_crash. Is m (an event, or the
 * reply to a dump) one of theirs? It is acted on; true when it is for
 * actions.c alone. */
bool actions_message(struct backd *b, struct guest *g, json_t *m);
/* A guest just taken over: one found crashed gets its on_crash now (an
 * xmbackd that was not running when it crashed). Asks QEMU, waiting. */
void actions_takeover(struct backd *b, struct guest *g);
#define DUMP_DIR_DEFAULT "/var/lib/xen/dump"

/* job.c: the attaches whose device QEMU added since the last call,
 * recorded and said Connected in one transaction (at most VBD_BATCH at a
 * time: more, and it is called as they come). */
void vbd_connect_flush(struct backd *b);

/* vbd.c: act on every block backend's state (docs/vbd.md). */
void vbd_scan(struct backd *b);
/* The slow sweep (every reconcile period, -r): up to this many guests, their
 * backends and records are looked at again each time, so that with many
 * guests the sweep costs the same each period and never holds up the loop
 * for long; events (the store's watches, QEMU's) are acted on at once as
 * ever. 1,000 guests: each one every 20 periods (100 s at 5 s). */
#define SWEEP_PER_TICK 50
/* The slow sweep's share of it: the next max domains' backends and the next
 * max domains' records (round the lists; all of them when they are fewer). */
void vbd_sweep(struct backd *b, unsigned int max);
/* A watch fired on path. If it is about devices (a backend dir or one of
 * the nodes that decide, a frontend's state), note them and return true;
 * vbd_flush() then acts on each noted device once: one attach writes some
 * twenty nodes, and each event would otherwise cost its reads. false: not
 * a vbd event (the caller rescans everything). */
bool vbd_note(struct backd *b, const char *path);
void vbd_flush(struct backd *b);
/* Media changes refused while the guest holds the tray locked are tried
 * again (every 200 ms, and when QEMU says the tray opened) for 2.5 s,
 * without holding up anything else. Milliseconds until the next try, or
 * -1; vbd_media_retry() makes the tries that are due. */
int vbd_media_timeout(const struct backd *b);
void vbd_media_retry(struct backd *b);
/* QEMU's DEVICE_TRAY_MOVED (opened) for device qdev_id of domid. */
void vbd_tray_opened(struct backd *b, unsigned int domid, const char *qdev_id);

/* vif.c: the network backend (docs/vif.md). */
/* A watch fired on path: a vif backend's (noted for vif_flush) or one of
 * xmbackd's vif records (nothing to do)? false: not a vif event. */
bool vif_note(struct backd *b, const char *path);
/* Act on the vif backends, if an event said one changed. */
void vif_flush(struct backd *b);
/* Act on every vif backend (and on records whose backend vanished). */
void vif_scan(struct backd *b);
void vif_scan_domain(struct backd *b, unsigned int domid);
/* The guest's vif records against the NICs its QEMU holds (qv: the
 * reconcile's view, read without waiting): an attach that got as far as
 * QEMU is finished, one that did not is undone (and done again), a
 * teardown half-done is finished, a NIC of ours without a record is taken
 * out. */
void vif_reconcile(struct backd *b, struct guest *g, const struct qview *qv);
/* An answer of QEMU to g's vif job (true: it was one; the attach goes on
 * once all three came). */
bool vif_message(struct backd *b, struct guest *g, json_t *m);
/* g's vif job past its deadline, or its QEMU found not answering (or its
 * monitor closed): ended as unanswered, kept at plugging for the
 * reconcile. */
void vif_expire(struct backd *b, struct guest *g, long now);
/* g's monitor failed or its QEMU went (tell: the attach is told it had no
 * answer), or xmbackd stops (the record says what is left). */
void vif_abort(struct backd *b, struct guest *g, bool tell);
/* QEMU's DEVICE_DELETED for dev (xmnet-N) of g: the end of that vif's
 * unplug (netdev_del, record gone, Closed), or a reconcile. */
void vif_deleted(struct backd *b, struct guest *g, const char *dev);

#endif
