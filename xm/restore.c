/*
 * restore.c — xm restore [-p] FILE: a domain saved by xm save (save.c)
 * running again, with its name, uuid, config, its block devices at the
 * slots they had and the guest's own XenStore nodes; a new domain id, as
 * in Xen.
 *
 * Everything is checked before anything is made: the file (savefile.h:
 * a foreign, damaged or truncated one is refused), the saved record
 * (XM_SAVED_ROOT/<save id>: a save restored already, or whose claims went,
 * is refused, since its disks may have changed since), xmbackd running.
 * Then xm create's steps (create.c), QEMU started with -S -incoming defer
 * and the domain left "booting" under the create lock (as an HVM guest's
 * create: xmbackd watches it meanwhile, and undoes it if this xm dies):
 *
 *  1. the id is named in the saved record (restoring = N), so that the
 *     save's claims stand aside for this domain's attaches and nobody
 *     else's;
 *  2. the guest's nodes written back (its id in their permissions);
 *  3. each disk attached the usual way (xm_block_attach_at: xmbackd's
 *     sharing check, claim, fd passing) at the slot the save recorded
 *     (with its bootindex, an HVM guest's), each vif with its handle, MAC
 *     and bridge on the NIC root port it had (xm_net_attach_at: xmbackd
 *     makes its tap again), waiting for the backend only (the guest does
 *     not run yet);
 *  4. QEMU's stream in (getfd + migrate-incoming fd:), an HVM guest's
 *     reboot action set as its create set it, then cont (not
 *     with -p) and the port let go once (save_drop_port): the guest's agent
 *     held a connection to the old domain's, and starts afresh when the
 *     port comes back (with -p, xm unpause does that: SAVE_PORT_PENDING);
 *  5. the domain "running" and the saved record removed, in one
 *     transaction.
 * A failure undoes the domain (create_undo) and gives the save's claims
 * back to the save.
 */
#include "xm.h"
#include "block.h"
#include "create.h"
#include "config.h"
#include "crashpoint.h"
#include "diskspec.h"
#include "dom.h"
#include "oplock.h"
#include "qmp.h"
#include "savefile.h"
#include "util.h"
#include "vif.h"
#include "xsbatch.h"

#include <xenstore_lib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESTORE_TIMEOUT_MS 600000

/* The config the domain had, from the meta (its strings are meta's). */
static void meta_cfg(json_t *m, struct domcfg *c)
{
	const char *r = meta_str(m, "ramdisk"), *k = meta_str(m, "kernel");
	*c = (struct domcfg){
		.file = (char *)meta_str(m, "config"),
		.name = (char *)meta_str(m, "name"),
		.memory_mib = (long)meta_int(m, "memory"),
		.maxmem_mib = (long)meta_int(m, "maxmem"),
		.vcpus = (long)meta_int(m, "vcpus"),
		.maxvcpus = (long)meta_int(m, "maxvcpus"),
		.hvm = json_is_true(json_object_get(m, "hvm")),
		.kernel = *k ? (char *)k : NULL, /* (an HVM guest's BIOS boots its disk) */
		.ramdisk = *r ? (char *)r : NULL,
		.extra = (char *)meta_str(m, "cmdline"),
		.uuid = (char *)meta_str(m, "uuid"),
		.on_poweroff = (char *)meta_str(m, "on_poweroff"),
		.on_reboot = (char *)meta_str(m, "on_reboot"),
		.on_crash = (char *)meta_str(m, "on_crash"),
	};
	snprintf(c->boot, sizeof(c->boot), "%s", meta_str(m, "boot"));
}

/* A vif of the meta as a vif spec. 0, or 1 (printed). */
static int meta_vif(json_t *v, struct vifspec *s, const char *file)
{
	char w[6][160], *words[6], err[512];
	int n = 0;
	snprintf(w[n++], sizeof(w[0]), "mac=%s", meta_str(v, "mac"));
	snprintf(w[n++], sizeof(w[0]), "bridge=%s", meta_str(v, "bridge"));
	snprintf(w[n++], sizeof(w[0]), "model=%s", meta_str(v, "model"));
	snprintf(w[n++], sizeof(w[0]), "type=%s",
		 strcmp(meta_str(v, "type"), "vif_ioemu") == 0 ? "ioemu" : "vif");
	if (*meta_str(v, "ip"))
		snprintf(w[n++], sizeof(w[0]), "ip=%s", meta_str(v, "ip"));
	if (*meta_str(v, "vifname"))
		snprintf(w[n++], sizeof(w[0]), "vifname=%s", meta_str(v, "vifname"));
	for (int i = 0; i < n; i++)
		words[i] = w[i];
	if (vifspec_parse_words(words, n, s, err, sizeof(err)) < 0)
		return xm_error("%s is damaged: vif %lld: %s", file, meta_int(v, "handle"), err);
	return 0;
}

