/*
 * domchan.c — xmstored's per-domain channels, checked with libxenstore and
 * with raw malformed messages.
 *
 *   domchan SOCKET [CHANNEL_DIR]
 *
 * SOCKET is xmstored's read-write (domain 0) socket; CHANNEL_DIR is where
 * INTRODUCE makes domain-N.sock (default: <dir of SOCKET>/domains). Every
 * connection on domain-N.sock is domain N, unprivileged, and must be treated
 * as Xen 4.17's cxenstored treats a guest's ring:
 *
 *   - a domain sees and changes its own area (relative paths included) and
 *     whatever a permission entry grants it; anything else is EACCES, also
 *     for a missing node under a parent it may not read (no ENOENT leak);
 *   - privileged requests (INTRODUCE, RELEASE, CONTROL, ...) are EACCES; an
 *     owner change of its own node is EPERM;
 *   - watch events reach it only for nodes it (or whose parent it) may read;
 *   - quotas (nodes, watches, transactions, node size, permission entries)
 *     fail with Xen's error codes at Xen's limits and leave nothing behind;
 *   - SET_TARGET lets a domain act for its target; RELEASE closes the
 *     channel and its connections, fires @releaseDomain and removes the
 *     domain's nodes;
 *   - garbage, truncated, oversized and malformed messages cost at most the
 *     sender's own connection: the daemon keeps answering everyone else.
 *
 * The quota values are read from xmstored's CONTROL "quota" reply, so the
 * test follows whatever --entry-nb ... the daemon was started with.
 *
 * Output: one "ok   NAME" or "FAIL NAME: why" line per check, then
 * "N passed, M failed"; exit status 1 if anything failed.
 */
#include <xenstore.h>

#include "wire.h"
#include "sock.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- reporting ---------------------------------------------------------- */

static int npass, nfail;

static void ok(const char *name)
{
	npass++;
	printf("ok   %s\n", name);
	fflush(stdout);
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
	putchar('\n');
	fflush(stdout);
}

static const char *errname(int e)
{
	return e ? wire_error_string(e) : "no error";
}

/* A libxenstore call that must fail with errno want (res: its success). */
static void expect_err(const char *name, bool res, int want)
{
	int e = errno;
	if (res)
		fail(name, "succeeded, want %s", errname(want));
	else if (e != want)
		fail(name, "got %s (%d), want %s", errname(e), e, errname(want));
	else
		ok(name);
}

static void expect_true(const char *name, bool res)
{
	if (res)
		ok(name);
	else
		fail(name, "failed: %s (%d)", errname(errno), errno);
}

/* ---- libxenstore helpers -------------------------------------------------- */

static struct xs_handle *open_at(const char *path)
{
	setenv("XENSTORED_PATH", path, 1);
	return xs_open(XS_OPEN_SOCKETONLY);
}

static bool xwrite(struct xs_handle *h, const char *path, const char *val)
{
	return xs_write(h, XBT_NULL, path, val, (unsigned int)strlen(val));
}

/* Read path; NULL with errno on failure. Caller frees. */
static char *xread(struct xs_handle *h, const char *path)
{
	unsigned int len;
	return xs_read(h, XBT_NULL, path, &len);
}

static void expect_read(const char *name, struct xs_handle *h, const char *path, const char *want)
{
	char *v = xread(h, path);
	if (!v)
		fail(name, "READ %s: %s, want \"%s\"", path, errname(errno), want);
	else if (strcmp(v, want) != 0)
		fail(name, "READ %s: \"%s\", want \"%s\"", path, v, want);
	else
		ok(name);
	free(v);
}

static void expect_read_err(const char *name, struct xs_handle *h, const char *path, int want)
{
	char *v = xread(h, path);
	int e = errno;
	if (v)
		fail(name, "READ %s returned \"%s\", want %s", path, v, errname(want));
	else if (e != want)
		fail(name, "READ %s: %s, want %s", path, errname(e), errname(want));
	else
		ok(name);
	free(v);
}

static bool set_perms(struct xs_handle *h, const char *path, const char *spec)
{
	/* spec: "n5 r6 b0" */
	struct xs_permissions p[16];
	unsigned int n = 0;
	const char *s = spec;

	while (*s && n < 16) {
		switch (*s) {
		case 'n': p[n].perms = XS_PERM_NONE; break;
		case 'r': p[n].perms = XS_PERM_READ; break;
		case 'w': p[n].perms = XS_PERM_WRITE; break;
		case 'b': p[n].perms = XS_PERM_READ | XS_PERM_WRITE; break;
		default: errno = EINVAL; return false;
		}
		p[n].id = (unsigned int)strtoul(s + 1, NULL, 10);
		n++;
		s += strcspn(s, " ");
		s += strspn(s, " ");
	}
	return xs_set_permissions(h, XBT_NULL, path, p, n);
}

/* Permissions of path as "n5 r6", or "" with errno on failure. */
static const char *get_perms(struct xs_handle *h, const char *path)
{
	static char buf[256];
	unsigned int n;
	struct xs_permissions *p = xs_get_permissions(h, XBT_NULL, path, &n);

	buf[0] = '\0';
	if (!p)
		return buf;
	size_t len = 0;
	for (unsigned int i = 0; i < n && len < sizeof(buf) - 16; i++) {
		char c = "nrwb"[p[i].perms & 3];
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%c%u",
					i ? " " : "", c, p[i].id);
	}
	free(p);
	return buf;
}

/* Watch events seen on a handle, one "path token" line each. */
struct evlog {
	char buf[32768];
	size_t len;
};

static int ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Wait up to timeout_ms for the event (path, token) on h, logging all. */
static bool ev_wait(struct xs_handle *h, struct evlog *log, const char *path,
		    const char *token, int timeout_ms)
{
	struct timespec t0;
	int fd = xs_fileno(h);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = timeout_ms - ms_since(&t0);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			return false;
		int r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		unsigned int n;
		char **v = xs_read_watch(h, &n);
		if (!v)
			return false;
		int w = snprintf(log->buf + log->len, sizeof(log->buf) - log->len,
				 "%s %s\n", v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]);
		if (w > 0 && (size_t)w < sizeof(log->buf) - log->len)
			log->len += (size_t)w;
		bool hit = strcmp(v[XS_WATCH_PATH], path) == 0 &&
			   strcmp(v[XS_WATCH_TOKEN], token) == 0;
		free(v);
		if (hit)
			return true;
	}
}

static bool ev_seen(const struct evlog *log, const char *path, const char *token)
{
	char line[512];
	snprintf(line, sizeof(line), "%s %s\n", path, token);
	for (const char *s = log->buf; (s = strstr(s, line)); s++)
		if (s == log->buf || s[-1] == '\n')
			return true;
	return false;
}

/* The log as one line, for reports. */
static const char *ev_show(const struct evlog *log)
{
	static char buf[600];
	size_t n = log->len < sizeof(buf) - 1 ? log->len : sizeof(buf) - 1;
	memcpy(buf, log->buf, n);
	buf[n] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ';';
	return buf;
}

/* ---- raw wire helpers ------------------------------------------------------ */

static unsigned int rng_state = 12345;

static unsigned int rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) & 0xffffff;
}

static bool write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

static bool send_hdr(int fd, uint32_t type, uint32_t req, uint32_t tx, uint32_t len)
{
	struct xsd_sockmsg h = { type, req, tx, len };
	return write_all(fd, &h, sizeof(h));
}

