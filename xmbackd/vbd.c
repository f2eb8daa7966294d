/*
 * vbd.c — the block backend: what Linux blkback and Xen's block hotplug
 * script do in a Xen dom0, done with QEMU (docs/vbd.md).
 *
 * Everything is driven by XenStore state, re-read on every watch event, so
 * a restarted xmbackd carries on where the last one stopped: a backend at
 * Initialising is realised (sharing check, blockdev-add, device_add), one at
 * Closing is torn down once its frontend has closed (or at once with
 * force), a media change is carried out (media.c). What xmbackd made in QEMU is
 * recorded under /tool/xm/domain/D/vbd/DEVID.
 *
 * QMP calls block (a few ms each; DEVICE_DELETED ~0.1 s): xmbackd handles
 * one backend at a time, which is also what makes the sharing check atomic.
 */
#include "vbd-int.h"
#include "dom.h"
#include "qmp.h"
#include "sharing.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>


void vbd_init(struct vbd *v, unsigned int domid, unsigned long devid)
{
	v->domid = domid;
	v->devid = devid;
	snprintf(v->be, sizeof(v->be), BE "/%u/%lu", domid, devid);
	snprintf(v->tool, sizeof(v->tool), XM_TOOL_ROOT "/domain/%u/vbd/%lu", domid, devid);
}

char *be_read(struct backd *b, const struct vbd *v, const char *key)
{
	return xs_readf(b->xs, XBT_NULL, "%s/%s", v->be, key);
}

bool be_is(struct backd *b, const struct vbd *v, const char *key, const char *val)
{
	char *s = be_read(b, v, key);
	bool r = s && strcmp(s, val) == 0;
	free(s);
	return r;
}

static void be_write_t(struct backd *b, xs_transaction_t t, const struct vbd *v, const char *key,
		       const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", v->be, key);
	if (!xs_write(b->xs, t, p, val, (unsigned int)strlen(val)))
		log_warn("cannot write %s: %s", p, strerror(errno));
}

void be_write(struct backd *b, const struct vbd *v, const char *key, const char *val)
{
	be_write_t(b, XBT_NULL, v, key, val);
}

/* What consider() and attach() look at, read in one round trip (xsbatch.h)
 * instead of one per node while the guest waits for the disk. */
enum { K_STATE, K_HS, K_MC, K_ONLINE, K_FORCE, K_FE, K_PARAMS, K_MODE, K_TYPE, K_FORMAT,
       K_DTYPE, K_DEV, K_TOOLDEV, NKEYS };
static const char *const snap_keys[NKEYS] = {
	[K_STATE] = "state", [K_HS] = "hotplug-status", [K_MC] = "media-change",
	[K_ONLINE] = "online", [K_FORCE] = "force", [K_FE] = "frontend", [K_PARAMS] = "params",
	[K_MODE] = "mode", [K_TYPE] = "type", [K_FORMAT] = "format", [K_DTYPE] = "device-type",
	[K_DEV] = "dev", [K_TOOLDEV] = NULL, /* the tool record's device */
};

struct snap {
	char *v[NKEYS]; /* NULL: no such node */
};

static void snap_path(const struct vbd *v, int k, char *p, size_t len)
{
	if (k == K_TOOLDEV)
		snprintf(p, len, "%s/device", v->tool);
	else
		snprintf(p, len, "%s/%s", v->be, snap_keys[k]);
}

static int snap_batch(struct backd *b, const struct vbd *v, struct snap *sn)
{
	struct xsb q;
	char p[256];
	xsb_init(&q);
	for (int k = 0; k < NKEYS; k++) {
		snap_path(v, k, p, sizeof(p));
		xsb_read(&q, 0, p);
	}
	int rc = xsb_run(&q, b->xsfd);
	for (int k = 0; rc == 0 && k < NKEYS; k++) {
		if (q.r[k].type == XS_READ) {
			sn->v[k] = q.r[k].body;
			q.r[k].body = NULL;
		} else if (xsb_errno(&q, (unsigned int)k) != ENOENT) {
			rc = -1; /* EACCES, EIO ...: not a snapshot */
		}
	}
	xsb_reset(&q);
	return rc;
}

