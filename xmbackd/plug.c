/*
 * plug.c — realising a block backend in the guest's QEMU, and taking it
 * out again: what Linux blkback and Xen's block hotplug script do in a Xen
 * dom0 (docs/vbd.md). A disk goes on a free pcie-root-port of the guest
 * (lib/vbd.h's hot-plug slots) as virtio-blk, a CD/DVD on the virtio-scsi
 * bus as scsi-cd; with xm's bootindex node (an HVM guest's boot disk or
 * CD-ROM) it has QEMU's bootindex, which its firmware follows.
 *
 * Intent before action: the sharing check and the claim are one
 * transaction (claims.h) that also writes the record at phase plugging
 * with the QEMU names it will use, before QEMU is touched; then
 * blockdev-add and device_add; then the record at phase connected, the
 * results and Connected in one transaction, only while the backend still
 * waits (else xm gave up: the device is taken out again). Whatever instant
 * xmbackd dies at, the record says what QEMU may hold, and reconcile.c
 * finishes or undoes it.
 */
#include "vbd-int.h"
#include "dom.h"
#include "qmp.h"
#include "claims.h"
#include "crashpoint.h"
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

/* The refusal, in one transaction, into a backend that still exists (xm
 * may have given up and removed it). */
static void fail(struct backd *b, const struct vbd *v, const char *why)
{
	char fe[200];
	struct kv kv[2] = { { v->be, "hotplug-error", why }, { v->be, "hotplug-status", "error" } };
	log_info("domain %u vbd %lu: refused: %s", v->domid, v->devid, why);
	vbd_record(b, vbd_path(fe, sizeof(fe), v->be, "frontend"), kv, 2);
}

/*
 * Slots the guest's devices hold: node KEY of each /tool/xm/domain/D/vbd/DEVID
 * is PREFIX and a number ("rp3" for root ports, "5" for SCSI targets);
 * used[i] for i < n.
 */
struct slots_req {
	unsigned int domid;
	const char *key, *prefix;
	bool *used;
	int n;
};

/* The slots the guest's recorded devices hold: their records listed, then
 * every one's key read in one batch (two round trips, however many). */
static int slots_op(struct xsc *c, void *arg)
{
	const struct slots_req *r = arg;
	char dir[128], p[192];
	unsigned int nd = 0;
	snprintf(dir, sizeof(dir), XM_TOOL_ROOT "/domain/%u/vbd", r->domid);
	char *ids = xsc_directory(c, 0, dir, &nd);
	if (!ids)
		return errno == ENOENT ? 0 : -1;
	struct xsb q;
	xsb_init(&q);
	const char *id = ids;
	for (unsigned int i = 0; i < nd; i++, id += strlen(id) + 1) {
		snprintf(p, sizeof(p), "%s/%s/%s", dir, id, r->key);
		xsb_read(&q, 0, p);
	}
	int rc = nd ? xsc_run(c, &q) : 0;
	size_t pl = strlen(r->prefix);
	for (unsigned int i = 0; rc == 0 && i < nd; i++) {
		const char *v = q.r[i].type == XS_READ ? q.r[i].body : NULL;
		char *end;
		long slot = v && strncmp(v, r->prefix, pl) == 0 ? strtol(v + pl, &end, 10) : -1;
		if (slot >= 0 && slot < r->n && end != v + pl)
			r->used[slot] = true;
	}
	xsb_reset(&q);
	free(ids);
	return rc;
}