/*
 * Wait up to timeout_ms for the reply to req_id on fd (watch events are
 * skipped). 1: got it (*body malloc'd, NUL-terminated); 0: timeout;
 * -1: connection closed or broken.
 */
static int recv_reply(int fd, uint32_t req_id, int timeout_ms,
		      struct xsd_sockmsg *h, char **body)
{
	struct timespec t0;

	*body = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = timeout_ms - ms_since(&t0);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			return 0;
		int r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (wire_recv(fd, h, body) < 0)
			return -1;
		if (h->type != XS_WATCH_EVENT && h->req_id == req_id)
			return 1;
		free(*body);
		*body = NULL;
	}
}

/* Has the daemon closed fd (EOF or reset) within timeout_ms? Input is discarded. */
static bool wait_closed(int fd, int timeout_ms)
{
	struct timespec t0;
	char buf[4096];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = timeout_ms - ms_since(&t0);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			return false;
		int r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
}

/*
 * One request on fd, and its reply summarised into out: the payload for a
 * normal reply, "ERROR <E...>" for an error, "<closed>" or "<timeout>".
 * Returns the reply's type, or -1.
 */
static int rpc(int fd, uint32_t type, uint32_t req_id, const void *body, size_t len,
	       char *out, size_t outlen)
{
	struct xsd_sockmsg h;
	char *b;

	if (wire_send(fd, type, req_id, 0, body, len) < 0) {
		snprintf(out, outlen, "<send failed: %s>", strerror(errno));
		return -1;
	}
	int r = recv_reply(fd, req_id, 5000, &h, &b);
	if (r <= 0) {
		snprintf(out, outlen, "%s", r < 0 ? "<closed>" : "<timeout>");
		return -1;
	}
	if (h.type == XS_ERROR)
		snprintf(out, outlen, "ERROR %s", b);
	else
		snprintf(out, outlen, "%s", b);
	free(b);
	return (int)h.type;
}

/* An endpoint to hammer and to ping. */
struct target {
	const char *label;      /* "dom0" / "dom6" */
	const char *path;       /* socket */
	const char *ping_node;  /* a node it may read */
	const char *ping_value;
	bool priv;
};

static const struct target *targets[2];

/* A fresh connection to t still answers a READ correctly? why: reason if not. */
static bool ping_one(const struct target *t, char *why, size_t whylen)
{
	char out[256];
	int fd = unix_connect(t->path);
	if (fd < 0) {
		snprintf(why, whylen, "%s: connect %s: %s", t->label, t->path, strerror(errno));
		return false;
	}
	int ty = rpc(fd, XS_READ, 77, t->ping_node, strlen(t->ping_node) + 1, out, sizeof(out));
	close(fd);
	if (ty != XS_READ || strcmp(out, t->ping_value) != 0) {
		snprintf(why, whylen, "%s: READ %s got \"%s\", want \"%s\"", t->label,
			 t->ping_node, out, t->ping_value);
		return false;
	}
	return true;
}

/* After a robustness case: both endpoints must still answer. */
static void alive(const char *casename)
{
	char name[128], why[512];
	snprintf(name, sizeof(name), "alive_after_%s", casename);
	for (int i = 0; i < 2; i++) {
		if (!ping_one(targets[i], why, sizeof(why))) {
			fail(name, "%s", why);
			return;
		}
	}
	ok(name);
}

/* ---- the test ------------------------------------------------------------- */

struct quotas {
	unsigned int nodes, watches, txs, node_size, perms;
};

static const char *sock0;
static char chan_dir[4096];

static void chan_path(char *buf, size_t len, unsigned int domid)
{
	snprintf(buf, len, "%s/domain-%u.sock", chan_dir, domid);
}

static struct xs_handle *open_dom(unsigned int domid)
{
	char p[4200];
	chan_path(p, sizeof(p), domid);
	return open_at(p);
}

static void read_quotas(struct xs_handle *h0, struct quotas *q)
{
	*q = (struct quotas){ 1000, 128, 10, 2048, 5 };
	char *s = xs_control_command(h0, "quota", NULL, 0);
	if (!s) {
		printf("# CONTROL quota failed (%s): assuming Xen's defaults\n", errname(errno));
		return;
	}
	const struct { const char *key; unsigned int *v; } keys[] = {
		{ "nodes:", &q->nodes }, { "watches:", &q->watches },
		{ "transactions:", &q->txs }, { "node-size:", &q->node_size },
		{ "permissions:", &q->perms },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (strncmp(l, keys[i].key, strlen(keys[i].key)) == 0) {
				*keys[i].v = (unsigned int)strtoul(l + strlen(keys[i].key), NULL, 10);
				break;
			}
		}
	}
	free(s);
	printf("# quotas: nodes %u, watches %u, transactions %u, node size %u, perms %u\n",
	       q->nodes, q->watches, q->txs, q->node_size, q->perms);
}

static bool setup(struct xs_handle *h0)
{
	static const unsigned int doms[] = { 5, 6, 7, 8 };
	bool good = true;

	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		char name[64], p[4200];
		snprintf(name, sizeof(name), "setup_introduce_%u", doms[i]);
		bool r = xs_introduce_domain(h0, doms[i], 0x1000 + doms[i], 10 + doms[i]);
		expect_true(name, r);
		good &= r;
		chan_path(p, sizeof(p), doms[i]);
		struct stat st;
		snprintf(name, sizeof(name), "channel_socket_%u", doms[i]);
		if (stat(p, &st) == 0 && S_ISSOCK(st.st_mode))
			ok(name);
		else {
			fail(name, "%s is not a socket after INTRODUCE", p);
			good = false;
		}
	}
	expect_true("is_domain_introduced_5", xs_is_domain_introduced(h0, 5));
	expect_err("introduce_port_0", xs_introduce_domain(h0, 9, 0x1009, 0), EINVAL);

	/* Domain homes, owned by the domain (as the toolstack makes them). */
	bool r = true;
	for (unsigned int d = 5; d <= 8; d++) {
		char path[64], perm[16];
		snprintf(path, sizeof(path), "/local/domain/%u", d);
		snprintf(perm, sizeof(perm), "n%u", d);
		r &= xs_mkdir(h0, XBT_NULL, path) && set_perms(h0, path, perm);
	}
	r &= xwrite(h0, "/local/domain/5/name", "guest5");
	r &= xwrite(h0, "/local/domain/6/name", "guest6");
	r &= xwrite(h0, "/local/domain/6/secret", "six");
	r &= xwrite(h0, "/local/domain/6/sub/deeper", "6deep");
	/* Domain 0's private nodes (the root is n0, so these inherit n0). */
	r &= xwrite(h0, "/n0", "secret0");
	r &= xwrite(h0, "/local/domain/0/priv", "dom0only");
	/* /pub is private; children with entries for domain 5. */
	r &= xwrite(h0, "/pub", "") && set_perms(h0, "/pub", "n0");
	r &= xwrite(h0, "/pub/r5", "for5") && set_perms(h0, "/pub/r5", "n0 r5");
	r &= xwrite(h0, "/pub/b5", "both5") && set_perms(h0, "/pub/b5", "n0 b5");
	r &= xwrite(h0, "/pub/priv", "hidden") && set_perms(h0, "/pub/priv", "n0");
	r &= xwrite(h0, "/pub/r5/kid", "private kid of a 5-readable node") &&
	     set_perms(h0, "/pub/r5/kid", "n0");
	expect_true("setup_tree", r);
	const char *p5 = get_perms(h0, "/local/domain/5");
	if (strcmp(p5, "n5") == 0)
		ok("setup_home_owner");
	else
		fail("setup_home_owner", "perms of /local/domain/5: \"%s\", want \"n5\"", p5);
	return good && r;
}

