/*
 * block.c — xm block-attach, block-detach, block-list, block-configure,
 * cd-insert, cd-eject (docs/vbd.md has the protocol).
 *
 * xm writes the backend and frontend directories in one transaction and
 * then only waits: xmbackd realises the device, xmfront connects it in the
 * guest. Every failure path leaves nothing behind: a device that got as far
 * as QEMU is torn down (forced), the directories removed.
 */
#include "xm.h"
#include "diskspec.h"
#include "dom.h"
#include "vdev.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BE_ROOT "/local/domain/0/backend/vbd"

struct dev {
	unsigned int domid;
	unsigned long devid;
	char be[128], fe[128], errdir[160], err[176], tool[128];
};

static void dev_init(struct dev *d, unsigned int domid, unsigned long devid)
{
	d->domid = domid;
	d->devid = devid;
	snprintf(d->be, sizeof(d->be), BE_ROOT "/%u/%lu", domid, devid);
	snprintf(d->fe, sizeof(d->fe), "/local/domain/%u/device/vbd/%lu", domid, devid);
	snprintf(d->errdir, sizeof(d->errdir), "/local/domain/%u/error/device/vbd/%lu", domid, devid);
	snprintf(d->err, sizeof(d->err), "%s/error", d->errdir);
	snprintf(d->tool, sizeof(d->tool), XM_TOOL_ROOT "/domain/%u/vbd/%lu", domid, devid);
}

static int timeout_ms(const char *env, int def)
{
	const char *s = getenv(env);
	return s && atoi(s) > 0 ? atoi(s) * 1000 : def;
}

static char *rd(struct xs_handle *h, const char *dir, const char *key)
{
	return xs_readf(h, XBT_NULL, "%s/%s", dir, key);
}

static int rd_int(struct xs_handle *h, const char *dir, const char *key)
{
	char *s = rd(h, dir, key);
	int v = s ? atoi(s) : -1;
	free(s);
	return v;
}

static void wr(struct xs_handle *h, xs_transaction_t t, const char *dir, const char *key,
	       const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	xs_write(h, t, p, val, (unsigned int)strlen(val));
}

/* Wait up to 200 ms (not past the deadline) for watch events: bit i of
 * the result for each of tokens[0..n) that fired, 0 if none did, -1 when
 * the deadline has passed. */
static int wait_tokens(struct xs_handle *h, long deadline, const char *const *tokens, int n)
{
	long left = deadline - now_ms();
	if (left <= 0)
		return -1;
	int mask = 0;
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	if (poll(&p, 1, left > 200 ? 200 : (int)left) > 0) {
		char **w;
		while ((w = xs_check_watch(h))) {
			for (int i = 0; i < n; i++)
				if (strcmp(w[XS_WATCH_TOKEN], tokens[i]) == 0)
					mask |= 1 << i;
			free(w);
		}
	}
	return mask;
}

/* Wait for a change under any of the watched paths, up to the deadline.
 * false when the deadline passed. */
static bool wait_change(struct xs_handle *h, long deadline)
{
	return wait_tokens(h, deadline, NULL, 0) >= 0;
}

/* --- requests on a plain connection (xsbatch.h) ------------------------------ */

/* Connect for the device's requests and waits, watching with tokens.
 * 0, or 1 (printed). */
static int conn_open(struct xsc *c, const char *const *tokens, unsigned int n)
{
	int fd = unix_connect(xm_xs_socket());
	if (fd < 0)
		return xm_error("cannot connect to XenStore at %s: %s", xm_xs_socket(),
				strerror(errno));
	if (xsc_init(c, fd, tokens, n) < 0) {
		close(fd);
		return xm_error("out of memory");
	}
	return 0;
}

/* The value of dir/key, malloc'd, or NULL (absent, or a broken connection). */
static char *crd(struct xsc *c, const char *dir, const char *key)
{
	char p[256];
	struct xsb_reply r;
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	if (xsc_call(c, XS_READ, 0, p, strlen(p) + 1, &r) < 0)
		return NULL;
	if (r.type == XS_ERROR) {
		free(r.body);
		return NULL;
	}
	return r.body;
}

static int crd_int(struct xsc *c, const char *dir, const char *key)
{
	char *s = crd(c, dir, key);
	int v = s ? atoi(s) : -1;
	free(s);
	return v;
}