/* A vbd of the meta as a disk spec. 0, or 1 (printed). */
static int meta_disk(json_t *v, struct diskspec *s, const char *file)
{
	const char *type = meta_str(v, "type"), *format = meta_str(v, "format");
	const char *mode = meta_str(v, "mode"), *params = meta_str(v, "params");
	memset(s, 0, sizeof(*s));
	snprintf(s->target, sizeof(s->target), "%s", params);
	snprintf(s->vdev, sizeof(s->vdev), "%s", meta_str(v, "dev"));
	s->devid = (unsigned long)meta_int(v, "devid");
	s->cdrom = strcmp(meta_str(v, "device-type"), "cdrom") == 0;
	s->empty = !*params;
	bool ok = true;
	if (strcmp(type, "phy") == 0)
		s->backend = DISK_PHY;
	else if (strcmp(type, "file") == 0)
		s->backend = DISK_FILE;
	else if (strcmp(type, "qdisk") == 0)
		s->backend = DISK_QDISK;
	else
		ok = false;
	if (strcmp(format, "qcow2") == 0)
		s->format = DISK_FMT_QCOW2;
	else if (strcmp(format, "raw") != 0 && *format)
		ok = false;
	if (strcmp(mode, "r") == 0)
		s->mode = DISK_MODE_R;
	else if (strcmp(mode, "w") == 0)
		s->mode = DISK_MODE_W;
	else if (strcmp(mode, "w!") == 0)
		s->mode = DISK_MODE_W_SHARED;
	else
		ok = false;
	if (!ok)
		return xm_error("%s is damaged: device %s has type %s, format %s, mode %s", file,
				s->vdev, type, format, mode);
	return 0;
}

/* The saved record's restoring node: id, or "" (given back). */
static bool set_restoring(struct xs_handle *h, const char *sid, const char *val)
{
	char p[200];
	snprintf(p, sizeof(p), XM_SAVED_ROOT "/%s/restoring", sid);
	return xs_write(h, XBT_NULL, p, val, (unsigned int)strlen(val));
}

/* Is the save's record there, for this domain, not being restored? 0, or
 * 1 (printed). */
static int check_record(struct xs_handle *h, json_t *m, const char *file)
{
	const char *sid = meta_str(m, "save-id");
	char *uuid = dom_readf(h, XBT_NULL, XM_SAVED_ROOT "/%s/uuid", sid);
	int e = errno;
	char *rest = uuid ? dom_readf(h, XBT_NULL, XM_SAVED_ROOT "/%s/restoring", sid) : NULL;
	int rc = 0;
	if (!uuid && xm_xs_lost(e))
		rc = xm_store_error(e, "cannot read the saved record");
	else if (!uuid || strcmp(uuid, meta_str(m, "uuid")) != 0)
		rc = xm_error("%s holds domain %s, which is restored already or whose disks were "
			      "let go (no record %s/%s): its disks may have changed since it was "
			      "saved", file, meta_str(m, "name"), XM_SAVED_ROOT, sid);
	else if (rest && *rest)
		rc = xm_error("%s is being restored (as domain %s)", file, rest);
	free(uuid);
	free(rest);
	return rc;
}

