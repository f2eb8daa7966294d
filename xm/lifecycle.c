/*
 * lifecycle.c — xm shutdown, reboot, destroy, pause, unpause.
 *
 * shutdown/reboot ask the guest through its agent, as Xen does: they write
 * control/shutdown; the agent acknowledges and powers off or reboots.
 * destroy is a hard stop (QMP quit, else SIGKILL of the QEMU that holds its
 * pid file's lock) followed by the cleanup xmbackd would do. pause/unpause stop/continue the vCPUs over QMP.
 */
#include "xm.h"
#include "crashpoint.h"
#include "dom.h"
#include "qmp.h"
#include "savefile.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Run a QMP command on the domain's ctl monitor. 0 or 1 (printed). */
static int ctl_exec(unsigned int id, const char *cmd)
{
	char sock[600], *err = NULL;
	dom_file(id, "ctl.sock", sock, sizeof(sock));
	struct qmp *q = xm_qmp_connect(sock, 5000, &err);
	if (!q) {
		xm_error("domain %u: %s", id, err);
		free(err);
		return 1;
	}
	int rc = qmp_exec(q, cmd, NULL, NULL, &err, 5000);
	if (rc)
		xm_error("domain %u: %s: %s", id, cmd, err);
	free(err);
	qmp_close(q);
	return rc ? 1 : 0;
}

/* 1 when /local/domain/<id> is gone, 0 while it is there, -1 when the
 * store itself was lost (errno). */
static int domain_gone(struct xs_handle *h, unsigned int id)
{
	char *n = dom_readf(h, XBT_NULL, "/local/domain/%u/name", id);
	int e = errno;
	free(n);
	if (n)
		return 0;
	errno = e;
	return xm_xs_lost(e) ? -1 : 1;
}

/* Wait until /local/domain/<id> is gone (xmbackd cleaned up). 0, or 1
 * (printed: the store was lost). */
static int wait_gone(struct xs_handle *h, unsigned int id)
{
	char path[64];
	int gone;
	snprintf(path, sizeof(path), "/local/domain/%u", id);
	xs_watch(h, path, "gone");
	while ((gone = domain_gone(h, id)) == 0) {
		struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
		if (poll(&p, 1, 1000) > 0) {
			unsigned int n;
			free(xs_read_watch(h, &n));
		}
	}
	if (gone < 0) {
		xm_xs_lost_error(errno);
		return 1;
	}
	xs_unwatch(h, path, "gone");
	return 0;
}

static int request(struct xm_ctx *x, int argc, char **argv, const char *cmd, const char *what)
{
	bool wait = false;
	if (argc > 1 && (strcmp(argv[1], "-w") == 0 || strcmp(argv[1], "--wait") == 0)) {
		wait = true;
		argc--;
	}
	if (argc != 1)
		return xm_usage(cmd);
	struct xs_handle *h = x->h;
	unsigned int id = x->domid;
	int rc = 0;
	char *feat = dom_readf(h, XBT_NULL, "/local/domain/%u/control/feature-%s", id, what);
	int e = errno;
	char *name = dom_readf(h, XBT_NULL, "/local/domain/%u/name", id);
	if (!feat && xm_xs_lost(e)) {
		rc = xm_store_error(e, "cannot read the domain's features");
		goto out;
	}
	if (!feat || strcmp(feat, "1") != 0) {
		rc = xm_error("Domain '%s' has no agent that can %s it "
			      "(control/feature-%s is not set); use xm destroy", name ? name : "?",
			      what, what);
		goto out;
	}
	char path[64];
	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", id);
	if (!xs_write(h, XBT_NULL, path, what, (unsigned int)strlen(what))) {
		rc = xm_store_error(errno, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (wait && (rc = wait_gone(h, id)) == 0)
		printf("Domain %s terminated\n", name ? name : "?");
out:
	free(feat);
	free(name);
	return rc;
}

int cmd_shutdown(struct xm_ctx *x, int argc, char **argv)
{
	return request(x, argc, argv, "shutdown", "poweroff");
}

int cmd_reboot(struct xm_ctx *x, int argc, char **argv)
{
	return request(x, argc, argv, "reboot", "reboot");
}

int cmd_destroy(struct xm_ctx *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return xm_usage("destroy");
	struct dominfo d;
	dom_info(x->h, x->domid, &d);
	if (dom_qemu_live(&d) > 0) {
		char sock[600], *err = NULL;
		dom_file(x->domid, "ctl.sock", sock, sizeof(sock));
		struct qmp *q = xm_qmp_connect(sock, 1000, &err);
		if (q)
			qmp_exec(q, "quit", NULL, NULL, NULL, 1000);
		qmp_close(q);
		free(err);
	}
	crash_point("xm.destroy-quit");
	dom_cleanup(x->h, x->domid); /* SIGKILL if still there, then every trace */
	return 0;
}

int cmd_pause(struct xm_ctx *x, int argc, char **argv)
{
	(void)argv;
	return argc != 1 ? xm_usage("pause") : ctl_exec(x->domid, "stop");
}

int cmd_unpause(struct xm_ctx *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return xm_usage("unpause");
	if (ctl_exec(x->domid, "cont"))
		return 1;
	/* restored paused (xm restore -p): its agent starts afresh now */
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/" SAVE_PORT_PENDING, x->domid);
	char *mark = dom_readf(x->h, XBT_NULL, "%s", path);
	int rc = 0;
	if (mark && (rc = save_drop_port(x->h, x->domid, x->domain, NULL)) == 0)
		xs_rm(x->h, XBT_NULL, path);
	free(mark);
	return rc;
}