static void snap_free(struct snap *sn)
{
	for (int k = 0; k < NKEYS; k++) {
		free(sn->v[k]);
		sn->v[k] = NULL;
	}
}

/* The batch, on a connection made again if it broke; else node by node. */
static void snap_read(struct backd *b, const struct vbd *v, struct snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	for (int attempt = 0; attempt < 2; attempt++) {
		if (b->xsfd < 0)
			b->xsfd = unix_connect(xm_xs_socket());
		if (b->xsfd >= 0 && snap_batch(b, v, sn) == 0)
			return;
		snap_free(sn);
		if (b->xsfd >= 0)
			close(b->xsfd);
		b->xsfd = -1;
	}
	char p[256];
	for (int k = 0; k < NKEYS; k++) {
		snap_path(v, k, p, sizeof(p));
		sn->v[k] = xs_read(b->xs, XBT_NULL, p, &(unsigned int){ 0 });
	}
}

static bool snap_is(const struct snap *sn, int k, const char *val)
{
	return sn->v[k] && strcmp(sn->v[k], val) == 0;
}

/* Size in bytes of a raw target without asking QEMU, or -1. */
static long long raw_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return st.st_size;
	unsigned long long sz = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = ioctl(fd, BLKGETSIZE64, &sz);
	close(fd);
	return r == 0 ? (long long)sz : -1;
}

static void fail(struct backd *b, const struct vbd *v, const char *why)
{
	log_info("domain %u vbd %lu: refused: %s", v->domid, v->devid, why);
	be_write(b, v, "hotplug-error", why);
	be_write(b, v, "hotplug-status", "error");
}

/*
 * Slots the guest's devices hold: node KEY of each /tool/xm/domain/D/vbd/DEVID
 * is PREFIX and a number ("rp3" for root ports, "5" for SCSI targets);
 * used[i] for i < n.
 */
static void used_slots(struct backd *b, unsigned int domid, const char *key, const char *prefix,
		       bool *used, int n)
{
	unsigned int nd = 0;
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/vbd", domid);
	char **ids = xs_directory(b->xs, XBT_NULL, path, &nd);
	for (unsigned int i = 0; i < nd; i++) {
		char *v = xs_readf(b->xs, XBT_NULL, "%s/%s/%s", path, ids[i], key);
		size_t pl = strlen(prefix);
		char *end;
		long slot = v && strncmp(v, prefix, pl) == 0 ? strtol(v + pl, &end, 10) : -1;
		if (slot >= 0 && slot < n && end != v + pl)
			used[slot] = true;
		free(v);
	}
	free(ids);
}

/* A free pcie-root-port of the guest (rp1..rp8), or 0. */
static int free_port(struct backd *b, unsigned int domid)
{
	bool used[ROOT_PORTS + 1] = { false };
	used_slots(b, domid, "bus", "rp", used, ROOT_PORTS + 1);
	for (int p = 1; p <= ROOT_PORTS; p++)
		if (!used[p])
			return p;
	return 0;
}

/* A free SCSI target on the guest's virtio-scsi bus, or -1. */
static int free_scsi_id(struct backd *b, unsigned int domid)
{
	bool used[64] = { false };
	used_slots(b, domid, "scsi-id", "", used, 64);
	for (int i = 0; i < 64; i++)
		if (!used[i])
			return i;
	return -1;
}