/* The guest's nodes, with its new id in their permissions. 0, or 1. */
static int write_store(struct xs_handle *h, unsigned int id, json_t *m)
{
	json_t *store = json_object_get(m, "store"), *e;
	size_t i;
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(h);
		bool ok = t != XBT_NULL;
		json_array_foreach(store, i, e) {
			char path[1100], perms[1024];
			size_t pl = 0;
			unsigned int np = 0;
			json_t *pj;
			size_t k;
			const char *val = json_string_value(json_array_get(e, 1));
			snprintf(path, sizeof(path), "/local/domain/%u/%s",
				 id, json_string_value(json_array_get(e, 0)));
			json_array_foreach(json_array_get(e, 2), k, pj) {
				const char *p = json_string_value(pj);
				if (!p || !*p || pl + 16 >= sizeof(perms))
					continue;
				int n = strcmp(p + 1, "@") == 0 ?
					snprintf(perms + pl, sizeof(perms) - pl, "%c%u", p[0], id) :
					snprintf(perms + pl, sizeof(perms) - pl, "%s", p);
				pl += (size_t)n + 1;
				np++;
			}
			struct xs_permissions xp[64];
			ok = ok && xs_write(h, t, path, val, (unsigned int)json_string_length(
						    json_array_get(e, 1)));
			if (ok && np && np <= 64 && xs_strings_to_perms(xp, np, perms))
				ok = xs_set_permissions(h, t, path, xp, np);
		}
		int err = errno;
		if (t == XBT_NULL)
			return xm_store_error(err, "cannot start a XenStore transaction: %s",
					      strerror(err));
		if (!ok) {
			xs_transaction_end(h, t, true);
			return xm_store_error(err, "cannot write the guest's nodes back: %s",
					      strerror(err));
		}
		if (xs_transaction_end(h, t, false))
			return 0;
		if (errno != EAGAIN)
			return xm_store_error(errno, "cannot write the guest's nodes back: %s",
					      strerror(errno));
	}
	return xm_error("XenStore too busy to write the guest's nodes back");
}

/* Step 4 on the domain's ctl monitor; fd at the stream's start. 0, or 1
 * (printed). An HVM guest's reboot action is set again as its create set
 * it (create_hvm_run): QEMU's actions are not in the stream. */
static int migrate_in(unsigned int id, int fd, const char *file, bool paused,
		      const struct domcfg *c, struct qmp **qp)
{
	char sock[600], *err = NULL, why[1024];
	dom_file(id, "ctl.sock", sock, sizeof(sock));
	struct qmp *q = xm_qmp_connect(sock, 5000, &err);
	int rc = 0;
	if (!q) {
		rc = xm_error("domain %u: %s", id, err);
		free(err);
		return rc;
	}
	if (qmp_wait_reply(q, qmp_send_fd(q, "getfd", json_pack("{s:s}", "fdname", "xmrestore"),
					  fd), NULL, &err, 5000) < 0 ||
	    qmp_exec(q, "migrate-incoming", json_pack("{s:s}", "uri", "fd:xmrestore"), NULL, &err,
		     5000) < 0) {
		rc = xm_error("cannot restore %s: QEMU: %s", file, err ? err : "no answer");
	} else if (save_migration_wait(q, "loading the guest", now_ms() + RESTORE_TIMEOUT_MS, -1,
				       why, sizeof(why)) < 0) {
		char log[600], line[512] = "";
		dom_file(id, "qemu.log", log, sizeof(log));
		int lfd = open(log, O_RDONLY | O_CLOEXEC);
		if (lfd >= 0) { /* QEMU's own words, when it quit over it */
			ssize_t n = read(lfd, line, sizeof(line) - 1);
			line[n > 0 ? n : 0] = '\0';
			close(lfd);
			char *nl;
			while ((nl = strrchr(line, '\n')) && nl[1] == '\0')
				*nl = '\0';
			if ((nl = strrchr(line, '\n')))
				memmove(line, nl + 1, strlen(nl + 1) + 1);
		}
		rc = xm_error("cannot restore %s: %s%s%s", file, why, line[0] ? ": " : "", line);
	} else if (c->hvm && c->on_reboot && strcmp(c->on_reboot, "restart") != 0 &&
		   qmp_exec(q, "set-action", json_pack("{s:s}", "reboot", "shutdown"), NULL, &err,
			    5000) < 0) {
		rc = xm_error("cannot restore %s: QEMU refused set-action: %s", file,
			      err ? err : "no answer");
	} else if (!paused && qmp_exec(q, "cont", NULL, NULL, &err, 5000) < 0) {
		rc = xm_error("cannot run the restored domain: QEMU: %s", err ? err : "no answer");
	}
	free(err);
	*qp = q; /* kept for the port's drop */
	return rc;
}

/* Step 5. 0, or 1 (printed). */
static int finish(struct xs_handle *h, unsigned int id, const char *sid)
{
	char st[128], rec[128];
	snprintf(st, sizeof(st), XM_TOOL_ROOT "/domain/%u/state", id);
	snprintf(rec, sizeof(rec), XM_SAVED_ROOT "/%s", sid);
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(h);
		if (t == XBT_NULL)
			return xm_store_error(errno, "cannot start a XenStore transaction: %s",
					      strerror(errno));
		bool ok = xs_write(h, t, st, "running", 7) && xs_rm(h, t, rec);
		int e = errno;
		if (!ok) {
			xs_transaction_end(h, t, true);
			return xm_store_error(e, "cannot mark the domain running: %s", strerror(e));
		}
		if (xs_transaction_end(h, t, false))
			return 0;
		if (errno != EAGAIN)
			return xm_store_error(errno, "cannot mark the domain running: %s",
					      strerror(errno));
	}
	return xm_error("XenStore too busy to mark the domain running");
}

