/*
 * port.h — the link to the host: the virtio-serial port named "xenbus"
 * (/dev/vportNpM), or for tests on the host a Unix socket (a domain channel
 * of xmstored). Both carry domain N's XenStore connection.
 */
#ifndef XMFRONT_PORT_H
#define XMFRONT_PORT_H

#include <stdbool.h>

struct port {
	int fd;          /* -1 while closed */
	bool is_socket;
	char path[256];
};

/*
 * Find the virtio-serial port called name under /sys/class/virtio-ports and
 * fill p->path with its device node, creating the node from its "dev"
 * numbers if mdev has not. 0, or -1 with errno (ENOENT: not there yet).
 */
int port_locate(struct port *p, const char *name);
/* Use path (a character device or a Unix socket) as the port. */
int port_set_path(struct port *p, const char *path);
/* Open the port (non-blocking). 0 or -1. A device stays open for the
 * guest's life; a socket is connected again after each loss. */
int port_open(struct port *p);
/* Is the host side there? A device: not hung up (QEMU's chardev is
 * connected); a socket: connected (this tries to connect). */
bool port_host_up(struct port *p);
/* The host side went away (EOF or an error). */
void port_lost(struct port *p);

#endif