/* One transaction of the requests fill() queues in it (xsb_* on b, in
 * transaction tx), sent in one go; retried on EAGAIN. 0, or -1 (errno). */
static int ctx(struct xsc *c, void (*fill)(struct xsb *b, uint32_t tx, const void *arg),
	       const void *arg)
{
	struct xsb b;
	xsb_init(&b);
	int rc = -1;
	for (int attempt = 0; attempt < 20; attempt++) {
		struct xsb_reply r;
		if (xsc_call(c, XS_TRANSACTION_START, 0, "", 1, &r) < 0)
			break;
		uint32_t tx = r.type == XS_ERROR ? 0 : (uint32_t)strtoul(r.body, NULL, 10);
		int err = r.type == XS_ERROR ? wire_error_num(r.body) : 0;
		free(r.body);
		if (!tx) {
			errno = err ? err : EIO;
			break;
		}
		xsb_reset(&b);
		fill(&b, tx, arg);
		xsb_add(&b, XS_TRANSACTION_END, tx, "T", 2);
		if (xsc_run(c, &b) < 0)
			break;
		int end = xsb_errno(&b, b.n - 1);
		if (!end) {
			rc = 0;
			break;
		}
		if (end != EAGAIN) {
			errno = end;
			break;
		}
	}
	xsb_reset(&b);
	return rc;
}

static void fill_remove(struct xsb *b, uint32_t tx, const void *arg)
{
	const struct dev *d = arg;
	xsb_add(b, XS_RM, tx, d->be, strlen(d->be) + 1);
	xsb_add(b, XS_RM, tx, d->fe, strlen(d->fe) + 1);
	xsb_add(b, XS_RM, tx, d->errdir, strlen(d->errdir) + 1);
}

static void remove_dirs(struct xsc *c, const struct dev *d)
{
	ctx(c, fill_remove, d);
	/* Drop /local/domain/0/backend/vbd/D when it is now empty. */
	char p[64];
	struct xsb_reply r;
	snprintf(p, sizeof(p), BE_ROOT "/%u", d->domid);
	if (xsc_call(c, XS_DIRECTORY, 0, p, strlen(p) + 1, &r) == 0) {
		bool empty = r.type != XS_ERROR && r.len == 0;
		free(r.body);
		if (empty && xsc_call(c, XS_RM, 0, p, strlen(p) + 1, &r) == 0)
			free(r.body);
	}
}

/* Queue the write of d's backend node key = val in transaction tx. */
static void queue_be(struct xsb *b, uint32_t tx, const struct dev *d, const char *key,
		     const char *val)
{
	char p[200];
	snprintf(p, sizeof(p), "%s/%s", d->be, key);
	xsb_write(b, tx, p, val);
}

static void fill_force(struct xsb *b, uint32_t tx, const void *arg)
{
	const struct dev *d = arg;
	queue_be(b, tx, d, "online", "0");
	queue_be(b, tx, d, "force", "1");
	queue_be(b, tx, d, "state", "5");
}

/* Watch dir/key with token (EEXIST: it is already). 0 or -1. */
static int cwatch(struct xsc *c, const char *dir, const char *key, const char *token)
{
	char p[256];
	struct xsb b;
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	xsb_init(&b);
	xsb_watch(&b, p, token);
	int rc = xsc_run(c, &b);
	xsb_reset(&b);
	return rc;
}

/* Take a device down without the guest and remove every trace. c has a
 * token (its first is used for the backend's state). */
static void force_remove(struct xsc *c, const struct dev *d)
{
	char *realised = crd(c, d->tool, "device");
	if (realised && ctx(c, fill_force, d) == 0 &&
	    cwatch(c, d->be, "state", c->tokens[0]) == 0) {
		long deadline = now_ms() + 15000;
		while (crd_int(c, d->be, "state") != 6) {
			long left = deadline - now_ms();
			if (left <= 0 || xsc_wait(c, left > 200 ? 200 : (int)left) < 0)
				break;
		}
	}
	free(realised);
	remove_dirs(c, d);
}

static bool agent_ready(struct xs_handle *h, unsigned int domid)
{
	char *s = xs_readf(h, XBT_NULL, "/local/domain/%u/attr/xmfront/state", domid);
	bool ok = s && strcmp(s, "ready") == 0;
	free(s);
	return ok;
}