static void own_area(struct xs_handle *h5)
{
	expect_read("own_read_abs", h5, "/local/domain/5/name", "guest5");
	expect_read("own_read_rel", h5, "name", "guest5");
	expect_true("own_write_abs", xwrite(h5, "/local/domain/5/data/x", "1"));
	expect_true("own_write_rel", xwrite(h5, "data/y", "2"));
	expect_read("own_rel_is_home", h5, "/local/domain/5/data/y", "2");
	expect_read("own_read_rel_of_abs", h5, "data/x", "1");

	unsigned int n = 0;
	char **dir = xs_directory(h5, XBT_NULL, "data", &n);
	if (!dir)
		fail("own_directory_rel", "DIRECTORY data: %s", errname(errno));
	else if (n != 2 || strcmp(dir[0], "x") != 0 || strcmp(dir[1], "y") != 0)
		fail("own_directory_rel", "DIRECTORY data: %u entries, want x y", n);
	else
		ok("own_directory_rel");
	free(dir);

	const char *p = get_perms(h5, "data/x");
	if (strcmp(p, "n5") == 0)
		ok("own_new_node_owned");
	else
		fail("own_new_node_owned", "perms of data/x: \"%s\", want \"n5\"", p);

	expect_true("own_mkdir", xs_mkdir(h5, XBT_NULL, "data/dir"));
	expect_true("own_rm", xs_rm(h5, XBT_NULL, "data/dir"));
	expect_read_err("own_missing_enoent", h5, "data/nosuch", ENOENT);

	char *dp = xs_get_domain_path(h5, 5);
	if (dp && strcmp(dp, "/local/domain/5") == 0)
		ok("get_domain_path_own");
	else
		fail("get_domain_path_own", "got %s", dp ? dp : errname(errno));
	free(dp);
	dp = xs_get_domain_path(h5, 6);
	if (dp && strcmp(dp, "/local/domain/6") == 0)
		ok("get_domain_path_other");
	else
		fail("get_domain_path_other", "got %s", dp ? dp : errname(errno));
	free(dp);
}

static void other_areas(struct xs_handle *h5)
{
	unsigned int n;
	char **dir;

	expect_read_err("other_read", h5, "/local/domain/6/secret", EACCES);
	expect_err("other_write_existing", xwrite(h5, "/local/domain/6/secret", "x"), EACCES);
	expect_err("other_write_new", xwrite(h5, "/local/domain/6/new", "x"), EACCES);
	expect_err("other_mkdir", xs_mkdir(h5, XBT_NULL, "/local/domain/6/newdir"), EACCES);
	expect_err("other_rm", xs_rm(h5, XBT_NULL, "/local/domain/6/secret"), EACCES);
	dir = xs_directory(h5, XBT_NULL, "/local/domain/6", &n);
	expect_err("other_directory", dir != NULL, EACCES);
	free(dir);
	struct xs_permissions *p = xs_get_permissions(h5, XBT_NULL, "/local/domain/6", &n);
	expect_err("other_get_perms", p != NULL, EACCES);
	free(p);
	expect_err("other_set_perms", set_perms(h5, "/local/domain/6/secret", "n6 r5"), EACCES);
	expect_read_err("other_missing_eacces", h5, "/local/domain/6/nosuch", EACCES);
	expect_read_err("other_missing_deep_eacces", h5, "/local/domain/6/a/b/c", EACCES);
	expect_read_err("other_relative_escape", h5, "../6/secret", EINVAL);

	expect_read_err("dom0_private_read", h5, "/n0", EACCES);
	expect_err("dom0_private_write", xwrite(h5, "/n0", "x"), EACCES);
	expect_read_err("dom0_home_read", h5, "/local/domain/0/priv", EACCES);
	expect_read_err("dom0_missing_eacces", h5, "/n0/missing", EACCES);
	expect_read_err("dom0_missing_under_home", h5, "/local/domain/0/nosuch", EACCES);
	expect_err("dom0_create_top", xwrite(h5, "/newtop", "x"), EACCES);
	dir = xs_directory(h5, XBT_NULL, "/", &n);
	expect_err("dom0_root_directory", dir != NULL, EACCES);
	free(dir);
	expect_err("dom0_rm_private", xs_rm(h5, XBT_NULL, "/pub/priv"), EACCES);

	/* Entries for domain 5 on dom0's nodes. */
	expect_read("granted_r5_read", h5, "/pub/r5", "for5");
	expect_err("granted_r5_no_write", xwrite(h5, "/pub/r5", "x"), EACCES);
	expect_read_err("granted_r5_kid_private", h5, "/pub/r5/kid", EACCES);
	expect_read_err("granted_r5_missing_enoent", h5, "/pub/r5/nosuch", ENOENT);
	expect_read_err("private_sibling", h5, "/pub/priv", EACCES);
	expect_read_err("private_parent", h5, "/pub", EACCES);
	expect_true("granted_b5_write", xwrite(h5, "/pub/b5", "written by 5"));
	expect_read("granted_b5_read", h5, "/pub/b5", "written by 5");
	const char *pp = get_perms(h5, "/pub/b5");
	if (strcmp(pp, "n0 b5") == 0)
		ok("granted_b5_owner_kept");
	else
		fail("granted_b5_owner_kept", "perms after write by 5: \"%s\", want \"n0 b5\"", pp);
}

static void privileged_ops(struct xs_handle *h5)
{
	expect_err("priv_introduce", xs_introduce_domain(h5, 9, 0x1009, 19), EACCES);
	expect_err("priv_release", xs_release_domain(h5, 6), EACCES);
	errno = 0;
	bool r = xs_is_domain_introduced(h5, 6);
	expect_err("priv_is_domain_introduced", r, EACCES);
	char *s = xs_control_command(h5, "check", NULL, 0);
	expect_err("priv_control", s != NULL, EACCES);
	free(s);
	expect_err("priv_set_target", xs_set_target(h5, 5, 6), EACCES);
	expect_err("priv_resume", xs_resume_domain(h5, 5), EACCES);
}

static void ownership(struct xs_handle *h0, struct xs_handle *h5, struct xs_handle *h6)
{
	expect_err("chown_own_node_eperm", set_perms(h5, "data/x", "n6"), EPERM);
	const char *p = get_perms(h5, "data/x");
	if (strcmp(p, "n5") == 0)
		ok("chown_refused_unchanged");
	else
		fail("chown_refused_unchanged", "perms of data/x: \"%s\", want \"n5\"", p);
	expect_read_err("grant_before", h6, "/local/domain/5/data/x", EACCES);
	expect_true("grant_same_owner", set_perms(h5, "data/x", "n5 r6"));
	expect_read("grant_other_reads", h6, "/local/domain/5/data/x", "1");
	expect_err("grant_other_no_write", xwrite(h6, "/local/domain/5/data/x", "6"), EACCES);
	expect_true("grant_revoke", set_perms(h5, "data/x", "n5"));
	expect_read_err("grant_revoked", h6, "/local/domain/5/data/x", EACCES);
	/* Domain 0 may change the owner. */
	expect_true("chown_by_dom0", set_perms(h0, "/local/domain/5/data/y", "n6"));
	expect_read("chown_new_owner_reads", h6, "/local/domain/5/data/y", "2");
	expect_true("chown_back_by_dom0", set_perms(h0, "/local/domain/5/data/y", "n5"));
}

