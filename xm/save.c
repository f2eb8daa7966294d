/*
 * save.c — xm save [-c] DOMAIN FILE: the guest's state to FILE over a QEMU
 * migration, and the domain gone (or, -c, running on: a checkpoint).
 *
 *  1. the guest is stopped (QMP stop on ctl.sock), so that the stream is
 *     one pass and its disks hold still;
 *  2. what restore needs, read while it holds still: its config (/vm/<uuid>
 *     and /tool/xm/domain/N, as xm create wrote them; an HVM guest's boot
 *     order), its block devices and vifs (each must be Connected: not in
 *     the middle of an attach or detach) with the slots they are on (and a
 *     disk's bootindex), the guest's own nodes;
 *  3. FILE is written beside itself (.NAME.xmsave-PID) and renamed over it
 *     once whole: the meta, then QEMU's stream (getfd + migrate fd:, QEMU
 *     writing at the file's offset; its writeback started at each poll,
 *     so that the fsync waits for the tail only), then the head
 *     (savefile.h); fsync'd, and its folder after the rename: the domain
 *     is destroyed on the strength of it, so it must be on disk;
 *  4. the saved record, XM_SAVED_ROOT/<save id>, with a copy of each of
 *     the domain's claims, in one transaction that reads them: the disks
 *     are never unclaimed between the domain and its save;
 *  5. QEMU quits and the domain is cleaned up as xm destroy does (its
 *     claims go with its record; the saved record's stay), or with -c the
 *     guest runs on.
 * A failure before 4 removes the half-written file and lets the guest run
 * again (if it ran).
 */
#include "xm.h"
#include "savefile.h"
#include "dom.h"
#include "qmp.h"
#include "util.h"
#include "vbd.h"
#include "vif.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAVE_TIMEOUT_MS 600000
/* QEMU's migration speed cap: none to speak of for a stopped guest. */
#define SAVE_BANDWIDTH (100LL << 30)

/* The guest's own subtrees that a restore brings back (the device and error
 * directories are made again by the restore's attaches). */
static const char *const kept_dirs[] = { "data", "attr", "drivers", "messages", "feature", NULL };

static json_t *jstr(const char *s)
{
	return json_string(s ? s : "");
}

/* One node and its subtree, below /local/domain/<id>/rel, into arr. */
static void walk(struct xs_handle *h, unsigned int id, const char *rel, json_t *arr, int depth)
{
	char path[1024];
	if (depth > 32 || strcmp(rel, "attr/xmfront") == 0) /* the agent announces itself again */
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/%s", id, rel);
	unsigned int len = 0, np = 0;
	char *val = xs_read(h, XBT_NULL, path, &len);
	struct xs_permissions *perms = xs_get_permissions(h, XBT_NULL, path, &np);
	if (!val || !perms) {
		free(val);
		free(perms);
		return; /* gone meanwhile */
	}
	json_t *pl = json_array();
	for (unsigned int i = 0; i < np; i++) {
		char pbuf[64];
		unsigned int rw = perms[i].perms & (XS_PERM_READ | XS_PERM_WRITE);
		char l = rw == (XS_PERM_READ | XS_PERM_WRITE) ? 'b' : rw == XS_PERM_READ ? 'r' :
			 rw == XS_PERM_WRITE ? 'w' : 'n';
		if (perms[i].id == id) /* the guest's own id: "@" (a restore's is another) */
			snprintf(pbuf, sizeof(pbuf), "%c@", l);
		else
			snprintf(pbuf, sizeof(pbuf), "%c%u", l, perms[i].id);
		json_array_append_new(pl, json_string(pbuf));
	}
	json_array_append_new(arr, json_pack("[s, s#, o]", rel, val, (int)len, pl));
	free(val);
	free(perms);
	unsigned int n = 0;
	char **kids = xs_directory(h, XBT_NULL, path, &n);
	for (unsigned int i = 0; i < n; i++) {
		char sub[1024];
		snprintf(sub, sizeof(sub), "%s/%s", rel, kids[i]);
		walk(h, id, sub, arr, depth + 1);
	}
	free(kids);
}

/* dir/entry/KEY of each of keys (NULL-ended) as a JSON object of strings
 * ("" for an absent node). */
