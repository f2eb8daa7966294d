/*
 * console.c — xm console: the domain's serial console, which QEMU serves on
 * a Unix socket (one client at a time). Raw terminal; Ctrl-] leaves, as xm.
 */
#include "xm.h"
#include "dom.h"
#include "sock.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_RBRACKET 0x1d

int xm_console_attach(unsigned int domid)
{
	struct xs_handle *h = xm_xs_open();
	if (!h)
		return 1;
	char *path = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/console", domid);
	int e = errno;
	xs_close(h);
	if (!path)
		return xm_store_error(e, "Domain %u has no console", domid);
	int fd = unix_connect(path);
	if (fd < 0) {
		e = errno;
		xm_error("cannot connect to the console of domain %u (%s): %s", domid, path,
			 strerror(e));
		free(path);
		return 1;
	}
	free(path);

	struct termios old, raw;
	bool tty = isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	int rc = 0;
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		char buf[4096];
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0)
				break;
			char *esc = memchr(buf, CTRL_RBRACKET, (size_t)n);
			if (esc) {
				write_full(fd, buf, (size_t)(esc - buf));
				break;
			}
			if (write_full(fd, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break; /* the domain went away */
			if (write_full(1, buf, (size_t)n) < 0) {
				rc = 1;
				break;
			}
		}
	}
	if (tty) {
		tcsetattr(0, TCSANOW, &old);
		fputs("\r\n", stdout);
	}
	close(fd);
	return rc;
}

int cmd_console(struct xm_ctx *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return xm_usage("console");
	unsigned int id = x->domid;
	if (id == 0)
		return xm_error("Domain-0 has no console here");
	return xm_console_attach(id);
}
