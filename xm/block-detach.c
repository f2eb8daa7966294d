/*
 * block-detach.c — xm block-detach: ask the guest to let go of a device
 * (backend Closing), wait for the backend to close (xmbackd unplugs it once
 * the frontend is Closed) and remove its directories. A guest that refuses
 * (the device is mounted or open) says why in its error node: the device
 * is put back to Connected, nothing changed. -f takes it down without the
 * guest (docs/vbd.md).
 */
#include "block.h"
#include "xm.h"
#include "util.h"
#include "wire.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fill_closing(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vbd *v = arg;
	char p[200];
	(void)c;
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "online"), "0");
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "state"),
		  vbd_state_str(XenbusStateClosing));
	return 0;
}

static int fill_reconnect(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct vbd *v = arg;
	char p[200];
	(void)c;
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "state"),
		  vbd_state_str(XenbusStateConnected));
	xsb_write(b, tx, vbd_path(p, sizeof(p), v->be, "online"), "1");
	xsb_add(b, XS_RM, tx, v->errdir, strlen(v->errdir) + 1); /* the guest clears it too */
	return 0;
}

/* Ask the guest to let go and wait for the backend to close; refused or no
 * answer: back to Connected, nothing changed. 0 or 1 (printed). c watches
 * with one token. */
static int detach(struct xsc *c, const struct vbd *v, const char *label)
{
	struct xsb_reply r;
	if (xsc_call(c, XS_RM, 0, v->err, strlen(v->err) + 1, &r) < 0)
		return xm_error("cannot reach XenStore: %s", strerror(errno));
	free(r.body);
	if (xsc_transaction(c, fill_closing, NULL, (void *)v) < 0)
		return xm_error("XenStore transaction failed: %s", strerror(errno));
	long deadline = now_ms() + blk_timeout_ms("XM_DETACH_TIMEOUT", 10000);
	int bs = blk_wait_closed(c, v->be, deadline);
	if (bs == XenbusStateClosed || bs < 0) {
		blk_remove(c, v);
		return 0;
	}
	char *why = xsc_read(c, 0, v->err);
	xsc_transaction(c, fill_reconnect, NULL, (void *)v);
	int rc = xm_error("Device %s (%lu, vbd) could not be disconnected: %s", label, v->devid,
			  vbd_error_text(why ? why : "the guest did not release it"));
	free(why);
	return rc;
}

int cmd_block_detach(struct xm_ctx *x, int argc, char **argv)
{
	bool force = false;
	const char *dev = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			force = true;
		else if (!dev)
			dev = argv[i];
		else
			return xm_usage("block-detach");
	}
	if (!dev)
		return xm_usage("block-detach");
	struct vbd v;
	if (blk_find(x, dev, &v))
		return 1;
	/* The rest on a plain connection: batched, its watch needs no reader
	 * thread (xsbatch.h). */
	static const char *const tokens[] = { "be" };
	struct xsc c;
	if (xm_xsc_open(&c, tokens, 1))
		return 1;
	int rc = 0;
	if (force) {
		fprintf(stderr, "Warning: forcing the detach of %s without the guest's consent: "
			"data it has not written out is lost.\n", dev);
		blk_force_remove(&c, &v);
	} else {
		rc = detach(&c, &v, dev);
	}
	xsc_close(&c);
	return rc;
}
