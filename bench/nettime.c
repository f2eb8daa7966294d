/*
 * nettime — timing helper for bench/network.sh (xm network-attach/-detach
 * against raw QMP NIC hot-plug in the same guest). Prints seconds from its
 * own start (CLOCK_MONOTONIC); asserts nothing. It waits on events, never
 * on a timer: the command's end on a pidfd, the guest's console log on
 * inotify, QMP replies and events on the monitor socket.
 *
 *   nettime attach CONSOLE_LOG CMD [ARG...]
 *       Runs CMD (xm network-attach ...). Prints "xm uevent": when CMD
 *       exited, and when the guest's uevent monitor (xmfront --uevents,
 *       started by network.sh) printed the NIC's "add IFNAME net" on the
 *       console: the guest sees the NIC.
 *   nettime detach CMD [ARG...]
 *       Runs CMD (xm network-detach ...). Prints "xm".
 *   nettime floor-attach QMP_SOCKET TAP BRIDGE MAC BUS CONSOLE_LOG
 *       What xmbackd does, by hand: the tap made and put on BRIDGE
 *       (xmbackd/tap.c, the same code), getfd, netdev_add tap,fd= and
 *       device_add virtio-net-pci bench-net (MAC, on BUS), sent back to
 *       back. Prints "tap getfd netdev device uevent": when each was done,
 *       and when the guest's uevent monitor printed the NIC's "add".
 *   nettime floor-detach QMP_SOCKET
 *       device_del bench-net, its DEVICE_DELETED, netdev_del bench-netdev.
 *       Prints "device_del deleted netdev_del".
 *
 * Each run gives up after NETTIME_TIMEOUT seconds (default 30) and exits 1.
 */
#include "qmp.h"
#include "spawn.h"
#include "../xmbackd/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UEVENT "xmfront-uevent add "
#define NET_DEV "bench-net"
#define NET_NETDEV "bench-netdev"
#define NET_FD "bench-netfd"
#define QMP_MS 10000

static double t0;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "nettime: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int timeout_ms(void)
{
	const char *e = getenv("NETTIME_TIMEOUT");
	double s = e && *e ? atof(e) : 30.0;
	double left = t0 + s - now();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* The console log: only what is appended after con_follow() counts. */
struct con {
	char path[PATH_MAX];
	int ino;
	off_t off;
	char line[512];    /* the line being read (a line may come in parts) */
	size_t len;
	double seen;       /* the NIC's add line, or 0 */
};

static void con_follow(struct con *c, const char *path)
{
	struct stat st;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->ino < 0 || inotify_add_watch(c->ino, c->path, IN_MODIFY) < 0)
		die("inotify on %s failed: %s", c->path, strerror(errno));
	c->off = stat(c->path, &st) == 0 ? st.st_size : 0;
	c->len = 0;
	c->seen = 0;
}

static void con_scan(struct con *c)
{
	char ev[4096], buf[8192];
	while (read(c->ino, ev, sizeof(ev)) > 0)
		;
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n;
	while (!c->seen && (n = pread(fd, buf, sizeof(buf), c->off)) > 0) {
		c->off += n;
		for (ssize_t i = 0; i < n && !c->seen; i++) {
			char ch = buf[i];
			if (ch != '\n' && ch != '\r') {
				if (c->len < sizeof(c->line) - 1)
					c->line[c->len++] = ch;
				continue;
			}
			c->line[c->len] = '\0';
			size_t l = c->len;
			c->len = 0;
			if (strstr(c->line, UEVENT) && l > 4 && strcmp(c->line + l - 4, " net") == 0)
				c->seen = now() - t0;
		}
	}
	close(fd);
}

static void con_wait(struct con *c)
{
	con_scan(c);
	while (!c->seen) {
		struct pollfd p = { .fd = c->ino, .events = POLLIN };
		int ms = timeout_ms();
		if (ms == 0 || poll(&p, 1, ms) == 0)
			die("the guest did not report the NIC within the timeout");
		con_scan(c);
	}
}

