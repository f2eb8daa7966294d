/*
 * xshostile — a guest's root attacking its own XenStore port (issue 11).
 * Static, like xstest, so that it runs on the guest image's busybox; put in
 * the guest by tests/guest/hostile.sh (an extra cpio archive after the
 * image's own), never part of the product image.
 *
 *   xshostile OTHERDOM SECONDS [PORT]
 *
 * It kills the agent (every process named xmfront, SIGKILL: a crash to its
 * supervisor), opens the xenbus port itself (PORT, default
 * /dev/virtio-ports/xenbus; the agent's respawn cannot open it meanwhile:
 * the port takes one opener) and runs these phases, each bounded in count
 * and in its share of SECONDS, in rounds until SECONDS have passed (one
 * round at least):
 *
 *   resync     0xff past any partial frame the agent (killed mid-write)
 *              or the last round left: the store drops the connection,
 *              QEMU connects a clean one
 *   foreign-read   READ, DIRECTORY, GET_PERMS of OTHERDOM's and dom0's
 *              nodes (each must be EACCES)
 *   foreign-write  WRITE, MKDIR, RM, SET_PERMS there (each refused)
 *   priv       INTRODUCE, RELEASE, SET_TARGET, RESUME, CONTROL (each EACCES)
 *   txids      requests and TRANSACTION_ENDs on transaction ids not ours
 *   badtypes   unknown message types, replies sent as requests
 *   storm      20 watches on a node of ours, fired by WRITEs as fast as the
 *              port takes them, no event read; then drained
 *   txns       TRANSACTION_STARTs until refused, never ended; 1.5 KB values
 *              written in each until refused (transactions hold memory)
 *   quota      node WRITEs, then MKDIRs, pipelined, until the quota answers
 *   paths      deep, long and malformed paths, values at the payload limit
 *   watches    WATCHes until refused
 *   perms      SET_PERMS games on our own nodes
 *   slowloris  a READ one byte every 50 ms (answered when whole), then a
 *              4096-byte frame trickled and never finished
 *   garbage    random bytes
 *   huge       headers over XENSTORE_PAYLOAD_MAX, on a connection made clean
 *              first (each drops the connection: drops counts these only)
 *   truncated  headers cut short, glued to the next frame
 *
 * and at the end, once: leave  20 watches fired for 2 s, no event read
 *              (the store's output to the port backs up), then a header cut
 *              short, left at exit to the agent's respawn (xmfront
 *              --resync must cope with both)
 *
 * One line per phase: "phase NAME#ROUND: sent N ok N events N drops N [ERR=N ...]
 * MS ms", then "done". ok counts non-error replies; drops the times the
 * host side hung up (the store closing the channel).
 */
#include "wire.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: xshostile OTHERDOM SECONDS [PORT]\n"
#define WINDOW 32        /* requests in flight when pipelining */
#define MIN_PHASE_MS 3000
#define NERR ((int)(sizeof(xsd_errors) / sizeof(*xsd_errors)) + 1) /* and "other" */

struct stats {
	const char *name;
	long t0;
	unsigned long sent, ok, events, drops, err[NERR];
};

static int fd = -1;
static struct wire_in in;
static struct stats st;
static uint32_t next_id = 1, want_id;
static unsigned int inflight;
static bool got, up;
static uint32_t got_type;
static char got_body[XENSTORE_PAYLOAD_MAX + 1];
static long deadline; /* of the whole attack */
static unsigned int other;
static char mydom[16];
static int round_no;

static long ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void sleep_ms(long n)
{
	struct timespec t = { n / 1000, (n % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static int err_index(const char *s, size_t len)
{
	for (int i = 0; i < NERR - 1; i++)
		if (strnlen(s, len) == strlen(xsd_errors[i].errstring) &&
		    strncmp(s, xsd_errors[i].errstring, len) == 0)
			return i;
	return NERR - 1;
}

/* --- the port ------------------------------------------------------------- */

static bool host_up(void)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	return poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR));
}

