/*
 * quota.c — xmstored's per-domain limits, tried as a hostile guest would:
 * each case is one thing a domain could make the daemon hold without bound
 * before the limits became the domain's (issue 11). Run by quota.sh, which
 * starts the daemon with the options a case needs.
 *
 *   quota SOCKET CHANNEL_DIR CASE
 *
 *   commit    (daemon: -E 40) three transactions of one domain (30 nodes
 *             each, under parents of their own), each under
 *             the node quota alone, commit one after another: the ones that
 *             would take it past the quota fail with ENOSPC (Xen checks again
 *             at commit); the domain never owns more than its quota
 *   txdomain  4 connections of one domain: at most the quota of open
 *             transactions over all of them (ENOSPC past it)
 *   events    64 connections of one domain watch a node and never read
 *             (while dom0 makes 24,000 events of distinct paths):
 *             the events queued for the domain stay under 1 MiB in all,
 *             the daemon's RSS grows by less than 16 MiB, dom0 is answered
 *   memory    (daemon: -Q memory=65536) a domain writing 1000-byte values
 *             gets ENOMEM past 64 KiB; it can still read and remove, and
 *             write again once it has removed
 *   hold N S  keep N connections to SOCKET open for S seconds (quota.sh's
 *             descriptor-limit case), then exit
 *
 * Output: "ok NAME" / "FAIL NAME: why" lines, then "N passed, M failed".
 */
#include <xenstore.h>

#include "sock.h"
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int npass, nfail;
static const char *sock0, *chan_dir;

static void ok(const char *name)
{
	npass++;
	printf("ok   %s\n", name);
}

static void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	nfail++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static struct xs_handle *open_at(const char *path)
{
	setenv("XENSTORED_PATH", path, 1);
	return xs_open(XS_OPEN_SOCKETONLY);
}

static struct xs_handle *open_dom(unsigned int domid)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/domain-%u.sock", chan_dir, domid);
	return open_at(p);
}

static int chan_fd(unsigned int domid)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/domain-%u.sock", chan_dir, domid);
	return unix_connect(p);
}

/* Introduce domid with a home it owns. */
static bool make_domain(struct xs_handle *h0, unsigned int domid)
{
	char home[64];
	struct xs_permissions p = { .id = domid, .perms = XS_PERM_NONE };
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	return xs_introduce_domain(h0, domid, 0x1000 + domid, 10 + domid) &&
	       xs_mkdir(h0, XBT_NULL, home) && xs_set_permissions(h0, XBT_NULL, home, &p, 1);
}

/* A line "KEY N" of CONTROL "quota DOMID" (-1 if absent). */
static long usage_of(struct xs_handle *h0, unsigned int domid, const char *key)
{
	char arg[16];
	snprintf(arg, sizeof(arg), "%u", domid);
	char *s = xs_control_command(h0, "quota", arg, strlen(arg) + 1);
	long v = -1;
	for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		while (*l == ' ')
			l++;
		if (strncmp(l, key, strlen(key)) == 0 && l[strlen(key)] == ':') {
			v = strtol(l + strlen(key) + 1, NULL, 10);
			break;
		}
	}
	free(s);
	return v;
}

/* ---- commit: the node quota checked again at commit -------------------- */

static void case_commit(struct xs_handle *h0)
{
	struct xs_handle *h = open_dom(8);
	xs_transaction_t t[3];
	int rc[3];
	char path[64];

	if (!h) {
		fail("commit_open", "cannot open domain 8's channel: %s", strerror(errno));
		return;
	}
	/* Each transaction under a parent of its own: no conflict between
	 * them, so only the quota can refuse a commit. */
	for (int k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "t%d", k);
		if (!xs_mkdir(h, XBT_NULL, path)) {
			fail("commit_setup", "mkdir %s: %s", path, strerror(errno));
			return;
		}
	}
	for (int k = 0; k < 3; k++) {
		t[k] = xs_transaction_start(h);
		for (int i = 0; i < 30 && t[k] != XBT_NULL; i++) {
			snprintf(path, sizeof(path), "t%d/n%d", k, i);
			if (!xs_write(h, t[k], path, "x", 1)) {
				fail("commit_writes_in_quota", "write %s in transaction %d: %s",
				     path, k, strerror(errno));
				return;
			}
		}
	}
	ok("commit_writes_in_quota");
	for (int k = 0; k < 3; k++)
		rc[k] = xs_transaction_end(h, t[k], false) ? 0 : errno;
	if (rc[0] == 0 && rc[1] == ENOSPC && rc[2] == ENOSPC)
		ok("commit_past_quota_enospc");
	else
		fail("commit_past_quota_enospc", "commits: %s, %s, %s (want OK, ENOSPC, ENOSPC)",
		     strerror(rc[0]), strerror(rc[1]), strerror(rc[2]));
	long owned = usage_of(h0, 8, "nodes");
	if (owned >= 0 && owned <= 40)
		ok("commit_owned_within_quota");
	else
		fail("commit_owned_within_quota", "domain 8 owns %ld nodes, quota 40", owned);
	unsigned int n1 = 0, n2 = 0;
	char **d1 = xs_directory(h, XBT_NULL, "t0", &n1);
	char **d2 = xs_directory(h, XBT_NULL, "t1", &n2);
	if (d1 && n1 == 30 && d2 && n2 == 0)
		ok("commit_refused_left_nothing");
	else
		fail("commit_refused_left_nothing", "t0 has %u children (want 30), t1 %u (want 0)",
		     n1, n2);
	free(d1);
	free(d2);
	xs_close(h);
}