/* Run argv; its end (seconds from t0). While it runs, follow c (if any). */
static double run(char **argv, struct con *c)
{
	pid_t pid = bench_spawn(argv, 1, -1);
	if (pid < 0)
		die("cannot run %s: %s", argv[0], strerror(errno));
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		die("pidfd_open: %s", strerror(errno));
	double end = 0;
	while (!end) {
		struct pollfd p[2] = { { .fd = pfd, .events = POLLIN },
				       { .fd = c ? c->ino : -1, .events = POLLIN } };
		int ms = timeout_ms();
		if (ms == 0 || poll(p, 2, ms) == 0)
			die("%s did not end within the timeout", argv[0]);
		if (c && p[1].revents)
			con_scan(c);
		if (p[0].revents) {
			end = now() - t0;
			int st;
			waitpid(pid, &st, 0);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				die("%s failed (status %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		}
	}
	close(pfd);
	return end;
}

static struct qmp *qmp_open_or_die(const char *sock)
{
	char *err = NULL;
	struct qmp *q = qmp_connect(sock, QMP_MS, &err);
	if (!q)
		die("QMP %s: %s", sock, err ? err : "?");
	return q;
}

static double reply(struct qmp *q, long id, const char *what)
{
	char *err = NULL;
	if (qmp_wait_reply(q, id, NULL, &err, timeout_ms()) < 0)
		die("%s: %s", what, err ? err : "no answer");
	return now() - t0;
}

int main(int argc, char **argv)
{
	t0 = now();
	if (argc >= 4 && strcmp(argv[1], "attach") == 0) {
		struct con c;
		con_follow(&c, argv[2]);
		double xm = run(argv + 3, &c);
		con_wait(&c);
		printf("%.6f %.6f\n", xm, c.seen);
	} else if (argc >= 3 && strcmp(argv[1], "detach") == 0) {
		printf("%.6f\n", run(argv + 2, NULL));
	} else if (argc == 8 && strcmp(argv[1], "floor-attach") == 0) {
		struct qmp *q = qmp_open_or_die(argv[2]);
		struct con c;
		char err[256];
		con_follow(&c, argv[7]);
		t0 = now(); /* from here, as xmbackd's work starts with the tap */
		int fd = tap_open(argv[3], argv[4], err, sizeof(err));
		if (fd < 0)
			die("%s", err);
		double tap = now() - t0;
		long id1 = qmp_send_fd(q, "getfd", json_pack("{s:s}", "fdname", NET_FD), fd);
		close(fd);
		long id2 = qmp_send(q, "netdev_add", json_pack("{s:s, s:s, s:s}", "type", "tap", "id",
							       NET_NETDEV, "fd", NET_FD));
		long id3 = qmp_send(q, "device_add",
				    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "driver",
					      "virtio-net-pci", "id", NET_DEV, "netdev", NET_NETDEV,
					      "mac", argv[5], "bus", argv[6], "romfile", ""));
		double a = reply(q, id1, "getfd"), b = reply(q, id2, "netdev_add"),
		       d = reply(q, id3, "device_add");
		con_wait(&c);
		printf("%.6f %.6f %.6f %.6f %.6f\n", tap, a, b, d, c.seen);
		qmp_close(q);
	} else if (argc == 3 && strcmp(argv[1], "floor-detach") == 0) {
		struct qmp *q = qmp_open_or_die(argv[2]);
		t0 = now();
		double a = reply(q, qmp_send(q, "device_del", json_pack("{s:s}", "id", NET_DEV)),
				 "device_del");
		if (qmp_wait_event(q, "DEVICE_DELETED", NET_DEV, NULL, timeout_ms()) < 0)
			die("no DEVICE_DELETED for " NET_DEV);
		double b = now() - t0;
		double c = reply(q, qmp_send(q, "netdev_del", json_pack("{s:s}", "id", NET_NETDEV)),
				 "netdev_del");
		printf("%.6f %.6f %.6f\n", a, b, c);
		qmp_close(q);
	} else {
		fprintf(stderr, "usage: nettime attach CONSOLE_LOG CMD [ARG...]\n"
				"       nettime detach CMD [ARG...]\n"
				"       nettime floor-attach QMP_SOCKET TAP BRIDGE MAC BUS CONSOLE_LOG\n"
				"       nettime floor-detach QMP_SOCKET\n");
		return 2;
	}
	return 0;
}