static json_t *node_args(const char *node, const char *type, const char *format,
			 const char *target, const char *mode)
{
	struct stat st;
	bool blk = stat(target, &st) == 0 && S_ISBLK(st.st_mode);
	bool ro = strcmp(mode, "r") == 0;
	json_t *file = json_pack("{s:s, s:s}", "driver", blk ? "host_device" : "file",
				 "filename", target);
	(void)type;
	/* w!: sharing on purpose; QEMU's per-inode lock would refuse the
	 * second writer, so this node takes no locks. */
	if (strcmp(mode, "w!") == 0)
		json_object_set_new(file, "locking", json_string("off"));
	return json_pack("{s:s, s:s, s:b, s:o}", "node-name", node, "driver",
			 format && strcmp(format, "qcow2") == 0 ? "qcow2" : "raw", "read-only", ro,
			 "file", file);
}

static long long node_size(struct qmp *q, const char *node)
{
	json_t *ret = NULL;
	long long size = -1;
	if (qmp_exec(q, "query-named-block-nodes", json_pack("{s:b}", "flat", 1), &ret, NULL,
		     QMP_TIMEOUT) == 0) {
		size_t i;
		json_t *n;
		json_array_foreach(ret, i, n) {
			const char *name = json_string_value(json_object_get(n, "node-name"));
			if (name && strcmp(name, node) == 0) {
				json_t *img = json_object_get(n, "image");
				size = json_integer_value(json_object_get(img, "virtual-size"));
				break;
			}
		}
	}
	json_decref(ret);
	return size;
}

void tool_write(struct backd *b, const struct vbd *v, const char *key, const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", v->tool, key);
	xs_write(b->xs, XBT_NULL, p, val, (unsigned int)strlen(val));
}

/* One node to write: dir/key = val. */
struct kv {
	const char *dir, *key, *val;
};

/* 0 committed, 1 not: must_exist is gone (nothing written), -1 failed. */
static int commit_batch(struct backd *b, const char *must_exist, const struct kv *kv, int n)
{
	struct xsb_reply r;
	struct xsb q;
	char p[320];
	if (b->xsfd < 0 && (b->xsfd = unix_connect(xm_xs_socket())) < 0)
		return -1;
	for (int attempt = 0; attempt < 10; attempt++) {
		if (xsb_call(b->xsfd, XS_TRANSACTION_START, 0, "", 1, &r) < 0)
			return -1;
		uint32_t tx = r.type == XS_ERROR ? 0 : (uint32_t)strtoul(r.body, NULL, 10);
		free(r.body);
		if (!tx)
			return -1;
		xsb_init(&q);
		xsb_read(&q, tx, must_exist);
		for (int i = 0; i < n; i++) {
			snprintf(p, sizeof(p), "%s/%s", kv[i].dir, kv[i].key);
			xsb_write(&q, tx, p, kv[i].val);
		}
		int rc = xsb_run(&q, b->xsfd);
		bool gone = rc == 0 && xsb_errno(&q, 0) == ENOENT;
		bool ok = rc == 0 && !gone;
		for (unsigned int i = 0; ok && i < q.n; i++)
			ok = xsb_errno(&q, i) == 0;
		xsb_reset(&q);
		if (rc < 0)
			return -1;
		if (xsb_call(b->xsfd, XS_TRANSACTION_END, tx, ok ? "T" : "F", 2, &r) < 0)
			return -1;
		int end = r.type == XS_ERROR ? wire_error_num(r.body) : 0;
		free(r.body);
		if (gone)
			return 1;
		if (!ok || (end && end != EAGAIN))
			return -1;
		if (!end)
			return 0;
	}
	return -1;
}

/* Write the nodes in one transaction, in one round trip (xsbatch.h), if
 * must_exist still does (a directory removed meanwhile is not made again);
 * on a broken connection or a refusal the same through libxenstore. true
 * if written. */