static void watches(struct xs_handle *h0, struct xs_handle *h5)
{
	struct evlog *log = calloc(1, sizeof(*log));
	if (!log)
		return;

	bool r = xs_watch(h5, "/pub", "pub") && ev_wait(h5, log, "/pub", "pub", 3000);
	expect_true("watch_private_parent_initial", r);
	r = xs_watch(h5, "/local/domain/6", "six") &&
	    ev_wait(h5, log, "/local/domain/6", "six", 3000);
	expect_true("watch_other_domain_initial", r);
	r = xs_watch(h5, "data", "rel") && ev_wait(h5, log, "data", "rel", 3000);
	expect_true("watch_relative_initial", r);
	r = xs_watch(h5, "@introduceDomain", "intro") &&
	    ev_wait(h5, log, "@introduceDomain", "intro", 3000);
	expect_true("watch_special_initial", r);

	/* Changes domain 5 may not see, then one it may (the marker). */
	log->len = 0;
	r = xwrite(h0, "/pub/priv", "changed") && xwrite(h0, "/local/domain/6/secret", "six") &&
	    xwrite(h0, "/pub/newpriv", "new private") &&
	    xs_introduce_domain(h0, 9, 0x1009, 19) &&
	    xwrite(h0, "/pub/r5/kid", "kid changed") && xwrite(h0, "/pub/r5", "for5");
	if (!r) {
		fail("watch_setup_writes", "dom0 write failed: %s", errname(errno));
	} else {
		bool got = ev_wait(h5, log, "/pub/r5", "pub", 3000);
		if (got)
			ok("watch_readable_delivered");
		else
			fail("watch_readable_delivered", "no event for /pub/r5 within 3 s; got: %s",
			     ev_show(log));
		if (ev_seen(log, "/pub/priv", "pub"))
			fail("watch_private_filtered", "domain 5 got the event for /pub/priv (n0, parent n0)");
		else
			ok("watch_private_filtered");
		if (ev_seen(log, "/pub/newpriv", "pub"))
			fail("watch_private_new_filtered", "domain 5 got the event for new /pub/newpriv (n0)");
		else
			ok("watch_private_new_filtered");
		if (ev_seen(log, "/local/domain/6/secret", "six"))
			fail("watch_other_domain_filtered", "domain 5 got the event for /local/domain/6/secret");
		else
			ok("watch_other_domain_filtered");
		if (ev_seen(log, "@introduceDomain", "intro"))
			fail("watch_special_filtered", "domain 5 got @introduceDomain (dom0 only, n0)");
		else
			ok("watch_special_filtered");
		/* Xen: a node's event is sent if the node OR its parent is readable. */
		if (ev_seen(log, "/pub/r5/kid", "pub"))
			ok("watch_readable_parent_delivered");
		else
			fail("watch_readable_parent_delivered",
			     "no event for /pub/r5/kid (n0, parent readable by 5); Xen's watch_permitted "
			     "sends it; got: %s", ev_show(log));
	}
	xs_release_domain(h0, 9);

	log->len = 0;
	r = xwrite(h0, "/local/domain/5/data/z", "from dom0");
	if (r && ev_wait(h5, log, "data/z", "rel", 3000))
		ok("watch_relative_event_path");
	else
		fail("watch_relative_event_path", "want event \"data/z rel\"; got: %s", ev_show(log));

	/* Losing read access still tells the watcher (old perms count). */
	log->len = 0;
	r = set_perms(h0, "/pub/r5", "n0") && xwrite(h0, "/pub/b5", "marker");
	if (r && ev_wait(h5, log, "/pub/b5", "pub", 3000) && ev_seen(log, "/pub/r5", "pub"))
		ok("watch_perm_loss_delivered");
	else
		fail("watch_perm_loss_delivered", "want /pub/r5 (r5 revoked) before /pub/b5; got: %s",
		     ev_show(log));
	set_perms(h0, "/pub/r5", "n0 r5");

	expect_true("unwatch", xs_unwatch(h5, "/pub", "pub") && xs_unwatch(h5, "data", "rel") &&
			       xs_unwatch(h5, "/local/domain/6", "six") &&
			       xs_unwatch(h5, "@introduceDomain", "intro"));
	expect_err("unwatch_unknown", xs_unwatch(h5, "/pub", "pub"), ENOENT);
	free(log);
}

static void quota_nodes(const struct quotas *q, struct xs_handle *h8)
{
	/*
	 * /local/domain/8 is domain 8's: it owns 1 node and may own q->nodes.
	 * Two levels (q/A/B, 50 children per A) so that no parent outgrows the
	 * node size quota through its list of children; each step adds one node.
	 */
	char path[64];
	unsigned int made = 0;
	int err = 0;

	for (unsigned int i = 0; i < q->nodes + 60; i++) {
		unsigned int a = (i - 1) / 51, b = (i - 1) % 51;
		if (i == 0)
			snprintf(path, sizeof(path), "q");
		else if (b == 0)
			snprintf(path, sizeof(path), "q/%u", a);
		else
			snprintf(path, sizeof(path), "q/%u/%u", a, b);
		bool r = (i == 0 || b == 0) ? xs_mkdir(h8, XBT_NULL, path) : xwrite(h8, path, "");
		if (!r) {
			err = errno;
			break;
		}
		made++;
	}
	if (made == q->nodes - 1 && err == ENOSPC)
		ok("quota_nodes_enospc");
	else
		fail("quota_nodes_enospc", "domain 8 owning 1 node created %u more then got %s; "
		     "want %u more (Xen: create while owned < %u) then ENOSPC",
		     made, errname(err), q->nodes - 1, q->nodes);
	expect_err("quota_nodes_mkdir", xs_mkdir(h8, XBT_NULL, "qq"), ENOSPC);

	/* Free one slot; a 3-level write must fail whole, a 1-level one fit. */
	snprintf(path, sizeof(path), "q/0/1");
	bool r = xs_rm(h8, XBT_NULL, path);
	expect_err("quota_nodes_multilevel", r && xwrite(h8, "deep/a/b", "x"), ENOSPC);
	char *v = xread(h8, "deep");
	if (!v && errno == ENOENT)
		ok("quota_nodes_nothing_half_made");
	else
		fail("quota_nodes_nothing_half_made", "after ENOSPC for deep/a/b, READ deep: %s",
		     v ? "exists" : errname(errno));
	free(v);
	expect_true("quota_nodes_last_slot", xwrite(h8, "one", "1"));
	expect_err("quota_nodes_full_again", xwrite(h8, "two", "2"), ENOSPC);

	/* In a transaction too, and the count is right after removal. */
	xs_transaction_t t = xs_transaction_start(h8);
	r = t != XBT_NULL && xs_rm(h8, t, "one");
	bool w1 = r && xs_write(h8, t, "t1", "1", 1);
	bool w2 = w1 && xs_write(h8, t, "t2", "2", 1);
	int e = errno;
	if (t != XBT_NULL)
		xs_transaction_end(h8, t, true);
	if (w1 && !w2 && e == ENOSPC)
		ok("quota_nodes_in_transaction");
	else
		fail("quota_nodes_in_transaction", "after rm of 1 node in a transaction: write t1 %s, "
		     "write t2 %s (want ok, ENOSPC)", w1 ? "ok" : errname(e), w2 ? "ok" : errname(e));
	r = xs_rm(h8, XBT_NULL, "q") && xs_rm(h8, XBT_NULL, "t1");
	expect_true("quota_nodes_cleanup", r);
	expect_true("quota_nodes_free_again", xwrite(h8, "after", "1") && xs_rm(h8, XBT_NULL, "after"));
}