/* Wait for the host side (QEMU reconnects its chardev within a second). */
static bool wait_up(long max_ms)
{
	long end = ms() + max_ms;
	while (!host_up()) {
		if (ms() > end)
			return false;
		sleep_ms(50);
	}
	up = true;
	return true;
}

/* The host hung up: count it, forget the connection's state, wait. */
static void dropped(void)
{
	st.drops++;
	up = false;
	in.start = in.end = 0;
	inflight = 0;
	got = true; /* a call waiting for its reply gets none */
	got_type = XS_ERROR;
	strcpy(got_body, "dropped");
	wait_up(10000);
}

static void on_msg(const struct xsd_sockmsg *h, const char *body)
{
	if (h->type == XS_WATCH_EVENT) {
		st.events++;
		return;
	}
	if (inflight)
		inflight--;
	if (h->type == XS_ERROR)
		st.err[err_index(body, h->len)]++;
	else
		st.ok++;
	if (h->req_id == want_id && !got) {
		got = true;
		got_type = h->type;
		size_t n = h->len < XENSTORE_PAYLOAD_MAX ? h->len : XENSTORE_PAYLOAD_MAX;
		memcpy(got_body, body, n);
		got_body[n] = '\0';
	}
}

/* Read and count what has come, waiting up to wait_ms for the first bytes. */
static void pump(int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, wait_ms) <= 0)
		return;
	for (;;) {
		enum wire_status s = wire_in_fill(&in, fd);
		if (s == WIRE_AGAIN)
			return;
		if (s == WIRE_EOF || s == WIRE_ERR) {
			dropped();
			return;
		}
		struct xsd_sockmsg h;
		const char *body;
		while ((s = wire_in_next(&in, &h, &body)) == WIRE_OK)
			on_msg(&h, body);
		if (s == WIRE_PROTO) { /* the host's frame is not one: start over */
			in.start = in.end = 0;
			return;
		}
	}
}

/* Write all of buf; reads nothing unless readback (then replies are counted
 * while the port is full). false if the host went away or time ran out. */
static bool send_raw(const void *buf, size_t len, bool readback)
{
	const char *p = buf;
	long end = ms() + 5000;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (!host_up()) {
			dropped();
			return false;
		}
		if (ms() > end)
			return false;
		if (readback)
			pump(1);
		else {
			struct pollfd q = { .fd = fd, .events = POLLOUT };
			poll(&q, 1, 20);
		}
	}
	return true;
}

static uint32_t send_req(uint32_t type, uint32_t tx, const void *body, size_t len)
{
	char buf[WIRE_HDR_LEN + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = { type, next_id++, tx, (uint32_t)len };
	if (len > XENSTORE_PAYLOAD_MAX)
		len = XENSTORE_PAYLOAD_MAX;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, len);
	st.sent++;
	inflight++;
	if (!send_raw(buf, sizeof(h) + len, true))
		return 0;
	return h.req_id;
}

/* A request and its reply: its type (XS_ERROR with got_body "dropped" when
 * the host hung up or nothing came in 10 s). */
static uint32_t call(uint32_t type, uint32_t tx, const void *body, size_t len)
{
	got = false;
	want_id = send_req(type, tx, body, len);
	long end = ms() + 10000;
	while (!got && want_id && ms() < end)
		pump(100);
	if (!got || !want_id) {
		got_type = XS_ERROR;
		strcpy(got_body, "dropped");
	}
	want_id = 0;
	return got_type;
}

/* Pipelined: wait while WINDOW requests are in flight. */
static void window(void)
{
	long end = ms() + 10000;
	while (inflight >= WINDOW && ms() < end)
		pump(100);
	if (inflight >= WINDOW)
		inflight = 0; /* lost: do not wait forever */
}

static void drain(long max_ms)
{
	long end = ms() + max_ms;
	while (inflight && ms() < end)
		pump(100);
	pump(50);
}

