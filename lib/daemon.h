/*
 * daemon.h — a daemon's detaching and its pid file (xmstored, xmbackd), and
 * the liveness of a process by the lock on its pid file (QEMU's too).
 *
 * A pid file says who is alive only while its writer holds a lock on it:
 * the kernel drops the lock when the process dies (before it is a zombie),
 * so a stale file, a zombie's file or a file naming a pid that was reused
 * is never taken for a live process; kill(pid, 0) would pass all three.
 */
#ifndef XM_DAEMON_H
#define XM_DAEMON_H

#include <stdbool.h>

/* Detach: fork (the parent exits 0 at once), setsid, and stdin, stdout and,
 * unless keep_stderr, stderr onto /dev/null. 0 in the child, -1 if the fork
 * failed (errno). A pid file taken before (pidfile_take, pidfile_write)
 * stays locked across the fork (flock belongs to the open file, which the
 * child keeps) and gets the child's pid: the order does not matter, though
 * taking it after daemonize is the plain one. */
int daemonize(bool keep_stderr);

/* Raise the soft limit on open files to the hard one (at most 1<<20): a
 * daemon with a socket per guest must not stop at the login default of
 * 1024 when run by hand (its systemd unit sets LimitNOFILE). The limit
 * reached, or 0 if it could not be read. */
long raise_nofile(void);

/* The pid in the pid file at path while a process holds its lock (flock;
 * ours included), else 0: no file, not locked (its writer is dead, or a
 * zombie, whatever the number in it). -1: locked, but no pid in it even
 * after a short wait (its holder is between taking and writing it). */
long pidfile_live(const char *path);
/* Take path for us, as pidfile_take, for a caller with no use for the
 * holder: 0, or -1 (errno; EWOULDBLOCK while another process holds it). */
int pidfile_write(const char *path);
/* Take path for us: create it, lock it (flock LOCK_EX, not waiting) and
 * write our pid; the descriptor stays open (close-on-exec) for the rest of
 * the process's life, so the lock ends with the process however it ends.
 * Refused (-1, errno EWOULDBLOCK, *holder its pid, or -1 if it has written
 * none yet) while another process holds it; other failures -1 with errno
 * and *holder 0. Taking it again in the holding process rewrites the pid.
 * The owner may unlink it when it stops (while it still holds the lock). */
int pidfile_take(const char *path, long *holder);

/* The pid of the process holding a POSIX record lock (fcntl F_SETLK,
 * lockf) on the file at path, else 0 (no file, no lock: its holder died);
 * -1 if an open file description lock (F_OFD_SETLK, no pid) holds it.
 * QEMU's -pidfile is such a file: QEMU locks it (lockf F_TLOCK) and keeps
 * it locked until it exits. Locks of the calling process are not seen, and
 * a caller must not ask about a file it locks itself with fcntl (closing
 * the probe would drop them). */
long lockfile_holder(const char *path);

#endif
