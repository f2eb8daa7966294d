/*
 * actions.c — what becomes of a guest that powers off, reboots or crashes:
 * its config's on_poweroff, on_reboot and on_crash (xl.cfg(5)), as
 * /vm/<uuid>/on_* records them.
 *
 * xm create starts QEMU so that it stops the guest and leaves the rest to
 * xmbackd (xm/create-qemu.c): -action panic=pause always (the guest's
 * panic comes from the pvpanic device: GUEST_PANICKED), reboot=shutdown
 * when on_reboot is not restart, shutdown=pause when a poweroff or a
 * reboot is to be more than QEMU's end (SHUTDOWN, with the reason
 * guest-shutdown or guest-reset). What QEMU does by itself is not asked
 * again: a poweroff that ends it (on_poweroff destroy), a reboot in place
 * (on_reboot restart).
 *
 *  destroy           quit: QEMU ends and the guest is cleaned up (guests.c);
 *  restart           system_reset, then cont once QEMU says RESET: the same
 *                    domain and QEMU start again, with the devices they had
 *                    (under reboot=shutdown, which makes a shutdown of a
 *                    system_reset too, set-action reboot=reset first, and
 *                    reboot=shutdown again at the RESET);
 *  preserve          nothing: the guest stays stopped (xm list: c or s)
 *                    until xm destroy;
 *  rename-restart    the guest kept stopped, renamed NAME-YYYYMMDDTHHMMZ, and
 *                    a new NAME started by xm create from its config;
 *  coredump-*        dump-guest-memory (ELF, detached) to a file xmbackd
 *                    opens, DUMPDIR/NAME/YYYY-MMDD-HHMM.SS.NAME.ID.core (Xen's
 *                    name), handed over with getfd (QEMU's chroot has no
 *                    path to write to), then destroy or restart once QEMU
 *                    says DUMP_COMPLETED.
 */
#include "backd.h"
#include "dom.h"
#include "qcall.h"
#include "qmp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DUMP_FDNAME "xmdump"

/* The domain's action for event ("on_crash" ...), or its default. */
static char *policy(struct backd *b, unsigned int domid, const char *event)
{
	char *uuid = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/uuid", domid);
	char *p = uuid ? dom_readf(b->xs, XBT_NULL, "/vm/%s/%s", uuid, event) : NULL;
	free(uuid);
	if (!p)
		p = strdup(strcmp(event, "on_reboot") == 0 ? "restart" : "destroy");
	return p;
}

/* Does QEMU run with -action reboot=shutdown (on_reboot not restart: xm
 * create sets it so, create-qemu.c)? */
static bool reboot_stops(struct backd *b, unsigned int domid)
{
	char *p = policy(b, domid, "on_reboot");
	bool stops = strcmp(p, "restart") != 0;
	free(p);
	return stops;
}

/* system_reset, and cont at its RESET. QEMU's reboot=shutdown turns every
 * reset into a shutdown, system_reset too (it is not the guest's): the
 * action is reset for this one, and set back at the RESET. */
static void restart(struct backd *b, struct guest *g)
{
	g->cont_on_reset = true;
	if (reboot_stops(b, g->domid))
		qmp_send(g->q, "set-action", json_pack("{s:s}", "reboot", "reset"));
	qmp_send(g->q, "system_reset", NULL);
}

static void destroy(struct guest *g)
{
	qmp_send(g->q, "quit", NULL); /* its end is the guest's end: cleanup() */
}

/* Open the core file of domid, DUMPDIR/NAME/...core. fd, or -1 (logged). */
static int dump_file(struct backd *b, unsigned int domid, char *path, size_t len)
{
	char *name = dom_readf(b->xs, XBT_NULL, "/local/domain/%u/name", domid);
	char stamp[64];
	time_t t = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y-%m%d-%H%M.%S", localtime(&t));
	snprintf(path, len, "%s/%s", b->dump_dir, name ? name : "unknown");
	int fd = -1;
	if (mkdir_p(path) < 0) {
		log_err("domain %u: cannot create the dump folder %s: %s", domid, path,
			strerror(errno));
	} else {
		size_t n = strlen(path);
		snprintf(path + n, len - n, "/%s.%s.%u.core", stamp, name ? name : "unknown", domid);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			log_err("domain %u: cannot create %s: %s", domid, path, strerror(errno));
	}
	free(name);
	return fd;
}

