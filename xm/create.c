/*
 * create.c — xm create: config -> domain id -> XenStore -> QEMU.
 *
 * Order matters so that a failure leaves nothing behind:
 *  1. reserve a domain id and the name in one transaction (ids increase as
 *     in Xen and are never given while anything of a domain with that id is
 *     left: its nodes, its run dir, its channel, a QEMU connected to that
 *     channel; two concurrent creates of one name: the loser's transaction
 *     conflicts, retries, sees the name),
 *     then make the id's run dir with mkdir, which must create it: a dir
 *     that exists is another domain's (an orphan QEMU after the store lost
 *     its records) and its id is passed over, never touched;
 *  2. INTRODUCE the domain to xmstored (its channel socket appears);
 *  3. write /local/domain/N, /vm/<uuid> and /tool/xm/domain/N in one
 *     transaction, with Xen's permissions;
 *  4. start QEMU with -daemonize: its parent exits only once the machine is
 *     set up, so a failure is known here, with QEMU's own message;
 *  5. mark the domain running: xmbackd takes it over from there;
 *  6. the config's disks, attached as by xm block-attach. An HVM guest's
 *     QEMU waits paused for them (its BIOS boots from one), then is reset
 *     and let run.
 * A failure undoes what this create made, as struct made records it, and
 * nothing else: not dom_cleanup(), which removes whatever a domain id's
 * records name. The create lock (lib/oplock.h createlock_path), held from
 * before step 1 to the end and named in the reservation, tells xmbackd
 * whether this create is still at work: when xm dies, or its undo cannot
 * reach a store that went down, xmbackd undoes the domain left "creating".
 */
#include "xm.h"
#include "create.h"
#include "config.h"
#include "cpus.h"
#include "daemon.h"
#include "crashpoint.h"
#include "diskspec.h"
#include "dom.h"
#include "oplock.h"
#include "util.h"
#include "vif.h"
#include "xsbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool xmbackd_running(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/xmbackd.pid", xm_rundir());
	return pidfile_live(path) != 0;
}


static void make_uuid(char out[37])
{
	unsigned char b[16] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
			memset(b, 0x5a, sizeof(b));
		close(fd);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}


/* A loaded config and its disks, every entry parsed before anything is
 * made. */
struct plan {
	const char *file;
	char found[4096];    /* the file, when found on XM_CONFIG_PATH */
	bool console, dry_run;
	struct domcfg c;
	struct diskspec *disks;
	struct vifspec *vifs;
};

static void plan_free(struct plan *p)
{
	free(p->disks);
	free(p->vifs);
	config_free(&p->c);
}

/* Options and the config. 0, or 1 (printed; nothing to free). */
static int plan_load(struct plan *p, int argc, char **argv)
{
	char err[1024];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0)
			p->console = true;
		else if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--dry-run") == 0)
			p->dry_run = true;
		else if (argv[i][0] == '-' || p->file)
			return xm_usage("create");
		else
			p->file = argv[i];
	}
	if (!p->file)
		return xm_usage("create");
	p->file = config_find(p->file, p->found, sizeof(p->found));
	if (config_load(p->file, &p->c, err, sizeof(err)) < 0) {
		config_free(&p->c);
		return xm_error("%s", err);
	}
	p->disks = calloc((size_t)p->c.ndisks + 1, sizeof(*p->disks));
	if (!p->disks) {
		plan_free(p);
		return xm_error("out of memory");
	}
	for (int i = 0; i < p->c.ncpus; i++) {
		cpu_set_t set;
		bool all;
		if (cpus_parse(p->c.cpus[i], &set, &all, err, sizeof(err)) < 0 ||
		    (!p->dry_run && cpus_on_host(&set, err, sizeof(err)) < 0)) {
			xm_error("%s: cpus = ...: %s", p->file, err);
			plan_free(p);
			return 1;
		}
	}
	for (int i = 0; i < p->c.ndisks; i++) {
		if (diskspec_parse_cfg(p->c.disks[i], &p->disks[i], err, sizeof(err)) < 0) {
			xm_error("%s: disk entry '%s': %s", p->file, p->c.disks[i], err);
			plan_free(p);
			return 1;
		}
	}
	p->vifs = calloc((size_t)p->c.nvifs + 1, sizeof(*p->vifs));
	if (!p->vifs) {
		plan_free(p);
		return xm_error("out of memory");
	}
	for (int i = 0; i < p->c.nvifs; i++) {
		struct vifspec *s = &p->vifs[i];
		if (vifspec_parse(p->c.vifs[i], s, err, sizeof(err)) < 0) {
			xm_error("%s: vif entry '%s': %s", p->file, p->c.vifs[i], err);
			plan_free(p);
			return 1;
		}
		for (int j = 0; j < i; j++) {
			char mac[18];
			if (s->has_mac && p->vifs[j].has_mac &&
			    memcmp(s->mac, p->vifs[j].mac, 6) == 0) {
				xm_error("%s: vif entry '%s': MAC %s is already used by vif %d",
					 p->file, p->c.vifs[i], vif_mac_str(s->mac, mac), j);
				plan_free(p);
				return 1;
			}
		}
	}
	return 0;
}