static json_t *read_keys(struct xs_handle *h, const char *dir, const char *entry,
			 const char *const *keys)
{
	json_t *v = json_object();
	for (int k = 0; keys[k]; k++) {
		char *val = dom_readf(h, XBT_NULL, "%s/%s/%s", dir, entry, keys[k]);
		json_object_set_new(v, keys[k], jstr(val));
		free(val);
	}
	return v;
}

/* The domain's block devices, each Connected, into arr. 0, or 1 (printed). */
static int read_vbds(struct xs_handle *h, unsigned int id, const char *name, json_t *arr)
{
	char dir[128];
	unsigned int n = 0;
	snprintf(dir, sizeof(dir), VBD_BACKEND_ROOT "/%u", id);
	char **devs = xs_directory(h, XBT_NULL, dir, &n);
	if (!devs && errno != ENOENT)
		return xm_store_error(errno, "cannot read %s: %s", dir, strerror(errno));
	int rc = 0;
	for (unsigned int i = 0; i < n && !rc; i++) {
		static const char *const keys[] = { "dev", "params", "type", "format", "mode",
			"device-type", "state", "bootindex", NULL };
		json_t *v = read_keys(h, dir, devs[i], keys);
		char *phase = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/vbd/%s/phase", id,
					devs[i]);
		char *bus = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/vbd/%s/bus", id, devs[i]);
		char *sid = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/vbd/%s/scsi-id", id,
				      devs[i]);
		bool cdrom = strcmp(meta_str(v, "device-type"), "cdrom") == 0;
		char slot[32] = "";
		if (cdrom && sid)
			snprintf(slot, sizeof(slot), "scsi%s", sid);
		else if (!cdrom && bus && strncmp(bus, "rp", 2) == 0)
			snprintf(slot, sizeof(slot), "%s", bus);
		if (strcmp(meta_str(v, "state"), "4") != 0 || !phase ||
		    strcmp(phase, "connected") != 0 || !slot[0])
			rc = xm_error("Device %s of domain %s is being attached or detached: save it "
				      "once that is done", *meta_str(v, "dev") ? meta_str(v, "dev") :
				      devs[i], name);
		json_object_del(v, "state");
		const char *bi = meta_str(v, "bootindex"); /* an HVM guest's firmware's */
		json_object_set_new(v, "bootindex", json_integer(*bi ? atoi(bi) : -1));
		json_object_set_new(v, "slot", json_string(slot));
		json_object_set_new(v, "devid", json_integer(strtoll(devs[i], NULL, 10)));
		json_array_append_new(arr, v);
		free(phase);
		free(bus);
		free(sid);
	}
	free(devs);
	return rc;
}

/* The domain's vifs, each Connected (xmbackd's record at connected, its
 * NIC's root port known), into arr. 0, or 1 (printed). */
static int read_vifs(struct xs_handle *h, unsigned int id, const char *name, json_t *arr)
{
	char dir[128];
	unsigned int n = 0;
	snprintf(dir, sizeof(dir), VIF_BACKEND_ROOT "/%u", id);
	char **ids = xs_directory(h, XBT_NULL, dir, &n);
	if (!ids && errno != ENOENT)
		return xm_store_error(errno, "cannot read %s: %s", dir, strerror(errno));
	int rc = 0;
	for (unsigned int i = 0; i < n && !rc; i++) {
		static const char *const keys[] = { "mac", "bridge", "ip", "model", "vifname", "type",
			"state", NULL };
		json_t *v = read_keys(h, dir, ids[i], keys);
		char *phase = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/vif/%s/phase", id, ids[i]);
		char *bus = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/vif/%s/bus", id, ids[i]);
		if (strcmp(meta_str(v, "state"), "4") != 0 || !phase ||
		    strcmp(phase, "connected") != 0 || !bus || strncmp(bus, "rp", 2) != 0)
			rc = xm_error("vif %s of domain %s is being attached or detached: save it once "
				      "that is done", ids[i], name);
		json_object_del(v, "state");
		json_object_set_new(v, "slot", jstr(bus));
		json_object_set_new(v, "handle", json_integer(strtoll(ids[i], NULL, 10)));
		json_array_append_new(arr, v);
		free(phase);
		free(bus);
	}
	free(ids);
	return rc;
}

