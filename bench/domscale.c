/*
 * domscale — the XenStore side of many domains (issue 14): introduced
 * domains with their channels, VBDS virtual disks each whose frontends are
 * simulated on the domains' own channels (the wire protocol, as a guest's
 * agent speaks it), and dom0's view timed at each size.
 *
 *   domscale SOCKET CHANNEL_DIR SIZES VBDS SAMPLES
 *
 * SIZES is a comma list (10,100,1000): the domains grow to each size in turn
 * (INTRODUCE, a home owned by the domain, VBDS backends under
 * /local/domain/0/backend/vbd/D/DEVID readable by D; a forked frontend
 * process connects to each new domain's channel, writes its
 * device/vbd/DEVID nodes and watches its backends' state, answering 4 with
 * 4 and 5 with 6, as blkfront does). At each size, SAMPLES times on random
 * domains:
 *   read       dom0 READ of a backend node
 *   handshake  dom0 writes a backend's state 4 and waits for the frontend's
 *              4 (a watch on it), then 5 and waits for 6: both round trips
 *              through the domain's channel
 *   introduce  INTRODUCE + RELEASE of one more domain
 * and the daemon's RSS (PID from the environment: XS_PID). Prints one line
 * per size and metric: "SIZE METRIC p50_us p90_us", and "SIZE rss KB".
 */
#include <xenstore.h>

#include "sock.h"
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEVID(k) (51712 + 16 * (k))

static const char *chan_dir;
static int vbds;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "domscale: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- the frontends (a child process) ------------------------------------- */

struct front {
	int fd;
	unsigned int domid;
	struct wire_in in;
};

static void send_req(struct front *f, uint32_t type, uint32_t req, const char *const *v, int n)
{
	char buf[512];
	size_t len = wire_pack(buf, sizeof(buf), v, n, type == XS_WATCH || type == XS_READ);
	if (wire_send(f->fd, type, req, 0, buf, len) < 0)
		die("frontend send");
}

static void front_write(struct front *f, unsigned int k, const char *leaf, const char *val)
{
	char path[128];
	snprintf(path, sizeof(path), "device/vbd/%u/%s", DEVID(k), leaf);
	const char *v[2] = { path, val };
	send_req(f, XS_WRITE, 0, v, 2);
}

static void front_start(struct front *f)
{
	char path[128], tok[16];
	for (int k = 0; k < vbds; k++) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u/%u", f->domid, DEVID(k));
		front_write(f, (unsigned int)k, "backend", path);
		front_write(f, (unsigned int)k, "backend-id", "0");
		front_write(f, (unsigned int)k, "virtual-device", "51712");
		front_write(f, (unsigned int)k, "state", "1");
		snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u/%u/state", f->domid, DEVID(k));
		snprintf(tok, sizeof(tok), "%d", k);
		const char *w[2] = { path, tok };
		send_req(f, XS_WATCH, 0, w, 2);
	}
}

/* A message from the daemon: a watch event asks for the backend's state
 * (READ, req_id = 1 + vbd), whose reply says what to answer. */
static void front_message(struct front *f, const struct xsd_sockmsg *h, const char *body)
{
	if (h->type == XS_WATCH_EVENT) {
		const char *v[2];
		if (wire_split(body, h->len, v, 2) != 2)
			return;
		const char *r[1] = { v[0] };
		send_req(f, XS_READ, 1 + (uint32_t)atoi(v[1]), r, 1);
	} else if (h->type == XS_READ && h->req_id > 0) {
		unsigned int k = h->req_id - 1;
		if (h->len == 1 && body[0] == '4')
			front_write(f, k, "state", "4");
		else if (h->len == 1 && body[0] == '5')
			front_write(f, k, "state", "6");
	}
}

static void run_fronts(unsigned int first, unsigned int last)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned int n = last - first + 1;
	struct front *fs = calloc(n, sizeof(*fs));
	if (ep < 0 || !fs)
		die("frontends");
	for (unsigned int i = 0; i < n; i++) {
		char p[4200];
		fs[i].domid = first + i;
		snprintf(p, sizeof(p), "%s/domain-%u.sock", chan_dir, fs[i].domid);
		if ((fs[i].fd = unix_connect(p)) < 0)
			die(p);
		front_start(&fs[i]);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &fs[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, fs[i].fd, &ev);
	}
	for (;;) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < k; i++) {
			struct front *f = evs[i].data.ptr;
			enum wire_status st = wire_in_fill(&f->in, f->fd);
			if (st == WIRE_EOF || st == WIRE_ERR)
				exit(0);
			struct xsd_sockmsg h;
			const char *body;
			while (wire_in_next(&f->in, &h, &body) == WIRE_OK)
				front_message(f, &h, body);
		}
	}
}

/* ---- dom0's side ----------------------------------------------------------- */

static struct xs_handle *h0;

static void must(bool ok, const char *what)
{
	if (!ok)
		die(what);
}