static uint32_t send_path(uint32_t type, uint32_t tx, const char *path)
{
	return send_req(type, tx, path, strlen(path) + 1);
}

static uint32_t send_write(uint32_t tx, const char *path, const char *val, size_t vlen)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1;
	if (pl + vlen > sizeof(buf))
		vlen = sizeof(buf) - pl;
	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vlen);
	return send_req(XS_WRITE, tx, buf, pl + vlen);
}

/* --- phases --------------------------------------------------------------- */

static void phase_begin(const char *name)
{
	memset(&st, 0, sizeof(st));
	st.name = name;
	st.t0 = ms();
	inflight = 0;
	if (!up)
		wait_up(10000);
}

static void phase_end(void)
{
	printf("phase %s#%d: sent %lu ok %lu events %lu drops %lu", st.name, round_no, st.sent,
	       st.ok, st.events, st.drops);
	for (int i = 0; i < NERR; i++)
		if (st.err[i])
			printf(" %s=%lu", i < NERR - 1 ? xsd_errors[i].errstring : "other",
			       st.err[i]);
	printf(" %ld ms\n", ms() - st.t0);
	fflush(stdout);
}

/* A phase's end: what is left of the attack, at most max_ms, at least
 * MIN_PHASE_MS (each phase has its say in every round). */
static long budget(long max_ms)
{
	long left = deadline - ms();
	if (left < MIN_PHASE_MS)
		left = MIN_PHASE_MS;
	return ms() + (left < max_ms ? left : max_ms);
}

static unsigned long errs(void)
{
	unsigned long n = 0;
	for (int i = 0; i < NERR; i++)
		n += st.err[i];
	return n;
}

/* 0xff past any frame left half-written: every alignment of it ends in a
 * header whose length byte 15 is 0xff, over the limit, so the store drops
 * the connection and QEMU connects a fresh one. */
static void resync(void)
{
	static char ff[WIRE_MSG_MAX + WIRE_HDR_LEN];
	memset(ff, 0xff, sizeof(ff));
	if (!send_raw(ff, sizeof(ff), false))
		return;
	long end = ms() + 5000;
	unsigned long d0 = st.drops;
	while (st.drops == d0 && host_up() && ms() < end)
		pump(50);
	if (st.drops == d0 && !host_up())
		dropped();
}

static void phase_quota(void)
{
	char path[64];
	long end = budget(20000);
	for (int kind = 0; kind < 2; kind++) {
		unsigned long e0 = errs();
		for (int i = 0; i < 5000 && ms() < end && errs() - e0 < 50; i++) {
			snprintf(path, sizeof(path), "data/h%c/%d", kind ? 'm' : 'q', i);
			if (kind)
				send_path(XS_MKDIR, 0, path);
			else
				send_write(0, path, "x", 1);
			window();
		}
		drain(5000);
	}
}

static void phase_paths(void)
{
	char p[XENSTORE_PAYLOAD_MAX], v[XENSTORE_PAYLOAD_MAX];
	size_t n;
	/* deep: data/d/d/d/... at and past the relative limit */
	for (size_t depth = 500; depth <= 1600; depth += 100) {
		n = (size_t)snprintf(p, sizeof(p), "data");
		for (size_t i = 0; i < depth && n + 2 < sizeof(p); i++)
			n += (size_t)snprintf(p + n, sizeof(p) - n, "/d");
		send_write(0, p, "deep", 4);
		window();
	}
	/* one long name, at and past the limits; absolute ones too */
	for (size_t len = 1000; len <= 3200; len += 300) {
		n = (size_t)(len > 2000 ? snprintf(p, sizeof(p), "/local/domain/%s/data/", mydom)
				       : snprintf(p, sizeof(p), "data/"));
		while (n < len && n + 1 < sizeof(p))
			p[n++] = 'L';
		p[n] = '\0';
		send_write(0, p, "long", 4);
		window();
	}
	/* malformed */
	static const char *const bad[] = { "data/a b", "data//x", "data/x/", "data/\x01",
					   "", "/", "data/..", "data/x?y", "@other",
					   "@introduceDomain", "/local/domain/../../tool" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		send_write(0, bad[i], "bad", 3);
		send_path(XS_READ, 0, bad[i]);
		window();
	}
	/* no NUL at all, a value filling the payload */
	memset(p, 'n', 100);
	send_req(XS_READ, 0, p, 100);
	memset(v, 'v', sizeof(v));
	send_write(0, "data/big", v, sizeof(v));
	send_req(XS_WRITE, 0, "", 0);
	send_req(XS_DIRECTORY, 0, "", 0);
	drain(5000);
}