/* The meta (savefile.h) of domain id, stopped. NULL (printed) on failure. */
static json_t *read_meta(struct xs_handle *h, unsigned int id, const struct dominfo *d,
			 const char *save_id)
{
	static const char *const vm_keys[][2] = { { "kernel", "image/kernel" },
		{ "ramdisk", "image/ramdisk" }, { "cmdline", "image/cmdline" },
		{ "on_poweroff", "on_poweroff" }, { "on_reboot", "on_reboot" },
		{ "on_crash", "on_crash" }, { "memory", "memory" }, { NULL, NULL } };
	json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:i}", "save-id", save_id, "domid", (int)id,
			      "name", d->name, "uuid", d->uuid, "vcpus", d->vcpus);
	for (int i = 0; vm_keys[i][0]; i++) {
		char *v = dom_readf(h, XBT_NULL, "/vm/%s/%s", d->uuid, vm_keys[i][1]);
		if (strcmp(vm_keys[i][0], "memory") == 0)
			json_object_set_new(m, "memory", json_integer(v ? atoll(v) : 0));
		else
			json_object_set_new(m, vm_keys[i][0], jstr(v));
		free(v);
	}
	char *cfg = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/config", id);
	json_object_set_new(m, "config", jstr(cfg));
	free(cfg);
	/* QEMU's -m and -smp maxcpus= (create-store.c) */
	char *boot = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/memory-boot", id);
	char *maxv = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/maxvcpus", id);
	json_object_set_new(m, "maxmem", json_integer(boot ? atoll(boot) : 0));
	json_object_set_new(m, "maxvcpus", json_integer(maxv ? atoll(maxv) : 0));
	free(boot);
	free(maxv);
	char *ostype = dom_readf(h, XBT_NULL, "/vm/%s/image/ostype", d->uuid);
	bool hvm = ostype && strcmp(ostype, "hvm") == 0;
	free(ostype);
	char *order = hvm ? dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/boot", id) : NULL;
	json_object_set_new(m, "hvm", json_boolean(hvm));
	json_object_set_new(m, "boot", jstr(order));
	free(order);
	if ((!hvm && !*meta_str(m, "kernel")) || meta_int(m, "memory") <= 0 ||
	    meta_int(m, "maxmem") <= 0 || meta_int(m, "maxvcpus") <= 0) {
		xm_error("domain %s has no VM record (/vm/%s) to save", d->name, d->uuid);
		json_decref(m);
		return NULL;
	}
	if (hvm && !*meta_str(m, "boot")) { /* made by an xm that did not record it */
		xm_error("domain %s is an HVM guest whose boot order was not recorded (%s/domain/"
			 "%u/boot): it cannot be saved", d->name, XM_TOOL_ROOT, id);
		json_decref(m);
		return NULL;
	}
	json_t *vbds = json_array(), *vifs = json_array(), *store = json_array();
	json_object_set_new(m, "vbds", vbds);
	json_object_set_new(m, "vifs", vifs);
	json_object_set_new(m, "store", store);
	if (read_vbds(h, id, d->name, vbds) || read_vifs(h, id, d->name, vifs)) {
		json_decref(m);
		return NULL;
	}
	for (int i = 0; kept_dirs[i]; i++)
		walk(h, id, kept_dirs[i], store, 0);
	return m;
}

static void make_save_id(char out[33])
{
	unsigned char b[16] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		long t = now_ms();
		memcpy(b, &t, sizeof(t));
		b[15] = (unsigned char)getpid();
	}
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The saved record and its claims, copied from the domain's in the same
 * transaction. 0, or 1 (printed). */