static bool commit(struct backd *b, const char *must_exist, const struct kv *kv, int n)
{
	int rc = commit_batch(b, must_exist, kv, n);
	if (rc >= 0)
		return rc == 0;
	if (b->xsfd >= 0)
		close(b->xsfd);
	b->xsfd = -1;
	for (int attempt = 0; attempt < 10; attempt++) {
		xs_transaction_t t = xs_transaction_start(b->xs);
		char *there = xs_read(b->xs, t, must_exist, &(unsigned int){ 0 });
		if (!there) {
			xs_transaction_end(b->xs, t, true);
			return false;
		}
		free(there);
		char p[320];
		for (int i = 0; i < n; i++) {
			snprintf(p, sizeof(p), "%s/%s", kv[i].dir, kv[i].key);
			if (!xs_write(b->xs, t, p, kv[i].val, (unsigned int)strlen(kv[i].val)))
				log_warn("cannot write %s: %s", p, strerror(errno));
		}
		if (xs_transaction_end(b->xs, t, false) || errno != EAGAIN)
			return true;
	}
	return true;
}

static void unplug(struct qmp *q, const struct vbd *v, const char *devname, const char *node);

/* Realise a new backend in the guest's QEMU. */
static void attach(struct backd *b, const struct vbd *v, const struct snap *sn)
{
	struct qmp *q = guest_qmp(b, v->domid);
	if (!q)
		return; /* not watching that guest (yet): the next scan retries */
	const char *params = sn->v[K_PARAMS], *mode = sn->v[K_MODE], *type = sn->v[K_TYPE];
	const char *format = sn->v[K_FORMAT], *dtype = sn->v[K_DTYPE], *dev = sn->v[K_DEV];
	const char *fe = sn->v[K_FE];
	char err[1024], node[64], devname[64], buf[64], *qerr = NULL;
	bool cdrom = dtype && strcmp(dtype, "cdrom") == 0;
	bool media = params && *params;
	bool node_added = false;

	snprintf(node, sizeof(node), "xmblk-%lu", v->devid);
	snprintf(devname, sizeof(devname), "xmdev-%lu", v->devid);
	if (!mode || !type || !fe) {
		fail(b, v, "incomplete backend (params, mode, type, frontend)");
		goto out;
	}
	log_debug("domain %u vbd %lu: attach", v->domid, v->devid);
	if (media && sharing_check(b->xs, v->domid, v->devid, params, mode, err, sizeof(err))) {
		fail(b, v, err);
		goto out;
	}
	json_t *args;
	char bus[32], slot[32] = "";
	int scsi_id = -1;
	if (cdrom) {
		scsi_id = free_scsi_id(b, v->domid);
		snprintf(bus, sizeof(bus), "scsi0.0");
		args = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "driver", "scsi-cd", "id", devname,
				 "bus", bus, "scsi-id", scsi_id, "lun", 0, "product", dev ? dev : "");
	} else {
		int port = free_port(b, v->domid);
		if (!port) {
			fail(b, v, "no free hot-plug slot in the guest (8 devices at most)");
			goto out;
		}
		snprintf(bus, sizeof(bus), "rp%d", port);
		snprintf(slot, sizeof(slot), "0000:00:%02x.0", ROOT_PORT_DEV0 + port - 1);
		snprintf(buf, sizeof(buf), "%lu", v->devid);
		args = json_pack("{s:s, s:s, s:s, s:s}", "driver", "virtio-blk-pci", "id", devname,
				 "bus", bus, "serial", buf);
	}
	if (media)
		json_object_set_new(args, "drive", json_string(node));
	if (strcmp(mode, "w!") == 0)
		json_object_set_new(args, "share-rw", json_true());
	/* blockdev-add and device_add back to back: QEMU takes a monitor's
	 * commands in order, so the device costs no second round trip. If the
	 * node fails, so does the device (no such drive): the node's error is
	 * the one told. */
	log_debug("domain %u vbd %lu: to QEMU on %s", v->domid, v->devid, bus);
	long node_id = media ? qmp_send(q, "blockdev-add",
					node_args(node, type, format, params, mode)) : -1;
	long dev_id = qmp_send(q, "device_add", args);
	if (media) {
		if (qmp_wait_reply(q, node_id, NULL, &qerr, QMP_TIMEOUT)) {
			snprintf(err, sizeof(err), "QEMU cannot open %s: %s", params, qerr);
			/* the device cannot have a drive then, unless a node of
			 * that name was left over (a teardown whose unplug timed
			 * out): take the device and that node out again, before
			 * the failure is told */
			if (qmp_wait_reply(q, dev_id, NULL, NULL, QMP_TIMEOUT) == 0) {
				log_warn("domain %u vbd %lu: device added on a stale %s: removed",
					 v->domid, v->devid, node);
				unplug(q, v, devname, node);
			}
			fail(b, v, err);
			goto out;
		}
		node_added = true;
	}
	if (qmp_wait_reply(q, dev_id, NULL, &qerr, QMP_TIMEOUT)) {
		snprintf(err, sizeof(err), "QEMU cannot add the device: %s", qerr);
		fail(b, v, err);
		goto out;
	}
	node_added = false; /* owned by the device now; recorded below */
	log_debug("domain %u vbd %lu: device_add done", v->domid, v->devid);

	/* What was made, the results and Connected in one transaction: one
	 * wake-up for xm and the guest, and QEMU's main loop left to the
	 * guest's hot-plug work. */
	struct kv kv[16];
	int nkv = 0;
	char pd[32], sectors[32], info[8], sid[16];
	struct stat st;
	bool raw = !format || strcmp(format, "qcow2") != 0;
	long long size = !media ? 0 : raw ? raw_size(params) : node_size(q, node);
	char *real = media ? realpath(params, NULL) : NULL;
	kv[nkv++] = (struct kv){ v->tool, "node", media ? node : "" };
	kv[nkv++] = (struct kv){ v->tool, "device", devname };
	kv[nkv++] = (struct kv){ v->tool, "bus", bus };
	if (scsi_id >= 0) {
		snprintf(sid, sizeof(sid), "%d", scsi_id);
		kv[nkv++] = (struct kv){ v->tool, "scsi-id", sid };
	}
	if (media && stat(params, &st) == 0 && S_ISBLK(st.st_mode)) {
		snprintf(pd, sizeof(pd), "%x:%x", major(st.st_rdev), minor(st.st_rdev));
		kv[nkv++] = (struct kv){ v->be, "physical-device", pd };
	}
	if (media)
		kv[nkv++] = (struct kv){ v->be, "physical-device-path", real ? real : params };
	snprintf(sectors, sizeof(sectors), "%lld", size > 0 ? size / 512 : 0);
	kv[nkv++] = (struct kv){ v->be, "sectors", sectors };
	kv[nkv++] = (struct kv){ v->be, "sector-size", "512" };
	snprintf(info, sizeof(info), "%d", (cdrom ? 1 : 0) | (strcmp(mode, "r") == 0 ? 4 : 0));
	kv[nkv++] = (struct kv){ v->be, "info", info };
	if (slot[0]) /* where the guest finds the disk (dom.h) */
		kv[nkv++] = (struct kv){ v->be, "pci-root-port", slot };
	kv[nkv++] = (struct kv){ v->be, "hotplug-status", "connected" };
	kv[nkv++] = (struct kv){ v->be, "state", "4" };
	char fepath[160];
	snprintf(fepath, sizeof(fepath), "%s/frontend", v->be);
	if (!commit(b, fepath, kv, nkv)) {
		/* xm gave up and removed the device meanwhile: undo */
		log_info("domain %u vbd %lu: removed while being connected: unplugged", v->domid,
			 v->devid);
		unplug(q, v, devname, media ? node : NULL);
		free(real);
		goto out;
	}
	free(real);
	char fs[256];
	snprintf(fs, sizeof(fs), "%s/state", fe);
	xsc_send(&b->xw, XS_WATCH, fs, "frontend");
	log_info("domain %u vbd %lu: %s %s (%s) connected on %s", v->domid, v->devid,
		 media ? params : "(no medium)", mode, cdrom ? "cdrom" : "disk", bus);
