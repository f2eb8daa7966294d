/* reconcile.h — bring XenStore's records and QEMU's devices together
 * (reconcile.c). */
#ifndef XMBACKD_RECONCILE_H
#define XMBACKD_RECONCILE_H

#include "backd.h"

#include <stdbool.h>

#include <jansson.h>

/* How long a guest's QEMU has to answer the reconcile's questions. */
#define RECONCILE_QMP_TIMEOUT 3000

/* One guest, in two steps, so that no QEMU is waited on for its view:
 * reconcile_start asks QEMU what it holds (g->view, answered through
 * reconcile_message as QEMU answers; false: not asked, nothing done);
 * once it is all in (guests_recheck), reconcile_guest acts on every
 * difference between the guest's records, backends and what its QEMU
 * holds. fresh: xmbackd's watches are new (start, store reconnect): watch
 * the frontends of connected devices again. 0, or -1 when QEMU or the
 * store could not be read (nothing done). (What it then sends QEMU to
 * put right, rarely anything, is still waited for.) */
bool reconcile_start(struct backd *b, struct guest *g);
int reconcile_guest(struct backd *b, struct guest *g, bool fresh);
/* m came from g's QEMU: an answer to g's view? Then taken (its last brings
 * guests_recheck). */
bool reconcile_message(struct backd *b, struct guest *g, json_t *m);
/* g's view given up (its answers, if any come, are dropped). */
void reconcile_drop(struct guest *g);
/* Every guest watched, each as soon as its QEMU answers a ping (so that
 * one that does not answer holds up no other). */
void reconcile_all(struct backd *b, bool fresh);

#endif
