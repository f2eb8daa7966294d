/*
 * nodes.c — xmbackd's reads and writes of a device's XenStore nodes: single
 * nodes through libxenstore (b->xs), the snapshot that decides what to do
 * with a device in one batched read, and the record of what was made in
 * one transaction (xsc_transaction), both on the plain request connection
 * b->xr, made again when it broke (one retry).
 */
#include "vbd-int.h"
#include "dom.h"
#include "sock.h"
#include "util.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *be_read(struct backd *b, const struct vbd *v, const char *key)
{
	return dom_readf(b->xs, XBT_NULL, "%s/%s", v->be, key);
}

bool be_is(struct backd *b, const struct vbd *v, const char *key, const char *val)
{
	char *s = be_read(b, v, key);
	bool r = s && strcmp(s, val) == 0;
	free(s);
	return r;
}

static void write_node(struct backd *b, const char *dir, const char *key, const char *val)
{
	char p[256];
	vbd_path(p, sizeof(p), dir, key);
	if (!xs_write(b->xs, XBT_NULL, p, val, (unsigned int)strlen(val)))
		log_warn("cannot write %s: %s", p, strerror(errno));
}

void be_write(struct backd *b, const struct vbd *v, const char *key, const char *val)
{
	write_node(b, v->be, key, val);
}

void be_write_state(struct backd *b, const struct vbd *v, enum xenbus_state st)
{
	write_node(b, v->be, "state", vbd_state_str(st));
}

void tool_write(struct backd *b, const struct vbd *v, const char *key, const char *val)
{
	write_node(b, v->tool, key, val);
}

/* --- the request connection ---------------------------------------------- */

/* Run op on b->xr, connecting first if need be; on a failure other than a
 * veto, once more on a new connection (the store restarted, or the
 * connection broke). op's result. */
int backd_xr(struct backd *b, int (*op)(struct xsc *c, void *arg), void *arg)
{
	int rc = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!xsc_connected(&b->xr)) {
			int fd = unix_connect(xm_xs_socket());
			if (fd < 0 || xsc_init(&b->xr, fd, NULL, 0) < 0) {
				if (fd >= 0)
					close(fd);
				return -1;
			}
		}
		rc = op(&b->xr, arg);
		if (rc >= 0)
			break;
		xsc_close(&b->xr);
	}
	return rc;
}

struct many {
	const char *const *paths;
	int n;
	char **vals;
};

static int many_op(struct xsc *c, void *arg)
{
	struct many *m = arg;
	struct xsb q;
	xsb_init(&q);
	for (int i = 0; i < m->n; i++)
		xsb_read(&q, 0, m->paths[i]);
	int rc = xsc_run(c, &q);
	for (int i = 0; rc == 0 && i < m->n; i++)
		if (q.r[i].type == XS_READ) {
			m->vals[i] = q.r[i].body;
			q.r[i].body = NULL;
		}
	xsb_reset(&q);
	return rc;
}

void backd_read_many(struct backd *b, const char *const *paths, int n, char **vals)
{
	struct many m = { paths, n, vals };
	for (int i = 0; i < n; i++)
		vals[i] = NULL;
	if (backd_xr(b, many_op, &m) < 0)
		for (int i = 0; i < n; i++) {
			free(vals[i]);
			vals[i] = NULL;
		}
}

/* --- the snapshot -------------------------------------------------------- */

static const char *const snap_keys[NKEYS] = {
	[K_STATE] = "state", [K_HS] = "hotplug-status", [K_MC] = "media-change",
	[K_ONLINE] = "online", [K_FORCE] = "force", [K_FE] = "frontend", [K_PARAMS] = "params",
	[K_MODE] = "mode", [K_TYPE] = "type", [K_FORMAT] = "format", [K_DTYPE] = "device-type",
	[K_DEV] = "dev", [K_BOOT] = "bootindex", [K_SLOT] = VBD_SLOT_NODE, [K_TOOLDEV] = "device",
	[K_PHASE] = "phase", /* these two: the record's */
};

struct snap_req {
	const struct vbd *v;
	struct snap *sn;
};