out:
	if (node_added)
		qmp_exec(q, "blockdev-del", json_pack("{s:s}", "node-name", node), NULL, NULL,
			 QMP_TIMEOUT);
	free(qerr);
}

/* Take the device out of QEMU (if the guest still runs) and forget it. */
/* Take device devname (and then node, if any) out of the guest's QEMU:
 * device_del, its DEVICE_DELETED, blockdev-del. */
static void unplug(struct qmp *q, const struct vbd *v, const char *devname, const char *node)
{
	char *qerr = NULL;
	if (qmp_exec(q, "device_del", json_pack("{s:s}", "id", devname), NULL, &qerr,
		     QMP_TIMEOUT) == 0) {
		/* Two DEVICE_DELETED come: the virtio backend's path first.
		 * Only the one for our id means the node is free. */
		if (qmp_wait_event(q, "DEVICE_DELETED", devname, NULL, QMP_TIMEOUT) < 0)
			log_warn("domain %u vbd %lu: no DEVICE_DELETED for %s", v->domid, v->devid,
				 devname);
	} else {
		log_warn("domain %u vbd %lu: device_del %s: %s", v->domid, v->devid, devname, qerr);
	}
	free(qerr);
	qerr = NULL;
	if (node && *node &&
	    qmp_exec(q, "blockdev-del", json_pack("{s:s}", "node-name", node), NULL, &qerr,
		     QMP_TIMEOUT))
		log_warn("domain %u vbd %lu: blockdev-del %s: %s", v->domid, v->devid, node, qerr);
	free(qerr);
}

