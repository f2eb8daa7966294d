/*
 * netfront.h — the network frontend of xmfront (vif.c): what netfront does
 * in a Xen guest, for the NICs QEMU hot-plugs (docs/vif.md). Each
 * device/vif/<N> gets its NIC (the one with its mac) brought up and its
 * state Connected.
 */
#ifndef XMFRONT_NETFRONT_H
#define XMFRONT_NETFRONT_H

struct mux;
struct vif_front;

struct vif_front *vif_new(struct mux *m);
void vif_free(struct vif_front *v);
/* Act on the watch events of the messages just handled. */
void vif_flush(struct vif_front *v);
/* Milliseconds until vif_tick() has work, or -1. */
int vif_timeout(const struct vif_front *v);
void vif_tick(struct vif_front *v);
/* A network interface appeared: look for the awaited NICs now. */
void vif_kick(struct vif_front *v);
/* The host side connected (again): every vif is read and connected anew,
 * as its frontend may be another domain's now (xm restore: the same NIC,
 * a new domain whose device/vif/<N> waits at Initialising). */
void vif_reconnected(struct vif_front *v);

#endif