static int snap_batch(struct xsc *c, void *arg)
{
	struct snap_req *r = arg;
	struct xsb q;
	char p[256];
	xsb_init(&q);
	for (int k = 0; k < NKEYS; k++) {
		if (k == K_TOOLDEV || k == K_PHASE)
			vbd_path(p, sizeof(p), r->v->tool, snap_keys[k]);
		else
			vbd_path(p, sizeof(p), r->v->be, snap_keys[k]);
		xsb_read(&q, 0, p);
	}
	int rc = xsc_run(c, &q);
	for (int k = 0; rc == 0 && k < NKEYS; k++) {
		if (q.r[k].type == XS_READ) {
			r->sn->v[k] = q.r[k].body;
			q.r[k].body = NULL;
		} else if (xsb_errno(&q, (unsigned int)k) != ENOENT) {
			rc = -1; /* EACCES, EIO ...: not a snapshot */
		}
	}
	xsb_reset(&q);
	if (rc < 0)
		snap_free(r->sn);
	return rc;
}

void snap_free(struct snap *sn)
{
	for (int k = 0; k < NKEYS; k++) {
		free(sn->v[k]);
		sn->v[k] = NULL;
	}
}

void snap_read(struct backd *b, const struct vbd *v, struct snap *sn)
{
	struct snap_req r = { v, sn };
	memset(sn, 0, sizeof(*sn));
	sn->ok = backd_xr(b, snap_batch, &r) == 0;
	if (!sn->ok)
		log_warn("domain %u vbd %lu: cannot read its nodes: %s", v->domid, v->devid,
			 strerror(errno));
}

bool snap_is(const struct snap *sn, int k, const char *val)
{
	return sn->v[k] && strcmp(sn->v[k], val) == 0;
}

/* --- the record ---------------------------------------------------------- */

void kv_queue(struct xsb *b, uint32_t tx, const struct kv *kv, int n)
{
	char p[320];
	for (int i = 0; i < n; i++) {
		const char *path = kv[i].key ? vbd_path(p, sizeof(p), kv[i].dir, kv[i].key) : kv[i].dir;
		if (kv[i].val)
			xsb_write(b, tx, path, kv[i].val);
		else
			xsb_rm(b, tx, path);
	}
}

struct record {
	const char *must_exist, *must_be;
	const struct kv *kv;
	int n;
};

static int fill_record(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct record *r = arg;
	(void)c;
	if (r->must_exist)
		xsb_read(b, tx, r->must_exist);
	kv_queue(b, tx, r->kv, r->n);
	return 0;
}

enum { RECORD_GONE = 1 };

static int check_record(const struct xsb *b, void *arg)
{
	const struct record *r = arg;
	unsigned int first = r->must_exist ? 1 : 0;
	if (r->must_exist && xsb_errno(b, 0) == ENOENT)
		return RECORD_GONE;
	if (r->must_be && (b->r[0].type == XS_ERROR || strcmp(b->r[0].body, r->must_be) != 0))
		return RECORD_GONE;
	for (unsigned int i = first; i < b->n; i++) {
		int e = xsb_errno(b, i);
		if (e && !(e == ENOENT && !r->kv[i - first].val)) { /* rm of nothing: done */
			errno = e;
			return -1;
		}
	}
	return 0;
}

static int record_op(struct xsc *c, void *arg)
{
	return xsc_transaction(c, fill_record, check_record, arg);
}

int vbd_record_if(struct backd *b, const char *must_exist, const char *must_be,
		  const struct kv *kv, int n)
{
	struct record r = { must_exist, must_be, kv, n };
	int rc = backd_xr(b, record_op, &r);
	if (rc < 0)
		log_warn("cannot record %s: %s", must_exist ? must_exist : kv[0].dir,
			 strerror(errno));
	return rc == 0 ? 0 : rc == RECORD_GONE ? 1 : -1;
}

bool absent(void)
{
	return errno == ENOENT;
}

int vbd_record(struct backd *b, const char *must_exist, const struct kv *kv, int n)
{
	return vbd_record_if(b, must_exist, NULL, kv, n);
}
