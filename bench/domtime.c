/*
 * domtime — timing helper for bench/domains.sh. Prints seconds (CLOCK_MONOTONIC,
 * µs resolution); asserts nothing. Events are waited for, never polled:
 * XenStore changes through a libxenstore watch, console output through
 * inotify on the console log QEMU writes.
 *
 *   domtime create XM CFG DOMDIR
 *       Runs `XM create CFG`. Prints "ID returned prompt ready": when xm
 *       create exited, when the guest's shell prompt "xm-guest# " reached
 *       the serial console log, and when /local/domain/ID/attr/xmfront/state
 *       became "ready" (the agent connected), all from just before the fork.
 *       The console log is DOMDIR/ID/console.log (DOMDIR is
 *       $XM_RUNDIR/dom).
 *   domtime floor ARGFILE CONSOLE_LOG LISTEN_SOCKET
 *       Runs the QEMU command in ARGFILE (one argument per line, xm's own
 *       command line: it logs the serial console to CONSOLE_LOG), its
 *       stderr in qemu.log next to CONSOLE_LOG. LISTEN_SOCKET is bound and
 *       listened on first, standing in for xmstored's per-domain channel
 *       so that QEMU's xenbus chardev connects as under xm. Prints
 *       "returned prompt": when the machine was set up and when the prompt
 *       reached CONSOLE_LOG. Set up is what xm create waits for: QEMU
 *       running as its -runas uid (its last step before the guest runs;
 *       there is no event for it, so /proc is read every 2 ms, as xm
 *       does), or, for a command line with -daemonize, its parent's exit.
 *   domtime run CMD [ARG...]
 *       Prints the wall time of CMD (its output goes to stderr); exits with
 *       its status.
 *
 * Each wait gives up after DOMTIME_TIMEOUT seconds (default 120) and exits 1.
 */
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define PROMPT "xm-guest# "

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
	fprintf(stderr, "domtime: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int timeout_ms(void)
{
	const char *e = getenv("DOMTIME_TIMEOUT");
	double s = e && *e ? atof(e) : 120.0;
	double left = t0 + s - now();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Start argv with stdin on /dev/null, stdout on out_fd (or /dev/null when
 * -1), stderr on err_fd (or inherited when -1). */
static pid_t spawn(char **argv, int out_fd, int err_fd)
{
	pid_t pid = bench_spawn(argv, out_fd, err_fd);
	if (pid < 0)
		die("cannot run %s: %s", argv[0], strerror(errno));
	return pid;
}

/* The serial console log, followed with inotify: it is scanned whenever it
 * grows, from where the last scan stopped. */
struct conlog {
	char path[PATH_MAX];
	int ino;         /* inotify fd, -1 until the file is followed */
	off_t off;
	char tail[sizeof(PROMPT)];  /* end of the previous chunk (a split prompt) */
	double seen;     /* 0 until the prompt was seen */
};

static void conlog_follow(struct conlog *c, const char *path)
{
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->ino < 0 || inotify_add_watch(c->ino, c->path, IN_MODIFY) < 0)
		die("inotify on %s failed", c->path);
}

/* Read what was appended; note the time if the prompt is in it. */
static void conlog_scan(struct conlog *c)
{
	char ev[4096];
	while (read(c->ino, ev, sizeof(ev)) > 0)
		;
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[8192 + sizeof(PROMPT)];
	size_t keep = strlen(c->tail);
	ssize_t r;
	while (!c->seen && (r = pread(fd, buf + keep, sizeof(buf) - 1 - keep, c->off)) > 0) {
		c->off += r;
		memcpy(buf, c->tail, keep);
		size_t n = keep + (size_t)r;
		buf[n] = '\0';
		/* the console carries no NULs; be safe anyway */
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		if (strstr(buf, PROMPT))
			c->seen = now();
		keep = n < sizeof(PROMPT) - 1 ? n : sizeof(PROMPT) - 1;
		memmove(c->tail, buf + n - keep, keep);
		c->tail[keep] = '\0';
	}
	close(fd);
}

static int cmd_run(char **argv)
{
	t0 = now();
	pid_t pid = spawn(argv, 2, -1);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	printf("%.6f\n", now() - t0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static char *next_domid(struct xs_handle *h)
{
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, "/tool/xm/next-domid", &len);
	return v ? v : strdup("1");
}

static int cmd_create(const char *xm, const char *cfg, const char *domdir)
{
	struct xs_handle *h = xs_open(0);
	if (!h)
		die("cannot connect to XenStore: %s", strerror(errno));
	/* Domains here are created one at a time, so the new one gets
	 * next-domid; the watch is set up on its node before xm runs (checked
	 * against what xm prints, and moved if it differs). */
	char *id = next_domid(h), node[128], want[128];
	snprintf(node, sizeof(node), "/local/domain/%s/attr/xmfront/state", id);
	if (!xs_watch(h, node, "r"))
		die("xs_watch: %s", strerror(errno));

	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	char *argv[] = { (char *)xm, "create", (char *)cfg, NULL };
	t0 = now();
	pid_t pid = spawn(argv, out[1], -1);
	close(out[1]);

	char xmout[4096];
	size_t xn = 0;
	double returned = 0, ready = 0;
	struct conlog con = { .ino = -1 };
	bool xm_eof = false;
	while (!returned || !ready || !con.seen) {
		struct pollfd p[3] = {
			{ .fd = xs_fileno(h), .events = POLLIN },
			{ .fd = xm_eof ? -1 : out[0], .events = POLLIN },
			{ .fd = con.ino, .events = POLLIN },
		};
		int r = poll(p, 3, timeout_ms());
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "domtime: timeout (create %s, prompt %s, ready %s)\n",
				returned ? "returned" : "running", con.seen ? "seen" : "not seen",
				ready ? "yes" : "no");
			if (!returned)
				kill(pid, SIGTERM);
			return 1;
		}
		if (p[0].revents & POLLIN) {
			unsigned int n;
			char **ev = xs_read_watch(h, &n);
			free(ev);
			char *v = xs_read(h, XBT_NULL, node, &n);
			if (v && !ready && strcmp(v, "ready") == 0)
				ready = now();
			free(v);
		}
		if (p[1].revents) {
			ssize_t k = read(out[0], xmout + xn, sizeof(xmout) - 1 - xn);
			if (k > 0) {
				xn += (size_t)k;
				continue;
			}
			/* EOF: xm exited (QEMU does not inherit this pipe) */
			xm_eof = true;
			int st;
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			returned = now();
			xmout[xn] = '\0';
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				die("xm create failed: %s", xmout);
			const char *s = strstr(xmout, "(id=");
			if (!s)
				die("no domain id in xm create's output: %s", xmout);
			unsigned int dom = (unsigned int)strtoul(s + 4, NULL, 10);
			snprintf(want, sizeof(want), "/local/domain/%u/attr/xmfront/state", dom);
			if (strcmp(want, node) != 0) {
				xs_unwatch(h, node, "r");
				snprintf(node, sizeof(node), "%s", want);
				if (!xs_watch(h, node, "r"))
					die("xs_watch: %s", strerror(errno));
			}
			free(id);
			if (asprintf(&id, "%u", dom) < 0)
				die("%s", "out of memory");
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/%u/console.log", domdir, dom);
			conlog_follow(&con, path);
			conlog_scan(&con);
		}
		if (con.ino >= 0 && (p[2].revents & POLLIN))
			conlog_scan(&con);
	}
	printf("%s %.6f %.6f %.6f\n", id, returned - t0, con.seen - t0, ready - t0);
	free(id);
	xs_close(h);
	return 0;
}

