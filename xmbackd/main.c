/*
 * main.c — xmbackd: the backend daemon (the role Linux blkback and Xen's
 * hotplug scripts play). Options, pid file, the event loop (epoll) over XenStore
 * watches and the guests' QMP sockets, the slow timer that reconciles
 * every guest (reconcile.c), and the store's loss: xmbackd connects again
 * (50 ms growing to 1 s between tries, for ever), sets its watches again
 * and reconciles everything, acting on nothing meanwhile.
 */
#include "backd.h"
#include "claimidx.h"
#include "reconcile.h"
#include "daemon.h"
#include "dom.h"
#include "notify.h"
#include "qmp.h"
#include "vbd.h"
#include "vif.h"
#include "sock.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <getopt.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xmbackd [-f|--foreground] [-p|--pid-file FILE] [-l|--log FILE]\n"
		"               [-r|--reconcile MS] [-d|--dump-dir DIR] [-v]\n"
		"The xm backend daemon: watches running guests, cleans up after them and\n"
		"realises their block devices and vifs in QEMU (docs/vbd.md, docs/vif.md).\n"
		"\n"
		"  -f, --foreground   do not detach\n"
		"  -p, --pid-file F   pid file (default $XM_RUNDIR/xmbackd.pid; xm checks it)\n"
		"  -l, --log FILE     log to FILE (default: stderr; detached: syslog)\n"
		"  -r, --reconcile MS reconcile every guest with its QEMU every MS ms\n"
		"                     (default 5000, or $XMBACKD_RECONCILE_MS)\n"
		"  -d, --dump-dir DIR core dumps of on_crash = coredump-* go to DIR/NAME/\n"
		"                     (default $XMBACKD_DUMP_DIR, else " DUMP_DIR_DEFAULT ")\n"
		"  -v, --verbose      more detail\n"
		"  -h, --help         this text\n"
		"Environment: XENSTORED_PATH, XM_RUNDIR (default /run/xm), XMBACKD_RECONCILE_MS,\n"
		"XMBACKD_DUMP_DIR, XMBACKD_XM (the xm that rename-restart runs; default: on PATH).\n");
}

/* Domain 0's own entries, as xen-init-dom0 writes them in Xen. */
static void init_dom0(struct xs_handle *h)
{
	char *n = dom_readf(h, XBT_NULL, "/local/domain/0/name");
	if (!n) {
		xs_write(h, XBT_NULL, "/local/domain/0/name", "Domain-0", 8);
		xs_write(h, XBT_NULL, "/local/domain/0/domid", "0", 1);
	}
	free(n);
}

/* The watch connection is readable: its events (a device's: that device,
 * each once; a domain record's: that domain, once; anything else, as
 * releases or the roots: *rescan), and the replies to the watches vbd.c
 * sets and removes (an error is logged). 0, or -1 if the connection is gone. */
static int events(struct backd *b, bool *rescan)
{
	struct xsd_sockmsg h;
	const char *body, *v[2];
	int r;
	for (bool fill = true; (r = xsc_next(&b->xw, fill, &h, &body)) == 1; fill = false) {
		if (h.type == XS_WATCH_EVENT && wire_split(body, h.len, v, 2) == 2) {
			log_debug("event %s", v[0]);
			if (!vbd_note(b, v[0]) && !vif_note(b, v[0]) && !guests_note(b, v[0]))
				*rescan = true;
		} else if (h.type == XS_ERROR && strncmp(body, "EEXIST", h.len < 6 ? h.len : 6) != 0 &&
			   strncmp(body, "ENOENT", h.len < 6 ? h.len : 6) != 0) {
			/* (a watch set again, or removed twice: no matter) */
			log_warn("XenStore refused a watch change: %.*s", (int)h.len, body);
		}
	}
	return r;
}

struct opts {
	bool fg;
	const char *logfile, *pidfile;
	char pidbuf[1024];
	int level;
	int reconcile_ms;
	const char *dump_dir;
};

/* The options into o: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "reconcile", required_argument, NULL, 'r' },
		{ "dump-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "fp:l:r:d:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o->fg = true; break;
		case 'p': o->pidfile = optarg; break;
		case 'l': o->logfile = optarg; break;
		case 'v': o->level = LOG_DEBUG_; break;
		case 'r': o->reconcile_ms = atoi(optarg); break;
		case 'd': o->dump_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The run directory, the pid file's name, the log. 0, or -1 (said). */
static int prepare(struct opts *o, FILE **lf)
{
	if (mkdir_p(xm_rundir()) < 0) {
		fprintf(stderr, "xmbackd: cannot create %s: %s\n", xm_rundir(), strerror(errno));
		return -1;
	}
	if (!o->pidfile) {
		snprintf(o->pidbuf, sizeof(o->pidbuf), "%s/xmbackd.pid", xm_rundir());
		o->pidfile = o->pidbuf;
	}
	*lf = NULL;
	if (o->logfile && !(*lf = fopen(o->logfile, "a"))) {
		fprintf(stderr, "xmbackd: cannot open log %s: %s\n", o->logfile, strerror(errno));
		return -1;
	}
	log_open("xmbackd", *lf, o->level);
	return 0;
}