/* Check the backend exists and suits the type and mode; an xl spec that
 * named no backend type gets the one its target calls for (as libxl).
 * 0 or 1 (printed). */
static int check_backend(struct diskspec *s)
{
	struct stat st;
	if (s->empty)
		return 0;
	if (stat(s->target, &st) < 0)
		return xm_error("%s: %s", s->target, strerror(errno));
	if (s->backend_auto && s->format == DISK_FMT_RAW)
		s->backend = S_ISBLK(st.st_mode) ? DISK_PHY : DISK_FILE;
	if (s->backend == DISK_PHY && !S_ISBLK(st.st_mode))
		return xm_error("%s is not a block device (phy: needs one; use file: for an image)",
				s->target);
	if (s->backend != DISK_PHY && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return xm_error("%s is not a regular file or block device", s->target);
	if (access(s->target, s->mode == DISK_MODE_R ? R_OK : R_OK | W_OK) < 0)
		return xm_error("%s: %s", s->target, strerror(errno));
	return 0;
}

/* The device's nodes (Xen's layout, docs/vbd.md), queued in transaction tx. */
static void queue_dirs(struct xsb *b, uint32_t tx, const struct dev *d, const struct diskspec *s)
{
	char v[32], p[256], dom[16];
	snprintf(dom, sizeof(dom), "r%u", d->domid);
	const char *beperm[] = { "n0", dom };
	snprintf(v, sizeof(v), "n%u", d->domid);
	const char *feperm[] = { v, "r0" };
	xsb_mkdir(b, tx, d->be);
	xsb_set_perms(b, tx, d->be, beperm, 2);
	xsb_mkdir(b, tx, d->fe);
	xsb_set_perms(b, tx, d->fe, feperm, 2);
#define W(dir, key, val) \
	(snprintf(p, sizeof(p), "%s/%s", (dir), (key)), xsb_write(b, tx, p, (val)))
	W(d->be, "frontend", d->fe);
	snprintf(v, sizeof(v), "%u", d->domid);
	W(d->be, "frontend-id", v);
	W(d->be, "params", s->empty ? "" : s->target);
	W(d->be, "type", disk_backend_name(s->backend));
	W(d->be, "format", disk_format_name(s->format));
	W(d->be, "mode", disk_mode_name(s->mode));
	W(d->be, "online", "1");
	W(d->be, "removable", s->cdrom ? "1" : "0");
	W(d->be, "bootable", "1");
	W(d->be, "dev", s->vdev);
	W(d->be, "device-type", s->cdrom ? "cdrom" : "disk");
	W(d->be, "state", "1");
	W(d->fe, "backend", d->be);
	W(d->fe, "backend-id", "0");
	snprintf(v, sizeof(v), "%lu", d->devid);
	W(d->fe, "virtual-device", v);
	W(d->fe, "device-type", s->cdrom ? "cdrom" : "disk");
	W(d->fe, "state", "1");
#undef W
}

/* Both directories in one transaction, sent in one go (xsbatch.h: three
 * round trips instead of some twenty-five); the frontend's and backend's
 * existence is the "already connected" test, inside it. 0 or 1 (printed). */
static int create_dirs(struct xsc *c, const struct dev *d, const struct diskspec *s)
{
	struct xsb b;
	xsb_init(&b);
	int rc = 1;
	char p[256];
	for (int attempt = 0;; attempt++) {
		struct xsb_reply r;
		if (xsc_call(c, XS_TRANSACTION_START, 0, "", 1, &r) < 0 || r.type == XS_ERROR) {
			xm_error("cannot start a XenStore transaction: %s",
				 strerror(r.body ? wire_error_num(r.body) : errno));
			free(r.body);
			break;
		}
		uint32_t tx = (uint32_t)strtoul(r.body, NULL, 10);
		free(r.body);
		xsb_reset(&b);
		snprintf(p, sizeof(p), "%s/backend", d->fe);
		xsb_read(&b, tx, p);
		snprintf(p, sizeof(p), "%s/frontend", d->be);
		xsb_read(&b, tx, p);
		queue_dirs(&b, tx, d, s);
		if (xsc_run(c, &b) < 0) {
			xm_error("cannot write the device's XenStore nodes: %s", strerror(errno));
			break;
		}
		int err = 0;
		for (unsigned int i = 2; i < b.n && !err; i++)
			err = xsb_errno(&b, i);
		bool exists = b.r[0].type != XS_ERROR || b.r[1].type != XS_ERROR;
		bool commit = !exists && !err;
		if (xsc_call(c, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, &r) < 0) {
			xm_error("XenStore transaction failed: %s", strerror(errno));
			break;
		}
		int end = r.type == XS_ERROR ? wire_error_num(r.body) : 0;
		free(r.body);
		if (exists) {
			xm_error("Device /dev/%s (%lu, vbd) is already connected.", s->vdev, s->devid);
			break;
		}
		if (err) {
			xm_error("cannot write the device's XenStore nodes: %s", strerror(err));
			break;
		}
		if (!end) {
			rc = 0;
			break;
		}
		if (end != EAGAIN || attempt > 20) {
			xm_error("XenStore transaction failed: %s", strerror(end));
			break;
		}
	}
	xsb_reset(&b);
	return rc;
}

/* What xm waits on while a device connects: watched, and read again when
 * their watch fires (all of them the first time, and after 200 ms without
 * events). The tokens are the bits of xsc_wait(). */
enum { W_BE, W_FE, W_ERR, W_HS, W_N };
static const char *const attach_tokens[W_N] = { "be", "fe", "err", "hs" };

static void watched_path(const struct dev *d, int w, char *p, size_t len)
{
	if (w == W_BE)
		snprintf(p, len, "%s/state", d->be);
	else if (w == W_FE)
		snprintf(p, len, "%s/state", d->fe);
	else if (w == W_ERR)
		snprintf(p, len, "%s", d->err);
	else
		snprintf(p, len, "%s/hotplug-status", d->be);
}

/* Wait until backend and frontend are both Connected, or why not (malloc'd
 * text). The watches and the first reads go in one round trip, every
 * wake-up's reads in one more. */
static char *wait_connected(struct xsc *c, const struct dev *d)
{
	long deadline = now_ms() + timeout_ms("XM_ATTACH_TIMEOUT", 30000);
	char p[W_N][200];
	struct xsb b;
	xsb_init(&b);
	for (int w = 0; w < W_N; w++) {
		watched_path(d, w, p[w], sizeof(p[w]));
		xsb_watch(&b, p[w], attach_tokens[w]);
	}
	/* (the registrations' events are not taken as covered by these reads:
	 * xenstored sends one event per path and token while a copy is
	 * unsent, so one may stand for a later change too) */
	unsigned int dirty = (1u << W_N) - 1;
	char *val[W_N] = { NULL }, *why = NULL;
	for (;;) {
		int slot[W_N], n = 0;
		for (int w = 0; w < W_N; w++)
			if (dirty & (1u << w)) {
				xsb_read(&b, 0, p[w]);
				slot[n++] = w;
			}
		if (xsc_run(c, &b) < 0) {
			why = strdup("lost the connection to XenStore");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct xsb_reply *r = &b.r[b.n - (unsigned int)n + (unsigned int)i];
			free(val[slot[i]]);
			val[slot[i]] = NULL;
			if (r->type != XS_ERROR) { /* taken */
				val[slot[i]] = r->body;
				r->body = NULL;
			}
		}
		xsb_reset(&b);
		int bs = val[W_BE] ? atoi(val[W_BE]) : -1, fs = val[W_FE] ? atoi(val[W_FE]) : -1;
		if (val[W_HS] && strcmp(val[W_HS], "error") == 0) {
			why = crd(c, d->be, "hotplug-error");
			if (!why)
				why = strdup("the backend failed");
		} else if (val[W_ERR] && *val[W_ERR]) {
			why = val[W_ERR];
			val[W_ERR] = NULL;
		} else if (fs == 6 || bs < 0 || fs < 0) {
			why = strdup("the device went away while connecting");
		} else if (bs == 4 && fs == 4) {
			break;
		}
		if (why)
			break;
		long left = deadline - now_ms();
		int m = left > 0 ? xsc_wait(c, left > 200 ? 200 : (int)left) : 0;
		if (m < 0) {
			why = strdup("lost the connection to XenStore");
			break;
		}
		if (left <= 0) {
			why = strdup("timed out waiting for the backend and the guest to connect");
			break;
		}
		dirty = m ? (unsigned int)m : (1u << W_N) - 1;
	}
	xsb_reset(&b);
	for (int w = 0; w < W_N; w++)
		free(val[w]);
	return why;
}

int xm_block_attach(struct xs_handle *h, unsigned int domid, const struct diskspec *spec)
{
	struct diskspec copy = *spec, *s = &copy;
	struct dev d;
	dev_init(&d, domid, s->devid);

	if (check_backend(s))
		return 1;
	if (!agent_ready(h, domid))
		return xm_error("Domain %u has no running agent (xmfront): its block devices "
				"cannot be connected", domid);
	/* The device's own connection: its watches need no reader thread,
	 * and they go when it is closed (xsbatch.h). */
	struct xsc c;
	if (conn_open(&c, attach_tokens, W_N))
		return 1;
	if (create_dirs(&c, &d, s)) {
		xsc_close(&c);
		return 1;
	}
	char *why = wait_connected(&c, &d);
	int rc = why ? 1 : 0;
	if (why) {
		force_remove(&c, &d);
		/* Strip a leading errno from a guest's "16 Device in use" text. */
		const char *msg = why;
		while (*msg >= '0' && *msg <= '9')
			msg++;
		while (*msg == ' ')
			msg++;
		xm_error("%s", *msg ? msg : why);
		free(why);
	}
	xsc_close(&c);
	return rc;
}

int cmd_block_attach(int argc, char **argv)
{
	struct diskspec s;
	char err[512];
	int rc;

	if (argc == 3) { /* xl's disk-spec form */
		rc = diskspec_parse_xl(argv[2], &s, err, sizeof(err));
	} else if (argc == 5 || argc == 6) {
		rc = diskspec_parse_xm(argv[2], argv[3], argv[4], &s, err, sizeof(err));
		if (rc == 0 && argc == 6 && strcmp(argv[5], "0") != 0 && strcmp(argv[5], "Domain-0") != 0)
			return xm_error("Backend domain %s is not supported: only Domain-0 serves "
					"block devices here", argv[5]);
	} else {
		return xm_usage("block-attach");
	}
	if (rc)
		return xm_error("%s", err);
	struct xs_handle *h = xm_xs_open();
	if (!h)
		return 1;
	unsigned int id;
	rc = xm_find_domain(h, argv[1], &id);
	if (!rc && id == 0)
		rc = xm_error("Cannot attach block devices to Domain-0");
	if (!rc)
		rc = xm_block_attach(h, id, &s);
	xs_close(h);
	return rc;
}

/* Resolve "<Domain> <DevId>" to an existing device. 0 or 1 (printed). */
static int find_dev(int argc, char **argv, struct xs_handle **h, struct dev *d, char *vname,
		    size_t vlen)
{
	unsigned long devid;
	const char *name = argv[2];
	if (strncmp(name, "/dev/", 5) == 0)
		name += 5;
	snprintf(vname, vlen, "%s", name);
	char *colon = strchr(vname, ':'); /* xvdc:cdrom, as block-configure takes it */
	if (colon && (strcmp(colon, ":cdrom") == 0 || strcmp(colon, ":disk") == 0))
		*colon = '\0';
	if (vdev_parse(vname, &devid) < 0)
		return xm_error("Unable to find number for device (%s)", argv[2]);
	*h = xm_xs_open();
	if (!*h)
		return 1;
	unsigned int id;
	if (xm_find_domain(*h, argv[1], &id)) {
		xs_close(*h);
		return 1;
	}
	(void)argc;
	dev_init(d, id, devid);
	char *be = rd(*h, d->fe, "backend");
	if (!be) {
		xs_close(*h);
		return xm_error("Device %s not connected", argv[2]);
	}
	free(be);
	return 0;
}

static void fill_closing(struct xsb *b, uint32_t tx, const void *arg)
{
	const struct dev *d = arg;
	queue_be(b, tx, d, "online", "0");
	queue_be(b, tx, d, "state", "5");
}

static void fill_reconnect(struct xsb *b, uint32_t tx, const void *arg)
{
	const struct dev *d = arg;
	queue_be(b, tx, d, "state", "4");
	queue_be(b, tx, d, "online", "1");
	xsb_add(b, XS_RM, tx, d->errdir, strlen(d->errdir) + 1); /* the guest clears it too */
}

/* Ask the guest to let go (backend Closing) and wait for the backend to
 * close; refused or no answer: back to Connected, nothing changed. 0 or 1
 * (printed). c watches with one token. */
static int detach(struct xsc *c, const struct dev *d, const char *label)
{
	struct xsb_reply r;
	if (xsc_call(c, XS_RM, 0, d->err, strlen(d->err) + 1, &r) < 0)
		return xm_error("cannot reach XenStore: %s", strerror(errno));
	free(r.body);
	if (ctx(c, fill_closing, d) < 0)
		return xm_error("XenStore transaction failed: %s", strerror(errno));
	long deadline = now_ms() + timeout_ms("XM_DETACH_TIMEOUT", 10000);
	int bs = -1;
	if (cwatch(c, d->be, "state", c->tokens[0]) == 0) {
		while ((bs = crd_int(c, d->be, "state")) != 6 && bs >= 0) {
			long left = deadline - now_ms();
			if (left <= 0 || xsc_wait(c, left > 200 ? 200 : (int)left) < 0)
				break;
		}
	}
	if (bs == 6 || bs < 0) {
		remove_dirs(c, d);
		return 0;
	}
	char *why = crd(c, d->errdir, "error");
	ctx(c, fill_reconnect, d);
	const char *msg = why ? why : "the guest did not release it";
	while (*msg >= '0' && *msg <= '9')
		msg++;
	while (*msg == ' ')
		msg++;
	int rc = xm_error("Device %s (%lu, vbd) could not be disconnected: %s", label, d->devid,
			  msg);
	free(why);
	return rc;
}

int cmd_block_detach(int argc, char **argv)
{
	bool force = false;
	int n = 0;
	char *pos[2];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			force = true;
		else if (n < 2)
			pos[n++] = argv[i];
		else
			return xm_usage("block-detach");
	}
	if (n != 2)
		return xm_usage("block-detach");
	char *args[3] = { argv[0], pos[0], pos[1] };
	struct xs_handle *h;
	struct dev d;
	char vname[64];
	if (find_dev(3, args, &h, &d, vname, sizeof(vname)))
		return 1;
	xs_close(h);
	/* The rest on a plain connection: batched, its watch needs no
	 * reader thread (xsbatch.h). */
	static const char *const tokens[] = { "be" };
	struct xsc c;
	if (conn_open(&c, tokens, 1))
		return 1;
	if (force) {
		fprintf(stderr, "Warning: forcing the detach of %s without the guest's consent: "
			"data it has not written out is lost.\n", pos[1]);
		force_remove(&c, &d);
		xsc_close(&c);
		return 0;
	}
	int rc = detach(&c, &d, pos[1]);
	xsc_close(&c);
	return rc;
}