static void quota_watches(const struct quotas *q, struct xs_handle *h8, struct xs_handle *h8b)
{
	char path[64];
	unsigned int made = 0;
	int err = 0;

	for (unsigned int i = 0; i < q->watches + 5; i++) {
		snprintf(path, sizeof(path), "w/%u", i);
		if (!xs_watch(h8, path, "qw")) {
			err = errno;
			break;
		}
		made++;
	}
	/* Xen 4.17 do_watch(): E2BIG if domain_watch(conn) > quota before adding,
	 * so a domain gets quota + 1 watches. */
	if (made == q->watches + 1 && err == E2BIG)
		ok("quota_watches_e2big");
	else
		fail("quota_watches_e2big", "domain 8 set %u watches then got %s; want %u (Xen: "
		     "refuse when count > %u before adding) then E2BIG",
		     made, errname(err), q->watches + 1, q->watches);
	expect_err("quota_watches_per_domain", xs_watch(h8b, "w/other", "qw"), E2BIG);
	expect_true("quota_watches_unwatch_frees",
		    xs_unwatch(h8, "w/0", "qw") && xs_watch(h8b, "w/other", "qw"));
	for (unsigned int i = 1; i < made; i++) {
		snprintf(path, sizeof(path), "w/%u", i);
		xs_unwatch(h8, path, "qw");
	}
	xs_unwatch(h8b, "w/other", "qw");
}

static void quota_transactions(const struct quotas *q, struct xs_handle *h8, struct xs_handle *h8b)
{
	xs_transaction_t ts[64];
	unsigned int made = 0;
	int err = 0;

	for (unsigned int i = 0; i < q->txs + 5 && i < 64; i++) {
		ts[i] = xs_transaction_start(h8);
		if (ts[i] == XBT_NULL) {
			err = errno;
			break;
		}
		made++;
	}
	/* Xen 4.17: ENOSPC if transaction_started > quota before starting. */
	if (made == q->txs + 1 && err == ENOSPC)
		ok("quota_transactions_enospc");
	else
		fail("quota_transactions_enospc", "domain 8 started %u transactions then got %s; "
		     "want %u then ENOSPC", made, errname(err), q->txs + 1);
	/* Transaction ids belong to their connection. */
	unsigned int len;
	char *v = made ? xs_read(h8b, ts[0], "/local/domain/8", &len) : NULL;
	expect_err("transaction_id_other_conn", v != NULL, ENOENT);
	free(v);
	/* The limit is the domain's, over all its connections (Xen's). */
	xs_transaction_t t2 = xs_transaction_start(h8b);
	expect_err("quota_transactions_per_domain", t2 != XBT_NULL, ENOSPC);
	if (t2 != XBT_NULL)
		xs_transaction_end(h8b, t2, true);
	bool r = true;
	for (unsigned int i = 0; i < made; i++)
		r &= xs_transaction_end(h8, ts[i], true);
	expect_true("quota_transactions_end_all", r);
	t2 = xs_transaction_start(h8);
	expect_true("quota_transactions_free_again", t2 != XBT_NULL);
	if (t2 != XBT_NULL)
		xs_transaction_end(h8, t2, false);
}

static void quota_size_perms(const struct quotas *q, struct xs_handle *h0, struct xs_handle *h5)
{
	/* Xen: a record (24-byte header + 8 per perm + data + children) of
	 * node_size bytes or more is ENOSPC. One perm: data < node_size - 32. */
	size_t max = q->node_size - 24 - 8 - 1;
	char *big = malloc(max + 2);
	if (!big)
		return;
	memset(big, 'x', max + 1);
	big[max + 1] = '\0';

	expect_true("quota_size_max_ok", xs_write(h5, XBT_NULL, "big", big, (unsigned int)max));
	expect_err("quota_size_enospc", xs_write(h5, XBT_NULL, "big", big, (unsigned int)max + 1),
		   ENOSPC);
	unsigned int len = 0;
	char *v = xs_read(h5, XBT_NULL, "big", &len);
	if (v && len == max)
		ok("quota_size_old_value_kept");
	else
		fail("quota_size_old_value_kept", "after ENOSPC: %s, length %u, want %zu",
		     v ? "read" : errname(errno), len, max);
	free(v);
	expect_err("quota_size_new_node", xs_write(h5, XBT_NULL, "big2/sub", big, (unsigned int)max + 1),
		   ENOSPC);
	v = xread(h5, "big2");
	if (!v && errno == ENOENT)
		ok("quota_size_nothing_half_made");
	else
		fail("quota_size_nothing_half_made", "after ENOSPC for big2/sub, READ big2: %s",
		     v ? "exists" : errname(errno));
	free(v);
	expect_true("quota_size_dom0_exempt", xs_write(h0, XBT_NULL, "/local/domain/5/dom0big", big,
						     (unsigned int)max + 1));
	xs_rm(h5, XBT_NULL, "big");
	xs_rm(h0, XBT_NULL, "/local/domain/5/dom0big");
	free(big);

	/* Permission entries: q->perms allowed, one more ENOSPC. */
	char spec[256] = "n5";
	for (unsigned int i = 1; i < q->perms; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), " r%u", 6 + i % 3);
	expect_true("quota_perms_max_ok", set_perms(h5, "data/x", spec));
	char before[256];
	snprintf(before, sizeof(before), "%s", get_perms(h5, "data/x"));
	snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), " r6");
	expect_err("quota_perms_enospc", set_perms(h5, "data/x", spec), ENOSPC);
	const char *after = get_perms(h5, "data/x");
	if (strcmp(before, after) == 0)
		ok("quota_perms_unchanged");
	else
		fail("quota_perms_unchanged", "perms \"%s\" became \"%s\"", before, after);
	expect_true("quota_perms_dom0_exempt", set_perms(h0, "/local/domain/5/data/y", spec));
	set_perms(h0, "/local/domain/5/data/y", "n5");
	set_perms(h5, "data/x", "n5");
}

static void target(struct xs_handle *h0)
{
	struct xs_handle *h7a = open_dom(7);
	if (!h7a) {
		fail("target_open", "domain 7 channel: %s", strerror(errno));
		return;
	}
	expect_read_err("target_before", h7a, "/local/domain/5/name", EACCES);
	expect_true("target_set", xs_set_target(h0, 7, 5));
	expect_read("target_existing_conn_reads", h7a, "/local/domain/5/name", "guest5");
	struct xs_handle *h7b = open_dom(7);
	if (h7b) {
		expect_read("target_new_conn_reads", h7b, "/local/domain/5/name", "guest5");
		expect_true("target_writes", xwrite(h7b, "/local/domain/5/data/from7", "7"));
		expect_read_err("target_not_others", h7b, "/local/domain/6/secret", EACCES);
		expect_read_err("target_not_dom0", h7b, "/n0", EACCES);
		expect_read("target_own_still", h7b, "/local/domain/7", "");
		xs_close(h7b);
	} else {
		fail("target_new_conn_reads", "domain 7 channel: %s", strerror(errno));
	}
	xs_close(h7a);
}

