/*
 * block-media.c — xm block-configure, cd-insert, cd-eject: change the
 * medium of a CD/DVD drive. xm writes the new medium and media-change
 * ("insert" or "eject") in one transaction; xmbackd carries it out in QEMU
 * and answers "done" or "error" there (docs/vbd.md "CD/DVD media"). The
 * device's operation lock is held while xm writes and waits.
 */
#include "block.h"
#include "xm.h"
#include "dom.h"
#include "diskspec.h"
#include "util.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct change {
	const struct vbd *v;
	const struct diskspec *s;  /* NULL or empty: eject */
	bool force;
};

static int fill_change(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct change *m = arg;
	const char *be = m->v->be;
	bool insert = m->s && !m->s->empty;
	char p[200];
	(void)c;
	xsb_write(b, tx, vbd_path(p, sizeof(p), be, "params"), insert ? m->s->target : "");
	if (insert) {
		xsb_write(b, tx, vbd_path(p, sizeof(p), be, "type"),
			  disk_backend_name(m->s->backend));
		xsb_write(b, tx, vbd_path(p, sizeof(p), be, "format"),
			  disk_format_name(m->s->format));
	}
	xsb_write(b, tx, vbd_path(p, sizeof(p), be, "force"), m->force ? "1" : "0");
	xsb_write(b, tx, vbd_path(p, sizeof(p), be, "media-change"), insert ? "insert" : "eject");
	return 0;
}

/* Wait for xmbackd's answer in media-change: "done", or why not
 * (malloc'd). */
static char *wait_done(struct xsc *c, const struct vbd *v)
{
	char mp[200], p[200];
	vbd_path(mp, sizeof(mp), v->be, "media-change");
	xsc_watch(c, mp, c->tokens[0]);
	long deadline = now_ms() + blk_timeout_ms("XM_MEDIA_TIMEOUT", 15000);
	char *mc = NULL;
	for (;;) {
		free(mc);
		mc = xsc_read(c, 0, mp);
		if (!mc || strcmp(mc, "done") == 0 || strcmp(mc, "error") == 0)
			break;
		if (xsc_wait_until(c, deadline) < 0)
			break;
	}
	bool done = mc && strcmp(mc, "done") == 0;
	char *why = !done && mc && strcmp(mc, "error") == 0 ?
		xsc_read(c, 0, vbd_path(p, sizeof(p), v->be, "hotplug-error")) : NULL;
	free(mc);
	if (done)
		return NULL;
	if (why)
		return why;
	char *silent = blk_silent_part(c, v->domid);
	return silent ? silent : strdup("timed out waiting for xmbackd");
}

/* Change the medium of a cdrom vbd: s NULL (or empty) ejects. */
static int media(struct xm_ctx *x, const char *name, struct diskspec *s, bool force)
{
	struct vbd v;
	if (blk_find(x, name, &v))
		return 1;
	char *dt = dom_readf(x->h, XBT_NULL, "%s/device-type", v.be);
	bool cd = dt && strcmp(dt, "cdrom") == 0;
	free(dt);
	if (!cd)
		return xm_error("Device %s is not a cdrom: only removable media can be changed", name);
	if (s && blk_check_backend(s))
		return 1;
	if (blk_need_backd("the medium cannot be changed"))
		return 1;
	static const char *const tokens[] = { "media" };
	struct xsc c;
	if (xm_xsc_open(&c, tokens, 1))
		return 1;
	struct change m = { &v, s, force };
	struct blk_lock l;
	int rc = blk_lock(&l, &v, name);
	if (!rc && xsc_transaction(&c, fill_change, NULL, &m) < 0) {
		rc = xm_error("XenStore transaction failed: %s", strerror(errno));
	} else if (!rc) {
		blk_crash_point("media", "-written");
		char *why = wait_done(&c, &v);
		if (why)
			rc = xm_error("Cannot change the medium of %s: %s", name, why);
		free(why);
	}
	blk_unlock(&l);
	xsc_close(&c);
	return rc;
}

int cmd_block_configure(struct xm_ctx *x, int argc, char **argv)
{
	bool force = argc > 1 && strcmp(argv[argc - 1], "-f") == 0;
	if (force)
		argc--;
	if (argc != 4)
		return xm_usage("block-configure");
	struct diskspec s;
	char err[512];
	if (diskspec_parse_xm(argv[1], argv[2], argv[3], &s, err, sizeof(err)))
		return xm_error("%s", err);
	return media(x, argv[2], &s, force);
}

int cmd_cd_insert(struct xm_ctx *x, int argc, char **argv)
{
	if (argc != 3)
		return xm_usage("cd-insert");
	struct diskspec s;
	char err[512], back[4200];
	snprintf(back, sizeof(back), "%s%s", strchr(argv[2], ':') ? "" : "file:", argv[2]);
	if (diskspec_parse_xm(back, argv[1], "r", &s, err, sizeof(err)))
		return xm_error("%s", err);
	return media(x, argv[1], &s, false);
}

int cmd_cd_eject(struct xm_ctx *x, int argc, char **argv)
{
	bool force = argc == 3 && (strcmp(argv[2], "-f") == 0 || strcmp(argv[2], "--force") == 0);
	if (argc != 2 && !force)
		return xm_usage("cd-eject");
	return media(x, argv[1], NULL, force);
}
