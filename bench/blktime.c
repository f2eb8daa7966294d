/*
 * blktime — timing helper for bench/block.sh (xm block-attach/-detach against
 * raw QMP hot-plug in the same guest). Prints seconds from its own start
 * (CLOCK_MONOTONIC, µs resolution); asserts nothing. Like bench/domtime it
 * waits on events and never polls: XenStore changes through libxenstore
 * watches, console output through inotify on the console log QEMU writes,
 * QMP replies and events on the monitor socket.
 *
 *   blktime attach DOM DEVID CONSOLE_LOG CMD [ARG...]
 *       Runs CMD (xm block-attach ...). Prints "xm be1 be4 fe4 kmsg": when
 *       CMD exited, when the backend state of DOM/DEVID was first seen at 1
 *       (xm's transaction committed) and at 4 (xmbackd done), when the
 *       frontend state was first seen at 4 (the guest agent done), and when
 *       the guest kernel's virtio-blk capacity line reached CONSOLE_LOG.
 *       (No uevent monitor runs in the guest then: nothing but the guest's
 *       own agent and mdev react to the disk.)
 *   blktime attach-exit CONSOLE_LOG CMD [ARG...]
 *       The same without a XenStore client: prints "xm kmsg", when CMD
 *       exited and when the kernel line reached CONSOLE_LOG. The console
 *       is followed as the floor's is; the watches and their reads, which
 *       the floor has no match for, cost the CPUs xm's path runs on (a
 *       reader thread's wake-up and a round trip per state change):
 *       block.sh times its counted attaches so, and the breakdown apart.
 *   blktime detach DOM DEVID CMD [ARG...]
 *       Runs CMD (xm block-detach ...). Prints "xm be5 fe6 be6".
 *   blktime run CMD [ARG...]
 *       Runs CMD and prints when it exited, nothing else: xm's makespan
 *       without the watches and the console reading of attach/detach,
 *       whose own CPU, with 8 guests at once on 2 cores, would be charged
 *       to xm (bench/parallel.sh; the floor needs its console line).
 *   blktime floor-attach QMP_SOCKET IMAGE BUS CONSOLE_LOG
 *       blockdev-add (node bench-blk, raw over file IMAGE) and device_add
 *       (virtio-blk-pci bench-dev on BUS). Prints "blockdev_add device_add
 *       kmsg uevent": when each returned, when the kernel line reached the
 *       log and when the guest's uevent monitor (xmfront --uevents, started
 *       by block.sh) printed the disk's "add" there.
 *   blktime floor-detach QMP_SOCKET
 *       device_del bench-dev, DEVICE_DELETED for it, blockdev-del bench-blk.
 *       Prints "device_del deleted blockdev_del".
 *   blktime floor-multi-attach QMP_SOCKET CONSOLE_LOG BUS:IMAGE...
 *       Up to 8 disks to one guest at once (bench/multidisk.sh): every
 *       blockdev-add and device_add sent back to back, then every disk's
 *       "add" uevent awaited. Prints "qmp uevents" (the last of each).
 *   blktime floor-multi-detach QMP_SOCKET N
 *       Every device_del at once, every DEVICE_DELETED, every blockdev-del
 *       at once. Prints "deleted blockdev_del".
 *
 * "Seen at least N": a state read after a watch event counts for every
 * step it has reached, so a slow wakeup cannot lose a step (it only dates
 * it late); in a detach a removed node counts as 6 (xm removes them only
 * after backend 6). The kernel line is virtblk_update_capacity()'s
 * "[vdX] N 512-byte logical blocks" (KERN_NOTICE: block.sh lowers the
 * guest's console level to show it), printed by the guest's virtio-blk
 * probe just before the disk is registered (see bench/README.md).
 *
 * Each run gives up after BLKTIME_TIMEOUT seconds (default 30) and exits 1.
 */