int cmd_block_list(int argc, char **argv)
{
	bool lng = false;
	const char *dom = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--long") == 0)
			lng = true;
		else if (!dom)
			dom = argv[i];
		else
			return xm_usage("block-list");
	}
	if (!dom)
		return xm_usage("block-list");
	struct xs_handle *h = xm_xs_open();
	if (!h)
		return 1;
	unsigned int id;
	if (xm_find_domain(h, dom, &id)) {
		xs_close(h);
		return 1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/local/domain/%u/device/vbd", id);
	unsigned int n = 0;
	char **devs = xs_directory(h, XBT_NULL, path, &n);
	if (!lng)
		printf("%-5s %-2s %-6s %-5s %-6s %-8s %s\n", "Vdev", "BE", "handle", "state",
		       "evt-ch", "ring-ref", "BE-path");
	for (unsigned int i = 0; i < n; i++) {
		struct dev d;
		dev_init(&d, id, strtoul(devs[i], NULL, 10));
		char *be = rd(h, d.fe, "backend");
		int st = rd_int(h, d.fe, "state");
		if (!lng) {
			printf("%-5s %-2s %-6s %-5d %-6s %-8s %s\n", devs[i], "0", devs[i], st, "-1",
			       "-1", be ? be : "");
		} else {
			static const char *const keys[] = { "dev", "device-type", "params", "type",
				"format", "mode", "state", "hotplug-status", "physical-device",
				"physical-device-path", "sectors", "info", NULL };
			printf("(%s\n    ((backend-id 0)\n     (virtual-device %s)\n     (state %d)\n"
			       "     (backend %s)", devs[i], devs[i], st, be ? be : "");
			for (int k = 0; keys[k]; k++) {
				char *v = rd(h, d.be, keys[k]);
				if (v)
					printf("\n     (be-%s '%s')", keys[k], v);
				free(v);
			}
			printf("\n    )\n)\n");
		}
		free(be);
	}
	free(devs);
	xs_close(h);
	return 0;
}