static void phase_watches(void)
{
	char buf[128];
	long end = budget(10000);
	for (int i = 0; i < 3000 && ms() < end && errs() < 20; i++) {
		int n = snprintf(buf, sizeof(buf), "data/w/%d%ctok%d", i % 50, '\0', i);
		send_req(XS_WATCH, 0, buf, (size_t)n + 1);
		window();
	}
	drain(5000);
}

static void phase_txns(void)
{
	uint32_t ids[512];
	unsigned int nids = 0;
	long end = budget(20000);
	while (nids < 512 && ms() < end) {
		if (call(XS_TRANSACTION_START, 0, "", 1) != XS_TRANSACTION_START)
			break;
		ids[nids++] = (uint32_t)strtoul(got_body, NULL, 10);
	}
	static char v[1500]; /* under the store's node size (2048) */
	memset(v, 'T', sizeof(v));
	char path[64];
	for (unsigned int t = 0; t < nids && ms() < end; t++) {
		unsigned long e0 = errs();
		for (int i = 0; i < 1000 && ms() < end && errs() - e0 < 8; i++) {
			snprintf(path, sizeof(path), "data/tx%u/%d", t, i);
			send_write(ids[t], path, v, sizeof(v));
			window();
		}
		drain(5000);
	}
	printf("txns: %u transactions open, never ended\n", nids);
}

static void phase_txids(void)
{
	uint32_t bogus[] = { 1u << 31, 0xffffffffu, 0xfffffffeu, 12345, 77777, 999999 };
	for (size_t i = 0; i < sizeof(bogus) / sizeof(*bogus); i++) {
		send_path(XS_READ, bogus[i], "domid");
		send_write(bogus[i], "data/txid", "x", 1);
		send_req(XS_TRANSACTION_END, bogus[i], "T", 2);
		send_req(XS_TRANSACTION_END, bogus[i], "F", 2);
		window();
	}
	drain(5000);
}

static void phase_storm(void)
{
	char buf[64];
	send_write(0, "data/storm", "s", 1); /* before the quota phase fills it */
	for (int i = 0; i < 20; i++) {
		int n = snprintf(buf, sizeof(buf), "data/storm%ctok%d", '\0', i);
		send_req(XS_WATCH, 0, buf, (size_t)n + 1);
	}
	drain(5000);
	/* fire them without reading anything: writes until the port stays
	 * full */
	long end = budget(8000);
	char req[WIRE_HDR_LEN + 32];
	int n = snprintf(req + WIRE_HDR_LEN, 32, "data/storm%cs", '\0');
	while (ms() < end) {
		struct xsd_sockmsg h = { XS_WRITE, next_id++, 0, (uint32_t)n };
		memcpy(req, &h, sizeof(h));
		st.sent++;
		inflight++;
		if (!send_raw(req, WIRE_HDR_LEN + (size_t)n, false) && !up)
			break;
	}
	drain(3000);
	pump(500);
}

/* A permission list from a game: entries split at '|', "%o" the other
 * domain, "%m" ours. Its length, NULs included. */