static void teardown(struct backd *b, const struct vbd *v, bool write_state)
{
	struct qmp *q = guest_qmp(b, v->domid);
	char *devname = xs_readf(b->xs, XBT_NULL, "%s/device", v->tool);
	char *node = xs_readf(b->xs, XBT_NULL, "%s/node", v->tool);

	if (q && devname)
		unplug(q, v, devname, node);
	xs_rm(b->xs, XBT_NULL, v->tool);
	char *fe = be_read(b, v, "frontend");
	if (fe) {
		char fs[256];
		snprintf(fs, sizeof(fs), "%s/state", fe);
		xsc_send(&b->xw, XS_UNWATCH, fs, "frontend");
	}
	if (write_state)
		be_write(b, v, "state", "6");
	log_info("domain %u vbd %lu: disconnected", v->domid, v->devid);
	free(fe);
	free(devname);
	free(node);
}

/*
 * Open the tray. A guest that has the tray locked sees QEMU's eject request
 * at its next media poll (block.events_dfl_poll_msecs=1000) and xmfront
 * unlocks it if the disc is not mounted: so "locked" is retried for a
 * while before it is the answer.
 */

void vbd_consider(struct backd *b, unsigned int domid, unsigned long devid)
{
	struct vbd v;
	struct snap sn;
	vbd_init(&v, domid, devid);
	snap_read(b, &v, &sn);
	const char *state = sn.v[K_STATE], *hs = sn.v[K_HS], *mc = sn.v[K_MC];
	const char *dev = sn.v[K_TOOLDEV], *fe = sn.v[K_FE];
	int st = state ? atoi(state) : 0;

	if (st == 1 && !hs && snap_is(&sn, K_ONLINE, "1")) {
		attach(b, &v, &sn);
	} else if (st == 5 && dev) {
		char *fes = fe ? xs_readf(b->xs, XBT_NULL, "%s/state", fe) : NULL;
		if (snap_is(&sn, K_FORCE, "1") || !fes || atoi(fes) == 6)
			teardown(b, &v, true);
		free(fes);
	} else if (st == 5 && !dev && hs) {
		be_write(b, &v, "state", "6"); /* never realised (refused): nothing to undo */
	} else if (st == 4 && dev && mc && (strcmp(mc, "insert") == 0 || strcmp(mc, "eject") == 0)) {
		media_change(b, &v, mc);
	} else if (!state && dev && !fe) {
		/* the backend vanished (removed by hand): out of the guest too */
		teardown(b, &v, false);
	}
	snap_free(&sn);
}