#include "qmp.h"
#include "spawn.h"

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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define KMSG "-byte logical blocks"
#define UEVENT "xmfront-uevent add vd"
#define BLK_NODE "bench-blk"
#define BLK_FDSET 77
#define BLK_FDSET_FILE "/dev/fdset/77"
#define BLK_DEV "bench-dev"
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
	fprintf(stderr, "blktime: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int timeout_ms(void)
{
	const char *e = getenv("BLKTIME_TIMEOUT");
	double s = e && *e ? atof(e) : 30.0;
	double left = t0 + s - now();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* --- the console log: only what is appended after kmsg_follow() counts --- */

/* The two lines looked for: the kernel's, and the guest's uevent monitor's. */
enum { M_KMSG, M_UEVENT, NMARKS };
static const char *const marks[NMARKS] = { KMSG, UEVENT };
#define MARK_MAX (sizeof(UEVENT) > sizeof(KMSG) ? sizeof(UEVENT) : sizeof(KMSG))

struct kmsg {
	char path[PATH_MAX];
	int ino;
	off_t off;
	char tail[MARK_MAX]; /* end of the previous chunk (a split line) */
	double seen[NMARKS];
};

static void kmsg_follow(struct kmsg *k, const char *path)
{
	struct stat st;
	snprintf(k->path, sizeof(k->path), "%s", path);
	k->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (k->ino < 0 || inotify_add_watch(k->ino, k->path, IN_MODIFY) < 0)
		die("inotify on %s failed: %s", k->path, strerror(errno));
	k->off = stat(k->path, &st) == 0 ? st.st_size : 0;
	k->tail[0] = '\0';
	for (int m = 0; m < NMARKS; m++)
		k->seen[m] = 0;
}

static bool kmsg_all(const struct kmsg *k)
{
	for (int m = 0; m < NMARKS; m++)
		if (!k->seen[m])
			return false;
	return true;
}

static void kmsg_scan(struct kmsg *k)
{
	char ev[4096];
	while (read(k->ino, ev, sizeof(ev)) > 0)
		;
	int fd = open(k->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[8192 + MARK_MAX];
	ssize_t r;
	while (!kmsg_all(k)) {
		size_t keep = strlen(k->tail);
		memcpy(buf, k->tail, keep);
		r = pread(fd, buf + keep, sizeof(buf) - 1 - keep, k->off);
		if (r <= 0)
			break;
		k->off += r;
		size_t n = keep + (size_t)r;
		buf[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		double t = now();
		for (int m = 0; m < NMARKS; m++)
			if (!k->seen[m] && strstr(buf, marks[m]))
				k->seen[m] = t;
		keep = n < MARK_MAX - 1 ? n : MARK_MAX - 1;
		memmove(k->tail, buf + n - keep, keep);
		k->tail[keep] = '\0';
	}
	close(fd);
}

/* Wait for both lines (after the QMP part of a floor attach). */
static void kmsg_wait(struct kmsg *k)
{
	kmsg_scan(k);
	while (!kmsg_all(k)) {
		struct pollfd p = { .fd = k->ino, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms());
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("timeout waiting for \"%s\" in %s (console level not raised? "
			    "no uevent monitor in the guest?)",
			    marks[k->seen[M_KMSG] ? M_UEVENT : M_KMSG], k->path);
		kmsg_scan(k);
	}
}

/* --- xm under XenStore watches -------------------------------------------- */

/* Start argv with stdout on out_fd (its EOF tells the parent it exited). */
static pid_t spawn(char **argv, int out_fd)
{
	pid_t pid = bench_spawn(argv, out_fd, -1);
	if (pid < 0)
		die("cannot run %s: %s", argv[0], strerror(errno));
	return pid;
}

static int read_state(struct xs_handle *h, const char *path)
{
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, path, &len);
	int s = v && *v ? atoi(v) : -1;
	free(v);
	return s;
}

#define NSTATES 9

/* First time each state (or a later one) was seen; 0 = not yet. */
static void note(double *seen, int state)
{
	for (int s = 0; s <= state && s < NSTATES; s++)
		if (!seen[s])
			seen[s] = now();
}

static int cmd_xm(bool attach, const char *dom, const char *devid, const char *log, char **argv)
{
	/* (dom NULL: attach-exit, no XenStore client) */
	struct xs_handle *h = dom ? xs_open(0) : NULL;
	if (dom && !h)
		die("cannot connect to XenStore: %s", strerror(errno));
	char be[160] = "", fe[160] = "";
	double bes[NSTATES] = { 0 }, fes[NSTATES] = { 0 };
	int be0 = -1, fe0 = -1;
	if (h) {
		snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%s/%s/state", dom, devid);
		snprintf(fe, sizeof(fe), "/local/domain/%s/device/vbd/%s/state", dom, devid);
		if (!xs_watch(h, be, "be") || !xs_watch(h, fe, "fe"))
			die("xs_watch: %s", strerror(errno));
		/* A new watch fires once at once: take both of those before
		 * the clock starts. */
		for (int i = 0; i < 2; i++) {
			unsigned int n;
			free(xs_read_watch(h, &n));
		}
		be0 = read_state(h, be);
		fe0 = read_state(h, fe);
	}
	struct kmsg k = { .ino = -1 };
	if (log)
		kmsg_follow(&k, log);

	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	t0 = now();
	pid_t pid = spawn(argv, out[1]);
	close(out[1]);
	double exited = 0;
	int st = 0;
	for (;;) {
		bool done = !h ? exited && (!log || k.seen[M_KMSG])
			    : attach ? exited && bes[4] && fes[4] && (!log || k.seen[M_KMSG])
				     : exited && bes[6] && fes[6];
		if (exited && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			die("%s failed (status %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		if (done)
			break;
		struct pollfd p[3] = {
			{ .fd = h ? xs_fileno(h) : -1, .events = POLLIN },
			{ .fd = log ? k.ino : -1, .events = POLLIN },
			{ .fd = exited ? -1 : out[0], .events = POLLIN },
		};
		int r = poll(p, 3, timeout_ms());
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "blktime: timeout (xm %s; backend %d->%d, frontend %d->%d, kmsg %s)\n",
				exited ? "exited" : "running", be0, h ? read_state(h, be) : -1, fe0,
				h ? read_state(h, fe) : -1, k.seen[M_KMSG] ? "seen" : "not seen");
			if (!exited)
				kill(pid, SIGTERM);
			return 1;
		}
		if (p[0].revents & POLLIN) {
			unsigned int n;
			char **ev = xs_read_watch(h, &n);
			bool isbe = ev && strcmp(ev[XS_WATCH_TOKEN], "be") == 0;
			free(ev);
			int s = read_state(h, isbe ? be : fe);
			/* Detach: xm removes both directories as soon as it sees
			 * backend 6, so a late reader may find them gone; gone
			 * means both ends went through 6 (a refused detach
			 * removes nothing), dated by this (the first) event. */
			if (!attach && s < 0)
				s = 6;
			/* attach counts from Initialising, detach from Closing:
			 * the state the device already had does not count */
			if (s >= 0 && (isbe ? s != be0 : s != fe0))
				note(isbe ? bes : fes, s);
		}
		if (log && (p[1].revents & POLLIN))
			kmsg_scan(&k);
		if (p[2].revents) {
			/* xm's output is passed on to stderr; EOF: it exited (it
			 * starts nothing that could inherit the pipe) */
			char buf[1024];
			ssize_t n = read(out[0], buf, sizeof(buf));
			if (n > 0) {
				fwrite(buf, 1, (size_t)n, stderr);
				continue;
			}
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			exited = now();
			close(out[0]);
		}
	}
	if (!h)
		printf("%.6f %.6f\n", exited - t0, k.seen[M_KMSG] - t0);
	else if (attach)
		printf("%.6f %.6f %.6f %.6f %.6f\n", exited - t0, bes[1] - t0, bes[4] - t0,
		       fes[4] - t0, k.seen[M_KMSG] - t0);
	else
		printf("%.6f %.6f %.6f %.6f\n", exited - t0, bes[5] - t0, fes[6] - t0, bes[6] - t0);
	if (h)
		xs_close(h);
	return 0;
}

/* CMD alone: when it exited (it must succeed). */
static int cmd_run(char **argv)
{
	int st = 0;
	t0 = now();
	pid_t pid = spawn(argv, -1);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	double exited = now();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s failed (status %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf("%.6f\n", exited - t0);
	return 0;
}

/* --- the floor: raw QMP ---------------------------------------------------- */

static struct qmp *connect_qmp(const char *sock)
{
	char *err = NULL;
	struct qmp *q = qmp_connect(sock, 5000, &err);
	if (!q)
		die("QMP %s: %s", sock, err ? err : "?");
	return q;
}

static void exec_or_die(struct qmp *q, const char *cmd, json_t *args)
{
	char *err = NULL;
	if (qmp_exec(q, cmd, args, NULL, &err, QMP_MS))
		die("%s: %s", cmd, err ? err : "?");
}

static int cmd_floor_attach(const char *sock, const char *img, const char *bus, const char *log)
{
	struct qmp *q = connect_qmp(sock);
	struct kmsg k = { .ino = -1 };
	kmsg_follow(&k, log);
	/* the guest's QEMU opens no file (it is deprivileged): the image goes
	 * in as a descriptor, as xmbackd gives it, before the clock starts, so
	 * the floor is the same blockdev-add + device_add as ever */
	int fd = open(img, O_RDWR | O_CLOEXEC);
	char *err = NULL;
	if (fd < 0)
		die("%s: %s", img, strerror(errno));
	if (qmp_wait_reply(q, qmp_send_fd(q, "add-fd", json_pack("{s:i, s:s}", "fdset-id",
								 BLK_FDSET, "opaque", "bench-floor"),
					  fd), NULL, &err, QMP_MS))
		die("add-fd: %s", err ? err : "?");
	close(fd);
	t0 = now();
	exec_or_die(q, "blockdev-add",
		    json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "node-name", BLK_NODE, "driver", "raw",
			      "read-only", 0, "file", "driver", "file", "filename", BLK_FDSET_FILE));
	double added = now();
	exec_or_die(q, "device_add",
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver", "virtio-blk-pci", "id", BLK_DEV,
			      "bus", bus, "drive", BLK_NODE, "serial", "bench-floor"));
	double plugged = now();
	kmsg_wait(&k);
	printf("%.6f %.6f %.6f %.6f\n", added - t0, plugged - t0, k.seen[M_KMSG] - t0,
	       k.seen[M_UEVENT] - t0);
	qmp_close(q);
	return 0;
}

static int cmd_floor_detach(const char *sock)
{
	struct qmp *q = connect_qmp(sock);
	t0 = now();
	exec_or_die(q, "device_del", json_pack("{s:s}", "id", BLK_DEV));
	double asked = now();
	/* DEVICE_DELETED comes twice; only the one for the device's id means
	 * the guest let go and the node is free (docs: DESIGN.md). */
	if (qmp_wait_event(q, "DEVICE_DELETED", BLK_DEV, NULL, timeout_ms()) < 0)
		die("no DEVICE_DELETED for %s", BLK_DEV);
	double deleted = now();
	exec_or_die(q, "blockdev-del", json_pack("{s:s}", "node-name", BLK_NODE));
	printf("%.6f %.6f %.6f\n", asked - t0, deleted - t0, now() - t0);
	exec_or_die(q, "remove-fd", json_pack("{s:i}", "fdset-id", BLK_FDSET));
	qmp_close(q);
	return 0;
}

/* --- N disks to one guest at once (bench/multidisk.sh) --------------------- */

#define MULTI_MAX 8

/* Occurrences of the uevent monitor's "add" line appended to the console
 * log since kmsg_follow(k); waits until there are n. */
static void uevents_wait(struct kmsg *k, int n)
{
	int seen = 0;
	int fd = open(k->path, O_RDONLY | O_CLOEXEC);
	char buf[8192 + MARK_MAX];
	size_t keep = 0;
	if (fd < 0)
		die("%s: %s", k->path, strerror(errno));
	for (;;) {
		char ev[4096];
		ssize_t r;
		while (read(k->ino, ev, sizeof(ev)) > 0)
			;
		while ((r = pread(fd, buf + keep, sizeof(buf) - 1 - keep, k->off)) > 0) {
			k->off += r;
			size_t len = keep + (size_t)r;
			buf[len] = '\0';
			for (size_t i = 0; i < len; i++)
				if (!buf[i])
					buf[i] = ' ';
			for (char *p = buf; (p = strstr(p, UEVENT)); p += sizeof(UEVENT) - 1)
				seen++;
			/* keep an unfinished mark for the next chunk (not a whole one:
			 * it is counted) */
			keep = len < sizeof(UEVENT) - 2 ? len : sizeof(UEVENT) - 2;
			memmove(buf, buf + len - keep, keep);
		}
		if (seen >= n)
			break;
		struct pollfd p = { .fd = k->ino, .events = POLLIN };
		int pr = poll(&p, 1, timeout_ms());
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			die("timeout: %d of %d disks' uevents in %s", seen, n, k->path);
	}
	close(fd);
}

/* Replies to ids[0..n) awaited, in any order (QEMU answers in order). */
static void replies_wait(struct qmp *q, const long *ids, int n, const char *what)
{
	for (int i = 0; i < n; i++) {
		char *err = NULL;
		if (ids[i] < 0 || qmp_wait_reply(q, ids[i], NULL, &err, QMP_MS))
			die("%s %d: %s", what, i, err ? err : "cannot send");
	}
}

/* blktime floor-multi-attach QMP_SOCKET CONSOLE_LOG BUS:IMAGE...: every
 * disk's blockdev-add and device_add sent at once (after its descriptor,
 * as xmbackd passes it, before the clock starts), then every disk's
 * "add" uevent awaited. Prints "qmp uevents": the last reply, the last
 * uevent. */
static int cmd_floor_multi_attach(const char *sock, const char *log, int n, char **disks)
{
	struct qmp *q = connect_qmp(sock);
	struct kmsg k = { .ino = -1 };
	long ids[2 * MULTI_MAX];
	kmsg_follow(&k, log);
	for (int i = 0; i < n; i++) {
		const char *img = strchr(disks[i], ':');
		int fd = img ? open(img + 1, O_RDWR | O_CLOEXEC) : -1;
		char *err = NULL, opaque[32];
		if (fd < 0)
			die("%s: not BUS:IMAGE, or %s", disks[i], strerror(errno));
		snprintf(opaque, sizeof(opaque), "bench-floor-%d", i);
		if (qmp_wait_reply(q, qmp_send_fd(q, "add-fd", json_pack("{s:i, s:s}", "fdset-id",
									 BLK_FDSET + i, "opaque",
									 opaque), fd),
				   NULL, &err, QMP_MS))
			die("add-fd: %s", err ? err : "?");
		close(fd);
	}
	t0 = now();
	for (int i = 0; i < n; i++) {
		char node[32], dev[32], file[32], bus[32];
		snprintf(node, sizeof(node), BLK_NODE "-%d", i);
		snprintf(dev, sizeof(dev), BLK_DEV "-%d", i);
		snprintf(file, sizeof(file), "/dev/fdset/%d", BLK_FDSET + i);
		snprintf(bus, sizeof(bus), "%.*s", (int)strcspn(disks[i], ":"), disks[i]);
		ids[2 * i] = qmp_send(q, "blockdev-add",
				      json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "node-name", node,
						"driver", "raw", "read-only", 0, "file", "driver",
						"file", "filename", file));
		ids[2 * i + 1] = qmp_send(q, "device_add",
					  json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver",
						    "virtio-blk-pci", "id", dev, "bus", bus,
						    "drive", node, "serial", dev));
	}
	replies_wait(q, ids, 2 * n, "blockdev-add/device_add");
	double answered = now();
	uevents_wait(&k, n);
	printf("%.6f %.6f\n", answered - t0, now() - t0);
	qmp_close(q);
	return 0;
}