static void add_domain(unsigned int d)
{
	char p[128], perm[48];
	must(xs_introduce_domain(h0, d, 0x1000 + d, 10 + d), "INTRODUCE");
	snprintf(p, sizeof(p), "/local/domain/%u", d);
	struct xs_permissions home = { .id = d, .perms = XS_PERM_NONE };
	must(xs_mkdir(h0, XBT_NULL, p) && xs_set_permissions(h0, XBT_NULL, p, &home, 1), "home");
	struct xs_permissions be[2] = { { 0, XS_PERM_NONE }, { d, XS_PERM_READ } };
	for (int k = 0; k < vbds; k++) {
		snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u", d, DEVID(k));
		must(xs_mkdir(h0, XBT_NULL, p) && xs_set_permissions(h0, XBT_NULL, p, be, 2), "backend");
		snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", d, DEVID(k));
		must(xs_write(h0, XBT_NULL, p, "1", 1), "backend state");
		snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/params", d, DEVID(k));
		snprintf(perm, sizeof(perm), "/img/%u-%d", d, k);
		must(xs_write(h0, XBT_NULL, p, perm, (unsigned int)strlen(perm)), "params");
	}
}

/* Wait until the frontend node path reads want (its watch fired). */
static bool wait_front(const char *path, const char *want)
{
	for (;;) {
		unsigned int len = 0;
		char *v = xs_read(h0, XBT_NULL, path, &len);
		bool ok = v && strcmp(v, want) == 0;
		free(v);
		if (ok)
			return true;
		struct pollfd p = { .fd = xs_fileno(h0), .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			return false;
		unsigned int n;
		char **ev = xs_read_watch(h0, &n);
		free(ev);
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(unsigned int size, const char *metric, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	int i90 = (9 * n + 9) / 10 - 1;
	printf("%u %s %.1f %.1f\n", size, metric, v[n / 2], v[i90 < 0 ? 0 : i90]);
	fflush(stdout);
}

static void measure(unsigned int size, int samples)
{
	double *v = calloc((size_t)samples, sizeof(*v));
	char p[128], f[128];
	if (!v)
		die("calloc");
	for (int i = 0; i < samples; i++) {
		unsigned int d = 1 + (unsigned int)(rand() % (int)size);
		snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/params", d, DEVID(rand() % vbds));
		unsigned int len;
		double a = now_us();
		char *x = xs_read(h0, XBT_NULL, p, &len);
		v[i] = now_us() - a;
		must(x != NULL, "read");
		free(x);
	}
	report(size, "read", v, samples);
	for (int i = 0; i < samples; i++) {
		unsigned int d = 1 + (unsigned int)(rand() % (int)size);
		int k = rand() % vbds;
		snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", d, DEVID(k));
		snprintf(f, sizeof(f), "/local/domain/%u/device/vbd/%u/state", d, DEVID(k));
		must(xs_watch(h0, f, "hs"), "watch");
		double a = now_us();
		must(xs_write(h0, XBT_NULL, p, "4", 1) && wait_front(f, "4"), "handshake 4");
		must(xs_write(h0, XBT_NULL, p, "5", 1) && wait_front(f, "6"), "handshake 6");
		v[i] = now_us() - a;
		xs_unwatch(h0, f, "hs");
		xs_write(h0, XBT_NULL, p, "1", 1);
	}
	report(size, "handshake", v, samples);
	for (int i = 0; i < samples; i++) {
		unsigned int d = 30000 + (unsigned int)i;
		double a = now_us();
		must(xs_introduce_domain(h0, d, 0x1000, 10) && xs_release_domain(h0, d), "introduce");
		v[i] = now_us() - a;
	}
	report(size, "introduce", v, samples);
	const char *pid = getenv("XS_PID");
	if (pid) {
		char path[64], line[256];
		snprintf(path, sizeof(path), "/proc/%s/status", pid);
		FILE *s = fopen(path, "r");
		while (s && fgets(line, sizeof(line), s))
			if (strncmp(line, "VmRSS:", 6) == 0)
				printf("%u rss %ld\n", size, strtol(line + 6, NULL, 10));
		if (s)
			fclose(s);
	}
	free(v);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: domscale SOCKET CHANNEL_DIR SIZES VBDS SAMPLES\n");
		return 2;
	}
	chan_dir = argv[2];
	vbds = atoi(argv[4]);
	int samples = atoi(argv[5]);
	if (vbds < 1 || vbds > 64 || samples < 1)
		return 2;
	setenv("XENSTORED_PATH", argv[1], 1);
	if (!(h0 = xs_open(0)))
		die("connect");
	srand(1);
	pid_t kids[16];
	int nkids = 0;
	unsigned int have = 0;
	char *sizes = strdup(argv[3]);
	for (char *t = strtok(sizes, ","); t && nkids < 16; t = strtok(NULL, ",")) {
		unsigned int size = (unsigned int)atoi(t);
		if (size <= have)
			continue;
		for (unsigned int d = have + 1; d <= size; d++)
			add_domain(d);
		pid_t k = fork();
		if (k == 0) {
			xs_daemon_close(h0);
			run_fronts(have + 1, size);
			_exit(0);
		}
		kids[nkids++] = k;
		/* the frontends are up when the last domain's last vbd says 1 */
		char f[128];
		snprintf(f, sizeof(f), "/local/domain/%u/device/vbd/%u/state", size, DEVID(vbds - 1));
		must(xs_watch(h0, f, "up") && wait_front(f, "1"), "frontends up");
		xs_unwatch(h0, f, "up");
		have = size;
		measure(size, samples);
	}
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGTERM);
		waitpid(kids[i], NULL, 0);
	}
	free(sizes);
	xs_close(h0);
	return 0;
}