/* coredump-destroy, coredump-restart: the dump, then (then) once it is done. */
static void coredump(struct backd *b, struct guest *g, const char *then)
{
	char path[1024];
	snprintf(g->then, sizeof(g->then), "%s", then);
	int fd = dump_file(b, g->domid, path, sizeof(path));
	if (fd < 0) {
		log_warn("domain %u: no core dump; %s it", g->domid, then);
		if (strcmp(then, "restart") == 0)
			restart(b, g);
		else
			destroy(g);
		return;
	}
	log_info("domain %u: dumping its memory to %s", g->domid, path);
	qmp_send_fd(g->q, "getfd", json_pack("{s:s}", "fdname", DUMP_FDNAME), fd);
	close(fd);
	g->dump_id = qmp_send(g->q, "dump-guest-memory",
			      json_pack("{s:b, s:s, s:b}", "paging", 0, "protocol",
					"fd:" DUMP_FDNAME, "detach", 1));
}

/* rename-restart: g kept, stopped, as NAME-YYYYMMDDTHHMMZ (xl's name for
 * it; -ID added when that is taken), and a new NAME started from the same
 * config by xm create ($XMBACKD_XM, else xm on PATH), which xmbackd does
 * not wait for (its disks are attached through xmbackd). */
static void rename_restart(struct backd *b, struct guest *g)
{
	unsigned int id = g->domid;
	char *name = dom_readf(b->xs, XBT_NULL, "/local/domain/%u/name", id);
	char *cfg = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/config", id);
	char *uuid = dom_readf(b->xs, XBT_NULL, XM_TOOL_ROOT "/domain/%u/uuid", id);
	char stamp[32], renamed[256];
	time_t t = time(NULL);
	unsigned int other;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%MZ", gmtime(&t));
	snprintf(renamed, sizeof(renamed), "%s-%s", name ? name : "unknown", stamp);
	if (dom_lookup(b->xs, renamed, &other) == 0)
		snprintf(renamed, sizeof(renamed), "%s-%s-%u", name ? name : "unknown", stamp, id);
	if (!name || !cfg || cfg[0] != '/') {
		log_err("domain %u: no config recorded to start it again from; kept as it is", id);
		goto out;
	}
	bool ok;
	char path[256];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/name", id);
	ok = dom_writef(b->xs, XBT_NULL, path, "%s", renamed);
	snprintf(path, sizeof(path), "/local/domain/%u/name", id);
	ok = ok && dom_writef(b->xs, XBT_NULL, path, "%s", renamed);
	if (uuid) {
		snprintf(path, sizeof(path), "/vm/%s/name", uuid);
		ok = ok && dom_writef(b->xs, XBT_NULL, path, "%s", renamed);
	}
	if (!ok) {
		log_err("domain %u: cannot rename it to %s: %s; kept as it is", id, renamed,
			strerror(errno));
		goto out;
	}
	log_info("domain %u: renamed %s (kept); starting %s again from %s", id, renamed, name,
		 cfg);
	const char *xm = getenv("XMBACKD_XM");
	if (!xm || !*xm)
		xm = "xm";
	pid_t pid = fork();
	if (pid == 0) { /* the child starts xm and ends: nobody waits for xm */
		if (fork() == 0) {
			setsid();
			int nul = open("/dev/null", O_RDWR);
			if (nul >= 0) {
				dup2(nul, 0);
				dup2(nul, 1);
			}
			execlp(xm, xm, "create", cfg, (char *)NULL);
			fprintf(stderr, "xmbackd: cannot run %s: %s\n", xm, strerror(errno));
			_exit(127);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	else
		log_err("domain %u: fork: %s", id, strerror(errno));
out:
	free(uuid);
	free(cfg);
	free(name);
}

/* Carry out action (what happened: why) on g. */
static void act(struct backd *b, struct guest *g, const char *action, const char *why)
{
	char *name = dom_readf(b->xs, XBT_NULL, "/local/domain/%u/name", g->domid);
	log_info("domain %u (%s): %s: %s", g->domid, name ? name : "?", why, action);
	free(name);
	if (strcmp(action, "restart") == 0)
		restart(b, g);
	else if (strcmp(action, "preserve") == 0)
		; /* left stopped for xm destroy */
	else if (strcmp(action, "rename-restart") == 0)
		rename_restart(b, g);
	else if (strcmp(action, "coredump-destroy") == 0)
		coredump(b, g, "destroy");
	else if (strcmp(action, "coredump-restart") == 0)
		coredump(b, g, "restart");
	else
		destroy(g); /* destroy, and whatever else: never leave it half */
}

/* After the dump (done or failed): the action that follows it. */
static void after_dump(struct backd *b, struct guest *g, const char *error)
{
	if (error)
		log_err("domain %u: the core dump failed: %s", g->domid, error);
	else
		log_info("domain %u: core dump written", g->domid);
	g->dump_id = 0;
	if (strcmp(g->then, "restart") == 0)
		restart(b, g);
	else
		destroy(g);
}

bool actions_message(struct backd *b, struct guest *g, json_t *m)
{
	json_t *id = json_object_get(m, "id");
	if (json_is_integer(id)) {
		if (g->dump_id <= 0 || json_integer_value(id) != g->dump_id)
			return false;
		json_t *e = json_object_get(m, "error");
		if (e) /* refused: the action goes on without its dump */
			after_dump(b, g, json_string_value(json_object_get(e, "desc")));
		return true; /* started: DUMP_COMPLETED says when it is done */
	}
	const char *ev = json_string_value(json_object_get(m, "event"));
	json_t *data = json_object_get(m, "data");
	if (!ev)
		return false;
	if (strcmp(ev, "GUEST_PANICKED") == 0) {
		char *p = policy(b, g->domid, "on_crash");
		act(b, g, p, "crashed (guest kernel panic)");
		free(p);
	} else if (strcmp(ev, "SHUTDOWN") == 0) {
		const char *reason = json_string_value(json_object_get(data, "reason"));
		bool off = reason && strcmp(reason, "guest-shutdown") == 0;
		bool reboot = reason && strcmp(reason, "guest-reset") == 0;
		if (!off && !reboot)
			return false; /* ours (quit), or the host's */
		char *p = policy(b, g->domid, off ? "on_poweroff" : "on_reboot");
		act(b, g, p, off ? "powered off" : "rebooted");
		free(p);
	} else if (strcmp(ev, "RESET") == 0 && g->cont_on_reset) {
		g->cont_on_reset = false;
		if (reboot_stops(b, g->domid)) /* the guest's next reboot: on_reboot again */
			qmp_send(g->q, "set-action", json_pack("{s:s}", "reboot", "shutdown"));
		qmp_send(g->q, "cont", NULL);
		log_info("domain %u: restarted", g->domid);
	} else if (strcmp(ev, "DUMP_COMPLETED") == 0 && g->then[0]) {
		json_t *err = json_object_get(data, "error");
		after_dump(b, g, err ? json_string_value(err) : NULL);
		g->then[0] = '\0';
	} else {
		return false;
	}
	return false; /* guests.c logs the event too */
}

/* query-status's answer: a guest found crashed gets its on_crash. */
static void status_heard(struct backd *b, struct guest *g, void *arg, json_t *ret,
			 const char *err, bool answered)
{
	(void)arg;
	(void)answered;
	const char *st = err ? NULL : json_string_value(json_object_get(ret, "status"));
	if (st && strcmp(st, "guest-panicked") == 0) {
		char *p = policy(b, g->domid, "on_crash");
		if (strcmp(p, "preserve") != 0)
			act(b, g, p, "found crashed");
		free(p);
	}
}

void actions_takeover(struct backd *b, struct guest *g)
{
	/* (answered through the loop: qcall.h) */
	qcall(b, g, "query-status", NULL, -1, status_heard, NULL, 0);
}