/* Is m the DEVICE_DELETED of a floor device not yet gone? Then it is
 * marked and *left counts it. */
static void note_deleted(json_t *m, int n, bool *gone, int *left)
{
	for (int i = 0; i < n; i++) {
		char dev[32];
		snprintf(dev, sizeof(dev), BLK_DEV "-%d", i);
		if (!gone[i] && qmp_is_event(m, "DEVICE_DELETED", dev)) {
			gone[i] = true;
			(*left)--;
		}
	}
	json_decref(m);
}

/* blktime floor-multi-detach QMP_SOCKET N: every device_del at once, every
 * DEVICE_DELETED awaited, then every blockdev-del at once. Prints
 * "deleted blockdev_del". */
static int cmd_floor_multi_detach(const char *sock, int n)
{
	struct qmp *q = connect_qmp(sock);
	long ids[MULTI_MAX];
	bool gone[MULTI_MAX] = { false };
	int left = n;
	t0 = now();
	for (int i = 0; i < n; i++) {
		char dev[32];
		snprintf(dev, sizeof(dev), BLK_DEV "-%d", i);
		ids[i] = qmp_send(q, "device_del", json_pack("{s:s}", "id", dev));
	}
	replies_wait(q, ids, n, "device_del");
	while (left > 0) {
		json_t *m;
		while (left > 0 && (m = qmp_pop_event(q)))
			note_deleted(m, n, gone, &left);
		if (left == 0)
			break;
		struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };
		int pr = poll(&p, 1, timeout_ms());
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0 || qmp_read(q) < 0)
			die("%d of %d devices not deleted", left, n);
		while ((m = qmp_next(q))) /* events only now */
			note_deleted(m, n, gone, &left);
	}
	double deleted = now();
	for (int i = 0; i < n; i++) {
		char node[32];
		snprintf(node, sizeof(node), BLK_NODE "-%d", i);
		ids[i] = qmp_send(q, "blockdev-del", json_pack("{s:s}", "node-name", node));
	}
	replies_wait(q, ids, n, "blockdev-del");
	printf("%.6f %.6f\n", deleted - t0, now() - t0);
	for (int i = 0; i < n; i++)
		exec_or_die(q, "remove-fd", json_pack("{s:i}", "fdset-id", BLK_FDSET + i));
	qmp_close(q);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 6 && strcmp(argv[1], "attach") == 0)
		return cmd_xm(true, argv[2], argv[3], argv[4], argv + 5);
	if (argc >= 4 && strcmp(argv[1], "attach-exit") == 0)
		return cmd_xm(true, NULL, NULL, argv[2], argv + 3);
	if (argc >= 5 && strcmp(argv[1], "detach") == 0)
		return cmd_xm(false, argv[2], argv[3], NULL, argv + 4);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv + 2);
	if (argc == 6 && strcmp(argv[1], "floor-attach") == 0)
		return cmd_floor_attach(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 3 && strcmp(argv[1], "floor-detach") == 0)
		return cmd_floor_detach(argv[2]);
	if (argc >= 5 && argc - 4 <= MULTI_MAX && strcmp(argv[1], "floor-multi-attach") == 0)
		return cmd_floor_multi_attach(argv[2], argv[3], argc - 4, argv + 4);
	if (argc == 4 && atoi(argv[3]) > 0 && atoi(argv[3]) <= MULTI_MAX &&
	    strcmp(argv[1], "floor-multi-detach") == 0)
		return cmd_floor_multi_detach(argv[2], atoi(argv[3]));
	fputs("usage: blktime attach DOM DEVID CONSOLE_LOG CMD [ARG...]\n"
	      "       blktime attach-exit CONSOLE_LOG CMD [ARG...]\n"
	      "       blktime detach DOM DEVID CMD [ARG...]\n"
	      "       blktime run CMD [ARG...]\n"
	      "       blktime floor-attach QMP_SOCKET IMAGE BUS CONSOLE_LOG\n"
	      "       blktime floor-detach QMP_SOCKET\n"
	      "       blktime floor-multi-attach QMP_SOCKET CONSOLE_LOG BUS:IMAGE... (up to 8)\n"
	      "       blktime floor-multi-detach QMP_SOCKET N\n", stderr);
	return 2;
}
