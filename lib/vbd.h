/*
 * vbd.h — the block device protocol's names, in one place (docs/vbd.md is
 * the contract): where a device's nodes live in XenStore, its states, the
 * guest's hot-plug slots and the guest's refusal text. xm writes and waits
 * on these paths, xmbackd acts on them; both take them from here.
 *
 * One device (domain D, Xen device number DEVID) has:
 *   /local/domain/0/backend/vbd/D/DEVID      the backend (xm writes, xmbackd acts)
 *   /local/domain/D/device/vbd/DEVID         the frontend (the guest's agent)
 *   /local/domain/D/error/device/vbd/DEVID   the guest's refusal ("error" in it)
 *   /tool/xm/domain/D/vbd/DEVID              what xmbackd made in QEMU
 * States are Xen's enum xenbus_state (<xen/io/xenbus.h>), written in decimal.
 */
#ifndef XM_VBD_H
#define XM_VBD_H

#include <stdbool.h>
#include <stddef.h>
#include <xen/io/xenbus.h>

#define VBD_BACKEND_ROOT "/local/domain/0/backend/vbd"

/* A guest's hot-plug slots for disks: xm create gives it VBD_ROOT_PORTS
 * pcie-root-ports rp1..rpN at fixed addresses on pcie.0 (rpN at device
 * VBD_ROOT_PORT_DEV0 + N - 1, function 0), xmbackd puts each disk on a free
 * one and tells the guest which (the backend's pci-root-port node,
 * "0000:00:DD.0"), so that its agent knows the disk by the kernel's device
 * path. */
#define VBD_ROOT_PORTS 8
/* The backend's node that asks xmbackd for a given slot ("rpN": root port
 * N; "scsiN": SCSI target N), written by xm restore so that each device is
 * where the saved guest had it; refused when that slot is taken. */
#define VBD_SLOT_NODE "xm-slot"
#define VBD_ROOT_PORT_DEV0 0x10

/* A device's XenStore directories (no trailing slash). */
struct vbd {
	unsigned int domid;
	unsigned long devid;
	char be[128];      /* backend */
	char fe[128];      /* frontend */
	char errdir[160];  /* the guest's error directory */
	char err[176];     /* errdir/error: the guest's refusal */
	char tool[128];    /* xmbackd's record */
};

void vbd_init(struct vbd *v, unsigned int domid, unsigned long devid);
/* dir/key into out (len bytes; truncated paths are not a concern at these
 * sizes). Returns out. */
char *vbd_path(char *out, size_t len, const char *dir, const char *key);

/* A state node's value: a decimal number (an enum xenbus_state, or one no
 * party knows, taken as it is), or -1 (absent, not a number). */
int vbd_state_parse(const char *s);
/* The decimal text of a state ("4" for XenbusStateConnected). */
const char *vbd_state_str(enum xenbus_state st);

/* The guest's refusal "16 Device in use" is an errno and a text, as Linux's
 * xenbus_dev_error writes it: the text alone (a pointer into s), or s when
 * nothing follows the number. */
const char *vbd_error_text(const char *s);

#endif