static void used_slots(struct backd *b, unsigned int domid, const char *key, const char *prefix,
		       bool *used, int n)
{
	struct slots_req r = { domid, key, prefix, used, n };
	if (backd_xr(b, slots_op, &r) < 0)
		log_warn("domain %u: cannot read its devices' slots: %s", domid, strerror(errno));
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

/* blockdev-add's arguments: the node opens the fdset (fdpass.c), a block
 * device as host_device, an image file as file. */
static json_t *node_args(const char *node, const char *type, const char *format,
			 long fdset, bool blk, const char *mode)
{
	char target[64];
	bool ro = strcmp(mode, "r") == 0;
	fdpass_name(target, sizeof(target), fdset);
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
	const char *bootindex; /* xm's, for an HVM guest's firmware, or NULL */
	const char *want;  /* the slot asked for (VBD_SLOT_NODE), or NULL */
	bool cdrom, media;
	bool unsure;       /* QEMU did not answer a call: what it holds is unknown */
	char node[64];     /* the block node (media only) */
	char devname[64];  /* the device's QEMU id */
	char bus[32];      /* rpN or scsi0.0 */
	char slot[32];     /* the root port's PCI address, for the guest ("" for a cdrom) */
	int scsi_id;       /* -1 for a disk */
	int fd;            /* the image, opened for QEMU (fdpass.c), or -1 */
	bool blk;          /* ... a block device */
	long fdset;        /* the fdset QEMU gets it in, or -1 */
};

/* device_add's arguments, or NULL (no free slot: why in err). */
static json_t *device_args(struct backd *b, struct plug *p, char *err, size_t errlen)
{
	json_t *args;
	unsigned int domid = p->v->domid;
	int want = -1;
	if (p->want && *p->want && !(sscanf(p->want, p->cdrom ? "scsi%d" : "rp%d", &want) == 1 &&
				      want >= (p->cdrom ? 0 : 1) && want < (p->cdrom ? 64 : VBD_ROOT_PORTS + 1))) {
		snprintf(err, errlen, "no such hot-plug slot for a %s: %s", p->cdrom ? "cdrom" : "disk",
			 p->want);
		return NULL;
	}
	if (want >= 0) { /* xm restore: where the saved guest had it, or nowhere */
		bool used[64] = { false };
		used_slots(b, domid, p->cdrom ? "scsi-id" : "bus", p->cdrom ? "" : "rp", used, 64);
		if (used[want]) {
			snprintf(err, errlen, "the hot-plug slot %s is taken", p->want);
			return NULL;
		}
	}
	if (p->cdrom) {
		p->scsi_id = want >= 0 ? want : free_scsi_id(b, domid);
		snprintf(p->bus, sizeof(p->bus), "scsi0.0");
		args = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "driver", "scsi-cd", "id",
				 p->devname, "bus", p->bus, "scsi-id", p->scsi_id, "lun", 0,
				 "product", p->dev ? p->dev : "");
	} else {
		int port = want > 0 ? want : free_port(b, domid);
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
	char *end;
	long boot = p->bootindex ? strtol(p->bootindex, &end, 10) : -1;
	if (p->bootindex && *p->bootindex && !*end && boot >= 0 && boot < 100)
		json_object_set_new(args, "bootindex", json_integer(boot));
	if (strcmp(p->mode, "w!") == 0)
		json_object_set_new(args, "share-rw", json_true());
	return args;
}

int vbd_connected(struct backd *b, struct qmp *q, const struct vbd *v, const struct snap *sn,
		  const char *bus, int scsi_id, const char *node)
{
	struct kv kv[16];
	int n = 0;
	char pd[32], sectors[32], info[8], sid[16], slot[32] = "", st[200];
	struct stat s;
	const char *params = sn->v[K_PARAMS], *mode = sn->v[K_MODE], *format = sn->v[K_FORMAT];
	bool media = params && *params, cdrom = snap_is(sn, K_DTYPE, "cdrom");
	bool raw = !format || strcmp(format, "qcow2") != 0;
	long long size = !media ? 0 : raw ? raw_size(params) : node_size(q, node);
	char *real = media ? realpath(params, NULL) : NULL;
	int port = 0;
	char devname[64];
	snprintf(devname, sizeof(devname), "xmdev-%lu", v->devid);
	kv[n++] = (struct kv){ v->tool, "phase", PHASE_CONNECTED };
	kv[n++] = (struct kv){ v->tool, "device", devname };
	kv[n++] = (struct kv){ v->tool, "node", media ? node : "" };
	kv[n++] = (struct kv){ v->tool, "bus", bus };
	if (scsi_id >= 0) {
		snprintf(sid, sizeof(sid), "%d", scsi_id);
		kv[n++] = (struct kv){ v->tool, "scsi-id", sid };
	}
	if (media && stat(params, &s) == 0 && S_ISBLK(s.st_mode)) {
		snprintf(pd, sizeof(pd), "%x:%x", major(s.st_rdev), minor(s.st_rdev));
		kv[n++] = (struct kv){ v->be, "physical-device", pd };
	}
	if (media)
		kv[n++] = (struct kv){ v->be, "physical-device-path", real ? real : params };
	snprintf(sectors, sizeof(sectors), "%lld", size > 0 ? size / 512 : 0);
	kv[n++] = (struct kv){ v->be, "sectors", sectors };
	kv[n++] = (struct kv){ v->be, "sector-size", "512" };
	snprintf(info, sizeof(info), "%d",
		 (cdrom ? 1 : 0) | (mode && strcmp(mode, "r") == 0 ? 4 : 0));
	kv[n++] = (struct kv){ v->be, "info", info };
	if (sscanf(bus, "rp%d", &port) == 1 && port > 0) { /* where the guest finds it */
		snprintf(slot, sizeof(slot), "0000:00:%02x.0", VBD_ROOT_PORT_DEV0 + port - 1);
		kv[n++] = (struct kv){ v->be, "pci-root-port", slot };
	}
	kv[n++] = (struct kv){ v->be, "hotplug-status", "connected" };
	kv[n++] = (struct kv){ v->be, "state", vbd_state_str(XenbusStateConnected) };
	/* only while the backend still waits for it: xm may have given up
	 * (removed it, or asked for its removal) meanwhile */
	int rc = vbd_record_if(b, vbd_path(st, sizeof(st), v->be, "state"), sn->v[K_STATE], kv, n);
	free(real);
	return rc;
}

/* The claim and the intent (the record at phase plugging: the QEMU names
 * it will use), in one transaction, while the backend still waits. 0, or
 * claims_take's refusal. */
static int intend(struct backd *b, const struct plug *p, const struct claim *c, char *err,
		  size_t errlen)
{
	const struct vbd *v = p->v;
	struct kv kv[8];
	int n = 0;
	char sid[16], st[200], set[32] = "";
	if (p->fdset >= 0)
		snprintf(set, sizeof(set), "%ld", p->fdset);
	kv[n++] = (struct kv){ v->tool, "phase", PHASE_PLUGGING };
	kv[n++] = (struct kv){ v->tool, "node", p->media ? p->node : "" };
	kv[n++] = (struct kv){ v->tool, "fdset", set };
	kv[n++] = (struct kv){ v->tool, "bus", p->bus };
	if (p->scsi_id >= 0) {
		snprintf(sid, sizeof(sid), "%d", p->scsi_id);
		kv[n++] = (struct kv){ v->tool, "scsi-id", sid };
	}
	/* where the guest will find the disk, known to its agent before QEMU
	 * plugs it (docs/vbd.md: the agent connects on the disk's uevent) */
	if (p->slot[0])
		kv[n++] = (struct kv){ v->be, "pci-root-port", p->slot };
	return claims_take(b, c, p->params, vbd_path(st, sizeof(st), v->be, "state"),
			   vbd_state_str(XenbusStateInitialising), kv, n, err, errlen);
}

/* Undo the intent: QEMU holds nothing of it (any more). */
static void release(struct backd *b, const struct vbd *v)
{
	struct kv kv = { v->tool, NULL, NULL };
	claims_release(b, v->domid, v->devid, &kv, 1);
}

/* The checks before the claim: the host's mounts, the identity; then the
 * image opened for QEMU as the mode allows (fdpass.c), given to it only
 * once the claim is taken. 0 or -1 (why in err). */
static int precheck(struct plug *p, struct claim *c, char *err, size_t errlen)
{
	snprintf(c->mode, sizeof(c->mode), "%s", p->mode);
	if (!p->media)
		return 0;
	if (sharing_host_check(p->params, p->mode, err, errlen))
		return -1;
	if (sharing_ident(p->params, c->ident, sizeof(c->ident)) < 0 ||
	    (p->fd = fdpass_open(p->params, p->mode, &p->blk)) < 0) {
		snprintf(err, errlen, "%s: %s", p->params, strerror(errno));
		return -1;
	}
	p->fdset = fdpass_new_id(p->v->devid);
	return 0;
}

#define ERR_SEND "cannot send to QEMU's monitor"

/*
 * A job (vbd-int.h): the QMP half of an attach or a detach in flight on a
 * guest's QEMU.
 */
struct job {
	struct job *next;       /* the guest's next job */
	bool unplug;
	struct vbd v;
	long deadline;          /* QMP_TIMEOUT after its last step (now_ms) */
	/* attach: add-fd, blockdev-add and device_add, sent back to back */
	struct plug p;          /* p.v is &v, its strings sn's */
	struct snap sn;         /* the backend as the attach found it */
	long fd_id, node_id, dev_id; /* their replies, awaited (-1: come, or none) */
	bool node_added;        /* the node is ours to delete if the device fails */
	bool node_failed;       /* its error is the one told */
	long long t_plug, t_qmp; /* us: the attach taken up, its first QMP command sent */
	char err[1024];
	/* detach: device_del, its DEVICE_DELETED, blockdev-del */
	long del_id, bdel_id;   /* their replies, awaited (-1: come, or none) */
	bool deleted;           /* DEVICE_DELETED for devname came */
	bool wait_deleted;      /* device_del answered: DEVICE_DELETED awaited */
	bool write_state;
	char devname[64], node[64];
};

/* Send a job's command; its reply comes to job_message, even when a
 * blocking call on the guest reads it first (qmp_keep). The id, or -1. */
static long job_send(struct guest *g, const char *cmd, json_t *args)
{
	long id = qmp_send(g->q, cmd, args);
	qmp_keep(g->q, id);
	return id;
}

/* The same with a descriptor passed along (add-fd). */
static long job_send_fd(struct guest *g, const char *cmd, json_t *args, int fd)
{
	long id = qmp_send_fd(g->q, cmd, args, fd);
	qmp_keep(g->q, id);
	return id;
}

/* Jobs in and out of the guest's list. */
static void job_add(struct guest *g, struct job *j)
{
	j->next = g->jobs;
	g->jobs = j;
	g->njobs++;
}

static void job_unlink(struct guest *g, struct job *j)
{
	for (struct job **p = &g->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			g->njobs--;
			return;
		}
}

bool job_holds(const struct guest *g, unsigned long devid)
{
	for (const struct job *j = g->jobs; j; j = j->next)
		if (j->v.devid == devid)
			return true;
	return false;
}

static void snap_copy(struct snap *to, const struct snap *from)
{
	for (int k = 0; k < NKEYS; k++)
		to->v[k] = from->v[k] ? strdup(from->v[k]) : NULL;
	to->ok = from->ok;
}

/* The job leaves the guest (its own end follows); the guest's devices that
 * waited for it are looked at once the caller is done with j (job_free). */
static void job_free(struct backd *b, struct guest *g, struct job *j)
{
	if (j->p.fd >= 0)
		close(j->p.fd);
	snap_free(&j->sn);
	free(j);
	if (g->deferred && !g->gone) {
		g->deferred = false;
		vbd_scan_domain(b, g->domid);
	}
}

/* m's error, NULL if it is a success; m NULL: no answer, why. */
static const char *reply_error(json_t *m, const char *why)
{
	if (!m)
		return why;
	json_t *e = json_object_get(m, "error");
	if (!e)
		return NULL;
	const char *d = json_string_value(json_object_get(e, "desc"));
	return d ? d : "unknown error";
}

/* The attach failed (why in j->err): undone, unless QEMU did not answer
 * and may hold the device yet (the claim is kept; reconcile.c settles it). */
static void plug_failed(struct backd *b, struct guest *g, struct job *j)
{
	const struct vbd *v = &j->v;
	job_unlink(g, j);
	if (j->p.unsure) {
		log_warn("domain %u vbd %lu: QEMU did not answer; the claim is kept until it does",
			 v->domid, v->devid);
	} else {
		if (j->node_added)
			qmp_exec(g->q, "blockdev-del", json_pack("{s:s}", "node-name", j->p.node),
				 NULL, NULL, QMP_TIMEOUT);
		fdpass_remove(g->q, j->p.fdset);
		release(b, v);
	}
	fail(b, v, j->err);
	job_free(b, g, j);
}

/* QEMU holds the device: recorded, and Connected. */
static void plug_done(struct backd *b, struct guest *g, struct job *j)
{
	const struct vbd *v = &j->v;
	const struct plug *p = &j->p;
	job_unlink(g, j);
	crash_point("xmbackd.before-connected");
	int rc = vbd_connected(b, g->q, v, &j->sn, p->bus, p->scsi_id, p->node);
	if (rc == 1) {
		/* xm gave up and removed the device or asked for its removal
		 * meanwhile: a device XenStore does not want is not left in
		 * the guest (the claim goes once QEMU has let it go) */
		log_info("domain %u vbd %lu: removed while being connected: unplugged", v->domid,
			 v->devid);
		vbd_teardown(b, v, be_exists(b, v));
	} else if (rc == 0) { /* < 0: the store failed: reconcile.c finishes it from the record */
		crash_point("xmbackd.after-connected");
		vbd_watch_frontend(b, v, j->sn.v[K_FE], true);
		log_info("domain %u vbd %lu: %s %s (%s) connected on %s", v->domid, v->devid,
			 p->media ? p->params : "(no medium)", p->mode, p->cdrom ? "cdrom" : "disk",
			 p->bus);
	}
	job_free(b, g, j);
}

/* blockdev-add's or device_add's answer (m), or none (m NULL: why). If the
 * node fails, so does the device (no such drive): the node's error is the
 * one told. */
static void plug_step(struct backd *b, struct guest *g, struct job *j, long id, json_t *m,
		      const char *why)
{
	const char *e = reply_error(m, why);
	struct plug *p = &j->p;
	if (id == j->fd_id) {
		j->fd_id = -1;
		if (!e)
			return;
		p->unsure = !m;
		j->node_failed = true; /* the node cannot open without it */
		snprintf(j->err, sizeof(j->err), "QEMU cannot take the descriptor of %s: %s",
			 p->params, e);
		if (!m)
			plug_failed(b, g, j);
		return;
	}
	if (id == j->node_id) {
		j->node_id = -1;
		if (!e) {
			j->node_added = true;
			crash_point("xmbackd.after-blockdev-add");
			return;
		}
		p->unsure = p->unsure || !m;
		if (!j->node_failed) /* else add-fd's error is the one told */
			snprintf(j->err, sizeof(j->err), "QEMU cannot open %s: %s", p->params, e);
		j->node_failed = true;
		if (!m)
			plug_failed(b, g, j); /* the device's answer will not come either */
		return; /* the device's answer tells whether a stale node was used */
	}
	if (id != j->dev_id)
		return;
	j->dev_id = -1;
	if (j->node_failed) {
		/* the device cannot have a drive then, unless a node of that
		 * name was left over (a teardown whose unplug timed out): take
		 * the device and that node out again, before the failure is told */
		if (!e) {
			log_warn("domain %u vbd %lu: device added on a stale %s: removed",
				 j->v.domid, j->v.devid, p->node);
			vbd_unplug(g->q, &j->v, p->devname, p->node);
		}
		plug_failed(b, g, j);
		return;
	}
	if (e) {
		p->unsure = !m;
		snprintf(j->err, sizeof(j->err), "QEMU cannot add the device: %s", e);
		plug_failed(b, g, j);
		return;
	}
	crash_point("xmbackd.after-device-add");
	log_debug("domain %u vbd %lu: device added: %.2f ms to QEMU, %.2f ms in it", j->v.domid,
		  j->v.devid, (double)(j->t_qmp - j->t_plug) / 1000, (double)(now_us() - j->t_qmp) / 1000);
	j->node_added = false; /* owned by the device now */
	plug_done(b, g, j);
}

void vbd_plug(struct backd *b, const struct vbd *v, const struct snap *sn)
{
	struct guest *g = guest_ready(b, v->domid);
	if (!g) {
		if (guest_stuck(b, v->domid)) { /* refused now, not after xm's timeout */
			char why[160];
			snprintf(why, sizeof(why), "the QEMU of domain %u does not answer "
				 "(stopped or hung)", v->domid);
			fail(b, v, why);
		}
		return; /* not watching that guest (yet): the next scan retries */
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		fail(b, v, "out of memory");
		return;
	}
	j->t_plug = now_us();
	j->v = *v;
	snap_copy(&j->sn, sn);
	j->fd_id = j->node_id = j->dev_id = j->del_id = j->bdel_id = -1;
	struct plug *p = &j->p;
	*p = (struct plug){ .v = &j->v, .params = j->sn.v[K_PARAMS], .mode = j->sn.v[K_MODE],
			    .type = j->sn.v[K_TYPE], .format = j->sn.v[K_FORMAT],
			    .dev = j->sn.v[K_DEV], .bootindex = j->sn.v[K_BOOT], .want = j->sn.v[K_SLOT],
			    .scsi_id = -1, .fd = -1, .fdset = -1 };
	struct claim c = { .domid = v->domid, .devid = v->devid };
	const char *dtype = j->sn.v[K_DTYPE], *fe = j->sn.v[K_FE];
	p->cdrom = dtype && strcmp(dtype, "cdrom") == 0;
	p->media = p->params && *p->params;
	snprintf(p->node, sizeof(p->node), "xmblk-%lu", v->devid);
	snprintf(p->devname, sizeof(p->devname), "xmdev-%lu", v->devid);
	if (!p->mode || !p->type || !fe) {
		fail(b, v, "incomplete backend (params, mode, type, frontend)");
		job_free(b, g, j);
		return;
	}
	log_debug("domain %u vbd %lu: attach", v->domid, v->devid);
	json_t *args = precheck(p, &c, j->err, sizeof(j->err)) ? NULL :
		       device_args(b, p, j->err, sizeof(j->err));
	if (!args) {
		fail(b, v, j->err);
		job_free(b, g, j);
		return;
	}
	int rc = intend(b, p, &c, j->err, sizeof(j->err));
	if (rc) {
		json_decref(args);
		if (rc != CLAIM_GONE) /* gone: xm gave up meanwhile */
			fail(b, v, j->err);
		job_free(b, g, j);
		return;
	}
	crash_point("xmbackd.claimed");
	j->t_qmp = now_us();
	log_debug("domain %u vbd %lu: claimed; to QEMU on %s", v->domid, v->devid, p->bus);
	/* add-fd, blockdev-add and device_add back to back: QEMU takes a
	 * monitor's commands in order, so neither costs a round trip more */
	job_add(g, j);
	j->deadline = now_ms() + QMP_TIMEOUT;
	if (p->media) {
		j->fd_id = job_send_fd(g, "add-fd", fdpass_add_args(p->fdset, v->devid, p->params),
				       p->fd);
		close(p->fd); /* QEMU has its own now */
		p->fd = -1;
		if (j->fd_id >= 0)
			j->node_id = job_send(g, "blockdev-add",
					      node_args(p->node, p->type, p->format, p->fdset,
							p->blk, p->mode));
	}
	if (p->media && j->node_id < 0) {
		json_decref(args);
		snprintf(j->err, sizeof(j->err), "QEMU cannot open %s: %s", p->params, ERR_SEND);
	} else if ((j->dev_id = job_send(g, "device_add", args)) < 0) {
		snprintf(j->err, sizeof(j->err), "QEMU cannot add the device: %s", ERR_SEND);
	} else {
		guest_ping(g, false); /* a QEMU that stops now is found out (guests_ping) */
		return; /* carried on by job_message */
	}
	p->unsure = true; /* what was sent may yet be done */
	plug_failed(b, g, j);
}

/* The detach is over: QEMU has let the device go (ok), or has not said so
 * (the record stays at phase unplugging; a later look tries again). */
static void unplug_end(struct backd *b, struct guest *g, struct job *j, bool ok)
{
	job_unlink(g, j);
	if (ok) {
		fdpass_remove(g->q, fdpass_recorded(b, &j->v)); /* the device had the last use */
		vbd_teardown_done(b, &j->v, j->write_state);
	}
	else
		log_warn("domain %u vbd %lu: QEMU has not let %s go yet; kept at unplugging",
			 j->v.domid, j->v.devid, j->devname);
	job_free(b, g, j);
}

/* The device is gone from the guest: its node next, if any. */
static void unplug_node(struct backd *b, struct guest *g, struct job *j)
{
	j->wait_deleted = false;
	if (!j->node[0]) {
		unplug_end(b, g, j, true);
		return;
	}
	j->deadline = now_ms() + QMP_TIMEOUT;
	j->bdel_id = job_send(g, "blockdev-del", json_pack("{s:s}", "node-name", j->node));
	if (j->bdel_id < 0) {
		log_warn("domain %u vbd %lu: blockdev-del %s: %s", j->v.domid, j->v.devid,
			 j->node, ERR_SEND);
		unplug_end(b, g, j, false);
	}
}

/* device_del's or blockdev-del's answer (m), or none (m NULL: why). */
static void unplug_step(struct backd *b, struct guest *g, struct job *j, long id, json_t *m,
			const char *why)
{
	const char *e = reply_error(m, why);
	const struct vbd *v = &j->v;
	bool absent_dev = e && m && strstr(e, "not found"); /* never had it, or gone */
	if (id == j->del_id) {
		j->del_id = -1;
		if (e && !absent_dev) {
			log_warn("domain %u vbd %lu: device_del %s: %s", v->domid, v->devid,
				 j->devname, e);
			unplug_end(b, g, j, false);
		} else if (e) {
			unplug_node(b, g, j);
		} else {
			crash_point("xmbackd.after-device-del");
			/* Two DEVICE_DELETED come: the virtio backend's path
			 * first. Only the one for our id means the node is free. */
			j->wait_deleted = true;
			j->deadline = now_ms() + QMP_TIMEOUT;
			if (j->deleted) {
				crash_point("xmbackd.after-device-deleted");
				unplug_node(b, g, j);
			}
		}
	} else if (id == j->bdel_id) {
		j->bdel_id = -1;
		if (e && !absent_dev) {
			log_warn("domain %u vbd %lu: blockdev-del %s: %s", v->domid, v->devid, j->node,
				 e);
			unplug_end(b, g, j, false);
			return;
		}
		crash_point("xmbackd.after-blockdev-del");
		unplug_end(b, g, j, true);
	}
}

void vbd_unplug_start(struct backd *b, struct guest *g, const struct vbd *v, const char *devname,
		      const char *node, bool write_state)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return; /* tried again at a later look: the record says unplugging */
	j->unplug = true;
	j->v = *v;
	j->write_state = write_state;
	j->p.fd = -1;
	j->fd_id = j->node_id = j->dev_id = j->bdel_id = -1;
	snprintf(j->devname, sizeof(j->devname), "%s", devname);
	snprintf(j->node, sizeof(j->node), "%s", node ? node : "");
	job_add(g, j);
	j->deadline = now_ms() + QMP_TIMEOUT;
	j->del_id = job_send(g, "device_del", json_pack("{s:s}", "id", devname));
	if (j->del_id < 0) {
		log_warn("domain %u vbd %lu: device_del %s: %s", v->domid, v->devid, devname,
			 ERR_SEND);
		unplug_end(b, g, j, false);
	} else {
		guest_ping(g, false); /* a QEMU that stops now is found out (guests_ping) */
	}
}

