/*
 * vbd.c — the block backend's events: what to do with a device, as its
 * XenStore nodes say (docs/vbd.md).
 *
 * Everything is driven by XenStore state, re-read on every watch event, so
 * a restarted xmbackd carries on where the last one stopped: a backend at
 * Initialising is realised (plug.c: sharing check, blockdev-add,
 * device_add), one at Closing is torn down once its frontend has closed
 * (or at once with force), a media change is carried out (media.c). What
 * xmbackd made in QEMU is recorded under /tool/xm/domain/D/vbd/DEVID.
 *
 * QMP calls block (a few ms each; DEVICE_DELETED ~0.1 s): xmbackd handles
 * one backend at a time, which is also what makes the sharing check atomic.
 */
#include "vbd-int.h"
#include "dom.h"
#include "util.h"
#include "xsbatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Take the device out of QEMU (if the guest still runs) and forget it. */
static void teardown(struct backd *b, const struct vbd *v, bool write_state)
{
	struct qmp *q = guest_qmp(b, v->domid);
	char *devname = dom_readf(b->xs, XBT_NULL, "%s/device", v->tool);
	char *node = dom_readf(b->xs, XBT_NULL, "%s/node", v->tool);

	if (q && devname)
		vbd_unplug(q, v, devname, node);
	xs_rm(b->xs, XBT_NULL, v->tool);
	char *fe = be_read(b, v, "frontend");
	if (fe) {
		char fs[256];
		snprintf(fs, sizeof(fs), "%s/state", fe);
		xsc_send(&b->xw, XS_UNWATCH, fs, "frontend");
	}
	if (write_state)
		be_write_state(b, v, XenbusStateClosed);
	log_info("domain %u vbd %lu: disconnected", v->domid, v->devid);
	free(fe);
	free(devname);
	free(node);
}

void vbd_consider(struct backd *b, unsigned int domid, unsigned long devid)
{
	struct vbd v;
	struct snap sn;
	vbd_init(&v, domid, devid);
	snap_read(b, &v, &sn);
	const char *state = sn.v[K_STATE], *hs = sn.v[K_HS], *mc = sn.v[K_MC];
	const char *dev = sn.v[K_TOOLDEV], *fe = sn.v[K_FE];
	int st = vbd_state_parse(state);

	if (st == XenbusStateInitialising && !hs && snap_is(&sn, K_ONLINE, "1")) {
		vbd_plug(b, &v, &sn);
	} else if (st == XenbusStateClosing && dev) {
		char *fes = fe ? dom_readf(b->xs, XBT_NULL, "%s/state", fe) : NULL;
		if (snap_is(&sn, K_FORCE, "1") || !fes || vbd_state_parse(fes) == XenbusStateClosed)
			teardown(b, &v, true);
		free(fes);
	} else if (st == XenbusStateClosing && !dev && hs) {
		/* never realised (refused): nothing to undo */
		be_write_state(b, &v, XenbusStateClosed);
	} else if (st == XenbusStateConnected && dev && mc &&
		   (strcmp(mc, "insert") == 0 || strcmp(mc, "eject") == 0)) {
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

	if (sscanf(path, VBD_BACKEND_ROOT "/%u%n", &domid, &n) == 1 && path[n] == '\0') {
		/* a guest's first backend (or its last gone): its devices */
		char dir[64];
		unsigned int nv = 0;
		snprintf(dir, sizeof(dir), VBD_BACKEND_ROOT "/%u", domid);
		char **devs = xs_directory(b->xs, XBT_NULL, dir, &nv);
		if (!devs)
			return false; /* removed with its devices: look at everything */
		for (unsigned int j = 0; j < nv; j++)
			note_dev(b, domid, strtoul(devs[j], NULL, 10));
		free(devs);
		return true;
	}
	n = 0;
	if (sscanf(path, VBD_BACKEND_ROOT "/%u/%lu%n", &domid, &devid, &n) == 2) {
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
	char **doms = xs_directory(b->xs, XBT_NULL, VBD_BACKEND_ROOT, &nd);
	for (unsigned int i = 0; i < nd; i++) {
		unsigned int nv = 0;
		char path[128];
		snprintf(path, sizeof(path), VBD_BACKEND_ROOT "/%s", doms[i]);
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