/* ---- txdomain: transactions counted per domain ------------------------- */

static void case_txdomain(struct xs_handle *h0)
{
	struct xs_handle *h[4];
	unsigned int opened = 0;
	int last = 0;

	for (int i = 0; i < 4; i++)
		if (!(h[i] = open_dom(8))) {
			fail("txdomain_open", "%s", strerror(errno));
			return;
		}
	for (int round = 0; round < 11; round++)
		for (int i = 0; i < 4; i++) {
			if (xs_transaction_start(h[i]) != XBT_NULL)
				opened++;
			else
				last = errno;
		}
	/* Xen's test: ENOSPC when more than the quota (10) are open. */
	if (opened == 11 && last == ENOSPC)
		ok("txdomain_limit_over_connections");
	else
		fail("txdomain_limit_over_connections",
		     "4 connections of one domain opened %u transactions (want 11, then ENOSPC; last error %s)",
		     opened, strerror(last));
	long n = usage_of(h0, 8, "transactions");
	if (n == 11)
		ok("txdomain_counted");
	else
		fail("txdomain_counted", "CONTROL quota 8 says %ld transactions, want 11", n);
	for (int i = 0; i < 4; i++)
		xs_close(h[i]);
	usleep(200 * 1000);
	n = usage_of(h0, 8, "transactions");
	if (n == 0)
		ok("txdomain_freed_on_close");
	else
		fail("txdomain_freed_on_close", "%ld transactions left after close", n);
}

/* ---- events: what is queued to a domain that never reads ---------------- */