/* Change the medium of a cdrom vbd: target "" ejects. */
static int media(struct xs_handle *h, const struct dev *d, struct diskspec *s, bool force,
		 const char *label)
{
	char *dt = rd(h, d->be, "device-type");
	bool cd = dt && strcmp(dt, "cdrom") == 0;
	free(dt);
	if (!cd)
		return xm_error("Device %s is not a cdrom: only removable media can be changed", label);
	if (s && check_backend(s))
		return 1;
	xs_transaction_t t = xs_transaction_start(h);
	if (s && !s->empty) {
		wr(h, t, d->be, "params", s->target);
		wr(h, t, d->be, "type", disk_backend_name(s->backend));
		wr(h, t, d->be, "format", disk_format_name(s->format));
	} else {
		wr(h, t, d->be, "params", "");
	}
	wr(h, t, d->be, "force", force ? "1" : "0");
	wr(h, t, d->be, "media-change", s && !s->empty ? "insert" : "eject");
	if (!xs_transaction_end(h, t, false))
		return xm_error("XenStore transaction failed: %s", strerror(errno));
	char mp[160];
	snprintf(mp, sizeof(mp), "%s/media-change", d->be);
	xs_watch(h, mp, "media");
	long deadline = now_ms() + timeout_ms("XM_MEDIA_TIMEOUT", 15000);
	char *mc = NULL;
	for (;;) {
		free(mc);
		mc = rd(h, d->be, "media-change");
		if (!mc || strcmp(mc, "done") == 0 || strcmp(mc, "error") == 0)
			break;
		if (!wait_change(h, deadline))
			break;
	}
	xs_unwatch(h, mp, "media");
	int rc = 0;
	if (!mc || strcmp(mc, "done") != 0) {
		char *why = mc && strcmp(mc, "error") == 0 ? rd(h, d->be, "hotplug-error") : NULL;
		rc = xm_error("Cannot change the medium of %s: %s", label,
			      why ? why : "timed out waiting for xmbackd");
		free(why);
	}
	free(mc);
	return rc;
}