bool job_message(struct backd *b, struct guest *g, json_t *m)
{
	json_t *mid = json_object_get(m, "id");
	if (json_is_integer(mid)) {
		long id = (long)json_integer_value(mid);
		for (struct job *j = g->jobs; j; j = j->next) {
			if (j->unplug && (id == j->del_id || id == j->bdel_id)) {
				unplug_step(b, g, j, id, m, NULL);
				return true;
			}
			if (!j->unplug && (id == j->fd_id || id == j->node_id || id == j->dev_id)) {
				plug_step(b, g, j, id, m, NULL);
				return true;
			}
		}
		return false;
	}
	for (struct job *j = g->jobs; j; j = j->next)
		if (j->unplug && qmp_is_event(m, "DEVICE_DELETED", j->devname)) {
			j->deleted = true;
			if (j->wait_deleted) {
				crash_point("xmbackd.after-device-deleted");
				unplug_node(b, g, j);
			}
			return true;
		}
	return false;
}

/* The job ends as QEMU not answering (why) at the step it is at. */
static void no_answer(struct backd *b, struct guest *g, struct job *j, const char *why)
{
	if (!j->unplug) {
		plug_step(b, g, j, j->fd_id >= 0 ? j->fd_id : j->node_id >= 0 ? j->node_id :
				   j->dev_id, NULL, why);
	} else if (j->del_id >= 0 || j->bdel_id >= 0) {
		unplug_step(b, g, j, j->del_id >= 0 ? j->del_id : j->bdel_id, NULL, why);
	} else {
		log_warn("domain %u vbd %lu: no DEVICE_DELETED for %s", j->v.domid, j->v.devid,
			 j->devname);
		unplug_end(b, g, j, false);
	}
}