static void release(struct xs_handle *h0, struct xs_handle *h6)
{
	struct evlog *log = calloc(1, sizeof(*log));
	char p5[4200], out[256] = "<connect failed>";
	if (!log)
		return;
	chan_path(p5, sizeof(p5), 5);

	struct xs_handle *hw = open_at(sock0);
	bool r = hw && xs_watch(hw, "@releaseDomain", "rel") &&
		 ev_wait(hw, log, "@releaseDomain", "rel", 3000);
	expect_true("release_watch_initial", r);
	/* Another domain must not see @releaseDomain (n0). */
	struct evlog *log6 = calloc(1, sizeof(*log6));
	r = log6 && xs_watch(h6, "@releaseDomain", "rel6") &&
	    ev_wait(h6, log6, "@releaseDomain", "rel6", 3000) &&
	    xs_watch(h6, "marker", "m6") && ev_wait(h6, log6, "marker", "m6", 3000);
	expect_true("release_watch_domain_initial", r);
	if (log6)
		log6->len = 0;

	int raw = unix_connect(p5);
	int ty = raw >= 0 ? rpc(raw, XS_READ, 5, "name", 5, out, sizeof(out)) : -1;
	if (ty == XS_READ && strcmp(out, "guest5") == 0)
		ok("release_raw_conn_works");
	else
		fail("release_raw_conn_works", "READ name on a raw domain 5 connection: %s", out);

	log->len = 0;
	expect_true("release_domain", xs_release_domain(h0, 5));
	if (hw && ev_wait(hw, log, "@releaseDomain", "rel", 3000))
		ok("release_event_dom0");
	else
		fail("release_event_dom0", "no @releaseDomain event within 3 s; got: %s", ev_show(log));
	if (log6 && xwrite(h0, "/local/domain/6/marker", "m") &&
	    ev_wait(h6, log6, "marker", "m6", 3000) && !ev_seen(log6, "@releaseDomain", "rel6"))
		ok("release_event_not_to_domains");
	else
		fail("release_event_not_to_domains", "domain 6 watching @releaseDomain; events: %s",
		     log6 ? ev_show(log6) : "?");
	free(log6);
	if (raw >= 0 && wait_closed(raw, 3000))
		ok("release_closes_connections");
	else
		fail("release_closes_connections", "a domain 5 connection is still open 3 s after RELEASE");
	if (raw >= 0)
		close(raw);
	struct stat st;
	if (stat(p5, &st) < 0 && errno == ENOENT)
		ok("release_socket_removed");
	else
		fail("release_socket_removed", "%s still exists", p5);
	int c = unix_connect(p5);
	if (c < 0)
		ok("release_no_connect");
	else {
		fail("release_no_connect", "connect to %s succeeded after RELEASE", p5);
		close(c);
	}
	expect_read_err("release_nodes_removed", h0, "/local/domain/5", ENOENT);
	expect_read("release_dom0_nodes_kept", h0, "/pub/r5", "for5");
	errno = 0;
	r = xs_is_domain_introduced(h0, 5);
	if (!r && errno == 0)
		ok("release_not_introduced");
	else
		fail("release_not_introduced", "IS_DOMAIN_INTRODUCED 5: %s", r ? "T" : errname(errno));
	expect_err("release_twice", xs_release_domain(h0, 5), ENOENT);
	/* Introduced again: a fresh channel, nothing left of the old one. */
	r = xs_introduce_domain(h0, 5, 0x1005, 15);
	struct xs_handle *h5b = r ? open_dom(5) : NULL;
	if (h5b) {
		/* Its home is gone: the nearest ancestor, /local/domain, is n0. */
		expect_read_err("reintroduce_fresh", h5b, "/local/domain/5/name", EACCES);
		/* The old domain 5's grant (r5 on /pub/r5) is not the new one's. */
		expect_read_err("reintroduce_no_stale_grant", h5b, "/pub/r5", EACCES);
		char *dp = xs_get_domain_path(h5b, 5);
		expect_true("reintroduce_answers", dp && strcmp(dp, "/local/domain/5") == 0);
		free(dp);
		xs_close(h5b);
	} else {
		fail("reintroduce_fresh", "INTRODUCE/connect after RELEASE: %s", errname(errno));
	}
	if (hw)
		xs_close(hw);
	free(log);
}

/* ---- robustness -------------------------------------------------------- */

static void rb_garbage(const struct target *t)
{
	char name[64], buf[256];
	int fd = unix_connect(t->path);

	snprintf(name, sizeof(name), "garbage_random_%s", t->label);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)rnd();
	if (fd < 0 || !write_all(fd, buf, sizeof(buf)))
		fail(name, "connect/send failed: %s", strerror(errno));
	else
		ok(name);
	if (fd >= 0)
		close(fd);
	alive(name);

	snprintf(name, sizeof(name), "garbage_text_%s", t->label);
	fd = unix_connect(t->path);
	const char *txt = "GET / HTTP/1.0\r\nHost: xenstore\r\n\r\nhello hello hello hello\n";
	if (fd < 0 || !write_all(fd, txt, strlen(txt)))
		fail(name, "connect/send failed: %s", strerror(errno));
	else
		ok(name);
	/* The "header" announces len 0x6f6c6c65-ish: that connection must go. */
	snprintf(name, sizeof(name), "garbage_text_dropped_%s", t->label);
	if (fd < 0)
		fail(name, "connect: %s", strerror(errno));
	else if (wait_closed(fd, 3000))
		ok(name);
	else
		fail(name, "the daemon kept a connection whose header announced a huge payload");
	if (fd >= 0)
		close(fd);
	alive(name);
}

static void rb_truncated(const struct target *t)
{
	char name[64];
	int fd = unix_connect(t->path);
	struct xsd_sockmsg h = { XS_READ, 1, 0, 100 };

	snprintf(name, sizeof(name), "truncated_header_%s", t->label);
	if (fd >= 0) {
		write_all(fd, &h, 7);
		close(fd);
	}
	alive(name);

	snprintf(name, sizeof(name), "truncated_payload_%s", t->label);
	fd = unix_connect(t->path);
	if (fd >= 0) {
		write_all(fd, &h, sizeof(h));
		write_all(fd, "/local/do", 9);
		close(fd);
	}
	alive(name);

	/* Truncated, then kept open: others must still be served meanwhile. */
	snprintf(name, sizeof(name), "truncated_kept_open_%s", t->label);
	fd = unix_connect(t->path);
	if (fd >= 0) {
		write_all(fd, &h, 10);
		alive(name);
		close(fd);
	} else {
		fail(name, "connect: %s", strerror(errno));
	}
}

