/*
 * plug.c — realising a block backend in the guest's QEMU, and taking it
 * out again: what Linux blkback and Xen's block hotplug script do in a Xen
 * dom0 (docs/vbd.md). A disk goes on a free pcie-root-port of the guest
 * (lib/vbd.h's hot-plug slots) as virtio-blk, a CD/DVD on the virtio-scsi
 * bus as scsi-cd. What was made, the results and Connected are written in
 * one transaction; a device whose backend was removed meanwhile (xm gave
 * up) is taken out again.
 */
#include "vbd-int.h"
#include "dom.h"
#include "qmp.h"
#include "sharing.h"
#include "util.h"
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
		char *v = dom_readf(b->xs, XBT_NULL, "%s/%s/%s", path, ids[i], key);
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
	bool used[VBD_ROOT_PORTS + 1] = { false };
	used_slots(b, domid, "bus", "rp", used, VBD_ROOT_PORTS + 1);
	for (int p = 1; p <= VBD_ROOT_PORTS; p++)
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


/* One device being realised. */
struct plug {
	const struct vbd *v;
	const char *params, *mode, *type, *format, *dev;
	bool cdrom, media;
	char node[64];     /* the block node (media only) */
	char devname[64];  /* the device's QEMU id */
	char bus[32];      /* rpN or scsi0.0 */
	char slot[32];     /* the root port's PCI address, for the guest ("" for a cdrom) */
	int scsi_id;       /* -1 for a disk */
};

/* device_add's arguments, or NULL (no free slot: why in err). */
static json_t *device_args(struct backd *b, struct plug *p, char *err, size_t errlen)
{
	json_t *args;
	unsigned int domid = p->v->domid;
	if (p->cdrom) {
		p->scsi_id = free_scsi_id(b, domid);
		snprintf(p->bus, sizeof(p->bus), "scsi0.0");
		args = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "driver", "scsi-cd", "id",
				 p->devname, "bus", p->bus, "scsi-id", p->scsi_id, "lun", 0,
				 "product", p->dev ? p->dev : "");
	} else {
		int port = free_port(b, domid);
		if (!port) {
			snprintf(err, errlen, "no free hot-plug slot in the guest (%d devices at most)",
				 VBD_ROOT_PORTS);
			return NULL;
		}
		char serial[32];
		snprintf(p->bus, sizeof(p->bus), "rp%d", port);
		snprintf(p->slot, sizeof(p->slot), "0000:00:%02x.0", VBD_ROOT_PORT_DEV0 + port - 1);
		snprintf(serial, sizeof(serial), "%lu", p->v->devid);
		args = json_pack("{s:s, s:s, s:s, s:s}", "driver", "virtio-blk-pci", "id",
				 p->devname, "bus", p->bus, "serial", serial);
	}
	if (p->media)
		json_object_set_new(args, "drive", json_string(p->node));
	if (strcmp(p->mode, "w!") == 0)
		json_object_set_new(args, "share-rw", json_true());
	return args;
}

/* blockdev-add and device_add back to back: QEMU takes a monitor's
 * commands in order, so the device costs no second round trip. If the node
 * fails, so does the device (no such drive): the node's error is the one
 * told. 0, or -1 with why in err; *node_added says whether the node is
 * left to delete. */
static int qemu_add(struct qmp *q, struct plug *p, json_t *args, bool *node_added, char *err,
		    size_t errlen)
{
	const struct vbd *v = p->v;
	char *qerr = NULL;
	int rc = -1;
	long node_id = p->media ? qmp_send(q, "blockdev-add", node_args(p->node, p->type,
						p->format, p->params, p->mode)) : -1;
	long dev_id = qmp_send(q, "device_add", args);
	if (p->media) {
		if (qmp_wait_reply(q, node_id, NULL, &qerr, QMP_TIMEOUT)) {
			snprintf(err, errlen, "QEMU cannot open %s: %s", p->params, qerr);
			/* the device cannot have a drive then, unless a node of
			 * that name was left over (a teardown whose unplug timed
			 * out): take the device and that node out again, before
			 * the failure is told */
			if (qmp_wait_reply(q, dev_id, NULL, NULL, QMP_TIMEOUT) == 0) {
				log_warn("domain %u vbd %lu: device added on a stale %s: removed",
					 v->domid, v->devid, p->node);
				vbd_unplug(q, v, p->devname, p->node);
			}
			goto out;
		}
		*node_added = true;
	}
	if (qmp_wait_reply(q, dev_id, NULL, &qerr, QMP_TIMEOUT)) {
		snprintf(err, errlen, "QEMU cannot add the device: %s", qerr);
		goto out;
	}
	*node_added = false; /* owned by the device now; recorded next */
	rc = 0;
out:
	free(qerr);
	return rc;
}

/* What was made, the results and Connected in one transaction: one wake-up
 * for xm and the guest, and QEMU's main loop left to the guest's hot-plug
 * work. vbd_record's result. */
