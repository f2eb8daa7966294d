/*
 * vbd-int.h — what xmbackd's block backend shares between its files:
 * vbd.c (events: what to do with a device), plug.c (realising and
 * unplugging devices in QEMU), nodes.c (the device's XenStore nodes) and
 * media.c (CD/DVD media changes). Not an interface: backd.h is. The
 * protocol's names are lib/vbd.h's.
 */
#ifndef XMBACKD_VBD_INT_H
#define XMBACKD_VBD_INT_H

#include "backd.h"
#include "vbd.h"

#include <stdbool.h>

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
 * of one per node while the guest waits for the disk. */
enum { K_STATE, K_HS, K_MC, K_ONLINE, K_FORCE, K_FE, K_PARAMS, K_MODE, K_TYPE, K_FORMAT,
       K_DTYPE, K_DEV, K_TOOLDEV, NKEYS };
struct snap {
	char *v[NKEYS]; /* NULL: no such node */
};
/* All of sn's nodes, or none (XenStore unreachable: logged). */
void snap_read(struct backd *b, const struct vbd *v, struct snap *sn);
void snap_free(struct snap *sn);
bool snap_is(const struct snap *sn, int k, const char *val);

/* One node to write: dir/key = val. */
struct kv {
	const char *dir, *key, *val;
};
/* Write the nodes in one transaction, in one round trip, if must_exist
 * still does (a directory removed meanwhile is not made again). 0 written,
 * 1 not (must_exist is gone), -1 failed (logged). */
int vbd_record(struct backd *b, const char *must_exist, const struct kv *kv, int n);

/* plug.c */
/* Realise a new backend in the guest's QEMU (sharing check, blockdev-add,
 * device_add), record it and say Connected; or say why not. */
void vbd_plug(struct backd *b, const struct vbd *v, const struct snap *sn);
/* Take device devname (and then node, if any) out of the guest's QEMU:
 * device_del, its DEVICE_DELETED, blockdev-del. */
void vbd_unplug(struct qmp *q, const struct vbd *v, const char *devname, const char *node);

/* vbd.c: act on one device as its XenStore nodes say. */
void vbd_consider(struct backd *b, unsigned int domid, unsigned long devid);

/* media.c: block-configure / cd-insert / cd-eject (what = "insert" or
 * "eject"), the medium change asked in the backend's media-change. */
void media_change(struct backd *b, const struct vbd *v, const char *what);

#endif