static long rss_kb(pid_t pid)
{
	char p[64], line[256];
	long kb = -1;
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void case_events(struct xs_handle *h0, pid_t daemon)
{
	enum { NCONN = 64, NWRITES = 12000 };
	int fd[NCONN];
	char path[256], tok[32];
	struct xs_permissions p[2] = { { 0, XS_PERM_NONE }, { 8, XS_PERM_READ } };

	bool r = xs_write(h0, XBT_NULL, "/pub8", "", 0) &&
		 xs_set_permissions(h0, XBT_NULL, "/pub8", p, 2);
	if (!r) {
		fail("events_setup", "%s", strerror(errno));
		return;
	}
	for (int i = 0; i < NCONN; i++) {
		if ((fd[i] = chan_fd(8)) < 0) {
			fail("events_open", "connection %d: %s", i, strerror(errno));
			return;
		}
		snprintf(tok, sizeof(tok), "never-read-%d", i);
		const char *v[2] = { "/pub8", tok };
		char buf[128];
		size_t len = wire_pack(buf, sizeof(buf), v, 2, true);
		struct xsd_sockmsg h;
		char *body = NULL;
		if (wire_send(fd[i], XS_WATCH, 1, 0, buf, len) < 0 ||
		    wire_recv(fd[i], &h, &body) < 0 || h.type != XS_WATCH) {
			fail("events_watch", "connection %d: no OK for WATCH", i);
			free(body);
			return;
		}
		free(body); /* and never read again */
	}
	long before = rss_kb(daemon);
	double t0 = now_s(), worst = 0;
	/* Each node made and removed at once: every event a path of its own,
	 * so that none is merged with an identical one still queued. */
	for (int i = 0; i < NWRITES; i++) {
		snprintf(path, sizeof(path), "/pub8/%0120d", i);
		double a = now_s();
		if (!xs_write(h0, XBT_NULL, path, "1", 1) || !xs_rm(h0, XBT_NULL, path)) {
			fail("events_dom0_served", "write %d: %s", i, strerror(errno));
			break;
		}
		if (now_s() - a > worst)
			worst = now_s() - a;
	}
	double took = now_s() - t0;
	long after = rss_kb(daemon), queued = usage_of(h0, 8, "queued");
	printf("# %d writes and removals, each an event for %d connections of domain 8 that never read: "
	       "%.1f s, slowest write %.0f ms; daemon RSS %ld -> %ld KiB, queued to domain 8: %ld bytes\n",
	       NWRITES, NCONN, took, worst * 1000, before, after, queued);
	if (queued >= 0 && queued <= 1024 * 1024 + 4096)
		ok("events_queued_per_domain");
	else
		fail("events_queued_per_domain", "%ld bytes queued to domain 8 (limit 1 MiB for the domain)",
		     queued);
	if (after - before < 16 * 1024)
		ok("events_rss_bounded");
	else
		fail("events_rss_bounded", "daemon RSS grew by %ld KiB (want < 16 MiB)", after - before);
	if (worst < 1.0)
		ok("events_dom0_served");
	else
		fail("events_dom0_served", "a dom0 write took %.0f ms", worst * 1000);
	for (int i = 0; i < NCONN; i++)
		close(fd[i]);
}

/* ---- memory: the per-domain memory quota -------------------------------- */

static void case_memory(struct xs_handle *h0)
{
	struct xs_handle *h = open_dom(8);
	char val[1000], path[64];
	int i, err = 0;

	if (!h) {
		fail("memory_open", "%s", strerror(errno));
		return;
	}
	memset(val, 'm', sizeof(val));
	for (i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "m/%d", i);
		if (!xs_write(h, XBT_NULL, path, val, sizeof(val))) {
			err = errno;
			break;
		}
	}
	long mem = usage_of(h0, 8, "memory");
	printf("# domain 8 wrote %d values of 1000 bytes, then %s; it holds %ld bytes\n",
	       i, err ? strerror(err) : "no error", mem);
	if (err == ENOMEM && i >= 50 && i <= 70)
		ok("memory_hard_quota_enomem");
	else
		fail("memory_hard_quota_enomem", "%d writes then %s (want ENOMEM after 50-70)",
		     i, strerror(err));
	if (mem > 0 && mem <= 65536 + 2048)
		ok("memory_bounded");
	else
		fail("memory_bounded", "domain 8 holds %ld bytes (quota 65536)", mem);
	unsigned int len = 0;
	char *v = xs_read(h, XBT_NULL, "m/0", &len);
	if (v && len == sizeof(val))
		ok("memory_reads_still_served");
	else
		fail("memory_reads_still_served", "read: %s", v ? "wrong length" : strerror(errno));
	free(v);
	if (xs_watch(h, "m", "tok") || errno != ENOMEM)
		fail("memory_watch_refused", "a watch past the quota: %s", strerror(errno));
	else
		ok("memory_watch_refused");
	bool rmok = true;
	for (int k = 0; k < 20; k++) {
		snprintf(path, sizeof(path), "m/%d", k);
		rmok &= xs_rm(h, XBT_NULL, path);
	}
	if (rmok && xs_write(h, XBT_NULL, "m/again", val, sizeof(val)))
		ok("memory_freed_by_rm");
	else
		fail("memory_freed_by_rm", "rm then write: %s", strerror(errno));
	xs_rm(h, XBT_NULL, "m");
	long back = usage_of(h0, 8, "memory");
	if (back >= 0 && back < 1024)
		ok("memory_counted_back");
	else
		fail("memory_counted_back", "domain 8 holds %ld bytes after removing all", back);
	xs_close(h);
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[3], "hold") == 0) {
		int n = atoi(argv[4]), s = argc > 5 ? atoi(argv[5]) : 5, opened = 0;
		for (int i = 0; i < n; i++)
			if (unix_connect(argv[1]) >= 0)
				opened++;
		printf("holding %d connections\n", opened);
		fflush(stdout);
		sleep((unsigned int)s);
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: quota SOCKET CHANNEL_DIR commit|txdomain|events [PID]|memory|hold N S\n");
		return 2;
	}
	sock0 = argv[1];
	chan_dir = argv[2];
	struct xs_handle *h0 = open_at(sock0);
	if (!h0 || !make_domain(h0, 8)) {
		fail("setup", "dom0 connection or INTRODUCE 8: %s", strerror(errno));
	} else if (strcmp(argv[3], "commit") == 0) {
		case_commit(h0);
	} else if (strcmp(argv[3], "txdomain") == 0) {
		case_txdomain(h0);
	} else if (strcmp(argv[3], "events") == 0 && argc > 4) {
		case_events(h0, (pid_t)atoi(argv[4]));
	} else if (strcmp(argv[3], "memory") == 0) {
		case_memory(h0);
	} else {
		fprintf(stderr, "quota: unknown case %s\n", argv[3]);
		return 2;
	}
	if (h0)
		xs_close(h0);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