static size_t perm_list(char *out, size_t cap, const char *game)
{
	size_t n = 0;
	for (const char *q = game; *q && n + 16 < cap; q++) {
		if (q[0] == '%' && (q[1] == 'o' || q[1] == 'm')) {
			n += (size_t)snprintf(out + n, cap - n, "%s", q[1] == 'm' ? mydom : "");
			if (q[1] == 'o')
				n += (size_t)snprintf(out + n, cap - n, "%u", other);
			q++;
		} else {
			out[n++] = *q == '|' ? '\0' : *q;
		}
	}
	out[n++] = '\0';
	return n;
}

static void phase_perms(void)
{
	static const char *const games[] = {
		"n0", "r0", "b0", "n%o", "n%m|r%o", "n%m|b%o|w0|r0|n0|b0|r%o",
		"x5", "n", "n-1", "n4294967295", "n%m|", "|", "n%m|r99999",
	};
	char body[512], path[32];
	for (size_t g = 0; g < sizeof(games) / sizeof(*games); g++) {
		snprintf(path, sizeof(path), "data/p%zu", g);
		send_write(0, path, "p", 1);
		size_t n = strlen(path) + 1;
		memcpy(body, path, n);
		n += perm_list(body + n, sizeof(body) - n, games[g]);
		send_req(XS_SET_PERMS, 0, body, n);
		/* then use the node */
		send_write(0, path, "again", 5);
		send_path(XS_GET_PERMS, 0, path);
		window();
	}
	/* too many entries */
	size_t n = (size_t)snprintf(body, sizeof(body), "data/p0");
	body[n++] = '\0';
	for (int i = 0; i < 60 && n + 8 < sizeof(body); i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "r%d", i) + 1;
	send_req(XS_SET_PERMS, 0, body, n);
	drain(5000);
}

/* Other domains' nodes that exist while the test runs: OTHERDOM's area
 * (its disk attached) and dom0's backend of that disk. */
#define NFOREIGN 8
static void foreign_paths(char p[NFOREIGN][64])
{
	unsigned int o = other;
	snprintf(p[0], 64, "/local/domain/%u", o);
	snprintf(p[1], 64, "/local/domain/%u/name", o);
	snprintf(p[2], 64, "/local/domain/%u/domid", o);
	snprintf(p[3], 64, "/local/domain/%u/control/shutdown", o);
	snprintf(p[4], 64, "/local/domain/%u/data", o);
	snprintf(p[5], 64, "/local/domain/%u/attr", o);
	snprintf(p[6], 64, "/local/domain/%u/device/vbd", o);
	snprintf(p[7], 64, "/local/domain/0/backend/vbd/%u", o);
}

/* Each must be EACCES: the test checks that EACCES = sent. */
static void phase_foreign_read(void)
{
	char paths[NFOREIGN][64];
	foreign_paths(paths);
	for (int i = 0; i < NFOREIGN; i++) {
		send_path(XS_READ, 0, paths[i]);
		send_path(XS_DIRECTORY, 0, paths[i]);
		send_path(XS_GET_PERMS, 0, paths[i]);
		window();
	}
	drain(5000);
}

/* Each must be refused: EACCES, or a quota's error once ours are used up. */
static void phase_foreign_write(void)
{
	char paths[NFOREIGN][64], buf[80];
	foreign_paths(paths);
	for (int i = 0; i < NFOREIGN; i++) {
		send_write(0, paths[i], "pwned", 5);
		snprintf(buf, sizeof(buf), "%.64s/x", paths[i]);
		send_path(XS_MKDIR, 0, buf);
		send_write(0, buf, "pwned", 5);
		send_path(XS_RM, 0, paths[i]);
		int n = snprintf(buf, sizeof(buf), "%.64s%cn%.15s", paths[i], '\0', mydom);
		send_req(XS_SET_PERMS, 0, buf, (size_t)n + 1);
		window();
	}
	drain(5000);
}

