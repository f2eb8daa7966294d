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
 *
 * The attaches that a look at the devices finds are prepared as a batch
 * (vbd_plug_many): the guests' free slots in two round trips for them all,
 * the claims and intents in one transaction for them all, then each one's
 * QMP commands sent; job.c carries them on as QEMU answers. With 8 guests
 * given a disk at once, the store's work is one batch's, not 8 in a row
 * (each round trip then waits for a CPU the guests are using).
 */
#include "job.h"
#include "dom.h"
#include "qmp.h"
#include "claims.h"
#include "crashpoint.h"
#include "sharing.h"
#include "util.h"
#include "xsbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

void plug_refuse(struct backd *b, const struct vbd *v, const char *why)
{
	char fe[200];
	struct kv kv[2] = { { v->be, "hotplug-error", why }, { v->be, "hotplug-status", "error" } };
	log_info("domain %u vbd %lu: refused: %s", v->domid, v->devid, why);
	vbd_record(b, vbd_path(fe, sizeof(fe), v->be, "frontend"), kv, 2);
}

/* The slots a guest's recorded devices hold (its records' bus, "rpN",
 * and scsi-id), and those the attaches of the batch before have taken. */
struct gslots {
	unsigned int domid;
	bool rp[VBD_ROOT_PORTS + 1];
	bool scsi[VBD_SCSI_IDS];
	const char *names;      /* its records' names, if listed with the snapshot */
	unsigned int len;
	bool listed;
};

struct slots_req {
	struct gslots *g;
	int n;
};

/* The guests' records listed in one round trip (those the snapshot did
 * not list already), then each record's bus and scsi-id read in one more
 * (none when no guest has a record), however many guests and devices. */
static int slots_op(struct xsc *c, void *arg)
{
	const struct slots_req *r = arg;
	struct xsb d, q;
	char p[192];
	int *whose = NULL, dir_of[VBD_BATCH], nd = 0, rc = 0;
	unsigned int nq = 0;
	xsb_init(&d);
	xsb_init(&q);
	for (int i = 0; i < r->n; i++)
		if (!r->g[i].listed) {
			snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/vbd", r->g[i].domid);
			xsb_add(&d, XS_DIRECTORY, 0, p, strlen(p) + 1);
			dir_of[nd++] = i;
		}
	if (nd)
		rc = xsc_run(c, &d);
	for (int k = 0; rc == 0 && k < nd; k++) {
		struct gslots *g = &r->g[dir_of[k]];
		int err = xsb_errno(&d, (unsigned int)k);
		if (err && err != ENOENT) {
			errno = err;
			rc = -1;
		}
		g->names = err ? "" : d.r[k].body;
		g->len = err ? 0 : d.r[k].len;
	}
	for (int i = 0; rc == 0 && i < r->n; i++) {
		const struct gslots *g = &r->g[i];
		for (unsigned int o = 0; o < g->len; o += (unsigned int)strlen(g->names + o) + 1) {
			int *w = realloc(whose, (nq + 1) * sizeof(*w));
			if (!w) {
				rc = -1;
				break;
			}
			whose = w;
			whose[nq++] = i;
			snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/vbd/%s/bus", g->domid,
				 g->names + o);
			xsb_read(&q, 0, p);
			snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/vbd/%s/scsi-id", g->domid,
				 g->names + o);
			xsb_read(&q, 0, p);
		}
	}
	if (rc == 0 && nq)
		rc = xsc_run(c, &q);
	for (unsigned int k = 0; rc == 0 && k < nq; k++) {
		struct gslots *g = &r->g[whose[k]];
		const struct xsb_reply *bus = &q.r[2 * k], *sid = &q.r[2 * k + 1];
		char *end;
		long n;
		if (bus->type == XS_READ && strncmp(bus->body, "rp", 2) == 0 &&
		    (n = strtol(bus->body + 2, &end, 10)) > 0 && n <= VBD_ROOT_PORTS && end != bus->body + 2)
			g->rp[n] = true;
		if (sid->type == XS_READ && (n = strtol(sid->body, &end, 10)) >= 0 &&
		    n < VBD_SCSI_IDS && end != sid->body)
			g->scsi[n] = true;
	}
	free(whose);
	xsb_reset(&d);
	xsb_reset(&q);
	return rc;
}

