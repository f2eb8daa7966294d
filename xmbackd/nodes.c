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
#include <limits.h>
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
	[K_PHASE] = "phase", [K_NODE] = "node", [K_FDSET] = "fdset", /* the record's */
	[K_FESTATE] = "state", /* the frontend's (at its standard place, vbd_init's) */
};

/* The node of key k for device v. */
static const char *snap_path(char *p, size_t len, const struct vbd *v, int k)
{
	if (k == K_FESTATE)
		return vbd_path(p, len, v->fe, "state");
	if (k == K_TOOLDEV || k == K_PHASE || k == K_NODE || k == K_FDSET)
		return vbd_path(p, len, v->tool, snap_keys[k]);
	return vbd_path(p, len, v->be, snap_keys[k]);
}

struct snap_req {
	const struct vbd *v;
	struct snap *sn;
	int n;
};

/* Every snapshot's nodes in one batch: one round trip for n devices. A
 * device whose nodes cannot all be read (EACCES, EIO ...) has none. */
static int snap_batch(struct xsc *c, void *arg)
{
	struct snap_req *r = arg;
	struct xsb q;
	char p[256];
	xsb_init(&q);
	for (int i = 0; i < r->n; i++) {
		for (int k = 0; k < NKEYS; k++)
			xsb_read(&q, 0, snap_path(p, sizeof(p), &r->v[i], k));
		/* and the guest's records (the parent of v->tool), for an
		 * attach's free slot: no round trip of its own then */
		snprintf(p, sizeof(p), "%s", r->v[i].tool);
		char *slash = strrchr(p, '/');
		if (slash)
			*slash = '\0';
		xsb_add(&q, XS_DIRECTORY, 0, p, strlen(p) + 1);
	}
	int rc = xsc_run(c, &q);
	for (int i = 0; rc == 0 && i < r->n; i++) {
		struct snap *sn = &r->sn[i];
		unsigned int d = (unsigned int)(i * (NKEYS + 1) + NKEYS);
		if (q.r[d].type == XS_DIRECTORY) {
			sn->recs = q.r[d].body;
			sn->recs_len = q.r[d].len;
			q.r[d].body = NULL;
		}
		sn->recs_ok = q.r[d].type == XS_DIRECTORY || xsb_errno(&q, d) == ENOENT;
		sn->ok = true;
		for (int k = 0; k < NKEYS; k++) {
			unsigned int at = (unsigned int)(i * (NKEYS + 1) + k);
			if (q.r[at].type == XS_READ) {
				sn->v[k] = q.r[at].body;
				q.r[at].body = NULL;
			} else if (xsb_errno(&q, at) != ENOENT) {
				sn->ok = false;
			}
		}
		if (!sn->ok) {
			log_warn("domain %u vbd %lu: cannot read its nodes", r->v[i].domid,
				 r->v[i].devid);
			snap_free(sn);
		}
	}
	xsb_reset(&q);
	for (int i = 0; rc < 0 && i < r->n; i++)
		snap_free(&r->sn[i]);
	return rc;
}

void snap_free(struct snap *sn)
{
	for (int k = 0; k < NKEYS; k++) {
		free(sn->v[k]);
		sn->v[k] = NULL;
	}
	free(sn->recs);
	sn->recs = NULL;
	sn->recs_len = 0;
	sn->recs_ok = false;
}

void snap_read_many(struct backd *b, const struct vbd *v, struct snap *sn, int n)
{
	struct snap_req r = { v, sn, n };
	memset(sn, 0, (size_t)n * sizeof(*sn));
	if (n && backd_xr(b, snap_batch, &r) < 0) {
		log_warn("cannot read the nodes of %d device%s: %s", n, n == 1 ? "" : "s",
			 strerror(errno));
		for (int i = 0; i < n; i++)
			sn[i].ok = false;
	}
}

void snap_read(struct backd *b, const struct vbd *v, struct snap *sn)
{
	snap_read_many(b, v, sn, 1);
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

/* The records of rs, one transaction for them all: those whose condition
 * failed are left out (their rc 1) and the others written again. */
struct recs {
	struct rec *r;
	int n;
	unsigned int *at;       /* each one's first request, or UINT_MAX: left out */
};

static int fill_recs(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct recs *rs = arg;
	(void)c;
	for (int i = 0; i < rs->n; i++) {
		const struct rec *r = &rs->r[i];
		rs->at[i] = UINT_MAX;
		if (r->rc == 1)
			continue;
		rs->at[i] = b->n;
		if (r->must_exist)
			xsb_read(b, tx, r->must_exist);
		kv_queue(b, tx, r->kv, r->n);
	}
	return 0;
}

enum { RECS_AGAIN = 1 };

static int check_recs(const struct xsb *b, void *arg)
{
	struct recs *rs = arg;
	bool again = false;
	for (int i = 0; i < rs->n; i++) {
		struct rec *r = &rs->r[i];
		unsigned int a = rs->at[i];
		if (a == UINT_MAX || !r->must_exist)
			continue;
		if (xsb_gone(b, a, r->must_be)) {
			r->rc = 1; /* not written: the others without it */
			again = true;
		}
	}
	if (again)
		return RECS_AGAIN;
	for (int i = 0; i < rs->n; i++) {
		const struct rec *r = &rs->r[i];
		unsigned int first = rs->at[i] + (r->must_exist ? 1 : 0);
		for (int k = 0; rs->at[i] != UINT_MAX && k < r->n; k++) {
			int e = xsb_errno(b, first + (unsigned int)k);
			if (e && !(e == ENOENT && !r->kv[k].val)) { /* rm of nothing: done */
				errno = e;
				return -1;
			}
		}
	}
	return 0;
}

static int recs_op(struct xsc *c, void *arg)
{
	struct recs *rs = arg;
	int rc;
	for (;;) {
		int left = 0;
		for (int i = 0; i < rs->n; i++)
			left += rs->r[i].rc != 1;
		if (!left)
			return 0;
		if ((rc = xsc_transaction(c, fill_recs, check_recs, rs)) != RECS_AGAIN)
			return rc;
	}
}

void vbd_record_many(struct backd *b, struct rec *r, int n)
{
	unsigned int at[REC_MAX];
	struct recs rs = { r, n, at };
	for (int i = 0; i < n; i++)
		r[i].rc = n > REC_MAX ? -1 : 0;
	int rc = n > REC_MAX ? -1 : n ? backd_xr(b, recs_op, &rs) : 0;
	int e = n > REC_MAX ? E2BIG : errno;
	for (int i = 0; rc < 0 && i < n; i++) {
		if (r[i].rc != 1) {
			r[i].rc = -1;
			log_warn("cannot record %s: %s",
				 r[i].must_exist ? r[i].must_exist : r[i].kv[0].dir, strerror(e));
		}
	}
}

int vbd_record_if(struct backd *b, const char *must_exist, const char *must_be,
		  const struct kv *kv, int n)
{
	struct rec r = { must_exist, must_be, kv, n, 0 };
	vbd_record_many(b, &r, 1);
	return r.rc;
}

bool absent(void)
{
	return errno == ENOENT;
}

int vbd_record(struct backd *b, const char *must_exist, const struct kv *kv, int n)
{
	return vbd_record_if(b, must_exist, NULL, kv, n);
}