static void rb_oversize(const struct target *t)
{
	char name[64], out[256] = "<connect failed>";
	int bystander = unix_connect(t->path), victim = unix_connect(t->path);

	snprintf(name, sizeof(name), "oversize_bystander_before_%s", t->label);
	int ty = bystander >= 0 ? rpc(bystander, XS_READ, 9, t->ping_node,
				       strlen(t->ping_node) + 1, out, sizeof(out)) : -1;
	if (ty == XS_READ && strcmp(out, t->ping_value) == 0)
		ok(name);
	else
		fail(name, "READ %s: %s", t->ping_node, out);

	snprintf(name, sizeof(name), "oversize_dropped_%s", t->label);
	if (victim >= 0) {
		char pad[512];
		memset(pad, 'a', sizeof(pad));
		send_hdr(victim, XS_WRITE, 10, 0, 5000);
		write_all(victim, pad, sizeof(pad));
		/* A valid request after it must not be answered. */
		wire_send(victim, XS_READ, 11, 0, t->ping_node, strlen(t->ping_node) + 1);
		if (wait_closed(victim, 3000))
			ok(name);
		else
			fail(name, "header with len 5000 (> %d): connection not closed within 3 s",
			     XENSTORE_PAYLOAD_MAX);
		close(victim);
	} else {
		fail(name, "connect: %s", strerror(errno));
	}

	snprintf(name, sizeof(name), "oversize_bystander_kept_%s", t->label);
	ty = bystander >= 0 ? rpc(bystander, XS_READ, 12, t->ping_node,
				  strlen(t->ping_node) + 1, out, sizeof(out)) : -1;
	if (ty == XS_READ && strcmp(out, t->ping_value) == 0)
		ok(name);
	else
		fail(name, "the other connection's READ %s after the drop: %s", t->ping_node, out);
	if (bystander >= 0)
		close(bystander);
	alive(name);

	/* Exactly XENSTORE_PAYLOAD_MAX is legal: answered, connection kept. */
	snprintf(name, sizeof(name), "payload_max_accepted_%s", t->label);
	int fd = unix_connect(t->path);
	char *body = malloc(XENSTORE_PAYLOAD_MAX);
	if (fd >= 0 && body) {
		memset(body, 'a', XENSTORE_PAYLOAD_MAX - 1);
		body[XENSTORE_PAYLOAD_MAX - 1] = '\0';
		ty = rpc(fd, XS_READ, 13, body, XENSTORE_PAYLOAD_MAX, out, sizeof(out));
		char out2[256];
		int ty2 = rpc(fd, XS_READ, 14, t->ping_node, strlen(t->ping_node) + 1,
			      out2, sizeof(out2));
		if (ty == XS_ERROR && strcmp(out, "ERROR EINVAL") == 0 && ty2 == XS_READ &&
		    strcmp(out2, t->ping_value) == 0)
			ok(name);
		else
			fail(name, "READ of a 4095-char name: \"%s\" (want ERROR EINVAL); then READ %s: \"%s\"",
			     out, t->ping_node, out2);
	} else {
		fail(name, "connect: %s", strerror(errno));
	}
	free(body);
	if (fd >= 0)
		close(fd);
}

/*
 * What Debian's Xen 4.17 cxenstored answers when the one name argument of
 * a request is missing, not NUL-terminated or followed by more strings
 * (measured side by side, tests/proto/compare.sh): READ ENOENT, RM ENOMEM,
 * the others EINVAL. xmstored answers the same.
 */
static const char *name_arg_expect(uint32_t type)
{
	switch (type) {
	case XS_READ: return "ERROR ENOENT";
	case XS_RM: return "ERROR ENOMEM";
	default: return "ERROR EINVAL";
	}
}

/* What Xen answers to an empty payload of each type. */
static const char *empty_expect(uint32_t type, bool priv)
{
	switch (type) {
	case XS_CONTROL:
	case XS_INTRODUCE:
	case XS_RELEASE:
	case XS_IS_DOMAIN_INTRODUCED:
	case XS_RESUME:
	case XS_SET_TARGET:
		return priv ? "ERROR EINVAL" : "ERROR EACCES";
	case XS_TRANSACTION_START:
		return NULL; /* a transaction id */
	case XS_RESET_WATCHES:
		return "OK";
	case XS_DIRECTORY: case XS_READ: case XS_GET_PERMS: case XS_MKDIR: case XS_RM:
		return name_arg_expect(type);
	case XS_WATCH:
	case XS_UNWATCH: case XS_TRANSACTION_END: case XS_GET_DOMAIN_PATH:
	case XS_WRITE: case XS_SET_PERMS:
	case XS_DIRECTORY_PART:
		return "ERROR EINVAL";
	default:
		return "ERROR ENOSYS";
	}
}

static void rb_empty(const struct target *t)
{
	char name[96], out[256];
	int fd = unix_connect(t->path);

	if (fd < 0) {
		fail("empty_connect", "%s: %s", t->label, strerror(errno));
		return;
	}
	for (uint32_t type = 0; type <= 25; type++) {
		const char *tn = wire_type_name(type);
		char tbuf[16];
		if (!tn) {
			snprintf(tbuf, sizeof(tbuf), "type%u", type);
			tn = tbuf;
		}
		snprintf(name, sizeof(name), "empty_%s_%s", tn, t->label);
		int ty = rpc(fd, type, 1000 + type, NULL, 0, out, sizeof(out));
		const char *want = empty_expect(type, t->priv);
		if (ty < 0)
			fail(name, "no reply: %s", out);
		else if (!want && (ty != (int)type || atoi(out) <= 0))
			fail(name, "got type %d \"%s\", want a transaction id", ty, out);
		else if (want && strcmp(out, want) != 0)
			fail(name, "got \"%s\", want \"%s\"", out, want);
		else
			ok(name);
	}
	snprintf(name, sizeof(name), "empty_conn_kept_%s", t->label);
	int ty = rpc(fd, XS_READ, 2000, t->ping_node, strlen(t->ping_node) + 1, out, sizeof(out));
	if (ty == XS_READ && strcmp(out, t->ping_value) == 0)
		ok(name);
	else
		fail(name, "READ on the same connection afterwards: %s", out);
	close(fd);
	alive(name);
}

