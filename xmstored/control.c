/*
 * control.c — XS_CONTROL, the commands `xenstore-control` sends: check,
 * log on|off, print, quota, memreport, help; and ours, disconnect DOMID
 * (xm save). Unknown commands: EINVAL (as Xen's control.c).
 */
#include "core.h"
#include "domain.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reply_text(char **out, size_t *olen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reply_text(char **out, size_t *olen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ENOMEM;
	*olen = (size_t)n + 1;
	return 0;
}

static const char help_text[] =
	"Supported commands:\n"
	"check\n"
	"log [on|off]\n"
	"print <string>\n"
	"quota [<domid>]\n"
	"memreport\n"
	"disconnect <domid>\n"
	"help\n";

/* "disconnect DOMID": close the domain's channel connections, as a restart
 * of the daemon would, and keep the domain and its channel: its QEMU
 * connects again (reconnect=1) and its agent starts afresh. xm save makes
 * the saved guest see its port go, so that it sees it come back wherever
 * it is restored. */
static int disconnect_of(struct daemon *d, const char *arg, char **out, size_t *olen)
{
	char *end;
	unsigned long id = strtoul(arg, &end, 10);
	if (end == arg || *end || id > UINT32_MAX)
		return EINVAL;
	struct domain *dom = domain_find(d, (uint32_t)id);
	if (!dom)
		return ENOENT;
	unsigned int n = 0;
	for (struct conn *c = dom->conns; c; c = c->dom_next, n++) {
		core_conn_reset(d, c);
		c->dead = true;
		conn_mark(d, c);
	}
	log_info("domain %u: %u channel connection(s) closed (control disconnect)", dom->domid, n);
	return reply_text(out, olen, "OK");
}

/* "quota DOMID": what an introduced domain holds against each limit. */
static int quota_of(struct daemon *d, const char *arg, char **out, size_t *olen)
{
	char *end;
	unsigned long id = strtoul(arg, &end, 10);
	if (end == arg || *end || id > UINT32_MAX)
		return EINVAL;
	struct domain *dom = domain_find(d, (uint32_t)id);
	if (!dom)
		return ENOENT;
	return reply_text(out, olen,
			  "Domain %u:\n"
			  "nodes:          %d\n"
			  "watches:        %u\n"
			  "transactions:   %u\n"
			  "memory:         %ld\n"
			  "  nodes:        %ld\n"
			  "  transactions: %ld\n"
			  "  watches:      %ld\n"
			  "  queued:       %ld\n",
			  dom->domid, store_owned(&d->store, NULL, dom->domid),
			  dom->nwatches, dom->ntxs, core_dom_mem(d, dom),
			  store_owned_bytes(&d->store, dom->domid), dom->tx_bytes,
			  dom->watch_bytes, dom->out_bytes);
}

int control_run(struct daemon *d, const char *body, size_t len, char **out, size_t *olen)
{
	const char *v[4];
	int n = wire_split(body, len, v, 4);

	if (n < 1)
		return EINVAL;
	const char *cmd = v[0];

	if (strcmp(cmd, "check") == 0)
		return n == 1 ? reply_text(out, olen, "OK") : EINVAL;
	if (strcmp(cmd, "log") == 0) {
		if (n >= 2 && strcmp(v[1], "on") == 0)
			log_set_level(LOG_DEBUG_);
		else if (n >= 2 && strcmp(v[1], "off") == 0)
			log_set_level(LOG_INFO_);
		else if (n >= 2)
			return EINVAL;
		return reply_text(out, olen, "OK");
	}
	if (strcmp(cmd, "print") == 0) {
		if (n < 2)
			return EINVAL;
		log_info("control print: %s", v[1]);
		return reply_text(out, olen, "OK");
	}
	if (strcmp(cmd, "quota") == 0 && n >= 2)
		return quota_of(d, v[1], out, olen);
	if (strcmp(cmd, "quota") == 0)
		return reply_text(out, olen,
				  "Quota settings:\n"
				  "nodes:          %u\n"
				  "watches:        %u\n"
				  "transactions:   %u\n"
				  "node-size:      %u\n"
				  "permissions:    %u\n"
				  "path-max:       %u\n"
				  "transaction-nodes: %u\n"
				  "memory:         %ld\n"
				  "memory-soft:    %ld\n",
				  d->store.q.nodes, d->max_watches, d->max_txs,
				  d->store.q.node_size, d->store.q.perms,
				  d->store.q.path_rel, d->store.q.tx_nodes,
				  d->mem_hard, d->mem_soft);
	if (strcmp(cmd, "disconnect") == 0)
		return n >= 2 ? disconnect_of(d, v[1], out, olen) : EINVAL;
	if (strcmp(cmd, "memreport") == 0) {
		unsigned int nconn = 0, ndom = 0;
		for (struct conn *c = d->conns; c; c = c->next)
			nconn++;
		for (struct domain *dom = d->domains; dom; dom = dom->next)
			ndom++;
		return reply_text(out, olen,
				  "nodes: %zu\nconnections: %u\ndomains: %u\nrequests: %lu\n",
				  d->store.nodes.count, nconn, ndom, d->requests);
	}
	if (strcmp(cmd, "help") == 0)
		return reply_text(out, olen, "%s", help_text);
	return EINVAL;
}