static int write_record(struct xs_handle *h, unsigned int id, json_t *meta, const char *file,
			const struct stat *st)
{
	const char *sid = meta_str(meta, "save-id");
	json_t *vbds = json_object_get(meta, "vbds"), *v;
	char base[128], path[256], ino[64], dom[16];
	snprintf(base, sizeof(base), XM_SAVED_ROOT "/%s", sid);
	snprintf(ino, sizeof(ino), "%lu:%lu", (unsigned long)st->st_dev, (unsigned long)st->st_ino);
	snprintf(dom, sizeof(dom), "%u", id);
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(h);
		bool ok = t != XBT_NULL;
		size_t i;
#define PUT(key, val) \
	(snprintf(path, sizeof(path), "%s/%s", base, key), \
	 xs_write(h, t, path, (val), (unsigned int)strlen(val)))
		ok = ok && PUT("name", meta_str(meta, "name")) && PUT("uuid", meta_str(meta, "uuid")) &&
		     PUT("file", file) && PUT("ino", ino) && PUT("domid", dom) && PUT("restoring", "");
		json_array_foreach(vbds, i, v) {
			long long devid = meta_int(v, "devid");
			char *claim = ok ? dom_readf(h, t, XM_TOOL_ROOT "/domain/%u/vbd/%lld/claim", id,
						     devid) : NULL;
			char key[64];
			if (!claim) {
				ok = false;
				break;
			}
			snprintf(key, sizeof(key), "vbd/%lld/claim", devid);
			ok = PUT(key, claim);
			snprintf(key, sizeof(key), "vbd/%lld/dev", devid);
			ok = ok && PUT(key, meta_str(v, "dev"));
			free(claim);
		}
#undef PUT
		int e = errno;
		if (t == XBT_NULL)
			return xm_store_error(e, "cannot start a XenStore transaction: %s", strerror(e));
		if (!ok) {
			xs_transaction_end(h, t, true);
			return xm_store_error(e, "cannot record the saved domain's claims in %s: %s",
					      base, strerror(e));
		}
		if (xs_transaction_end(h, t, false))
			return 0;
		if (errno != EAGAIN)
			return xm_store_error(errno, "cannot record the saved domain in %s: %s", base,
					      strerror(errno));
	}
	return xm_error("XenStore too busy to record the saved domain");
}

/* QEMU's stream into fd (open on the file, at the stream's start): the
 * guest stopped first. 0, or 1 (printed). */
static int migrate_out(struct qmp *q, int fd, const char *name)
{
	char err[1024], *qerr = NULL;
	json_t *par = json_pack("{s:I}", "max-bandwidth", (json_int_t)SAVE_BANDWIDTH);
	if (qmp_exec(q, "migrate-set-parameters", par, NULL, &qerr, 5000) < 0 ||
	    qmp_wait_reply(q, qmp_send_fd(q, "getfd", json_pack("{s:s}", "fdname", "xmsave"), fd),
			   NULL, &qerr, 5000) < 0 ||
	    qmp_exec(q, "migrate", json_pack("{s:s}", "uri", "fd:xmsave"), NULL, &qerr, 5000) < 0) {
		xm_error("cannot save domain %s: QEMU: %s", name, qerr ? qerr : "no answer");
		free(qerr);
		return 1;
	}
	if (save_migration_wait(q, "the save", now_ms() + SAVE_TIMEOUT_MS, fd, err, sizeof(err)) < 0)
		return xm_error("cannot save domain %s: %s", name, err);
	return 0;
}