int create_reserve_id(struct xsc *c, const char *name, struct made *m)
{
	char parent[480], locks[480];
	snprintf(parent, sizeof(parent), "%s/dom", xm_rundir());
	snprintf(locks, sizeof(locks), "%s/create", xm_rundir());
	if (mkdir_p(parent) < 0)
		return xm_error("cannot create %s: %s", parent, strerror(errno));
	if (mkdir_p(locks) < 0)
		return xm_error("cannot create %s: %s", locks, strerror(errno));
	createlock_path(m->lock, sizeof(m->lock));
	if ((m->lockfd = oplock_take(m->lock)) < 0)
		return xm_error("cannot take the create lock %s: %s", m->lock, strerror(errno));
	for (int tries = 0; tries < 64; tries++) {
		if (create_reserve(c, name, m->lock, &m->id))
			return 1;
		m->reserved = true;
		crash_point("xm.create-reserved");
		snprintf(m->rundir, sizeof(m->rundir), "%s/%u", parent, m->id);
		if (mkdir(m->rundir, 0700) == 0) { /* root's only: QEMU's sockets */
			m->dir = true;
			return 0;
		}
		int e = errno;
		create_unreserve(c, m->id);
		m->reserved = false;
		if (e != EEXIST)
			return xm_error("cannot create %s: %s", m->rundir, strerror(e));
	}
	return xm_error("no free domain id: each one tried had a run dir in %s", parent);
}

void create_undo(struct xs_handle *h, const struct made *m)
{
	char path[128];
	if (m->qemu)
		dom_kill_qemu(m->rundir, 0);
	if (m->nodes) {
		snprintf(path, sizeof(path), "/local/domain/%u", m->id);
		xs_rm(h, XBT_NULL, path);
		snprintf(path, sizeof(path), "/vm/%s", m->uuid);
		xs_rm(h, XBT_NULL, path);
		dom_rm_backends(h, m->id);
	}
	if (m->introduced)
		xs_release_domain(h, m->id);
	if (m->reserved) {
		snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u", m->id);
		xs_rm(h, XBT_NULL, path);
	}
	if (m->dir)
		dom_rm_dir(m->rundir);
}

int create_make_domain(struct xs_handle *h, struct xsc *c, struct made *m,
		       const struct domcfg *cfg, bool restore)
{
	unsigned int id = m->id;
	if (cfg->uuid)
		snprintf(m->uuid, sizeof(m->uuid), "%s", cfg->uuid);
	else
		make_uuid(m->uuid);
	if (!xs_introduce_domain(h, id, 0, 1))
		return xm_store_error(errno, "xmstored refused to introduce domain %u: %s", id,
				      strerror(errno));
	m->introduced = true;
	crash_point("xm.create-introduced");
	m->nodes = true;
	if (create_write_domain(c, id, cfg, m->uuid, m->rundir))
		return 1;
	crash_point("xm.create-written");
	pid_t qpid = 0;
	m->qemu = true;
	if (create_start_qemu(id, cfg, m->uuid, m->rundir, restore, &qpid))
		return 1;
	crash_point("xm.create-started");
	/* QEMU has maxmem: the balloon gives the guest memory; cpus = pins
	 * (a restore's balloon comes with the guest's state) */
	if (!restore && cfg->maxmem_mib > cfg->memory_mib && xm_balloon(id, cfg->memory_mib))
		return 1;
	if (cfg->ncpus && xm_vcpu_pin_recorded(h, id))
		return 1;
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/qemu-pid", id);
	bool ok = dom_writef(h, XBT_NULL, path, "%ld", (long)qpid);
	/* an HVM guest, a restore: "booting" until create_hvm_run or the
	 * restore let it run (xmbackd takes it over either way; it undoes a
	 * booting one whose create is gone, as a creating one) */
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/state", id);
	const char *state = cfg->hvm || restore ? "booting" : "running";
	ok = ok && xs_write(h, XBT_NULL, path, state, (unsigned int)strlen(state));
	if (!ok)
		return xm_store_error(errno, "cannot record the domain's QEMU: %s", strerror(errno));
	crash_point("xm.create-running");
	return 0;
}