/* The slots of n guests (g[i].domid), their tables cleared first. */
static void slots_read(struct backd *b, struct gslots *g, int n)
{
	struct slots_req r = { g, n };
	for (int i = 0; i < n; i++) {
		memset(g[i].rp, 0, sizeof(g[i].rp));
		memset(g[i].scsi, 0, sizeof(g[i].scsi));
	}
	/* (the names given with the snapshot stay valid: the caller's) */
	if (n && backd_xr(b, slots_op, &r) < 0)
		log_warn("cannot read the guests' device slots: %s", strerror(errno));
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
	json_t *args = json_pack("{s:s, s:s, s:o}", "node-name", node, "driver",
				 format && strcmp(format, "qcow2") == 0 ? "qcow2" : "raw", "file", file);
	/* read-only only when it is: false is QEMU's default, and QEMU 7.2 reads
	 * a monitor one byte at a time, ~10 us each on this machine
	 * (bench/qmpbytes.sh) */
	if (args && ro)
		json_object_set_new(args, "read-only", json_true());
	return args;
}

/* A qcow2 image's virtual size: its header's, read here (qcow2 spec:
 * magic "QFI\xfb" at 0, the size big-endian at 24). QEMU was once asked
 * instead (query-named-block-nodes), waited for while every other guest
 * waited too; the header says the same without a word to QEMU. -1 if the
 * file is no qcow2 image or cannot be read. */
