/*
 * notifyrecv — the service manager's end of sd_notify, for the tests: bind
 * a datagram socket at PATH (what NOTIFY_SOCKET names), print each message
 * received ("msg <ms since start>" then its lines), and stop when a message
 * holds the line UNTIL (default READY=1): exit 0; exit 1 after MS
 * milliseconds without it (UNTIL "~text": text anywhere in a message, as
 * in a syslog datagram, which is one line). With CONNECT, at that moment connect to the
 * stream socket CONNECT and say whether it answered ("connect ok" / exit
 * 2): a daemon must be ready only once it serves.
 *
 *   notifyrecv PATH MS [UNTIL [CONNECT]]
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	strcpy(a->sun_path, path);
	return 0;
}

/* Does msg hold the line "line"? A line "~text" is text anywhere in msg. */
static bool has_line(const char *msg, const char *line)
{
	if (line[0] == '~')
		return strstr(msg, line + 1) != NULL;
	size_t n = strlen(line);
	for (const char *p = msg; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: notifyrecv PATH MS [UNTIL [CONNECT]]\n");
		return 64;
	}
	const char *until = argc > 3 ? argv[3] : "READY=1";
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || unix_addr(argv[1], &a) < 0) {
		perror("notifyrecv: socket");
		return 64;
	}
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("notifyrecv: bind");
		return 64;
	}
	long t0 = ms_now(), deadline = t0 + atol(argv[2]);
	char msg[4096];
	for (;;) {
		long left = deadline - ms_now();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			printf("timeout after %ld ms without %s\n", ms_now() - t0, until);
			return 1;
		}
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("notifyrecv: recv");
			return 64;
		}
		msg[n] = '\0';
		printf("msg %ld\n%s\n", ms_now() - t0, msg);
		fflush(stdout);
		if (!has_line(msg, until))
			continue;
		if (argc > 4) {
			int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (c < 0 || unix_addr(argv[4], &a) < 0 ||
			    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
				printf("connect %s: %s\n", argv[4], strerror(errno));
				return 2;
			}
			printf("connect ok\n");
			close(c);
		}
		unlink(argv[1]);
		return 0;
	}
}