static int cmd_floor(const char *argfile, const char *log, const char *sock)
{
	FILE *f = fopen(argfile, "r");
	if (!f)
		die("cannot read %s", argfile);
	char *argv[256], line[4096];
	int n = 0;
	while (n < 255 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		argv[n++] = strdup(line);
	}
	argv[n] = NULL;
	fclose(f);
	if (n == 0)
		die("%s is empty", argfile);

	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(a.sun_path))
		die("socket path too long: %s", sock);
	strcpy(a.sun_path, sock);
	unlink(sock);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4) < 0)
		die("cannot listen on %s", sock);

	char qlog[PATH_MAX];
	const char *slash = strrchr(log, '/');
	snprintf(qlog, sizeof(qlog), "%.*sqemu.log", slash ? (int)(slash - log + 1) : 0, log);
	int lfd = open(qlog, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (lfd < 0)
		die("cannot write %s: %s", qlog, strerror(errno));
	long uid = -1;
	bool daemonize = false;
	for (int i = 0; i < n; i++) {
		if (strcmp(argv[i], "-daemonize") == 0)
			daemonize = true;
		if (strcmp(argv[i], "-runas") == 0 && i + 1 < n) {
			char *end; /* xm gives UID:GID, numbers */
			uid = strtol(argv[i + 1], &end, 10);
			if (end == argv[i + 1] || (*end && *end != ':') || uid < 0)
				die("%s: -runas %s: not a numeric uid", argfile, argv[i + 1]);
		}
	}
	if (!daemonize && uid < 0)
		die("%s: neither -runas nor -daemonize: no way to tell QEMU set up", argfile);

	t0 = now();
	pid_t pid = spawn(argv, -1, lfd);
	close(lfd);
	for (int i = 0; i < n; i++) /* QEMU has its own copy since the exec */
		free(argv[i]);
	double returned = 0;
	int st = 0;
	while (!returned) {
		pid_t w = waitpid(pid, &st, daemonize ? 0 : WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == pid) {
			if (!daemonize || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				char msg[1024];
				file_last_line(qlog, msg, sizeof(msg));
				die("QEMU did not start: %s", *msg ? msg : "no reason given");
			}
			returned = now();
		} else if (!daemonize && proc_uid(pid) == (uid_t)uid) {
			returned = now();
		} else if (timeout_ms() == 0) {
			kill(pid, SIGKILL);
			die("QEMU did not set up the machine within the timeout");
		} else {
			struct timespec ts = { 0, 2 * 1000000 };
			nanosleep(&ts, NULL);
		}
	}

	struct conlog con = { .ino = -1 };
	conlog_follow(&con, log);
	conlog_scan(&con);
	while (!con.seen) {
		struct pollfd p = { .fd = con.ino, .events = POLLIN };
		int k = poll(&p, 1, timeout_ms());
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "domtime: timeout waiting for the prompt in %s\n", log);
			return 1;
		}
		conlog_scan(&con);
	}
	printf("%.6f %.6f\n", returned - t0, con.seen - t0);
	close(ls);
	unlink(sock);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv + 2);
	if (argc == 5 && strcmp(argv[1], "create") == 0)
		return cmd_create(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "floor") == 0)
		return cmd_floor(argv[2], argv[3], argv[4]);
	fputs("usage: domtime create XM CFG DOMDIR\n"
	      "       domtime floor ARGFILE CONSOLE_LOG LISTEN_SOCKET\n"
	      "       domtime run CMD [ARG...]\n", stderr);
	return 2;
}