static void phase_priv(void)
{
	char buf[128], d[16];
	int n;
	snprintf(d, sizeof(d), "%u", other);
	n = snprintf(buf, sizeof(buf), "%u%c0%c1", other + 100, '\0', '\0');
	send_req(XS_INTRODUCE, 0, buf, (size_t)n + 1);
	n = snprintf(buf, sizeof(buf), "%s%c0%c1", mydom, '\0', '\0');
	send_req(XS_INTRODUCE, 0, buf, (size_t)n + 1);
	send_path(XS_RELEASE, 0, d);
	send_path(XS_RELEASE, 0, mydom);
	send_path(XS_RELEASE, 0, "0");
	n = snprintf(buf, sizeof(buf), "%s%c%u", mydom, '\0', other);
	send_req(XS_SET_TARGET, 0, buf, (size_t)n + 1);
	n = snprintf(buf, sizeof(buf), "%u%c%s", other, '\0', mydom);
	send_req(XS_SET_TARGET, 0, buf, (size_t)n + 1);
	send_path(XS_RESUME, 0, d);
	send_path(XS_RESUME, 0, mydom);
	n = snprintf(buf, sizeof(buf), "print%chello", '\0');
	send_req(XS_CONTROL, 0, buf, (size_t)n + 1);
	n = snprintf(buf, sizeof(buf), "quota%c", '\0');
	send_req(XS_CONTROL, 0, buf, (size_t)n + 1);
	drain(5000);
}

static void phase_badtypes(void)
{
	uint32_t types[] = { XS_WATCH_EVENT, XS_ERROR, XS_TYPE_COUNT, 99, XS_INVALID,
			     0x7fffffff, 0xffffffff };
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		send_req(types[i], 0, "domid", 6);
	drain(5000);
}

static void phase_slowloris(void)
{
	char buf[WIRE_HDR_LEN + 16];
	struct xsd_sockmsg h = { XS_READ, next_id++, 0, 6 };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), "domid", 6);
	got = false;
	want_id = h.req_id;
	st.sent++;
	inflight++;
	for (size_t i = 0; i < sizeof(h) + 6; i++) {
		if (!send_raw(buf + i, 1, false))
			break;
		sleep_ms(50);
	}
	long end = ms() + 10000;
	while (!got && ms() < end)
		pump(100);
	printf("slowloris: the byte-by-byte READ of domid answered %s\n",
	       got && got_type == XS_READ && strcmp(got_body, mydom) == 0 ? "right" : "wrong");
	want_id = 0;
	/* a frame that never finishes */
	struct xsd_sockmsg big = { XS_WRITE, next_id++, 0, XENSTORE_PAYLOAD_MAX };
	send_raw(&big, sizeof(big), false);
	end = budget(5000);
	while (ms() < end && up) {
		if (!send_raw("s", 1, false))
			break;
		sleep_ms(20);
	}
	pump(100);
}

static void phase_garbage(void)
{
	static unsigned char buf[8192];
	long end = budget(6000);
	while (ms() < end) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (unsigned char)rand();
		st.sent++;
		send_raw(buf, sizeof(buf), false);
		pump(0);
	}
	pump(100);
}

static void phase_huge(void)
{
	uint32_t lens[] = { XENSTORE_PAYLOAD_MAX + 1, 65536, 1u << 31, 0xffffffffu };
	resync(); /* a frame left pending would take the headers as its body */
	st.drops = 0;
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		struct xsd_sockmsg h = { XS_WRITE, next_id++, 0, lens[i] };
		char buf[WIRE_HDR_LEN + 64];
		memcpy(buf, &h, sizeof(h));
		memset(buf + sizeof(h), 'H', 64);
		st.sent++;
		unsigned long d0 = st.drops;
		send_raw(buf, sizeof(buf), false);
		long end = ms() + 5000;
		while (st.drops == d0 && ms() < end)
			pump(100);
	}
}