static int record(struct backd *b, struct qmp *q, const struct plug *p)
{
	const struct vbd *v = p->v;
	struct kv kv[16];
	int n = 0;
	char pd[32], sectors[32], info[8], sid[16], fe[160];
	struct stat st;
	bool raw = !p->format || strcmp(p->format, "qcow2") != 0;
	long long size = !p->media ? 0 : raw ? raw_size(p->params) : node_size(q, p->node);
	char *real = p->media ? realpath(p->params, NULL) : NULL;
	kv[n++] = (struct kv){ v->tool, "node", p->media ? p->node : "" };
	kv[n++] = (struct kv){ v->tool, "device", p->devname };
	kv[n++] = (struct kv){ v->tool, "bus", p->bus };
	if (p->scsi_id >= 0) {
		snprintf(sid, sizeof(sid), "%d", p->scsi_id);
		kv[n++] = (struct kv){ v->tool, "scsi-id", sid };
	}
	if (p->media && stat(p->params, &st) == 0 && S_ISBLK(st.st_mode)) {
		snprintf(pd, sizeof(pd), "%x:%x", major(st.st_rdev), minor(st.st_rdev));
		kv[n++] = (struct kv){ v->be, "physical-device", pd };
	}
	if (p->media)
		kv[n++] = (struct kv){ v->be, "physical-device-path", real ? real : p->params };
	snprintf(sectors, sizeof(sectors), "%lld", size > 0 ? size / 512 : 0);
	kv[n++] = (struct kv){ v->be, "sectors", sectors };
	kv[n++] = (struct kv){ v->be, "sector-size", "512" };
	snprintf(info, sizeof(info), "%d",
		 (p->cdrom ? 1 : 0) | (strcmp(p->mode, "r") == 0 ? 4 : 0));
	kv[n++] = (struct kv){ v->be, "info", info };
	if (p->slot[0]) /* where the guest finds the disk (lib/vbd.h) */
		kv[n++] = (struct kv){ v->be, "pci-root-port", p->slot };
	kv[n++] = (struct kv){ v->be, "hotplug-status", "connected" };
	kv[n++] = (struct kv){ v->be, "state", vbd_state_str(XenbusStateConnected) };
	int rc = vbd_record(b, vbd_path(fe, sizeof(fe), v->be, "frontend"), kv, n);
	free(real);
	return rc;
}

void vbd_plug(struct backd *b, const struct vbd *v, const struct snap *sn)
{
	struct qmp *q = guest_qmp(b, v->domid);
	if (!q)
		return; /* not watching that guest (yet): the next scan retries */
	struct plug p = { .v = v, .params = sn->v[K_PARAMS], .mode = sn->v[K_MODE],
			  .type = sn->v[K_TYPE], .format = sn->v[K_FORMAT], .dev = sn->v[K_DEV],
			  .scsi_id = -1 };
	const char *dtype = sn->v[K_DTYPE], *fe = sn->v[K_FE];
	char err[1024];
	bool node_added = false;
	p.cdrom = dtype && strcmp(dtype, "cdrom") == 0;
	p.media = p.params && *p.params;
	snprintf(p.node, sizeof(p.node), "xmblk-%lu", v->devid);
	snprintf(p.devname, sizeof(p.devname), "xmdev-%lu", v->devid);
	if (!p.mode || !p.type || !fe) {
		fail(b, v, "incomplete backend (params, mode, type, frontend)");
		return;
	}
	log_debug("domain %u vbd %lu: attach", v->domid, v->devid);
	if (p.media && sharing_check(b->xs, v->domid, v->devid, p.params, p.mode, err,
				     sizeof(err))) {
		fail(b, v, err);
		return;
	}
	json_t *args = device_args(b, &p, err, sizeof(err));
	if (!args) {
		fail(b, v, err);
		return;
	}
	log_debug("domain %u vbd %lu: to QEMU on %s", v->domid, v->devid, p.bus);
	if (qemu_add(q, &p, args, &node_added, err, sizeof(err)) < 0) {
		fail(b, v, err);
		goto out;
	}
	log_debug("domain %u vbd %lu: device_add done", v->domid, v->devid);
	if (record(b, q, &p) != 0) {
		/* xm gave up and removed the device meanwhile, or the record
		 * could not be written: a device XenStore does not hold is
		 * not left in the guest */
		log_info("domain %u vbd %lu: removed while being connected: unplugged", v->domid,
			 v->devid);
		vbd_unplug(q, v, p.devname, p.media ? p.node : NULL);
		goto out;
	}
	char fs[256];
	xsc_send(&b->xw, XS_WATCH, vbd_path(fs, sizeof(fs), fe, "state"), "frontend");
	log_info("domain %u vbd %lu: %s %s (%s) connected on %s", v->domid, v->devid,
		 p.media ? p.params : "(no medium)", p.mode, p.cdrom ? "cdrom" : "disk", p.bus);
out:
	if (node_added)
		qmp_exec(q, "blockdev-del", json_pack("{s:s}", "node-name", p.node), NULL, NULL,
			 QMP_TIMEOUT);
}

void vbd_unplug(struct qmp *q, const struct vbd *v, const char *devname, const char *node)
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
