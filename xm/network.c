/*
 * network.c — xm network-attach, network-detach, network-list (and the
 * vifs of xm create): a vif's backend and frontend directories in Xen's
 * layout, written in one transaction; xmbackd makes the tap, puts it on
 * the bridge and plugs the NIC into QEMU; the guest's agent finds the NIC
 * by its MAC, brings its link up and says Connected (docs/vif.md).
 *
 * As for disks, xm only writes and waits, and every failure path leaves
 * nothing behind: a vif xmbackd refused (hotplug-status error: its tap and
 * QEMU devices are undone by then) has its directories removed; one that
 * times out is unplugged first (Closing, and Closed from xmbackd). Each
 * command holds the vif's operation lock (oplock.h, vif-N.lock) while it
 * writes and waits: xmbackd removes what an xm that died left (a refused
 * or Closed backend whose lock nobody holds); crash points
 * xm.net-attach-written, -waiting, -failed, xm.net-detach-closing,
 * -closed.
 */
#include "block.h"
#include "xm.h"
#include "dom.h"
#include "util.h"
#include "vif.h"
#include "xsbatch.h"
#include "oplock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A vif's handles are 0..VIF_MAX_HANDLE (the generated MAC holds 8 bits). */
#define VIF_MAX_HANDLE 255

int xm_net_check_host(const struct vifspec *s)
{
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "/sys/class/net/%s", s->bridge);
	if (stat(p, &st) < 0)
		return xm_error("bridge %s does not exist", s->bridge);
	snprintf(p, sizeof(p), "/sys/class/net/%s/bridge", s->bridge);
	if (stat(p, &st) < 0)
		return xm_error("%s is not a bridge", s->bridge);
	snprintf(p, sizeof(p), "/sys/class/net/%s", s->vifname);
	if (*s->vifname && stat(p, &st) == 0)
		return xm_error("vifname %s is in use on the host", s->vifname);
	return 0;
}

struct newvif {
	unsigned int domid;
	const struct vifspec *s;
	unsigned long want;    /* the handle whose lock is held */
	long handle;           /* the handle to take (xm restore), or -1: the next */
	const char *slot;      /* the NIC root port xmbackd must use, or NULL */
	struct vif v;          /* out: the handle taken */
	char mac[18];          /* out: its MAC */
	unsigned long dup;     /* out: the vif that has that MAC already */
	int err;
};

enum { NV_DUP = 1, NV_FULL, NV_FAILED, NV_MOVED, NV_TAKEN };

/* The highest handle in dir's children, into *max (-1: none). Each
 * backend's MAC against mac (NULL: not yet known): a match is *dup. */
static int scan_handles(struct xsc *c, uint32_t tx, const char *dir, long *max, const char *mac,
			unsigned long *dup, bool *found)
{
	unsigned int n = 0;
	char *names = xsc_directory(c, tx, dir, &n);
	if (!names)
		return errno == ENOENT ? 0 : -1;
	const char *name = names;
	for (unsigned int i = 0; i < n; i++, name += strlen(name) + 1) {
		long id = strtol(name, NULL, 10);
		if (id > *max)
			*max = id;
		if (!mac)
			continue;
		char p[200];
		snprintf(p, sizeof(p), "%s/%s/mac", dir, name);
		char *m = xsc_read(c, tx, p);
		if (m && strcasecmp(m, mac) == 0 && !*found) {
			*found = true;
			*dup = (unsigned long)id;
		}
		free(m);
	}
	free(names);
	return 0;
}

