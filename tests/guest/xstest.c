/*
 * xstest — a XenStore test client on the project's wire code, static so that
 * it runs both on the host and inside a guest (tests/guest/agent.sh).
 *
 *   xstest introduce DOMID      INTRODUCE DOMID (as the toolstack, dom0)
 *   xstest hold PATH [NWATCH]   start a transaction, write PATH in it, set
 *                               NWATCH (default 1) watches on PATH, print
 *                               "holding tx ID", then wait until killed
 *   xstest reads N PATH         N READs of PATH on one connection; prints
 *                               the mean round trip in microseconds
 *
 * The socket is $XENSTORED_PATH, else /var/run/xenstored/socket; a
 * character device there is used as a xenbus port (for comparisons, with
 * the agent stopped).
 */
#include "wire.h"
#include "sock.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: xstest introduce DOMID | hold PATH [NWATCH] | reads N PATH\n"

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

static int reads(int n, const char *path)
{
	struct timespec t0, t1;

	if (n <= 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		char *r = call(XS_READ, 0, path, strlen(path) + 1);
		if (!r)
			return 1;
		free(r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
	printf("%ld us per read (%d reads)\n", us / n, n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("XENSTORED_PATH");
	if (!sock)
		sock = "/var/run/xenstored/socket";
	if (argc < 3) {
		fputs(USAGE, stderr);
		return 2;
	}
	struct stat st;
	if (stat(sock, &st) == 0 && S_ISCHR(st.st_mode))
		xs_fd = open(sock, O_RDWR | O_CLOEXEC); /* a xenbus port itself */
	else
		xs_fd = unix_connect(sock);
	if (xs_fd < 0) {
		perror(sock);
		return 1;
	}
	if (strcmp(argv[1], "introduce") == 0)
		return introduce(argv[2]);
	if (strcmp(argv[1], "hold") == 0)
		return hold(argv[2], argc > 3 ? atoi(argv[3]) : 1);
	if (strcmp(argv[1], "reads") == 0 && argc > 3)
		return reads(atoi(argv[2]), argv[3]);
	fputs(USAGE, stderr);
	return 2;
}
