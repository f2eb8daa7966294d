/* daemon.h — a daemon's detaching and its pid file (xmstored, xmbackd). */
#ifndef XM_DAEMON_H
#define XM_DAEMON_H

#include <stdbool.h>

/* Detach: fork (the parent exits 0 at once), setsid, and stdin, stdout and,
 * unless keep_stderr, stderr onto /dev/null. 0 in the child, -1 if the fork
 * failed (errno). */
int daemonize(bool keep_stderr);

/* The pid in the pid file at path when that process is alive (kill(pid,
 * 0)), else 0 (no file, no number, no such process). */
long pidfile_live(const char *path);
/* Write our pid to path ("%d\n"). 0 or -1 (errno). */
int pidfile_write(const char *path);
/* Take path for us: refused (-1, *holder its pid) while a live process
 * other than us holds it, else our pid written (0, or -1 with errno and
 * *holder 0). The owner removes it (unlink) when it stops. */
int pidfile_take(const char *path, long *holder);

#endif
