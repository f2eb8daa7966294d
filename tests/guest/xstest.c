/*
 * xstest — a XenStore test client on the project's wire code, static so that
 * it runs both on the host and inside a guest (tests/guest/agent.sh).
 *
 *   xstest introduce DOMID      INTRODUCE DOMID (as the toolstack, dom0)
 *   xstest hold PATH [NWATCH]   start a transaction, write PATH in it, set
 *                               NWATCH (default 1) watches on PATH, print
 *                               "holding tx ID", then wait until killed
 *
 * The socket is $XENSTORED_PATH, else /var/run/xenstored/socket.
 */
#include "wire.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int xs_fd;

/* One request; the reply body (malloc'd) or NULL with the error printed. */
static char *call(uint32_t type, uint32_t tx, const char *body, size_t len)
{
	struct xsd_sockmsg h;
	char *reply;

	if (wire_send(xs_fd, type, 0, tx, body, len) < 0) {
		perror("xstest: send");
		exit(1);
	}
	for (;;) {
		if (wire_recv(xs_fd, &h, &reply) < 0) {
			perror("xstest: receive");
			exit(1);
		}
		if (h.type != XS_WATCH_EVENT)
			break;
		free(reply);
	}
	if (h.type == XS_ERROR) {
		fprintf(stderr, "xstest: %s: %s\n", wire_type_name(type), reply);
		free(reply);
		return NULL;
	}
	return reply;
}

static int introduce(const char *domid)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%s%c0%c1", domid, '\0', '\0');
	char *r = call(XS_INTRODUCE, 0, buf, (size_t)n + 1);
	free(r);
	return r ? 0 : 1;
}

static int hold(const char *path, int nwatch)
{
	char buf[512];
	char *r = call(XS_TRANSACTION_START, 0, "", 1);
	if (!r)
		return 1;
	uint32_t tx = (uint32_t)strtoul(r, NULL, 10);
	free(r);

	int n = snprintf(buf, sizeof(buf), "%s%cheld", path, '\0');
	if (!(r = call(XS_WRITE, tx, buf, (size_t)n)))
		return 1;
	free(r);
	for (int i = 0; i < nwatch; i++) {
		n = snprintf(buf, sizeof(buf), "%s%chold%d", path, '\0', i);
		if (!(r = call(XS_WATCH, 0, buf, (size_t)n + 1)))
			return 1;
		free(r);
	}
	printf("holding tx %u\n", tx);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *sock = getenv("XENSTORED_PATH");
	if (!sock)
		sock = "/var/run/xenstored/socket";
	if (argc < 3) {
		fputs("usage: xstest introduce DOMID | hold PATH [NWATCH]\n", stderr);
		return 2;
	}
	xs_fd = unix_connect(sock);
	if (xs_fd < 0) {
		perror(sock);
		return 1;
	}
	if (strcmp(argv[1], "introduce") == 0)
		return introduce(argv[2]);
	if (strcmp(argv[1], "hold") == 0)
		return hold(argv[2], argc > 3 ? atoi(argv[3]) : 1);
	fputs("usage: xstest introduce DOMID | hold PATH [NWATCH]\n", stderr);
	return 2;
}
