/*
 * notify.h — telling the service manager how a daemon is doing: sd_notify(3)
 * from libsystemd (systemd's Type=notify units; any manager that sets
 * NOTIFY_SOCKET). Without NOTIFY_SOCKET every call does nothing, so the
 * daemons call them whether or not a manager started them. A program that
 * calls them links -lsystemd (the daemons; xm does not).
 */
#ifndef XM_NOTIFY_H
#define XM_NOTIFY_H

/* READY=1 with a STATUS= line: the daemon serves (xmstored: its sockets
 * answer with the tree loaded; xmbackd: connected, watching, every guest
 * taken over). MAINPID= too, so that a daemon that forked is the one
 * watched. */
void notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A STATUS= line alone (e.g. "connecting to XenStore again"). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STOPPING=1: a clean stop has begun. */
void notify_stopping(void);

#endif
