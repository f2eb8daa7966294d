/*
 * domain.c — introduced domains and their channel sockets; see domain.h.
 *
 * Domain N's QEMU runs under its own uid, base + N (xm/create-qemu.c; the
 * base is $XM_QEMU_UID_BASE, default 131072, as Xen's
 * xen-qemuuser-range-base), so the channel is made that uid's and mode
 * 0600: exactly that domain's QEMU (and root) may connect, also when it
 * reconnects after a restart of xmstored. The directory stays 0755: a
 * QEMU's chroot shows it (read-only) at its own path.
 */
#include "domain.h"
#include "core.h"
#include "sock.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Xen reserves ids from DOMID_FIRST_RESERVED (0x7FF0) up. */
#define DOMID_FIRST_RESERVED 0x7FF0u

/* By id, through an array of every possible id (allocated at the first
 * INTRODUCE; only the pages of the ids in use are touched): as fast with
 * 1,000 domains as with 10. */
struct domain *domain_find(struct daemon *d, uint32_t domid)
{
	return domid < DOMID_FIRST_RESERVED && d->dom_by_id ? d->dom_by_id[domid] : NULL;
}

bool domain_exists_cb(void *daemon, uint32_t domid)
{
	return domain_find(daemon, domid) != NULL;
}

static void fire_special(struct daemon *d, const char *name)
{
	store_special_event(&d->store, name, &d->ev);
}

/* Tell the journal (if any) of a domain change. */
static void persist_domain(struct daemon *d, enum persist_dom op, uint32_t domid,
			   uint32_t target)
{
	if (d->persist.domain)
		d->persist.domain(d->persist.ctx, op, domid, target);
}

/* The uid (and gid) domid's QEMU runs under, or (uid_t)-1 when the base
 * is not a number that leaves room for every domain id. */
static uid_t qemu_uid(uint32_t domid)
{
	const char *s = getenv("XM_QEMU_UID_BASE");
	char *end;
	unsigned long base = s && *s ? strtoul(s, &end, 10) : 131072UL;
	if ((s && *s && (*end || s[0] == '-')) || base == 0 ||
	    base > (unsigned long)UINT_MAX - 1 - DOMID_FIRST_RESERVED)
		return (uid_t)-1;
	return (uid_t)(base + domid);
}

/* The channel is domid's QEMU's only (see the head comment). Refused by
 * the system (xmstored not root: the unit tests): left root's, logged. */
static void channel_owner(const struct domain *dom)
{
	uid_t uid = qemu_uid(dom->domid);
	if (uid == (uid_t)-1) {
		log_warn("domain %u: XM_QEMU_UID_BASE=%s is no uid base: channel left root's",
			 dom->domid, getenv("XM_QEMU_UID_BASE"));
		return;
	}
	if (chown(dom->sock_path, uid, (gid_t)uid) < 0 || chmod(dom->sock_path, 0600) < 0)
		log_warn("domain %u: cannot give %s to uid %u: %s", dom->domid, dom->sock_path,
			 (unsigned int)uid, strerror(errno));
}

int domain_introduce(struct daemon *d, uint32_t domid)
{
	if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
		return EINVAL;
	if (domain_find(d, domid))
		return 0;
	if (!d->dom_by_id && !(d->dom_by_id = calloc(DOMID_FIRST_RESERVED, sizeof(*d->dom_by_id))))
		return ENOMEM;

	struct domain *dom = calloc(1, sizeof(*dom));
	if (!dom)
		return ENOMEM;
	dom->kind = POLL_DOMAIN;
	dom->domid = domid;
	if (asprintf(&dom->sock_path, "%s/domain-%u.sock", d->chan_dir, domid) < 0) {
		free(dom);
		return ENOMEM;
	}
	if (mkdir_p(d->chan_dir) < 0 || (dom->listen_fd = unix_listen(dom->sock_path)) < 0) {
		int e = errno;
		log_err("domain %u: cannot listen on %s: %s", domid, dom->sock_path, strerror(e));
		free(dom->sock_path);
		free(dom);
		return EIO;
	}
	channel_owner(dom);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = dom };
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, dom->listen_fd, &ev) < 0) {
		close(dom->listen_fd);
		unlink(dom->sock_path);
		free(dom->sock_path);
		free(dom);
		return EIO;
	}
	dom->next = d->domains;
	if (d->domains)
		d->domains->prev = dom;
	d->domains = dom;
	d->dom_by_id[domid] = dom;
	persist_domain(d, PERSIST_INTRODUCE, domid, 0);
	log_info("domain %u introduced, channel %s", domid, dom->sock_path);
	fire_special(d, "@introduceDomain");
	return 0;
}

static void unlink_domain(struct daemon *d, struct domain *dom)
{
	if (dom->prev)
		dom->prev->next = dom->next;
	else
		d->domains = dom->next;
	if (dom->next)
		dom->next->prev = dom->prev;
	dom->prev = NULL;
	d->dom_by_id[dom->domid] = NULL;
	if (dom->has_target)
		d->ntargets--;
}

int domain_release(struct daemon *d, uint32_t domid)
{
	struct domain *dom = domain_find(d, domid);
	if (!dom)
		return ENOENT;
	for (struct conn *c = dom->conns; c; c = c->dom_next) {
		core_conn_reset(d, c);
		c->dead = true;
		conn_mark(d, c);
	}
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, dom->listen_fd, NULL);
	close(dom->listen_fd);
	dom->listen_fd = -1;
	unlink(dom->sock_path);
	unlink_domain(d, dom);
	dom->next = d->dead_domains;
	d->dead_domains = dom;
	/* Other domains that target it lose that (a walk only if any
	 * domain has a target at all). */
	for (struct domain *o = d->ntargets ? d->domains : NULL; o; o = o->next) {
		if (o->has_target && o->target == domid) {
			o->has_target = false;
			d->ntargets--;
			for (struct conn *c = o->conns; c; c = c->dom_next)
				c->who.has_target = false;
		}
	}
	persist_domain(d, PERSIST_RELEASE, domid, 0);
	store_forget_domain(&d->store, domid, &d->ev);
	fire_special(d, "@releaseDomain");
	log_info("domain %u released", domid);
	return 0;
}

int domain_set_target(struct daemon *d, uint32_t domid, uint32_t target)
{
	struct domain *dom = domain_find(d, domid);
	if (!dom || !domain_find(d, target))
		return ENOENT;
	if (!dom->has_target)
		d->ntargets++;
	dom->has_target = true;
	dom->target = target;
	persist_domain(d, PERSIST_TARGET, domid, target);
	for (struct conn *c = dom->conns; c; c = c->dom_next) {
		c->who.has_target = true;
		c->who.target = target;
	}
	return 0;
}

void domain_free(struct domain *dom)
{
	if (dom->listen_fd >= 0)
		close(dom->listen_fd);
	free(dom->sock_path);
	free(dom);
}

void domain_release_all(struct daemon *d)
{
	while (d->domains) {
		struct domain *dom = d->domains;
		d->domains = dom->next;
		unlink(dom->sock_path);
		domain_free(dom);
	}
	while (d->dead_domains) {
		struct domain *dom = d->dead_domains;
		d->dead_domains = dom->next;
		domain_free(dom);
	}
	free(d->dom_by_id);
	d->dom_by_id = NULL;
	d->ntargets = 0;
}
