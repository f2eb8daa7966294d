/*
 * create-store.c — xm create's XenStore side: reserve a domain id and name,
 * write the domain's Xen-shaped tree, wait for its agent (create.c has the
 * order of the steps). Both writes are transactions (xsc_transaction).
 */
#include "create.h"
#include "xm.h"
#include "config.h"
#include "dom.h"
#include "wire.h"
#include "util.h"
#include "xsbatch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOMID_MAX 0x7FF0 /* ids wrap below Xen's DOMID_FIRST_RESERVED */

struct reserve {
	const char *name, *creator;
	unsigned int id;  /* out: the id taken */
	int clash;        /* out: the id that has the name, on a veto */
	unsigned char live[DOMID_MAX / 8 + 1]; /* ids a running QEMU's channel has */
};

/* The id of a domain under dir (a DIRECTORY of ids) named name, or -1. The
 * names are read in one batch: a read each, waited for in turn, made xm
 * create cost 30 ms more on a host of 1,000 domains (twice: two dirs). */
static int named(struct xsc *c, uint32_t tx, const char *dir, const char *name)
{
	unsigned int n = 0;
	char *ids = xsc_directory(c, tx, dir, &n), path[128];
	struct xsb b;
	xsb_init(&b);
	const char *id = ids;
	for (unsigned int i = 0; ids && i < n; i++, id += strlen(id) + 1) {
		snprintf(path, sizeof(path), "%s/%s/name", dir, id);
		xsb_read(&b, tx, path);
	}
	int clash = -1;
	if (ids && n && xsc_run(c, &b) == 0) {
		id = ids;
		for (unsigned int i = 0; i < n && clash < 0; i++, id += strlen(id) + 1)
			if (b.r[i].type != XS_ERROR && strcmp(b.r[i].body, name) == 0)
				clash = atoi(id);
	}
	xsb_reset(&b);
	free(ids);
	return clash;
}

/* Does path exist in the store? 1, 0, or -1 (errno: the store refused or
 * was lost). */
static int node_exists(struct xsc *c, uint32_t tx, const char *path)
{
	char *v = xsc_read(c, tx, path);
	if (v) {
		free(v);
		return 1;
	}
	return errno == ENOENT ? 0 : -1;
}

/* Is something of a domain with this id alive or left behind? A running
 * QEMU connected to its channel (even one whose run dir went), its nodes
 * (a live domain, one being created, an orphan's backends), its run dir
 * (an orphan QEMU after the store lost its records keeps its sockets and
 * locked pid file there) or its channel socket. 1, 0, or -1 (errno). */
