/*
 * agent.c — announcement and control/shutdown; see agent.h.
 *
 * Shutdown follows Linux's drivers/xen/manage.c: on a change of
 * control/shutdown read it; for a known command acknowledge by writing ""
 * back (the toolstack waits for that), then act. Unknown commands are
 * logged and left alone.
 */
#include "agent.h"
#include "mux.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#ifndef XMFRONT_VERSION
#define XMFRONT_VERSION "0.1"
#endif

#define SHUTDOWN_NODE "control/shutdown"

enum action { ACT_NONE, ACT_POWEROFF, ACT_REBOOT };

struct agent {
	struct mux *mux;
	struct agent_opts o;
	enum action pending; /* acknowledged, being carried out */
	bool done;
	long retry_at;       /* announce again then (ms, monotonic); 0: no */
};

#define RETRY_ANNOUNCE_MS 1000

/* "path\0value" (the value has no NUL on the wire). */
static int write_node(struct agent *a, const char *path, const char *value,
		      mux_reply_fn *fn)
{
	char buf[512];
	const char *const v[] = { path, value };
	size_t len = wire_pack(buf, sizeof(buf), v, 2, false);
	if (len > sizeof(buf)) {
		errno = E2BIG;
		return -1;
	}
	return mux_request(a->mux, XS_WRITE, buf, len, fn, a);
}

static void log_failure(const char *what, uint32_t type, const char *body, size_t len)
{
	if (type == XS_ERROR)
		log_warn("%s: %.*s", what, (int)strnlen(body, len), body);
}

/*
 * The toolstack may still be restoring the domain's nodes when the channel
 * comes back (after an xmstored restart): a refused announcement is tried
 * again a little later. EIO means the host went away; its return
 * announces anyway.
 */
static void announce_failed(struct agent *a, const char *what, uint32_t type,
			    const char *body, size_t len)
{
	if (type != XS_ERROR)
		return;
	if (strncmp(body, "EIO", len) == 0)
		return;
	if (!a->retry_at)
		log_warn("%s: %.*s; trying again", what, (int)strnlen(body, len), body);
	a->retry_at = now_ms() + RETRY_ANNOUNCE_MS;
}

static void on_written(void *arg, uint32_t type, const char *body, size_t len)
{
	announce_failed(arg, "announcing the agent", type, body, len);
}

static void on_ready(void *arg, uint32_t type, const char *body, size_t len)
{
	struct agent *a = arg;
	if (type == XS_ERROR) {
		announce_failed(a, "writing attr/xmfront/state", type, body, len);
	} else if (!a->retry_at) {
		log_info("connected, state ready");
	}
}

void agent_connected(struct agent *a)
{
	a->retry_at = 0;
	if (write_node(a, "control/feature-poweroff", "1", on_written) < 0 ||
	    write_node(a, "control/feature-reboot", "1", on_written) < 0 ||
	    write_node(a, "attr/xmfront/version", XMFRONT_VERSION, on_written) < 0 ||
	    write_node(a, "attr/xmfront/state", "ready", on_ready) < 0)
		log_warn("cannot announce the agent: %s", strerror(errno));
}

static void act(struct agent *a)
{
	const char *what = a->pending == ACT_REBOOT ? "reboot" : "poweroff";

	log_info("shutdown request: %s%s", what, a->o.dry_run ? " (dry run)" : "");
	sync();
	if (a->o.dry_run) {
		a->done = true;
		return;
	}
	if (reboot(a->pending == ACT_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF) < 0)
		log_err("%s: %s", what, strerror(errno));
	a->pending = ACT_NONE;
}

static void on_acked(void *arg, uint32_t type, const char *body, size_t len)
{
	struct agent *a = arg;
	/* act even if the acknowledgement failed: the request was read */
	log_failure("acknowledging " SHUTDOWN_NODE, type, body, len);
	act(a);
}

static void on_shutdown_read(void *arg, uint32_t type, const char *body, size_t len)
{
	struct agent *a = arg;
	char val[32];

	if (type == XS_ERROR || a->pending != ACT_NONE)
		return; /* ENOENT: no request; or one is being carried out */
	if (len >= sizeof(val)) {
		log_warn("ignoring shutdown request: %.*s...", (int)sizeof(val), body);
		return;
	}
	memcpy(val, body, len);
	val[len] = '\0';
	if (val[0] == '\0')
		return;
	if (strcmp(val, "poweroff") == 0 || strcmp(val, "halt") == 0)
		a->pending = ACT_POWEROFF;
	else if (strcmp(val, "reboot") == 0)
		a->pending = ACT_REBOOT;
	else {
		log_warn("ignoring shutdown request: %s", val);
		return;
	}
	if (write_node(a, SHUTDOWN_NODE, "", on_acked) < 0)
		act(a);
}

static void on_shutdown_event(void *arg, const char *path)
{
	struct agent *a = arg;
	(void)path;
	if (mux_request(a->mux, XS_READ, SHUTDOWN_NODE, sizeof(SHUTDOWN_NODE),
			on_shutdown_read, a) < 0)
		log_warn("cannot read " SHUTDOWN_NODE ": %s", strerror(errno));
}

struct agent *agent_new(struct mux *m, const struct agent_opts *o)
{
	struct agent *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->mux = m;
	a->o = *o;
	if (mux_watch(m, SHUTDOWN_NODE, on_shutdown_event, a) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

void agent_free(struct agent *a)
{
	free(a);
}

int agent_timeout(const struct agent *a)
{
	if (!a->retry_at)
		return -1;
	long left = a->retry_at - now_ms();
	return left < 0 ? 0 : (int)left;
}

void agent_tick(struct agent *a)
{
	if (a->retry_at && now_ms() >= a->retry_at && mux_connected(a->mux))
		agent_connected(a);
}

bool agent_done(const struct agent *a)
{
	return a->done;
}