static void note_dev(struct backd *b, unsigned int domid, unsigned long devid)
{
	for (unsigned int i = 0; i < b->npending; i++)
		if (b->pending[i].domid == domid && b->pending[i].devid == devid)
			return;
	if (b->npending == VBD_PENDING_MAX) {
		b->pending_overflow = true;
		return;
	}
	b->pending[b->npending++] = (struct vbd_key){ domid, devid };
}

bool vbd_note(struct backd *b, const char *path)
{
	/* the backend nodes consider() looks at; the others (params, mode,
	 * what xmbackd writes back) never decide anything alone */
	static const char *const keys[] = { "state", "online", "force", "media-change",
					    "hotplug-status" };
	unsigned int domid;
	unsigned long devid;
	int n = 0;

	if (sscanf(path, BE "/%u%n", &domid, &n) == 1 && path[n] == '\0') {
		/* a guest's first backend (or its last gone): its devices */
		char dir[64];
		unsigned int nv = 0;
		snprintf(dir, sizeof(dir), BE "/%u", domid);
		char **devs = xs_directory(b->xs, XBT_NULL, dir, &nv);
		if (!devs)
			return false; /* removed with its devices: look at everything */
		for (unsigned int j = 0; j < nv; j++)
			note_dev(b, domid, strtoul(devs[j], NULL, 10));
		free(devs);
		return true;
	}
	n = 0;
	if (sscanf(path, BE "/%u/%lu%n", &domid, &devid, &n) == 2) {
		if (path[n] == '\0') {
			note_dev(b, domid, devid);
			return true;
		}
		if (path[n] != '/')
			return false;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(path + n + 1, keys[k]) == 0) {
				note_dev(b, domid, devid);
				break;
			}
		return true;
	}
	n = 0;
	if (sscanf(path, "/local/domain/%u/device/vbd/%lu/state%n", &domid, &devid, &n) == 2 &&
	    path[n] == '\0') {
		note_dev(b, domid, devid);
		return true;
	}
	/* xmbackd's own records of what it made (under the domains watch) */
	n = 0;
	if (sscanf(path, XM_TOOL_ROOT "/domain/%u/vbd%n", &domid, &n) == 1 &&
	    (path[n] == '\0' || path[n] == '/'))
		return true;
	return false;
}

void vbd_flush(struct backd *b)
{
	bool all = b->pending_overflow;
	unsigned int n = b->npending;
	b->npending = 0;
	b->pending_overflow = false;
	if (all) {
		vbd_scan(b);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		vbd_consider(b, b->pending[i].domid, b->pending[i].devid);
}

void vbd_scan(struct backd *b)
{
	unsigned int nd = 0;
	char **doms = xs_directory(b->xs, XBT_NULL, BE, &nd);
	for (unsigned int i = 0; i < nd; i++) {
		unsigned int nv = 0;
		char path[128];
		snprintf(path, sizeof(path), BE "/%s", doms[i]);
		char **devs = xs_directory(b->xs, XBT_NULL, path, &nv);
		for (unsigned int j = 0; j < nv; j++)
			vbd_consider(b, (unsigned int)atoi(doms[i]), strtoul(devs[j], NULL, 10));
		free(devs);
	}
	free(doms);

	/* Devices whose backend vanished (xm detach -f gone wrong, a tool
	 * removing nodes by hand): take them out of the guest too. */
	unsigned int ng = 0;
	char **guests = xs_directory(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain", &ng);
	for (unsigned int i = 0; i < ng; i++) {
		unsigned int nv = 0;
		char path[128];
		snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%s/vbd", guests[i]);
		char **devs = xs_directory(b->xs, XBT_NULL, path, &nv);
		for (unsigned int j = 0; j < nv; j++) {
			struct vbd v;
			vbd_init(&v, (unsigned int)atoi(guests[i]), strtoul(devs[j], NULL, 10));
			char *s = be_read(b, &v, "frontend");
			if (!s)
				teardown(b, &v, false);
			free(s);
		}
		free(devs);
	}
	free(guests);
}
