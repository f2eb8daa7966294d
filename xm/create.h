/* create.h — the pieces of xm create (create.c runs them in order). */
#ifndef XM_CREATE_H
#define XM_CREATE_H

#include <stdbool.h>
#include <sys/types.h>

struct domcfg;
struct xsc;
struct xs_handle;

/* create-store.c. Each 0, or 1 with the error printed. */
/* Step 1: a free domain id and the name, in one transaction (ids increase
 * as in Xen and are never given while anything of a domain with that id is
 * left: /local/domain/N, /tool/xm/domain/N, backends of N, the run dir
 * $XM_RUNDIR/dom/N, the channel socket, a running QEMU connected to that
 * channel (dom_live_channels); two creates of one name: the loser's
 * transaction conflicts, retries, sees the name). Writes
 * /tool/xm/domain/N/{name,state,creator} (state "creating", creator the
 * path of the lock this create holds: lib/oplock.h createlock_path) and
 * moves next-domid past N. */
int create_reserve(struct xsc *c, const char *name, const char *creator, unsigned int *domid);
/* Give a reserved id back (its /tool/xm/domain/N, which only we wrote):
 * its run dir turned out to exist. 0 or -1. */
int create_unreserve(struct xsc *c, unsigned int id);
/* Step 3: /local/domain/N, /vm/<uuid> and /tool/xm/domain/N in one
 * transaction, with Xen's permissions. */
int create_write_domain(struct xsc *c, unsigned int id, const struct domcfg *cfg,
			const char *uuid, const char *dir);

/* create-qemu.c. The QEMU to run ($XM_QEMU, else qemu-system-x86_64 on PATH)
 * and the accelerator: KVM where it really works, else TCG ($XM_ACCEL wins). */
const char *xm_qemu_binary(void);
const char *xm_pick_accel(void);
/* create-qemu.c. The uid (and gid) domain domid's QEMU runs under: base
 * ($XM_QEMU_UID_BASE, default 131072) + domid; refused when the range of
 * 0x7FF0 uids from base holds a user or group. 0, or 1 (printed). */
int xm_qemu_uid(unsigned int domid, uid_t *uid);
/* XM_DEBUG_QEMU_AS_ROOT=1: QEMU runs as root, unconfined (debugging only). */
bool xm_qemu_as_root(void);
/* create-qemu.c. Step 4: start QEMU (deprivileged: create-qemu.c's head
 * comment); its pid in *qpid. incoming (xm restore): stopped (-S), waiting
 * for a migration stream (-incoming defer). 0, or 1 (printed). */
int create_start_qemu(unsigned int id, const struct domcfg *c, const char *uuid,
		      const char *dir, bool incoming, pid_t *qpid);
/* create-qemu.c. An HVM guest's QEMU starts paused (-S); once its disks
 * are realised: system_reset (the firmware's boot order is made then),
 * the reboot action (on_reboot other than "restart"), cont. 0, or 1 (printed). */
int create_hvm_run(unsigned int id, const struct domcfg *c, const char *dir);

/* create.c: the steps, for xm create and xm restore (restore.c). What a
 * create made, each set just before the step that makes it. */
struct made {
	unsigned int id;
	bool reserved;    /* /tool/xm/domain/N: its name and state */
	bool dir;         /* the run dir, made by our mkdir */
	bool introduced;
	bool nodes;       /* /local/domain/N, /vm/<uuid>, backends of N */
	bool qemu;        /* a QEMU with its pid file in our run dir */
	int lockfd;       /* the create lock (createlock_path), -1 when not held */
	char lock[1100];
	char uuid[37];
	char rundir[512];
};
/* Step 1: the create lock, an id and its run dir, all ours. 0, or 1
 * (printed). */
int create_reserve_id(struct xsc *c, const char *name, struct made *m);
/* Steps 2 to 5 for the reserved id and its run dir: the domain ends
 * "running" (an HVM guest "booting"). restore: QEMU started incoming, the
 * domain left "booting" (xmbackd watches it and realises its disks while
 * the creator's lock is held, and undoes it once not). 0, or 1 (printed). */
int create_make_domain(struct xs_handle *h, struct xsc *c, struct made *m,
		       const struct domcfg *cfg, bool restore);
/* Undo what m says was made, in the reverse order. */
void create_undo(struct xs_handle *h, const struct made *m);

#endif