static int fill_vif(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct newvif *d = arg;
	const struct vifspec *s = d->s;
	char be_dir[64], fe_dir[64], p[200], n[32], dom[16];
	long max = -1;
	bool found = false;
	snprintf(be_dir, sizeof(be_dir), VIF_BACKEND_ROOT "/%u", d->domid);
	snprintf(fe_dir, sizeof(fe_dir), "/local/domain/%u/device/vif", d->domid);
	const char *given = s->has_mac ? vif_mac_str(s->mac, d->mac) : NULL;
	if (scan_handles(c, tx, be_dir, &max, given, &d->dup, &found) < 0 ||
	    scan_handles(c, tx, fe_dir, &max, NULL, NULL, &found) < 0)
		return -1;
	if (d->handle >= 0) { /* that one, free */
		vif_init(&d->v, d->domid, (unsigned long)d->handle);
		char *be = xsc_read(c, tx, d->v.be), *fe = be ? NULL : xsc_read(c, tx, d->v.fe);
		bool taken = be || fe;
		free(be);
		free(fe);
		if (taken)
			return NV_TAKEN;
	} else {
		if (max + 1 > VIF_MAX_HANDLE)
			return NV_FULL;
		vif_init(&d->v, d->domid, (unsigned long)(max + 1));
		if (d->v.devid != d->want)
			return NV_MOVED; /* another attach took it meanwhile: lock the next */
	}
	if (!s->has_mac) { /* the generated one may be taken by a given one */
		uint8_t mac[6];
		vif_mac_default(d->domid, d->v.devid, mac);
		vif_mac_str(mac, d->mac);
		max = -1;
		if (scan_handles(c, tx, be_dir, &max, d->mac, &d->dup, &found) < 0)
			return -1;
	}
	if (found)
		return NV_DUP;

	const struct vif *v = &d->v;
	snprintf(dom, sizeof(dom), "r%u", v->domid);
	const char *beperm[] = { "n0", dom };
	snprintf(n, sizeof(n), "n%u", v->domid);
	const char *feperm[] = { n, "r0" };
	const char *init = vbd_state_str(XenbusStateInitialising);
	char handle[16];
	snprintf(handle, sizeof(handle), "%lu", v->devid);
	xsb_mkdir(b, tx, v->be);
	xsb_set_perms(b, tx, v->be, beperm, 2);
	xsb_mkdir(b, tx, v->fe);
	xsb_set_perms(b, tx, v->fe, feperm, 2);
#define W(dir, key, val) xsb_write(b, tx, vbd_path(p, sizeof(p), (dir), (key)), (val))
	W(v->be, "frontend", v->fe);
	snprintf(n, sizeof(n), "%u", v->domid);
	W(v->be, "frontend-id", n);
	W(v->be, "online", "1");
	W(v->be, "script", VIF_SCRIPT);
	W(v->be, "mac", d->mac);
	W(v->be, "bridge", s->bridge);
	W(v->be, "handle", handle);
	W(v->be, "type", strcmp(s->type, "ioemu") == 0 ? "vif_ioemu" : "vif");
	W(v->be, "model", s->model);
	if (*s->ip)
		W(v->be, "ip", s->ip);
	if (*s->vifname)
		W(v->be, "vifname", s->vifname);
	if (d->slot) /* xm restore: where the saved guest had it */
		W(v->be, VBD_SLOT_NODE, d->slot);
	W(v->be, "state", init);
	W(v->fe, "backend", v->be);
	W(v->fe, "backend-id", "0");
	W(v->fe, "handle", handle);
	W(v->fe, "mac", d->mac);
	W(v->fe, "state", init);
#undef W
	return 0;
}

static int check_vif(const struct xsb *b, void *arg)
{
	struct newvif *d = arg;
	for (unsigned int i = 0; i < b->n; i++)
		if ((d->err = xsb_errno(b, i)))
			return NV_FAILED;
	return 0;
}

/* Remove the vif's directories (and the domain's vif backend directory
 * when it is left empty). */
static int fill_remove(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vif *v = arg;
	(void)c;
	xsb_rm(b, tx, v->be);
	xsb_rm(b, tx, v->fe);
	return 0;
}

static void net_remove(struct xsc *c, const struct vif *v)
{
	xsc_transaction(c, fill_remove, NULL, (void *)v);
	char p[64];
	unsigned int n = 0;
	snprintf(p, sizeof(p), VIF_BACKEND_ROOT "/%u", v->domid);
	char *names = xsc_directory(c, 0, p, &n);
	struct xsb_reply r;
	if (names && n == 0 && xsc_call(c, XS_RM, 0, p, strlen(p) + 1, &r) == 0)
		free(r.body);
	free(names);
}

