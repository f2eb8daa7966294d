/* sock.h — AF_UNIX stream sockets: the daemons' listeners, the clients'
 * connections. */
#ifndef XM_SOCK_H
#define XM_SOCK_H

/* A listening AF_UNIX stream socket at path (an old socket file is
 * replaced), non-blocking, close-on-exec, mode 0600. fd or -1. */
int unix_listen(const char *path);
/* A blocking connection to path. fd or -1. */
int unix_connect(const char *path);
/* The same, non-blocking: an AF_UNIX connect never waits, but fails with
 * EAGAIN when the listener's backlog is full (a listener that does not
 * accept: stopped, hung); reads and writes never wait either. fd or -1. */
int unix_connect_nb(const char *path);

#endif
