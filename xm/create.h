/* create.h — the pieces of xm create (create.c runs them in order). */
#ifndef XM_CREATE_H
#define XM_CREATE_H

#include <stdbool.h>
#include <sys/types.h>

struct domcfg;
struct xsc;

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
 * comment); its pid in *qpid. 0, or 1 (printed). */
int create_start_qemu(unsigned int id, const struct domcfg *c, const char *uuid,
		      const char *dir, pid_t *qpid);
/* create-qemu.c. An HVM guest's QEMU starts paused (-S); once its disks
 * are realised: system_reset (the firmware's boot order is made then),
 * the reboot action (on_reboot other than "restart"), cont. 0, or 1 (printed). */
int create_hvm_run(unsigned int id, const struct domcfg *c, const char *dir);

#endif