static int fill_close(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vif *v = arg;
	char p[200];
	char *st = xsc_read(c, tx, vbd_path(p, sizeof(p), v->be, "state"));
	bool gone = !st;
	free(st);
	if (gone)
		return 1;
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "online"), "0");
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "state"), vbd_state_str(XenbusStateClosing));
	return 0;
}

/* Ask xmbackd to take the vif down (Closing) and wait for Closed (or the
 * backend gone) until deadline: the last state (-1 gone, BLK_LOST). */
static int net_close(struct xsc *c, const struct vif *v, long deadline, bool detach)
{
	int rc = xsc_transaction(c, fill_close, NULL, (void *)v);
	if (rc == 1)
		return -1;
	if (rc < 0)
		return BLK_LOST;
	if (detach)
		blk_crash_point("net-detach", "-closing");
	return blk_wait_closed(c, v->be, deadline);
}

/* What an attach waits on. */
enum { N_BE, N_HS, N_FE, N_N };
static const char *const net_tokens[N_N] = { "be", "hs", "fe" };

/* Is the guest's agent up (as block-attach.c asks)? */
static bool agent_up(struct xsc *c, unsigned int domid)
{
	char p[128];
	snprintf(p, sizeof(p), "/local/domain/%u/attr/xmfront/state", domid);
	char *state = xsc_read(c, 0, p);
	snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/agent", domid);
	char *link = xsc_read(c, 0, p);
	bool up = state && strcmp(state, "ready") == 0 &&
		  !(link && strcmp(link, "disconnected") == 0);
	free(state);
	free(link);
	return up;
}

/* Wait until backend and frontend are Connected: 0; 1 the backend is and
 * the guest's agent is not up at the deadline (it connects the NIC when it
 * starts); -1 failed (*why, malloc'd), *refused when xmbackd refused it
 * (and undid its part). */
static int net_wait(struct xsc *c, const struct vif *v, bool wait_guest, char **why,
		    bool *refused)
{
	long deadline = now_ms() + blk_timeout_ms("XM_ATTACH_TIMEOUT", 30000);
	char path[N_N][200];
	snprintf(path[N_BE], sizeof(path[N_BE]), "%s/state", v->be);
	snprintf(path[N_HS], sizeof(path[N_HS]), "%s/hotplug-status", v->be);
	snprintf(path[N_FE], sizeof(path[N_FE]), "%s/state", v->fe);
	for (int i = 0; i < N_N; i++)
		if (xsc_watch(c, path[i], net_tokens[i]) < 0)
			goto lost;
	*why = NULL;
	*refused = false;
	for (;;) {
		char *bs = xsc_read(c, 0, path[N_BE]);
		char *hs = xsc_read(c, 0, path[N_HS]);
		char *fs = xsc_read(c, 0, path[N_FE]);
		int b = vbd_state_parse(bs), f = vbd_state_parse(fs);
		bool error = hs && strcmp(hs, "error") == 0;
		free(bs);
		free(hs);
		free(fs);
		if (error) {
			char p[200];
			*why = xsc_read(c, 0, vbd_path(p, sizeof(p), v->be, "hotplug-error"));
			if (!*why)
				*why = strdup("the backend failed");
			*refused = true;
			return -1;
		}
		if (b < 0 || f < 0 || b == XenbusStateClosed || f == XenbusStateClosed) {
			*why = strdup("the device went away while connecting");
			return -1;
		}
		if (b == XenbusStateConnected && (f == XenbusStateConnected || !wait_guest))
			return 0;
		blk_crash_point("net-attach", "-waiting");
		int m = xsc_wait_until(c, deadline);
		if (m < 0 && errno == ETIMEDOUT) {
			if (b == XenbusStateConnected && !agent_up(c, v->domid))
				return 1;
			char *silent = blk_silent_part(c, v->domid);
			*why = silent ? silent :
					strdup("timed out waiting for the backend and the guest to connect");
			return -1;
		}
		if (m < 0)
			goto lost;
	}
lost:
	*why = strdup("lost the connection to XenStore");
	return -1;
}