int cmd_block_configure(int argc, char **argv)
{
	bool force = argc > 1 && strcmp(argv[argc - 1], "-f") == 0;
	if (force)
		argc--;
	if (argc != 5)
		return xm_usage("block-configure");
	struct diskspec s;
	char err[512];
	if (diskspec_parse_xm(argv[2], argv[3], argv[4], &s, err, sizeof(err)))
		return xm_error("%s", err);
	char *args[3] = { argv[0], argv[1], argv[3] };
	struct xs_handle *h;
	struct dev d;
	char vname[64];
	if (find_dev(3, args, &h, &d, vname, sizeof(vname)))
		return 1;
	int rc = media(h, &d, &s, force, argv[3]);
	xs_close(h);
	return rc;
}

int cmd_cd_insert(int argc, char **argv)
{
	if (argc != 4)
		return xm_usage("cd-insert");
	struct diskspec s;
	char err[512], back[4200];
	snprintf(back, sizeof(back), "%s%s", strchr(argv[3], ':') ? "" : "file:", argv[3]);
	if (diskspec_parse_xm(back, argv[2], "r", &s, err, sizeof(err)))
		return xm_error("%s", err);
	struct xs_handle *h;
	struct dev d;
	char vname[64];
	if (find_dev(3, argv, &h, &d, vname, sizeof(vname)))
		return 1;
	int rc = media(h, &d, &s, false, argv[2]);
	xs_close(h);
	return rc;
}

int cmd_cd_eject(int argc, char **argv)
{
	bool force = argc == 4 && (strcmp(argv[3], "-f") == 0 || strcmp(argv[3], "--force") == 0);
	if (argc != 3 && !force)
		return xm_usage("cd-eject");
	struct xs_handle *h;
	struct dev d;
	char vname[64];
	if (find_dev(3, argv, &h, &d, vname, sizeof(vname)))
		return 1;
	int rc = media(h, &d, NULL, force, argv[2]);
	xs_close(h);
	return rc;
}