int cmd_restore(struct xm_ctx *x, int argc, char **argv)
{
	bool paused = false;
	const char *file = NULL;
	(void)x;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--paused") == 0)
			paused = true;
		else if (argv[i][0] == '-' || file)
			return xm_usage("restore");
		else
			file = argv[i];
	}
	if (!file)
		return xm_usage("restore");
	char err[1024];
	int fd = -1;
	json_t *m = NULL;
	if (save_open(file, &fd, &m, err, sizeof(err)) < 0)
		return xm_error("%s", err);
	struct domcfg cfg;
	meta_cfg(m, &cfg);
	json_t *vbds = json_object_get(m, "vbds"), *v;
	size_t nv = json_array_size(vbds), i;
	struct diskspec *disks = calloc(nv + 1, sizeof(*disks));
	json_t *vifs = json_object_get(m, "vifs"); /* (absent: none) */
	size_t nn = json_array_size(vifs);
	struct vifspec *nics = calloc(nn + 1, sizeof(*nics));
	const char *sid = meta_str(m, "save-id");
	static const char *const tokens[] = { "agent" };
	struct xs_handle *h = NULL;
	struct xsc c = { .fd = -1 };
	struct made made = { .id = 0, .lockfd = -1 };
	struct qmp *q = NULL; /* the domain's monitor, from the stream's load on */
	bool claimed = false;
	int rc = 1;
	if (!disks || !nics) {
		xm_error("out of memory");
		goto out;
	}
	json_array_foreach(vbds, i, v)
		if (meta_disk(v, &disks[i], file))
			goto out;
	json_array_foreach(vifs, i, v) /* its bridge there, its vifname free */
		if (meta_vif(v, &nics[i], file) || xm_net_check_host(&nics[i]))
			goto out;
	if (!(h = xm_xs_open()) || xm_xsc_open(&c, tokens, 1) || check_record(h, m, file) ||
	    blk_need_backd("the domain cannot be restored"))
		goto out;
	if (create_reserve_id(&c, cfg.name, &made))
		goto out;
	char id[16];
	snprintf(id, sizeof(id), "%u", made.id);
	if (!set_restoring(h, sid, id)) {
		xm_store_error(errno, "cannot name the restore in the saved record: %s",
			       strerror(errno));
		goto out;
	}
	claimed = true;
	if (create_make_domain(h, &c, &made, &cfg, true) || write_store(h, made.id, m))
		goto out;
	for (i = 0; i < nv; i++) {
		json_t *d = json_array_get(vbds, i), *bi = json_object_get(d, "bootindex");
		if (xm_block_attach_at(made.id, &disks[i], meta_str(d, "slot"),
				       bi ? (int)json_integer_value(bi) : -1))
			goto out;
	}
	for (i = 0; i < nn; i++) { /* its tap made again, on its bridge */
		json_t *n = json_array_get(vifs, i);
		if (xm_net_attach_at(made.id, &nics[i], (unsigned long)meta_int(n, "handle"),
				     meta_str(n, "slot")))
			goto out;
	}
	crash_point("xm.restore-attached");
	if (migrate_in(made.id, fd, file, paused, &cfg, &q))
		goto out;
	char mark[128];
	snprintf(mark, sizeof(mark), XM_TOOL_ROOT "/domain/%u/" SAVE_PORT_PENDING, made.id);
	if (paused && !xs_write(h, XBT_NULL, mark, "1", 1)) {
		xm_store_error(errno, "cannot mark domain %u: %s", made.id, strerror(errno));
		goto out;
	}
	if (!paused && save_drop_port(h, made.id, cfg.name, q))
		goto out;
	if (finish(h, made.id, sid))
		goto out;
	printf("Restored domain %s (id=%u)%s\n", cfg.name, made.id, paused ? ", paused" : "");
	fflush(stdout);
	rc = 0;
out:
	if (rc && h) {
		create_undo(h, &made);
		if (claimed)
			set_restoring(h, sid, ""); /* the save holds its disks again */
	}
	qmp_close(q);
	oplock_release(made.lockfd, made.lock);
	xsc_close(&c);
	if (h)
		xs_close(h);
	free(disks);
	free(nics);
	json_decref(m);
	if (fd >= 0)
		close(fd);
	return rc;
}