/* disk = [...]: the same path as xm block-attach, while the guest boots:
 * each device is realised in QEMU at once, and its agent connects it when
 * it starts. 0, or 1 (printed). */
static int attach_disks(const struct made *m, const struct plan *p)
{
	if (p->c.hvm)
		return 0; /* hvm_boot's */
	for (int i = 0; i < p->c.ndisks; i++)
		if (xm_block_attach(m->id, &p->disks[i]))
			return 1;
	return 0;
}

/* An HVM guest: its QEMU waits paused (-S) for its disks, which its BIOS
 * boots from: each realised by xmbackd as any device is (claims, sharing
 * check), the first disk and the first CD-ROM with the bootindex of their
 * letter in boot = (c, d); then reset and run (create_hvm_run). 0, or 1
 * (printed). */
static int hvm_boot(struct xs_handle *h, const struct made *m, const struct plan *p)
{
	bool disk = false, cd = false;
	if (!p->c.hvm)
		return 0;
	for (int i = 0; i < p->c.ndisks; i++) {
		const struct diskspec *d = &p->disks[i];
		bool *first = d->cdrom ? &cd : &disk;
		const char *at = strchr(p->c.boot, d->cdrom ? 'd' : 'c');
		int index = !*first && at ? (int)(at - p->c.boot) + 1 : -1;
		*first = true;
		if (xm_block_attach_boot(m->id, d, index))
			return 1;
	}
	crash_point("xm.create-booting");
	if (create_hvm_run(m->id, &p->c, m->rundir))
		return 1;
	crash_point("xm.create-booted");
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/state", m->id);
	if (!xs_write(h, XBT_NULL, path, "running", 7))
		return xm_store_error(errno, "cannot record the domain running: %s", strerror(errno));
	return 0;
}

/* vif = [...]: as xm network-attach, once QEMU runs (xmbackd makes each
 * tap and NIC, the guest's agent connects them when it starts); an HVM
 * guest's before its BIOS runs, waited for until xmbackd has made them.
 * 0, or 1 (printed). */
static int attach_vifs(const struct made *m, const struct plan *p)
{
	for (int i = 0; i < p->c.nvifs; i++)
		if (xm_net_attach(m->id, &p->vifs[i], !p->c.hvm))
			return 1;
	return 0;
}

int cmd_create(struct xm_ctx *x, int argc, char **argv)
{
	struct plan p = { .file = NULL };
	(void)x;
	if (plan_load(&p, argc, argv))
		return 1;
	if (p.dry_run) {
		int rc = xm_print_plan(&p.c, p.disks, p.vifs);
		plan_free(&p);
		return rc;
	}
	printf("Using config file \"%s\".\n", p.file);

	static const char *const tokens[] = { "agent" };
	struct xs_handle *h = xm_xs_open();
	struct xsc c = { .fd = -1 };
	struct made m = { .id = 0, .lockfd = -1 };
	int rc = 1;
	if (!h || xm_xsc_open(&c, tokens, 1))
		goto out;
	if (!xmbackd_running()) {
		xm_error("xmbackd is not running (no live pid in %s/xmbackd.pid): "
			 "start it first", xm_rundir());
		goto out;
	}
	for (int i = 0; i < p.c.nvifs; i++) /* before anything is made */
		if (xm_net_check_host(&p.vifs[i]))
			goto out;
	if (create_reserve_id(&c, p.c.name, &m) || create_make_domain(h, &c, &m, &p.c, false) ||
	    attach_disks(&m, &p) || attach_vifs(&m, &p) ||
	    hvm_boot(h, &m, &p))
		goto out;
	printf("Started domain %s (id=%u)\n", p.c.name, m.id);
	fflush(stdout);
	rc = 0;
out:
	if (rc && h)
		create_undo(h, &m);
	oplock_release(m.lockfd, m.lock); /* an undo the store refused: xmbackd's now */
	xsc_close(&c);
	if (h)
		xs_close(h);
	plan_free(&p);
	if (rc == 0 && p.console)
		return xm_console_attach(m.id);
	return rc;
}
