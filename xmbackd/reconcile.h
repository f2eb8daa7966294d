/* reconcile.h — bring XenStore's records and QEMU's devices together
 * (reconcile.c). */
#ifndef XMBACKD_RECONCILE_H
#define XMBACKD_RECONCILE_H

#include "backd.h"

#include <stdbool.h>

/* One guest: act on every difference between its records, backends and
 * what its QEMU holds. fresh: xmbackd's watches are new (start, store
 * reconnect): watch the frontends of connected devices again. 0, or -1
 * when QEMU or the store could not be read (nothing done). */
int reconcile_guest(struct backd *b, struct guest *g, bool fresh);
/* Every guest watched, each as soon as its QEMU answers a ping (so that
 * one that does not answer holds up no other). */
void reconcile_all(struct backd *b, bool fresh);

#endif