static void rb_unknown_and_nul(const struct target *t)
{
	static const uint32_t unknown[] = { XS_WATCH_EVENT, XS_ERROR, 20, XS_TYPE_COUNT,
					    999, XS_INVALID, 0x7fffffff };
	char name[96], out[256];
	int fd = unix_connect(t->path);

	if (fd < 0) {
		fail("unknown_connect", "%s: %s", t->label, strerror(errno));
		return;
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		snprintf(name, sizeof(name), "unknown_type_%u_%s", unknown[i], t->label);
		int ty = rpc(fd, unknown[i], 3000 + (uint32_t)i, t->ping_node,
			     strlen(t->ping_node) + 1, out, sizeof(out));
		if (ty == XS_ERROR && strcmp(out, "ERROR ENOSYS") == 0)
			ok(name);
		else
			fail(name, "got type %d \"%s\", want ERROR ENOSYS", ty, out);
	}

	const char *node = t->ping_node;
	char buf[512];
	size_t nl = strlen(node);
	static const struct { uint32_t type; const char *label; } one[] = {
		{ XS_READ, "READ" }, { XS_DIRECTORY, "DIRECTORY" }, { XS_GET_PERMS, "GET_PERMS" },
		{ XS_MKDIR, "MKDIR" }, { XS_RM, "RM" }, { XS_WRITE, "WRITE" },
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		snprintf(name, sizeof(name), "no_nul_%s_%s", one[i].label, t->label);
		int ty = rpc(fd, one[i].type, 3100 + (uint32_t)i, node, nl, out, sizeof(out));
		const char *want = name_arg_expect(one[i].type);
		if (ty == XS_ERROR && strcmp(out, want) == 0)
			ok(name);
		else
			fail(name, "\"%s\" without its NUL: got type %d \"%s\", want %s",
			     node, ty, out, want);
	}
	/* Two strings where one is expected. */
	snprintf(name, sizeof(name), "two_strings_READ_%s", t->label);
	memcpy(buf, node, nl + 1);
	memcpy(buf + nl + 1, "x", 2);
	int ty = rpc(fd, XS_READ, 3200, buf, nl + 3, out, sizeof(out));
	if (ty == XS_ERROR && strcmp(out, "ERROR ENOENT") == 0)
		ok(name);
	else
		fail(name, "READ \"%s\\0x\\0\": got type %d \"%s\", want ERROR ENOENT", node, ty, out);
	/* WATCH whose token lacks its NUL; SET_PERMS whose last entry does. */
	snprintf(name, sizeof(name), "no_nul_WATCH_token_%s", t->label);
	memcpy(buf + nl + 1, "tok", 3);
	ty = rpc(fd, XS_WATCH, 3201, buf, nl + 4, out, sizeof(out));
	if (ty == XS_ERROR && strcmp(out, "ERROR EINVAL") == 0)
		ok(name);
	else
		fail(name, "WATCH \"%s\\0tok\": got type %d \"%s\", want ERROR EINVAL", node, ty, out);
	snprintf(name, sizeof(name), "no_nul_SET_PERMS_%s", t->label);
	memcpy(buf + nl + 1, "n0", 2);
	ty = rpc(fd, XS_SET_PERMS, 3202, buf, nl + 3, out, sizeof(out));
	if (ty == XS_ERROR && strcmp(out, "ERROR EINVAL") == 0)
		ok(name);
	else
		fail(name, "SET_PERMS \"%s\\0n0\": got type %d \"%s\", want ERROR EINVAL", node, ty, out);
	/* Unknown transaction id. */
	snprintf(name, sizeof(name), "unknown_tx_id_%s", t->label);
	struct xsd_sockmsg h;
	char *b = NULL;
	if (wire_send(fd, XS_READ, 3300, 4242, node, nl + 1) == 0 &&
	    recv_reply(fd, 3300, 5000, &h, &b) == 1 && h.type == XS_ERROR &&
	    strcmp(b, "ENOENT") == 0)
		ok(name);
	else
		fail(name, "READ with tx_id 4242: got %s, want ERROR ENOENT", b ? b : "nothing");
	free(b);

	/* Pipelined: 50 requests in one write, 50 replies in order. */
	snprintf(name, sizeof(name), "pipelined_%s", t->label);
	size_t msg = WIRE_HDR_LEN + nl + 1, total = 50 * msg;
	char *burst = malloc(total);
	int got = 0;
	if (burst) {
		for (uint32_t i = 0; i < 50; i++) {
			struct xsd_sockmsg m = { XS_READ, 4000 + i, 0, (uint32_t)(nl + 1) };
			memcpy(burst + i * msg, &m, WIRE_HDR_LEN);
			memcpy(burst + i * msg + WIRE_HDR_LEN, node, nl + 1);
		}
		if (write_all(fd, burst, total)) {
			for (uint32_t i = 0; i < 50; i++) {
				b = NULL;
				if (recv_reply(fd, 4000 + i, 5000, &h, &b) == 1 && h.type == XS_READ &&
				    strcmp(b, t->ping_value) == 0)
					got++;
				free(b);
				if (got != (int)i + 1)
					break;
			}
		}
		free(burst);
	}
	if (got == 50)
		ok(name);
	else
		fail(name, "only %d of 50 pipelined READs answered in order", got);
	close(fd);
	alive(name);
}

static void rb_random(const struct target *t)
{
	char name[96];
	int fd = unix_connect(t->path);
	char body[512];

	if (fd < 0) {
		fail("random_connect", "%s: %s", t->label, strerror(errno));
		return;
	}
	for (uint32_t type = 0; type <= 25; type++) {
		const char *tn = wire_type_name(type);
		char tbuf[16];
		if (!tn) {
			snprintf(tbuf, sizeof(tbuf), "type%u", type);
			tn = tbuf;
		}
		snprintf(name, sizeof(name), "random_%s_%s", tn, t->label);
		int answered = 0, tries = 4;
		for (int k = 0; k < tries; k++) {
			size_t len = 1 + rnd() % (sizeof(body) - 1);
			for (size_t i = 0; i < len; i++) {
				unsigned int r = rnd();
				body[i] = (r % 8 == 0) ? '\0' : (char)(r >> 4);
			}
			if (k % 2)
				body[len - 1] = '\0';
			uint32_t req = 5000 + type * 10 + (uint32_t)k;
			uint32_t tx = (k == 3) ? rnd() : 0;
			struct xsd_sockmsg h;
			char *b = NULL;
			if (wire_send(fd, type, req, tx, body, len) == 0 &&
			    recv_reply(fd, req, 5000, &h, &b) == 1)
				answered++;
			free(b);
		}
		if (answered == tries)
			ok(name);
		else
			fail(name, "%d of %d random payloads answered", answered, tries);
		if (answered < tries) {
			close(fd);
			fd = unix_connect(t->path);
			if (fd < 0)
				break;
		}
	}
	if (fd >= 0)
		close(fd);
	char cname[64];
	snprintf(cname, sizeof(cname), "random_%s", t->label);
	alive(cname);
}

static void robustness(struct xs_handle *h0)
{
	char p6[4200], why[512];
	static struct target t0, t6;

	chan_path(p6, sizeof(p6), 6);
	t0 = (struct target){ "dom0", sock0, "/local/domain/6/secret", "six", true };
	t6 = (struct target){ "dom6", NULL, "secret", "six", false };
	t6.path = strdup(p6);
	targets[0] = &t0;
	targets[1] = &t6;
	xwrite(h0, "/local/domain/6/secret", "six");
	if (!ping_one(&t0, why, sizeof(why)) || !ping_one(&t6, why, sizeof(why))) {
		fail("robustness_ping", "%s", why);
		free((char *)t6.path);
		return;
	}
	ok("robustness_ping");
	for (int i = 0; i < 2; i++) {
		rb_garbage(targets[i]);
		rb_truncated(targets[i]);
		rb_oversize(targets[i]);
		rb_unknown_and_nul(targets[i]);
		rb_empty(targets[i]);
		rb_random(targets[i]);
	}
	/* Nothing of the setup got lost along the way. */
	expect_read("robustness_tree_intact", h0, "/pub/b5", "marker");
	expect_read("robustness_tree_intact_6", h0, "/local/domain/6/sub/deeper", "6deep");
	free((char *)t6.path);
}

int main(int argc, char **argv)
{
	struct quotas q;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SOCKET [CHANNEL_DIR]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sock0 = argv[1];
	if (argc == 3) {
		snprintf(chan_dir, sizeof(chan_dir), "%s", argv[2]);
	} else {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", sock0);
		snprintf(chan_dir, sizeof(chan_dir), "%s/domains", dirname(tmp));
	}

	struct xs_handle *h0 = open_at(sock0);
	if (!h0) {
		fail("connect_dom0", "%s: %s", sock0, strerror(errno));
		printf("%d passed, %d failed\n", npass, nfail);
		return 1;
	}
	read_quotas(h0, &q);
	if (!setup(h0)) {
		printf("%d passed, %d failed\n", npass, nfail);
		xs_close(h0);
		return 1;
	}

	struct xs_handle *h5 = open_dom(5), *h6 = open_dom(6);
	struct xs_handle *h8 = open_dom(8), *h8b = open_dom(8);
	if (!h5 || !h6 || !h8 || !h8b) {
		fail("connect_domains", "a domain channel under %s: %s", chan_dir, strerror(errno));
	} else {
		ok("connect_domains");
		own_area(h5);
		other_areas(h5);
		privileged_ops(h5);
		ownership(h0, h5, h6);
		watches(h0, h5);
		quota_nodes(&q, h8);
		quota_watches(&q, h8, h8b);
		quota_transactions(&q, h8, h8b);
		quota_size_perms(&q, h0, h5);
		target(h0);
		robustness(h0);
		release(h0, h6);
	}
	xs_close(h5);
	xs_close(h6);
	xs_close(h8);
	xs_close(h8b);
	xs_close(h0);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
