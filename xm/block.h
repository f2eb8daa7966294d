/*
 * block.h — what xm's block commands share (block-attach.c, block-detach.c,
 * block-media.c, block-list.c; the protocol is docs/vbd.md, its names
 * lib/vbd.h). They talk to XenStore on a plain connection (xsbatch.h):
 * batched requests, transactions through xsc_transaction, watches without
 * a reader thread.
 */
#ifndef XM_BLOCK_H
#define XM_BLOCK_H

#include "vbd.h"

struct diskspec;
struct xm_ctx;
struct xsc;

/* Milliseconds from the environment variable env (whole seconds), or def. */
int blk_timeout_ms(const char *env, int def);
/* Check the backend exists and suits the type and mode; an xl spec that
 * named no backend type gets the one its target calls for (as libxl).
 * 0 or 1 (printed). */
int blk_check_backend(struct diskspec *s);
/* The device x's domain has under the name given ("xvdb", "/dev/xvdb",
 * "xvdc:cdrom", a number). 0, or 1 (printed: unknown name, no such
 * device). */
int blk_find(struct xm_ctx *x, const char *name, struct vbd *v);
/* The same without the store: v named, not looked for. 0 or 1 (printed). */
int blk_name(const char *name, unsigned int domid, struct vbd *v);
/* x's domain (NULL: known), unchecked and without a run directory (xm
 * create makes one): most likely no domain, so its name is read now,
 * before anything else is said. 0, or 1 (printed: it does not exist). A
 * domain with one is checked with the command's first requests. */
int blk_domain_first(struct xm_ctx *x);
/* Watch dir/state with c's first token and wait until it is Closed or
 * gone, or the deadline (now_ms()) passes: the last state read (-1: gone),
 * or BLK_LOST when the connection to XenStore broke. */
#define BLK_LOST (-2)
int blk_wait_closed(struct xsc *c, const char *dir, long deadline);
/* The same, and BLK_REFUSED as soon as the node at err exists (the guest's
 * refusal, error/device/vbd/<id>/error: it keeps the device). */
#define BLK_REFUSED (-3)
int blk_wait_closed_or(struct xsc *c, const char *dir, const char *err, long deadline);
/* Remove the device's directories (and the domain's backend directory
 * when it is left empty). */
void blk_remove(struct xsc *c, const struct vbd *v);
/* Take a device down without the guest (xmbackd unplugs it: online 0,
 * force 1, Closing) and remove every trace. step names the crash points
 * passed on the way ("xm.<step>-closing", "xm.<step>-closed"). */
void blk_force_remove(struct xsc *c, const struct vbd *v, const char *step);
/* A crash point "xm.<step><what>" (crashpoint.h). */
void blk_crash_point(const char *step, const char *what);

/* The device's operation lock (oplock.h), held from before xm's first
 * write until its last one: xmbackd finishes or undoes an operation whose
 * lock nobody holds. */
struct blk_lock {
	int fd;
	char path[512];
};
/* Take it for v; label is the device as the user named it. 0, or 1
 * (printed: another xm holds it, or the lock file cannot be made). */
int blk_lock(struct blk_lock *l, const struct vbd *v, const char *label);
/* Release it (nothing when not taken). */
void blk_unlock(struct blk_lock *l);

/* Is xmbackd running (a live pid in $XM_RUNDIR/xmbackd.pid)? */
bool blk_backd_running(void);
/* 0 when it is, else 1 (printed: what, "block devices cannot be ...").
 */
int blk_need_backd(const char *what);
/* Which part did not answer when a wait for domid's device timed out: a
 * text naming xmbackd when it is not running, else the guest's agent when
 * xmbackd recorded it disconnected, else NULL (malloc'd). */
char *blk_silent_part(struct xsc *c, unsigned int domid);

#endif