static long long qcow2_size(const char *path)
{
	unsigned char h[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (r != (ssize_t)sizeof(h) || memcmp(h, "QFI\xfb", 4) != 0)
		return -1;
	unsigned long long size = 0;
	for (int k = 24; k < 32; k++)
		size = size << 8 | h[k];
	return size > LLONG_MAX ? -1 : (long long)size;
}



/* device_add's arguments, or NULL (no free slot: why in err). The slot
 * is taken from s, the guest's (the lowest one free). */
static json_t *device_args(struct gslots *s, struct plug *p, char *err, size_t errlen)
{
	json_t *args;
	int want = -1, max = p->cdrom ? VBD_SCSI_IDS : VBD_ROOT_PORTS + 1;
	bool *used = p->cdrom ? s->scsi : s->rp;
	if (p->want && *p->want && !(sscanf(p->want, p->cdrom ? "scsi%d" : "rp%d", &want) == 1 &&
				      want >= (p->cdrom ? 0 : 1) && want < max)) {
		snprintf(err, errlen, "no such hot-plug slot for a %s: %s", p->cdrom ? "cdrom" : "disk",
			 p->want);
		return NULL;
	}
	if (want >= 0 && used[want]) { /* xm restore: where the saved guest had it, or nowhere */
		snprintf(err, errlen, "the hot-plug slot %s is taken", p->want);
		return NULL;
	}
	for (int i = p->cdrom ? 0 : 1; want < 0 && i < max; i++)
		if (!used[i])
			want = i;
	if (want < 0) {
		if (p->cdrom)
			snprintf(err, errlen, "no free SCSI target in the guest (%d at most)",
				 VBD_SCSI_IDS);
		else
			snprintf(err, errlen, "no free hot-plug slot in the guest (%d devices at most)",
				 VBD_ROOT_PORTS);
		return NULL;
	}
	used[want] = true;
	if (p->cdrom) {
		p->scsi_id = want;
		snprintf(p->bus, sizeof(p->bus), "scsi0.0");
		args = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "driver", "scsi-cd", "id",
				 p->devname, "bus", p->bus, "scsi-id", p->scsi_id, "lun", 0,
				 "product", p->dev ? p->dev : "");
	} else {
		char serial[32];
		snprintf(p->bus, sizeof(p->bus), "rp%d", want);
		snprintf(p->slot, sizeof(p->slot), "0000:00:%02x.0", VBD_ROOT_PORT_DEV0 + want - 1);
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

void connected_make(struct connected *c, const struct vbd *v,
		    const struct snap *sn, const char *bus, int scsi_id, const char *node,
		    bool slot_known)
{
	struct kv *kv = c->kv;
	int n = 0, port = 0;
	struct stat s;
	const char *params = sn->v[K_PARAMS], *mode = sn->v[K_MODE], *format = sn->v[K_FORMAT];
	bool media = params && *params, cdrom = snap_is(sn, K_DTYPE, "cdrom");
	bool raw = !format || strcmp(format, "qcow2") != 0;
	long long size = !media ? 0 : raw ? raw_size(params) : qcow2_size(params);
	c->real = media ? realpath(params, NULL) : NULL;
	snprintf(c->devname, sizeof(c->devname), "xmdev-%lu", v->devid);
	kv[n++] = (struct kv){ v->tool, "phase", PHASE_CONNECTED };
	kv[n++] = (struct kv){ v->tool, "device", c->devname };
	kv[n++] = (struct kv){ v->tool, "node", media ? node : "" };
	kv[n++] = (struct kv){ v->tool, "bus", bus };
	if (scsi_id >= 0) {
		snprintf(c->sid, sizeof(c->sid), "%d", scsi_id);
		kv[n++] = (struct kv){ v->tool, "scsi-id", c->sid };
	}
	if (media && stat(params, &s) == 0 && S_ISBLK(s.st_mode)) {
		snprintf(c->pd, sizeof(c->pd), "%x:%x", major(s.st_rdev), minor(s.st_rdev));
		kv[n++] = (struct kv){ v->be, "physical-device", c->pd };
	}
	if (media)
		kv[n++] = (struct kv){ v->be, "physical-device-path", c->real ? c->real : params };
	snprintf(c->sectors, sizeof(c->sectors), "%lld", size > 0 ? size / 512 : 0);
	kv[n++] = (struct kv){ v->be, "sectors", c->sectors };
	kv[n++] = (struct kv){ v->be, "sector-size", "512" };
	snprintf(c->info, sizeof(c->info), "%d",
		 (cdrom ? 1 : 0) | (mode && strcmp(mode, "r") == 0 ? 4 : 0));
	kv[n++] = (struct kv){ v->be, "info", c->info };
	/* where the guest finds it (unless the intent said it already: a
	 * write of the same value would still be a watch event to the guest's
	 * agent, in the middle of its kernel's probe of the disk) */
	if (!slot_known && sscanf(bus, "rp%d", &port) == 1 && port > 0) {
		snprintf(c->slot, sizeof(c->slot), "0000:00:%02x.0", VBD_ROOT_PORT_DEV0 + port - 1);
		kv[n++] = (struct kv){ v->be, "pci-root-port", c->slot };
	}
	kv[n++] = (struct kv){ v->be, "hotplug-status", "connected" };
	kv[n++] = (struct kv){ v->be, "state", vbd_state_str(XenbusStateConnected) };
	c->n = n;
	/* only while the backend still waits for it: xm may have given up
	 * (removed it, or asked for its removal) meanwhile */
	c->rec = (struct rec){ vbd_path(c->st, sizeof(c->st), v->be, "state"), sn->v[K_STATE], c->kv, n, 0 };
}

void connected_free(struct connected *c)
{
	free(c->real);
	c->real = NULL;
}

int vbd_connected(struct backd *b, const struct vbd *v, const struct snap *sn,
		  const char *bus, int scsi_id, const char *node)
{
	struct connected c;
	connected_make(&c, v, sn, bus, scsi_id, node, false);
	vbd_record_many(b, &c.rec, 1);
	connected_free(&c);
	return c.rec.rc;
}

/* The intent (the record at phase plugging: the QEMU names it will use),
 * written with the claim while the backend still waits (claims_take). */
struct intent {
	struct kv kv[8];
	int n;
	char sid[16], st[200], set[32];
};

static void intent_make(struct intent *in, const struct plug *p)
{
	const struct vbd *v = p->v;
	int n = 0;
	in->set[0] = '\0';
	if (p->fdset >= 0)
		snprintf(in->set, sizeof(in->set), "%ld", p->fdset);
	in->kv[n++] = (struct kv){ v->tool, "phase", PHASE_PLUGGING };
	in->kv[n++] = (struct kv){ v->tool, "node", p->media ? p->node : "" };
	in->kv[n++] = (struct kv){ v->tool, "fdset", in->set };
	in->kv[n++] = (struct kv){ v->tool, "bus", p->bus };
	if (p->scsi_id >= 0) {
		snprintf(in->sid, sizeof(in->sid), "%d", p->scsi_id);
		in->kv[n++] = (struct kv){ v->tool, "scsi-id", in->sid };
	}
	/* where the guest will find the disk, known to its agent before QEMU
	 * plugs it (docs/vbd.md: the agent connects on the disk's uevent) */
	if (p->slot[0])
		in->kv[n++] = (struct kv){ v->be, "pci-root-port", p->slot };
	in->n = n;
	vbd_path(in->st, sizeof(in->st), v->be, "state");
}

void plug_release(struct backd *b, const struct vbd *v)
{
	struct kv kv = { v->tool, NULL, NULL };
	claims_release(b, v->domid, v->devid, NULL, &kv, 1);
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

/* --- a batch of attaches ------------------------------------------------- */

static void snap_copy(struct snap *to, const struct snap *from)
{
	for (int k = 0; k < NKEYS; k++)
		to->v[k] = from->v[k] ? strdup(from->v[k]) : NULL;
	to->ok = from->ok;
	to->recs = NULL; /* (the slots are taken by then) */
	to->recs_len = 0;
	to->recs_ok = false;
}

/* The guest of an attach, if its QEMU can take one more job, with the
 * batch's before it (planned of them on its guest); else NULL: refused
 * when its QEMU does not answer, else left for later (the next scan, or
 * once one of the guest's jobs ends). */
static struct guest *plug_guest(struct backd *b, const struct vbd *v, struct guest *const *gs,
				int m)
{
	struct guest *g = guest_ready(b, v->domid);
	unsigned int planned = 0;
	if (!g) {
		if (guest_stuck(b, v->domid)) { /* refused now, not after xm's timeout */
			char why[160];
			snprintf(why, sizeof(why), "the QEMU of domain %u does not answer "
				 "(stopped or hung)", v->domid);
			plug_refuse(b, v, why);
		} else {
			/* its QEMU full of jobs (detaches the batch started,
			 * say): looked at again once one ends */
			(void)guest_busy(b, v->domid, v->devid);
		}
		return NULL;
	}
	for (int k = 0; k < m; k++)
		planned += gs[k] == g;
	if (g->njobs + planned >= GUEST_JOBS_MAX || job_holds(g, v->devid)) {
		log_debug("domain %u vbd %lu: waits for a job of its guest to end", v->domid,
			  v->devid);
		g->deferred = true;
		return NULL;
	}
	return g;
}

/* A new attach's job, its checks made (c: its claim, but for the slot);
 * NULL when refused (said) or without memory. */
static struct job *plug_new(struct backd *b, const struct vbd *v, const struct snap *sn,
			    struct claim *c)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		plug_refuse(b, v, "out of memory");
		return NULL;
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
	*c = (struct claim){ .domid = v->domid, .devid = v->devid };
	const char *dtype = j->sn.v[K_DTYPE];
	p->cdrom = dtype && strcmp(dtype, "cdrom") == 0;
	p->media = p->params && *p->params;
	snprintf(p->node, sizeof(p->node), "xmblk-%lu", v->devid);
	snprintf(p->devname, sizeof(p->devname), "xmdev-%lu", v->devid);
	log_debug("domain %u vbd %lu: attach", v->domid, v->devid);
	if (!p->mode || !p->type || !j->sn.v[K_FE])
		snprintf(j->err, sizeof(j->err), "incomplete backend (params, mode, type, frontend)");
	else if (precheck(p, c, j->err, sizeof(j->err)) == 0)
		return j;
	plug_refuse(b, v, j->err);
	job_drop(j);
	return NULL;
}

/* The claimed attach to its guest's QEMU: add-fd, blockdev-add and
 * device_add (args) back to back (QEMU takes a monitor's commands in
 * order, so neither costs a round trip more), carried on by job_message. */
static void plug_send(struct backd *b, struct guest *g, struct job *j, json_t *args)
{
	const struct vbd *v = &j->v;
	struct plug *p = &j->p;
	j->t_qmp = now_us();
	log_debug("domain %u vbd %lu: claimed; to QEMU on %s", v->domid, v->devid, p->bus);
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
		return;
	}
	p->unsure = true; /* what was sent may yet be done */
	plug_failed(b, g, j);
}

/* Each guest of the batch once in gs (its slots' table, with its
 * records' names if a snapshot of it listed them); which one is job k's
 * in at[k]. The number of guests. */
static int batch_guests(struct job *const *jobs, const struct snap *const *sn, int m,
			struct gslots *gs, int *at)
{
	int ng = 0;
	for (int k = 0; k < m; k++) {
		int i = 0;
		while (i < ng && gs[i].domid != jobs[k]->v.domid)
			i++;
		if (i == ng)
			gs[ng++] = (struct gslots){ .domid = jobs[k]->v.domid };
		if (!gs[i].listed && sn[k]->recs_ok) {
			gs[i].names = sn[k]->recs ? sn[k]->recs : "";
			gs[i].len = sn[k]->recs ? sn[k]->recs_len : 0;
			gs[i].listed = true;
		}
		at[k] = i;
	}
	return ng;
}

void vbd_plug_many(struct backd *b, const struct vbd *const *v, const struct snap *const *sn,
		   int n)
{
	struct job *jobs[VBD_BATCH];
	const struct snap *jsn[VBD_BATCH]; /* each job's snapshot, as read */
	struct guest *gs[VBD_BATCH];
	struct claim cl[VBD_BATCH];
	struct gslots slots[VBD_BATCH];
	struct intent in[VBD_BATCH];
	struct claim_req req[VBD_BATCH];
	json_t *args[VBD_BATCH];
	int at[VBD_BATCH], m = 0, nr = 0;

	/* each one's checks, before the store is asked anything */
	for (int i = 0; i < n && m < VBD_BATCH; i++) {
		struct guest *g = plug_guest(b, v[i], gs, m);
		struct job *j = g ? plug_new(b, v[i], sn[i], &cl[m]) : NULL;
		if (j) {
			gs[m] = g;
			jsn[m] = sn[i];
			jobs[m++] = j;
		}
	}
	/* the slots: each guest's in two round trips for all of them */
	int ng = batch_guests(jobs, jsn, m, slots, at);
	slots_read(b, slots, ng);
	for (int k = 0; k < m; k++) {
		struct job *j = jobs[k];
		args[k] = device_args(&slots[at[k]], &j->p, j->err, sizeof(j->err));
		if (!args[k])
			continue;
		intent_make(&in[k], &j->p);
		req[nr++] = (struct claim_req){ .c = &cl[k], .target = j->p.params,
						.must_exist = in[k].st,
						.must_be = vbd_state_str(XenbusStateInitialising),
						.kv = in[k].kv, .n = in[k].n, .err = j->err,
						.errlen = sizeof(j->err) };
	}
	/* the claims and intents: one transaction for all */
	claims_take_many(b, req, nr);
	for (int k = 0, r = 0; k < m; k++) {
		struct job *j = jobs[k];
		int rc = args[k] ? req[r++].rc : -1;
		if (rc) {
			json_decref(args[k]);
			if (rc != CLAIM_GONE) /* gone: xm gave up meanwhile */
				plug_refuse(b, &j->v, j->err);
			job_drop(j);
			continue;
		}
		crash_point("xmbackd.claimed");
		plug_send(b, gs[k], j, args[k]);
	}
}