static int id_used(struct xsc *c, uint32_t tx, const struct reserve *rs, unsigned int id)
{
	char path[1200];
	struct stat st;
	int r;
	if (rs->live[id / 8] & (1u << (id % 8)))
		return 1;
	snprintf(path, sizeof(path), "/local/domain/%u", id);
	if ((r = node_exists(c, tx, path)) != 0)
		return r;
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u", id);
	if ((r = node_exists(c, tx, path)) != 0)
		return r;
	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", id);
	if ((r = node_exists(c, tx, path)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/dom/%u", xm_rundir(), id);
	if (lstat(path, &st) == 0)
		return 1;
	snprintf(path, sizeof(path), "%s/domain-%u.sock", xm_channel_dir(), id);
	return lstat(path, &st) == 0;
}

/* The first id from the store's next-domid on that id_used finds free,
 * wrapping below DOMID_MAX. The id, 0 when none is free, or -1 (errno). */
static int free_id(struct xsc *c, uint32_t tx, const struct reserve *rs)
{
	char *next = xsc_read(c, tx, XM_TOOL_ROOT "/next-domid");
	if (!next && errno != ENOENT)
		return -1;
	unsigned int id = next ? (unsigned int)atoi(next) : 1;
	free(next);
	if (id == 0 || id >= DOMID_MAX)
		id = 1;
	for (unsigned int n = 1; n < DOMID_MAX; n++) {
		int used = id_used(c, tx, rs, id);
		if (used < 0)
			return -1;
		if (!used)
			return (int)id;
		if (++id >= DOMID_MAX)
			id = 1;
	}
	return 0;
}

static int fill_reserve(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct reserve *r = arg;
	r->clash = named(c, tx, "/local/domain", r->name);
	if (r->clash < 0)
		r->clash = named(c, tx, XM_TOOL_ROOT "/domain", r->name);
	if (r->clash >= 0)
		return 1;
	int id = free_id(c, tx, r);
	if (id <= 0)
		return id < 0 ? -1 : 2;
	char v[16], path[128];
	r->id = (unsigned int)id;
	snprintf(v, sizeof(v), "%u", r->id + 1 >= DOMID_MAX ? 1 : r->id + 1);
	xsb_write(b, tx, XM_TOOL_ROOT "/next-domid", v);
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/name", r->id);
	xsb_write(b, tx, path, r->name);
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/state", r->id);
	xsb_write(b, tx, path, "creating");
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/creator", r->id);
	xsb_write(b, tx, path, r->creator);
	return 0;
}

int create_reserve(struct xsc *c, const char *name, const char *creator, unsigned int *domid)
{
	struct reserve r = { .name = name, .creator = creator };
	dom_live_channels(r.live, DOMID_MAX);
	int rc = xsc_transaction(c, fill_reserve, xsb_all_ok, &r);
	if (rc == 1)
		return xm_error("Domain '%s' already exists with ID '%d'", name, r.clash);
	if (rc == 2)
		return xm_error("no free domain id: every id below %d is in use or left behind "
				"by a domain (nodes, %s/dom/N)", DOMID_MAX, xm_rundir());
	if (rc < 0 && errno == EAGAIN)
		return xm_error("XenStore too busy to reserve a domain id");
	if (rc < 0)
		return xm_store_error(errno, "cannot reserve a domain id in XenStore: %s",
				      strerror(errno));
	*domid = r.id;
	return 0;
}

int create_unreserve(struct xsc *c, unsigned int id)
{
	char path[128];
	struct xsb b;
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u", id);
	xsb_init(&b);
	xsb_add(&b, XS_RM, 0, path, strlen(path) + 1);
	int rc = xsc_run(c, &b) == 0 ? xsb_errno(&b, 0) : -1;
	xsb_reset(&b);
	return rc == 0 || rc == ENOENT ? 0 : -1;
}

struct domtree {
	unsigned int id;
	const struct domcfg *c;
	const char *uuid, *dir;
};

/* Queue dir/key = val (a path made from fmt), with perms (NULL: inherit). */
static void put(struct xsb *b, uint32_t tx, const char *const *perms, int np, const char *val,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void put(struct xsb *b, uint32_t tx, const char *const *perms, int np, const char *val,
		const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	xsb_write(b, tx, path, val);
	if (perms)
		xsb_set_perms(b, tx, path, perms, np);
}

/* /local/domain/N: readable by the domain and owned by dom0, its own
 * directories owned by it. */
static void fill_local(struct xsb *b, uint32_t tx, const struct domtree *d, const char *const *ro,
		       const char *const *rw)
{
	static const char *const own[] = { "control", "control/shutdown", "device", "error",
		"drivers", "attr", "data", "messages", "feature", NULL };
	unsigned int id = d->id;
	char v[64], mem[32], max[32];
	snprintf(mem, sizeof(mem), "%ld", d->c->memory_mib * 1024);
	snprintf(max, sizeof(max), "%ld", d->c->maxmem_mib * 1024);
	put(b, tx, ro, 2, "", "/local/domain/%u", id);
	put(b, tx, ro, 2, d->c->name, "/local/domain/%u/name", id);
	snprintf(v, sizeof(v), "%u", id);
	put(b, tx, ro, 2, v, "/local/domain/%u/domid", id);
	snprintf(v, sizeof(v), "/vm/%s", d->uuid);
	put(b, tx, ro, 2, v, "/local/domain/%u/vm", id);
	put(b, tx, ro, 2, "", "/local/domain/%u/memory", id);
	put(b, tx, ro, 2, mem, "/local/domain/%u/memory/target", id);
	put(b, tx, ro, 2, max, "/local/domain/%u/memory/static-max", id);
	put(b, tx, ro, 2, "", "/local/domain/%u/cpu", id);
	for (long i = 0; i < d->c->maxvcpus; i++) {
		put(b, tx, ro, 2, "", "/local/domain/%u/cpu/%ld", id, i);
		put(b, tx, ro, 2, i < d->c->vcpus ? "online" : "offline",
		    "/local/domain/%u/cpu/%ld/availability", id, i);
	}
	for (int i = 0; own[i]; i++)
		put(b, tx, rw, 1, "", "/local/domain/%u/%s", id, own[i]);
}

/* /vm/<uuid>: the VM record, as xm keeps it; /tool/xm/domain/N: ours. */
static void fill_vm_tool(struct xsb *b, uint32_t tx, const struct domtree *d,
			 const char *const *ro)
{
	static const char *const files[][2] = { { "qmp", "qmp.sock" }, { "ctl", "ctl.sock" },
		{ "console", "console.sock" }, { "console-log", "console.log" } };
	const struct domcfg *c = d->c;
	const char *tool = XM_TOOL_ROOT "/domain";
	char vm[64], mem[32], vcpus[32], f[1024];
	snprintf(vm, sizeof(vm), "/vm/%s", d->uuid);
	snprintf(mem, sizeof(mem), "%ld", c->memory_mib);
	snprintf(vcpus, sizeof(vcpus), "%ld", c->vcpus);
	put(b, tx, ro, 2, "", "%s", vm);
	put(b, tx, ro, 2, c->name, "%s/name", vm);
	put(b, tx, ro, 2, d->uuid, "%s/uuid", vm);
	put(b, tx, ro, 2, mem, "%s/memory", vm);
	put(b, tx, ro, 2, vcpus, "%s/vcpus", vm);
	put(b, tx, ro, 2, c->on_poweroff ? c->on_poweroff : "destroy", "%s/on_poweroff", vm);
	put(b, tx, ro, 2, c->on_reboot ? c->on_reboot : "restart", "%s/on_reboot", vm);
	put(b, tx, ro, 2, c->on_crash ? c->on_crash : "destroy", "%s/on_crash", vm);
	put(b, tx, NULL, 0, c->hvm ? "hvm" : "linux", "%s/image/ostype", vm); /* as xend */
	put(b, tx, NULL, 0, c->kernel ? c->kernel : "", "%s/image/kernel", vm);
	put(b, tx, NULL, 0, c->ramdisk ? c->ramdisk : "", "%s/image/ramdisk", vm);
	put(b, tx, NULL, 0, c->extra ? c->extra : "", "%s/image/cmdline", vm);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", d->dir, files[i][1]);
		put(b, tx, NULL, 0, f, "%s/%u/%s", tool, d->id, files[i][0]);
	}
	put(b, tx, NULL, 0, d->dir, "%s/%u/dir", tool, d->id);
	put(b, tx, NULL, 0, d->uuid, "%s/%u/uuid", tool, d->id);
	put(b, tx, NULL, 0, vcpus, "%s/%u/vcpus", tool, d->id);
	snprintf(f, sizeof(f), "%ld", c->maxvcpus);
	put(b, tx, NULL, 0, f, "%s/%u/maxvcpus", tool, d->id);
	snprintf(f, sizeof(f), "%ld", c->maxmem_mib);
	put(b, tx, NULL, 0, f, "%s/%u/memory-boot", tool, d->id); /* QEMU's -m, MiB */
	for (int i = 0; i < c->ncpus; i++)
		put(b, tx, NULL, 0, c->cpus[i], "%s/%u/cpus/%d", tool, d->id, i);
	if (c->hvm) /* its firmware's boot order: xm save keeps it for the restore's QEMU */
		put(b, tx, NULL, 0, c->boot, "%s/%u/boot", tool, d->id);
	/* absolute: xmbackd creates the domain again from it (rename-restart) */
	char *abs = realpath(c->file, NULL);
	put(b, tx, NULL, 0, abs ? abs : c->file, "%s/%u/config", tool, d->id);
	free(abs);
}

static int fill_domain(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	const struct domtree *d = arg;
	char dom[16];
	snprintf(dom, sizeof(dom), "r%u", d->id);
	const char *ro[2] = { "n0", dom };
	char own[16];
	snprintf(own, sizeof(own), "n%u", d->id);
	const char *rw[1] = { own };
	(void)c;
	fill_local(b, tx, d, ro, rw);
	fill_vm_tool(b, tx, d, ro);
	return 0;
}

int create_write_domain(struct xsc *c, unsigned int id, const struct domcfg *cfg,
			const char *uuid, const char *dir)
{
	struct domtree d = { id, cfg, uuid, dir };
	if (xsc_transaction(c, fill_domain, xsb_all_ok, &d) != 0)
		return xm_store_error(errno, "cannot write the domain's XenStore nodes: %s",
				      strerror(errno));
	return 0;
}