/* The vif's operation lock (oplock.h), as blk_lock takes a disk's: 0, 1
 * another xm holds it (not printed), -1 (printed). */
static int net_lock(struct blk_lock *l, unsigned int domid, unsigned long devid)
{
	oplock_vif_path(domid, devid, l->path, sizeof(l->path));
	l->fd = oplock_take(l->path);
	if (l->fd >= 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return 1;
	xm_error("cannot take the operation lock %s: %s", l->path, strerror(errno));
	return -1;
}

/* The handle the next vif of domid would take (the highest + 1), as
 * fill_vif picks it; the transaction checks it again. */
static unsigned long next_handle(struct xsc *c, unsigned int domid)
{
	char be_dir[64], fe_dir[64];
	long max = -1;
	bool found = false;
	snprintf(be_dir, sizeof(be_dir), VIF_BACKEND_ROOT "/%u", domid);
	snprintf(fe_dir, sizeof(fe_dir), "/local/domain/%u/device/vif", domid);
	scan_handles(c, 0, be_dir, &max, NULL, NULL, &found);
	scan_handles(c, 0, fe_dir, &max, NULL, NULL, &found);
	return (unsigned long)(max + 1);
}

/* Lock the handle the vif will take, then write its directories (the
 * transaction's result; NV_MOVED never). Another attach to the same domain
 * may hold the next handle's lock for the few ms before its write: then
 * the handle after it is tried. */
static int net_create(struct xsc *c, struct newvif *d, struct blk_lock *l)
{
	if (d->handle >= 0) { /* xm restore's: that handle or none */
		int k = net_lock(l, d->domid, (unsigned long)d->handle);
		if (k > 0)
			xm_error("another xm is working on vif %ld of domain %u", d->handle, d->domid);
		if (k)
			return -2;
		d->want = (unsigned long)d->handle;
		return xsc_transaction(c, fill_vif, check_vif, d);
	}
	unsigned long want = next_handle(c, d->domid);
	for (int tries = 0;; tries++) {
		int k = net_lock(l, d->domid, want);
		if (k < 0)
			return -2;
		if (k > 0) {
			if (tries >= 250) {
				xm_error("another xm is working on vif %lu of domain %u", want,
					 d->domid);
				return -2;
			}
			usleep(20000);
			want = next_handle(c, d->domid);
			continue;
		}
		d->want = want;
		int rc = xsc_transaction(c, fill_vif, check_vif, d);
		if (rc != NV_MOVED)
			return rc;
		blk_unlock(l);
		if (tries >= 250) {
			xm_error("the vifs of domain %u keep changing: no handle could be taken",
				 d->domid);
			return -2;
		}
		want = d->v.devid;
	}
}

static int attach_vif(unsigned int domid, const struct vifspec *s, long handle, const char *slot,
		      bool wait_guest)
{
	if (xm_net_check_host(s) || blk_need_backd("vifs cannot be connected"))
		return 1;
	struct xsc c;
	if (xm_xsc_open(&c, net_tokens, N_N))
		return 1;
	struct newvif d = { .domid = domid, .s = s, .handle = handle, .slot = slot };
	struct blk_lock l = { .fd = -1 };
	int rc = net_create(&c, &d, &l);
	if (rc == -2) {
		rc = 1; /* printed */
	} else if (rc == NV_TAKEN) {
		rc = xm_error("domain %u has a vif %ld already", domid, handle);
	} else if (rc == NV_DUP) {
		rc = xm_error("MAC %s is already used by vif %lu of domain %u", d.mac, d.dup, domid);
	} else if (rc == NV_FULL) {
		rc = xm_error("domain %u has %d vifs: no handle is left", domid, VIF_MAX_HANDLE + 1);
	} else if (rc == NV_FAILED) {
		rc = xm_error("cannot write the vif's XenStore nodes: %s", strerror(d.err));
	} else if (rc < 0) {
		rc = xm_error("XenStore transaction failed: %s", strerror(errno));
	} else {
		char *why = NULL;
		bool refused = false;
		blk_crash_point("net-attach", "-written");
		int w = net_wait(&c, &d.v, wait_guest, &why, &refused);
		if (w < 0) {
			blk_crash_point("net-attach", "-failed");
			if (!refused)
				net_close(&c, &d.v, now_ms() + 15000, false);
			net_remove(&c, &d.v);
			rc = xm_error("%s", why ? why : "out of memory");
		} else if (w > 0) {
			fprintf(stderr, "vif %lu (%s) is attached; domain %u's agent is not up yet, and "
				"connects it when it starts.\n", d.v.devid, d.mac, domid);
		}
		free(why);
	}
	blk_unlock(&l);
	xsc_close(&c);
	return rc;
}

int xm_net_attach(unsigned int domid, const struct vifspec *s, bool wait_guest)
{
	return attach_vif(domid, s, -1, NULL, wait_guest);
}

int xm_net_attach_at(unsigned int domid, const struct vifspec *s, unsigned long handle,
		     const char *slot)
{
	return attach_vif(domid, s, (long)handle, slot, false);
}

int cmd_network_attach(struct xm_ctx *x, int argc, char **argv)
{
	struct vifspec s;
	char err[512];
	bool dry_run = argc > 1 && (strcmp(argv[1], "-n") == 0 || strcmp(argv[1], "--dry-run") == 0);
	if (dry_run) {
		argc--;
		argv++;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return xm_usage("network-attach");
	if (vifspec_parse_words(argv + 1, argc - 1, &s, err, sizeof(err)))
		return xm_error("%s", err);
	if (x->domid == 0)
		return xm_error("Cannot attach network devices to Domain-0");
	if (dry_run)
		return xm_print_vif(&s);
	return xm_net_attach(x->domid, &s, true);
}

/* The vif of x's domain named by handle or MAC. 0, or 1 (printed). */
static int net_find(struct xm_ctx *x, const char *name, struct vif *v)
{
	char p[200];
	bool digits = *name && strspn(name, "0123456789") == strlen(name);
	if (digits) {
		vif_init(v, x->domid, strtoul(name, NULL, 10));
		char *fe = dom_readf(x->h, XBT_NULL, "%s/frontend", v->be);
		char *be = fe ? NULL : dom_readf(x->h, XBT_NULL, "%s/backend", v->fe);
		bool there = fe || be;
		free(fe);
		free(be);
		if (there)
			return 0;
		return xm_error("Device %s (vif) is not connected.", name);
	}
	uint8_t mac[6];
	char err[256], want[18];
	if (vif_mac_parse(name, mac, err, sizeof(err)) < 0)
		return xm_error("%s: a vif is named by its handle (a number) or its MAC", err);
	vif_mac_str(mac, want);
	snprintf(p, sizeof(p), VIF_BACKEND_ROOT "/%u", x->domid);
	unsigned int n = 0;
	char **ids = xs_directory(x->h, XBT_NULL, p, &n);
	for (unsigned int i = 0; i < n; i++) {
		char *m = dom_readf(x->h, XBT_NULL, "%s/%s/mac", p, ids[i]);
		bool same = m && strcasecmp(m, want) == 0;
		free(m);
		if (same) {
			vif_init(v, x->domid, strtoul(ids[i], NULL, 10));
			free(ids);
			return 0;
		}
	}
	free(ids);
	return xm_error("Device %s (vif) is not connected.", name);
}

int cmd_network_detach(struct xm_ctx *x, int argc, char **argv)
{
	if (argc != 2)
		return xm_usage("network-detach");
	if (x->domid == 0)
		return xm_error("Cannot detach network devices from Domain-0");
	struct vif v;
	if (net_find(x, argv[1], &v))
		return 1;
	if (blk_need_backd("vifs cannot be detached"))
		return 1;
	static const char *const tokens[] = { "state" };
	struct xsc c;
	if (xm_xsc_open(&c, tokens, 1))
		return 1;
	struct blk_lock l = { .fd = -1 };
	int rc = net_lock(&l, v.domid, v.devid);
	if (rc > 0)
		rc = xm_error("another xm is working on vif %lu of domain %u", v.devid, v.domid);
	if (rc) {
		xsc_close(&c);
		return 1;
	}
	int st = net_close(&c, &v, now_ms() + blk_timeout_ms("XM_DETACH_TIMEOUT", 10000), true);
	if (st == BLK_LOST) {
		rc = xm_error("lost the connection to XenStore");
	} else if (st >= 0 && st != XenbusStateClosed) {
		/* left Closing: xmbackd finishes the unplug, and removes the
		 * directories once Closed (this lock is gone then) */
		char *silent = blk_silent_part(&c, v.domid);
		rc = xm_error("%s", silent ? silent : "timed out waiting for xmbackd to unplug the vif");
		free(silent);
	} else {
		blk_crash_point("net-detach", "-closed");
		net_remove(&c, &v);
	}
	blk_unlock(&l);
	xsc_close(&c);
	return rc;
}

static void print_long(struct xs_handle *h, const struct vif *v, const char *id)
{
	static const char *const keys[] = { "mac", "bridge", "ip", "model", "vifname", "type",
		"script", "state", "hotplug-status", NULL };
	char *be = dom_readf(h, XBT_NULL, "%s/backend", v->fe);
	char *st = dom_readf(h, XBT_NULL, "%s/state", v->fe);
	printf("(%s\n    ((backend-id 0)\n     (handle %s)\n     (state %d)\n     (backend %s)",
	       id, id, st ? atoi(st) : -1, be ? be : "");
	for (int k = 0; keys[k]; k++) {
		char *val = dom_readf(h, XBT_NULL, "%s/%s", v->be, keys[k]);
		if (val)
			printf("\n     (be-%s '%s')", keys[k], val);
		free(val);
	}
	printf("\n    )\n)\n");
	free(be);
	free(st);
}

static int by_number(const void *a, const void *b)
{
	unsigned long x = strtoul(*(char *const *)a, NULL, 10), y = strtoul(*(char *const *)b, NULL, 10);
	return x < y ? -1 : x > y;
}

int cmd_network_list(struct xm_ctx *x, int argc, char **argv)
{
	bool lng = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--long") == 0)
			lng = true;
		else
			return xm_usage("network-list");
	}
	char path[64];
	snprintf(path, sizeof(path), "/local/domain/%u/device/vif", x->domid);
	unsigned int n = 0;
	char **devs = xs_directory(x->h, XBT_NULL, path, &n);
	if (devs)
		qsort(devs, n, sizeof(*devs), by_number);
	for (unsigned int i = 0; i < n; i++) {
		struct vif v;
		vif_init(&v, x->domid, strtoul(devs[i], NULL, 10));
		if (lng) {
			print_long(x->h, &v, devs[i]);
			continue;
		}
		if (i == 0) /* as xm: the header only above a first device */
			printf("Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path\n");
		char *be = dom_readf(x->h, XBT_NULL, "%s/backend", v.fe);
		char *mac = dom_readf(x->h, XBT_NULL, "%s/mac", v.fe);
		char *s = dom_readf(x->h, XBT_NULL, "%s/state", v.fe);
		int idx = atoi(devs[i]);
		/* no event channel or rings: -1, as block-list prints them */
		printf("%-3d %-3d%-17s    %-3d   %-3d    %-3d   %-5d/%-5d   %-30s  \n", idx, 0,
		       mac ? mac : "", idx, s ? atoi(s) : -1, -1, -1, -1, be ? be : "");
		free(be);
		free(mac);
		free(s);
	}
	free(devs);
	return 0;
}
