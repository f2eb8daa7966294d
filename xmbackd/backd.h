/* backd.h — xmbackd's state: the guests it watches over. */
#ifndef XMBACKD_BACKD_H
#define XMBACKD_BACKD_H

#include <stdbool.h>
#include <sys/types.h>
#include <xenstore.h>

struct qmp;

struct guest {
	struct guest *next;
	unsigned int domid;
	struct qmp *q;          /* our QMP connection to its QEMU */
	bool gone;              /* cleaned up: drop at the end of the loop turn */
};

struct backd {
	struct xs_handle *xs;
	struct guest *guests;
};

/* guests.c */
/* Bring the guest list in line with /tool/xm/domain: attach to new guests'
 * QMP, clean up those whose QEMU is gone. */
void guests_scan(struct backd *b);
/* The guest's QMP socket is readable: events, or its QEMU went away. */
void guests_qmp_ready(struct backd *b, struct guest *g);
/* Free the guests marked gone. */
void guests_reap(struct backd *b);
void guests_free(struct backd *b);
/* The QMP connection to domid's QEMU, or NULL if not watched. */
struct qmp *guest_qmp(struct backd *b, unsigned int domid);

/* vbd.c: act on every block backend's state (docs/vbd.md). */
void vbd_scan(struct backd *b);
/* A watch fired on path: if it names one device (its backend dir or its
 * frontend's state), act on that device and return true. */
bool vbd_event(struct backd *b, const char *path);

#endif
