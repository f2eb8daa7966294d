/*
 * frontend.h — the block frontend of xmfront (vbd.c): what Linux's blkfront
 * does in a Xen guest, for the disks QEMU hot-plugs (docs/vbd.md "Attach",
 * "Detach").
 *
 * It watches the domain's device/vbd and each device's backend state. A vbd
 * at Initialising whose backend is Connected is matched to the kernel disk
 * QEMU plugged (virtio-blk: serial = devid; scsi cdrom: model = the vdev
 * name), /dev/<xvd name> is made with the disk's major:minor and the
 * frontend goes Connected. A whole-disk vbd (xvdb) also gets /dev/xvdbN for
 * each partition of the kernel disk, kept in line with the partition
 * uevents and removed with the device. On backend Closing it closes (node removed,
 * state Closed) only when the disk is neither mounted nor open in the
 * guest; otherwise it writes "16 Device in use; refusing to close" to
 * error/device/vbd/<devid>/error and checks again every 0.5 s while the
 * backend stays Closing. A vbd directory that disappears (forced detach)
 * takes its node with it. A kernel eject request for a cdrom that is not
 * mounted releases the tray.
 */
#ifndef XMFRONT_FRONTEND_H
#define XMFRONT_FRONTEND_H

#include <stdbool.h>

struct mux;
struct vbd_front;

struct vbd_front *vbd_new(struct mux *m);
void vbd_free(struct vbd_front *v);
/* Milliseconds until vbd_tick() has work, or -1. */
int vbd_timeout(const struct vbd_front *v);
void vbd_tick(struct vbd_front *v);
/* The kernel's uevent socket (for poll: POLLIN), or -1 without one. */
/* The requests queued for the host are written: the work that waited for
 * them to be on their way is done now (an in-use check, vbd.c). */
void vbd_sent(struct vbd_front *v);
int vbd_fd(const struct vbd_front *v);
void vbd_readable(struct vbd_front *v);
/* Did a network interface appear since the last call (its "add" uevent,
 * read by vbd_readable)? Then the network frontend looks at once. */
bool vbd_take_net_added(struct vbd_front *v);
/* Act on the watch events of the messages just handled (call after each
 * batch from the host): a burst of events costs one read of a device. */
void vbd_flush(struct vbd_front *v);

#endif