/* Both XenStore connections: requests (libxenstore) and watches. 0, or -1
 * (errno; both closed). */
static int connect_store(struct backd *b)
{
	b->xs = xs_open(XS_OPEN_SOCKETONLY);
	int wfd = b->xs ? unix_connect(xm_xs_socket()) : -1;
	if (wfd < 0 || xsc_init(&b->xw, wfd, NULL, 0) < 0) {
		int e = errno;
		if (wfd >= 0)
			close(wfd);
		if (b->xs)
			xs_close(b->xs);
		b->xs = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

static void disconnect_store(struct backd *b)
{
	if (b->xw_reg >= 0)
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, b->xw_reg, NULL);
	b->xw_reg = -1;
	xsc_close(&b->xr);
	xsc_close(&b->xw);
	if (b->xs)
		xs_close(b->xs);
	b->xs = NULL;
}

/* Detach unless told not to, then take the pid file. 0, or -1 (said). */
static int become_daemon(const struct opts *o, bool keep_stderr)
{
	long holder;

	if (!o->fg && daemonize(keep_stderr) < 0)
		return -1;
	if (!o->fg)
		log_to_syslog(); /* without --log: nobody reads our stderr now */
	if (pidfile_take(o->pidfile, &holder) < 0) {
		if (errno == EWOULDBLOCK && holder > 0)
			fprintf(stderr, "xmbackd: already running (pid %ld, %s)\n", holder,
				o->pidfile);
		else if (errno == EWOULDBLOCK)
			fprintf(stderr, "xmbackd: already running (%s is locked by a process "
				"that has not written its pid yet)\n", o->pidfile);
		else
			fprintf(stderr, "xmbackd: cannot write %s: %s\n", o->pidfile,
				strerror(errno));
		return -1;
	}
	return 0;
}

/* The watches that drive xmbackd; the scans that follow cover what they
 * fire now. 0, or -1 (logged). */
static int watch_all(struct backd *b)
{
	if (xsc_watch(&b->xw, XM_TOOL_ROOT "/domain", "domains") < 0 ||
	    xsc_watch(&b->xw, "@releaseDomain", "release") < 0 ||
	    xsc_watch(&b->xw, VBD_BACKEND_ROOT, "vbd") < 0 ||
	    xsc_watch(&b->xw, VIF_BACKEND_ROOT, "vif") < 0) {
		log_err("cannot watch XenStore: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Everything looked at again: the guests (those already watched, after a
 * store reconnect, reconciled; new ones as they are attached), then every
 * backend. Logs the time it took since t0. */
static void take_over(struct backd *b, long t0, const char *why)
{
	init_dom0(b->xs);
	b->npending = 0;
	b->pending_overflow = false;
	reconcile_all(b, true);
	guests_scan(b);
	vbd_scan(b);
	vif_scan(b);
	unsigned int n = 0;
	for (struct guest *g = b->guests; g; g = g->next)
		n += !g->gone;
	log_info("%s: %u guests reconciled in %ld ms", why, n, now_ms() - t0);
	b->next_tick = now_ms() + b->tick_ms;
}

/* The store went away: connect again, for ever (50 ms between tries,
 * doubling to 1 s), acting on nothing meanwhile; then watch and reconcile
 * everything. 0, or -1 when told to stop. */
static int store_reconnect(struct backd *b)
{
	long t0 = now_ms();
	int delay = 50;
	log_warn("lost the XenStore connection (%s); connecting again", strerror(errno));
	notify_status("XenStore lost: connecting again");
	for (;;) {
		disconnect_store(b);
		if (stop)
			return -1;
		if (connect_store(b) == 0 && watch_all(b) == 0)
			break;
		struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
	}
	b->cidx_ok = false; /* claims are read again from the store */
	guests_agent_reset(b);
	take_over(b, t0, "XenStore is back");
	notify_status("watching the guests of XenStore %s", xm_xs_socket());
	return 0;
}

/* The watch connection in the loop's epoll set (again after a reconnect),
 * writable wanted while xsc_send has requests queued. 0, or -1 (logged). */
static int watch_store_fd(struct backd *b)
{
	uint32_t want = EPOLLIN | (xsc_out_pending(&b->xw) ? EPOLLOUT : 0);
	if (b->xw_reg == b->xw.fd && b->xw_events == want)
		return 0;
	struct epoll_event ev = { .events = want, .data.ptr = &b->xw };
	int op = b->xw_reg == b->xw.fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(b->epfd, op, b->xw.fd, &ev) < 0) {
		log_err("epoll: %s", strerror(errno));
		return -1;
	}
	b->xw_reg = b->xw.fd;
	b->xw_events = want;
	return 0;
}

/* Until the next timer: the media retries', the slow tick's, and the look
 * at the guests' agents (every 200 ms while one is not connected, every
 * second else: VSERPORT_CHANGE comes only for a port with a qdev id,
 * which guests of an older xm lack). */
static int poll_timeout(struct backd *b)
{
	long now = now_ms(), t = b->next_tick;
	int mt = vbd_media_timeout(b);
	if (mt >= 0 && now + mt < t)
		t = now + mt;
	if (b->guests && b->next_agent < t)
		t = b->next_agent;
	return t <= now ? 0 : (int)(t - now);
}

/* The timers that are due. */
static void timers(struct backd *b)
{
	long now = now_ms();
	if (now >= b->next_agent) {
		b->next_agent = now + 200;
		/* connected agents every second, the others every time */
		guests_ping(b, ++b->agent_passes % 5 == 0, false);
		guests_connect(b);
		guests_expire(b);
	}
	if (now >= b->next_tick) {
		b->next_tick = now + b->tick_ms;
		guests_scan(b);
		vbd_sweep(b, SWEEP_PER_TICK);
		vif_scan(b);
		guests_sweep(b, SWEEP_PER_TICK); /* reconciled as each QEMU answers */
	}
}

/* One turn of the loop: wait for events, QMP or a timer, and act on them.
 * The wait is epoll's: its cost does not grow with the guests (poll() went
 * over every guest's monitor at each turn, and an attach takes a dozen
 * turns). 0, or -1 when xmbackd has to stop (logged). */
static int turn(struct backd *b)
{
	struct epoll_event ev[64];
	if (watch_store_fd(b) < 0)
		return -1;
	int n = epoll_wait(b->epfd, ev, 64, poll_timeout(b));
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		log_err("epoll_wait: %s", strerror(errno));
		return -1;
	}
	bool rescan = false;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr != &b->xw)
			continue;
		if ((ev[i].events & EPOLLOUT) && xsc_flush(&b->xw) < 0)
			return store_reconnect(b);
		if ((ev[i].events & ~EPOLLOUT) && events(b, &rescan) < 0)
			return store_reconnect(b);
	}
	/* (guests are freed only at the end of the turn: guests_reap) */
	for (int i = 0; i < n; i++) {
		struct guest *g = ev[i].data.ptr;
		if (g != (void *)&b->xw && !g->gone && g->q)
			guests_qmp_ready(b, g);
	}
	vbd_connect_flush(b); /* the attaches QEMU answered, together */
	if (rescan) {
		b->npending = 0; /* the scan covers them */
		b->pending_overflow = false;
		guests_scan(b);
		vbd_scan(b);
		vif_scan(b);
	} else {
		guests_flush(b);
		vbd_flush(b);
		vif_flush(b);
	}
	guests_events(b);
	vbd_connect_flush(b);
	vbd_media_retry(b);
	timers(b);
	guests_recheck(b);
	guests_reap(b);
	return 0;
}

