/*
 * vbd-int.h — what xmbackd's block backend shares between its files: vbd.c
 * (events, realising and tearing down devices) and media.c (CD/DVD media
 * changes). Not an interface: backd.h is.
 */
#ifndef XMBACKD_VBD_INT_H
#define XMBACKD_VBD_INT_H

#include "backd.h"

#include <stdbool.h>

#define QMP_TIMEOUT 10000
#define BE "/local/domain/0/backend/vbd"

struct vbd {
	unsigned int domid;
	unsigned long devid;
	char be[128];           /* backend dir */
	char tool[128];         /* /tool/xm/domain/D/vbd/DEVID */
};

/* vbd.c */
void vbd_init(struct vbd *v, unsigned int domid, unsigned long devid);
/* The backend's node key (malloc'd), or NULL. */
char *be_read(struct backd *b, const struct vbd *v, const char *key);
bool be_is(struct backd *b, const struct vbd *v, const char *key, const char *val);
void be_write(struct backd *b, const struct vbd *v, const char *key, const char *val);
/* xmbackd's record of what it made: /tool/xm/domain/D/vbd/DEVID/key. */
void tool_write(struct backd *b, const struct vbd *v, const char *key, const char *val);
/* Act on one device as its XenStore nodes say. */
void vbd_consider(struct backd *b, unsigned int domid, unsigned long devid);

/* media.c: block-configure / cd-insert / cd-eject (what = "insert" or
 * "eject"), the medium change asked in the backend's media-change. */
void media_change(struct backd *b, const struct vbd *v, const char *what);

#endif
