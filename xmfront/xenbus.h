/*
 * xenbus.h — the block frontend's state write (xenbus.c): what Linux's
 * xenbus_switch_state is to blkfront. Part of vbd-int.h: the write's own
 * state lives in the device (struct vbd_dev's write and prepared).
 */
#ifndef XMFRONT_XENBUS_H
#define XMFRONT_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xenbus.h>

struct vbd_dev;

/* The state argument that writes the error text only. */
#define XB_STATE_KEEP XenbusStateUnknown

/* The state write in flight. */
struct xb_write {
	bool busy;
	uint32_t tx;              /* its transaction, 0 once it aborts one */
	int tries;
	enum xenbus_state state;  /* to write, or XB_STATE_KEEP */
	const char *error;        /* error text to write, or NULL */
	bool in_prepared;         /* made in the prepared transaction */
	void (*done)(struct vbd_dev *d, bool ok);
};

/* The transaction of the next state write, opened and the state read in
 * it ahead of time: while the disk is awaited (Connected), and from the
 * backend event that may be a Closing (Closed, while the in-use check
 * runs). The write then costs one round trip instead of three. */
struct xb_prepared {
	enum xb_phase { XB_NONE, XB_STARTING, XB_READY } phase;
	bool unwanted;            /* STARTING but no longer wanted: end it */
	bool write_waits;         /* STARTING, and the write waits for it */
	uint32_t tx;              /* 0 until known */
	unsigned int epoch;       /* the mux epoch it was opened in */
};

/* Write state (unless XB_STATE_KEEP) and the error text (if any) to d's
 * frontend while its directory exists. At the end vbd_state_written(d,
 * ok), which calls done(d, ok). */
void xenbus_switch_state(struct vbd_dev *d, enum xenbus_state state, const char *err,
			 void (*done)(struct vbd_dev *d, bool ok));
/* Open the next state write's transaction ahead (one device at a time;
 * sends nothing if it cannot). */
void xenbus_prepare(struct vbd_dev *d);
/* The prepared transaction is not going to be used. */
void xenbus_unprepare(struct vbd_dev *d);

#endif