static void phase_truncated(void)
{
	struct xsd_sockmsg h = { XS_READ, next_id++, 0, 6 };
	/* cut headers, each glued to a whole request */
	for (size_t cut = 1; cut < sizeof(h); cut += 3) {
		st.sent++;
		send_raw(&h, cut, false);
		sleep_ms(200);
		send_path(XS_READ, 0, "domid");
		pump(500);
	}
}

/* Left to whoever opens the port next: events nobody read (the store's
 * output to the port backed up) and a header cut short. */
static void phase_leave(void)
{
	resync(); /* the last phase's frames are pending */
	char buf[64];
	for (int i = 0; i < 20; i++) {
		int n = snprintf(buf, sizeof(buf), "data/storm%cleave%d", '\0', i);
		send_req(XS_WATCH, 0, buf, (size_t)n + 1);
	}
	drain(3000);
	char req[WIRE_HDR_LEN + 32];
	int n = snprintf(req + WIRE_HDR_LEN, 32, "data/storm%cl", '\0');
	long end = ms() + 2000;
	while (ms() < end) {
		struct xsd_sockmsg h = { XS_WRITE, next_id++, 0, (uint32_t)n };
		memcpy(req, &h, sizeof(h));
		st.sent++;
		if (!send_raw(req, WIRE_HDR_LEN + (size_t)n, false) && !up)
			break;
	}
	struct xsd_sockmsg last = { XS_WRITE, next_id++, 0, 40 };
	send_raw(&last, 10, false);
}

/* --- start ---------------------------------------------------------------- */

static void kill_agents(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], comm[64] = "";
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strcmp(comm, "xmfront\n") == 0)
			kill(atoi(e->d_name), SIGKILL);
		fclose(f);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fputs(USAGE, stderr);
		return 2;
	}
	other = (unsigned int)strtoul(argv[1], NULL, 10);
	long secs = strtol(argv[2], NULL, 10);
	const char *port = argc > 3 ? argv[3] : "/dev/virtio-ports/xenbus";
	srand((unsigned int)getpid());
	signal(SIGPIPE, SIG_IGN);

	long t0 = ms();
	while ((fd = open(port, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
		if (errno != EBUSY || ms() - t0 > 5000) {
			perror(port);
			return 1;
		}
		kill_agents(); /* the agent, or its respawn that was first */
		sleep_ms(20);
	}
	printf("port %s taken in %ld ms\n", port, ms() - t0);
	if (!wait_up(10000)) {
		fputs("xshostile: the host side never came\n", stderr);
		return 1;
	}
	deadline = ms() + secs * 1000;

	phase_begin("domid");
	if (call(XS_READ, 0, "domid", 6) != XS_READ) {
		fprintf(stderr, "xshostile: cannot read domid: %s\n", got_body);
		return 1;
	}
	snprintf(mydom, sizeof(mydom), "%.15s", got_body);
	phase_end();
	printf("domain %s against domain %u for %ld s\n", mydom, other, secs);

	static const struct {
		const char *name;
		void (*fn)(void);
	} phases[] = {
		/* the refusals first, while our quotas are not used up */
		{ "resync", resync },           { "foreign-read", phase_foreign_read },
		{ "foreign-write", phase_foreign_write }, { "priv", phase_priv },
		{ "txids", phase_txids },       { "badtypes", phase_badtypes },
		{ "storm", phase_storm },       { "txns", phase_txns },
		{ "quota", phase_quota },       { "paths", phase_paths },
		{ "watches", phase_watches },   { "perms", phase_perms },
		{ "slowloris", phase_slowloris }, { "garbage", phase_garbage },
		{ "huge", phase_huge },         { "truncated", phase_truncated },
	};
	do {
		round_no++;
		for (size_t i = 0; i < sizeof(phases) / sizeof(*phases); i++) {
			phase_begin(phases[i].name);
			phases[i].fn();
			phase_end();
		}
	} while (ms() < deadline);
	phase_begin("leave");
	phase_leave();
	phase_end();
	printf("done in %ld ms\n", ms() - t0);
	return 0;
}