static int tick_ms(const struct opts *o)
{
	const char *e = getenv("XMBACKD_RECONCILE_MS");
	int ms = o->reconcile_ms > 0 ? o->reconcile_ms : e && atoi(e) > 0 ? atoi(e) : 5000;
	return ms < 100 ? 100 : ms;
}

int main(int argc, char **argv)
{
	struct opts o = { .level = LOG_INFO_ };
	struct backd b = { .xs = NULL, .xw_reg = -1 };
	FILE *lf;
	long t0 = now_ms();

	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (prepare(&o, &lf) < 0)
		return 1;
	b.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b.epfd < 0) {
		fprintf(stderr, "xmbackd: epoll: %s\n", strerror(errno));
		return 1;
	}
	if (connect_store(&b) < 0) {
		fprintf(stderr, "xmbackd: cannot connect to xmstored at %s: %s\n", xm_xs_socket(),
			strerror(errno));
		return 1;
	}
	if (become_daemon(&o, lf == NULL) < 0) {
		disconnect_store(&b);
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	b.tick_ms = tick_ms(&o);
	const char *dd = getenv("XMBACKD_DUMP_DIR");
	b.dump_dir = o.dump_dir ? o.dump_dir : dd && *dd ? dd : DUMP_DIR_DEFAULT;
	if (watch_all(&b) < 0) {
		disconnect_store(&b);
		unlink(o.pidfile);
		return 1;
	}
	/* a QMP connection per guest: a thousand guests pass the usual 1024 */
	long nofile = raise_nofile();
	log_info("started; XenStore %s, run dir %s, reconciling every %d ms, %ld descriptors",
		 xm_xs_socket(), xm_rundir(), b.tick_ms, nofile);
	take_over(&b, t0, "started");
	notify_ready("watching the guests of XenStore %s", xm_xs_socket());
	rc = 0;
	while (!stop && rc == 0)
		rc = turn(&b) < 0 ? 1 : 0;
	notify_stopping();
	log_info("stopping (guests keep running; a new xmbackd takes them over)");
	guests_free(&b);
	claimidx_free(b.cidx);
	disconnect_store(&b);
	close(b.epfd);
	unlink(o.pidfile);
	if (lf)
		fclose(lf);
	return stop ? 0 : rc;
}