/* fsync of the folder FILE is in. 0, or -1 (errno). */
static int sync_dir(const char *file)
{
	char *copy = strdup(file);
	if (!copy)
		return -1;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* The file: head placeholder, meta, QEMU's stream, then the head. The
 * path of the temporary file in tmp. 0, or 1 (printed). */
static int write_file(struct qmp *q, const char *file, char *tmp, size_t tmplen, json_t *meta)
{
	char *dcopy = strdup(file), *bcopy = strdup(file);
	if (!dcopy || !bcopy) {
		free(dcopy);
		free(bcopy);
		return xm_error("out of memory");
	}
	snprintf(tmp, tmplen, "%s/.%s.xmsave-%ld", dirname(dcopy), basename(bcopy), (long)getpid());
	free(dcopy);
	free(bcopy);
	char *text = json_dumps(meta, JSON_COMPACT);
	size_t mlen = text ? strlen(text) : 0;
	unsigned char head[SAVE_HEAD_LEN] = { 0 };
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !text || mlen > SAVE_META_MAX) {
		int e = errno;
		free(text);
		if (fd >= 0)
			close(fd);
		tmp[0] = fd >= 0 ? tmp[0] : '\0';
		return xm_error("cannot write %s: %s", fd < 0 ? tmp : file,
				fd < 0 ? strerror(e) : "the domain's description is too large");
	}
	int rc = 0;
	if (write_full(fd, head, sizeof(head)) < 0 || write_full(fd, text, mlen) < 0)
		rc = xm_error("cannot write %s: %s", tmp, strerror(errno));
	if (!rc)
		rc = migrate_out(q, fd, meta_str(meta, "name"));
	struct stat st;
	if (!rc && fstat(fd, &st) < 0)
		rc = xm_error("cannot write %s: %s", tmp, strerror(errno));
	if (!rc && (uint64_t)st.st_size <= SAVE_HEAD_LEN + mlen)
		rc = xm_error("cannot save domain %s: QEMU wrote nothing", meta_str(meta, "name"));
	if (!rc) {
		save_head_pack(head, text, mlen, (uint64_t)st.st_size - SAVE_HEAD_LEN - mlen);
		if (pwrite(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
			rc = xm_error("cannot write %s: %s", tmp, strerror(errno));
	}
	/* on disk before the domain is destroyed on the strength of it: the
	 * data, then the rename in its folder */
	if (!rc && fsync(fd) < 0)
		rc = xm_error("cannot write %s: %s", tmp, strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = xm_error("cannot write %s: %s", tmp, strerror(errno));
	free(text);
	if (!rc && rename(tmp, file) < 0)
		rc = xm_error("cannot rename %s to %s: %s", tmp, file, strerror(errno));
	if (!rc)
		tmp[0] = '\0'; /* it is FILE now */
	if (!rc && sync_dir(file) < 0) {
		rc = xm_error("cannot write %s: its folder: %s", file, strerror(errno));
		unlink(file);
	}
	return rc;
}

int cmd_save(struct xm_ctx *x, int argc, char **argv)
{
	bool checkpoint = false;
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--checkpoint") == 0)
			checkpoint = true;
		else if (argv[i][0] == '-' || file)
			return xm_usage("save");
		else
			file = argv[i];
	}
	if (!file)
		return xm_usage("save");
	struct dominfo d;
	if (dom_info(x->h, x->domid, &d) < 0)
		return xm_error("Domain '%s' does not exist.", x->domain);
	char *state = dom_readf(x->h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/state", x->domid);
	bool running = state && strcmp(state, "running") == 0;
	free(state);
	if (!running || dom_qemu_live(&d) <= 0)
		return xm_error("Domain '%s' is not running (being created, restored or cleaned "
				"up): it cannot be saved", d.name);
	/* the file's folder must exist and be ours to write: found before the
	 * guest is stopped */
	char *dcopy = strdup(file), *real_dir = dcopy ? realpath(dirname(dcopy), NULL) : NULL;
	free(dcopy);
	if (!real_dir)
		return xm_error("cannot save to %s: %s", file, strerror(errno));
	char *bcopy = strdup(file), abs[4200];
	snprintf(abs, sizeof(abs), "%s/%s", real_dir, bcopy ? basename(bcopy) : file);
	free(bcopy);
	free(real_dir);

	char sock[600], *err = NULL, sid[33], tmp[4400] = "";
	dom_file(x->domid, "ctl.sock", sock, sizeof(sock));
	struct qmp *q = xm_qmp_connect(sock, 5000, &err);
	if (!q) {
		xm_error("domain %s: %s", d.name, err);
		free(err);
		return 1;
	}
	json_t *st = NULL, *meta = NULL;
	int rc = 1;
	bool was_running = false;
	if (qmp_exec(q, "query-status", NULL, &st, &err, 5000) == 0)
		was_running = json_is_true(json_object_get(st, "running"));
	json_decref(st);
	if (err || (was_running && qmp_exec(q, "stop", NULL, NULL, &err, 5000) < 0)) {
		xm_error("domain %s: cannot stop it: %s", d.name, err ? err : "no answer");
		was_running = false;
		goto out;
	}
	make_save_id(sid);
	if (!(meta = read_meta(x->h, x->domid, &d, sid)) ||
	    write_file(q, abs, tmp, sizeof(tmp), meta))
		goto out;
	struct stat fst;
	if (stat(abs, &fst) < 0) {
		xm_error("cannot save to %s: %s", abs, strerror(errno));
		goto out;
	}
	if (write_record(x->h, x->domid, meta, abs, &fst)) {
		unlink(abs);
		goto out;
	}
	rc = 0;
	if (checkpoint)
		goto out; /* it runs on, as it ran */
	qmp_exec(q, "quit", NULL, NULL, NULL, 2000);
	qmp_close(q);
	q = NULL;
	dom_cleanup(x->h, x->domid); /* as xm destroy: its claims go, the save's stay */
	was_running = false;
out:
	if (tmp[0])
		unlink(tmp);
	if (q && was_running && qmp_exec(q, "cont", NULL, NULL, NULL, 5000) < 0 && rc == 0)
		rc = xm_error("domain %s saved, but it could not be continued", d.name);
	qmp_close(q);
	free(err);
	json_decref(meta);
	return rc;
}