/* Each of these ends the job it is given (and no other), so "the first one
 * left, until none" terminates even when a job's end starts another one. */
void job_expire(struct backd *b, struct guest *g, long now)
{
	for (;;) {
		struct job *j = g->jobs;
		while (j && now < j->deadline)
			j = j->next;
		if (!j)
			return;
		no_answer(b, g, j, "timed out waiting for QEMU");
	}
}

static void stuck_one(struct backd *b, struct guest *g, struct job *j)
{
	if (j->unplug) {
		unplug_end(b, g, j, false);
		return;
	}
	snprintf(j->err, sizeof(j->err), "the QEMU of domain %u does not answer (stopped or hung)",
		 g->domid);
	j->p.unsure = true;
	plug_failed(b, g, j);
}

void job_stuck(struct backd *b, struct guest *g)
{
	/* (a stuck guest gets no new job: guest_ready refuses it) */
	while (g->jobs)
		stuck_one(b, g, g->jobs);
}

void job_abort(struct backd *b, struct guest *g, const char *why)
{
	while (g->jobs) {
		struct job *j = g->jobs;
		if (why) {
			no_answer(b, g, j, why);
			continue;
		}
		job_unlink(g, j);
		snap_free(&j->sn);
		free(j);
	}
}

int vbd_unplug(struct qmp *q, const struct vbd *v, const char *devname, const char *node)
{
	char *qerr = NULL;
	int rc = 0;
	if (qmp_exec(q, "device_del", json_pack("{s:s}", "id", devname), NULL, &qerr,
		     QMP_TIMEOUT) == 0) {
		crash_point("xmbackd.after-device-del");
		/* Two DEVICE_DELETED come: the virtio backend's path first.
		 * Only the one for our id means the node is free. */
		if (qmp_wait_event(q, "DEVICE_DELETED", devname, NULL, QMP_TIMEOUT) < 0) {
			log_warn("domain %u vbd %lu: no DEVICE_DELETED for %s", v->domid, v->devid,
				 devname);
			rc = -1;
		} else {
			crash_point("xmbackd.after-device-deleted");
		}
	} else if (!qerr || !strstr(qerr, "not found")) {
		log_warn("domain %u vbd %lu: device_del %s: %s", v->domid, v->devid, devname, qerr);
		rc = -1;
	}
	free(qerr);
	qerr = NULL;
	if (rc == 0 && node && *node &&
	    qmp_exec(q, "blockdev-del", json_pack("{s:s}", "node-name", node), NULL, &qerr,
		     QMP_TIMEOUT)) {
		if (!qerr || !strstr(qerr, "not found")) {
			log_warn("domain %u vbd %lu: blockdev-del %s: %s", v->domid, v->devid, node,
				 qerr);
			rc = -1;
		}
	}
	if (rc == 0 && node && *node)
		crash_point("xmbackd.after-blockdev-del");
	free(qerr);
	return rc;
}
