/*
 * oplock.h — "an operation on this device is in progress", told by a lock
 * that dies with its holder.
 *
 * xm holds the lock of a device ($XM_RUNDIR/dom/<domid>/vbd-<devid>.lock,
 * oplock_path) for the whole of a block-attach or block-detach, and of a
 * vif (vif-<devid>.lock, oplock_vif_path) for a network-attach or -detach.
 * xmbackd finds a backend left half-way (Closing, Closed, refused) and asks
 * oplock_held(): held means an xm is still working on it and will finish;
 * not held means that xm died, and xmbackd finishes or undoes the step
 * itself. flock(2): the kernel drops the lock when the holder dies, even
 * by kill -9, so no stale pid can pass for a live one.
 */
#ifndef XM_OPLOCK_H
#define XM_OPLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* The lock file's path for domid's device devid. */
void oplock_path(unsigned int domid, unsigned long devid, char *out, size_t len);
/* The same for domid's vif devid ($XM_RUNDIR/dom/<domid>/vif-<devid>.lock), held by
 * xm network-attach and network-detach. */
void oplock_vif_path(unsigned int domid, unsigned long devid, char *out, size_t len);
/* Take the lock at path (its directory must exist). The lock's fd, or -1:
 * errno EWOULDBLOCK when another process holds it, else why it failed. */
int oplock_take(const char *path);
/* Drop a lock taken with oplock_take (and remove its file). */
void oplock_release(int fd, const char *path);
/* Does some process hold the lock at path? false when there is no file;
 * true when it cannot be told (the file cannot be opened: out of
 * descriptors, say), since callers undo what a free lock's holder left. */
bool oplock_held(const char *path);

/*
 * xm create's lock, held from before it reserves a domain id until the
 * domain runs or is undone. Its path goes into the reservation
 * (/tool/xm/domain/N/creator, same transaction), so xmbackd tells a create in
 * progress (held) from one whose xm died or whose undo could not reach the
 * store (not held): that one it undoes. The name is unique to this process
 * and instant: $XM_RUNDIR/create/create-<pid>-<ms>.lock (a folder of its
 * own: $XM_RUNDIR/dom holds only domains). The caller makes the folder.
 */
void createlock_path(char *out, size_t len);
/* Could path be one createlock_path made? (the only files xmbackd removes by
 * a path read from the store) */
bool createlock_path_ok(const char *path);
/* Remove every create lock in $XM_RUNDIR/create that nobody holds: those of
 * xm creates that died before their reservation (oplock_take retries when
 * the file it opened goes). */
void createlock_sweep(void);

#endif
