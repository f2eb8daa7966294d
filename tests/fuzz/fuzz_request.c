/*
 * fuzz_request.c — libFuzzer target: raw bytes into xmstored's decoder and
 * dispatcher, as a privileged client or as domain 1 over its channel (the
 * first byte chooses). The store persists across inputs, as in a daemon.
 */
#include "core.h"
#include "domain.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct daemon d;
static char dir[] = "/tmp/xmstored-fuzz-XXXXXX";

/* The channel folder and the sockets of the domains introduced in it. */
static void cleanup(void)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char p[sizeof(dir) + 260];

	while (dp && (e = readdir(dp)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (dp)
		closedir(dp);
	rmdir(dir);
}

static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	if (core_init(&d) < 0)
		abort();
	d.chan_dir = dir;
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0 || domain_introduce(&d, 1))
		abort();
	events_clear(&d.ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	int sv[2];

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	struct domain *dom = (data[0] & 1) ? domain_find(&d, 1) : NULL;
	if ((data[0] & 1) && !dom && domain_introduce(&d, 1) == 0)
		dom = domain_find(&d, 1);
	struct conn *c = conn_new(&d, sv[0], dom, (data[0] & 2) != 0);
	if (!c) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	conn_feed(&d, c, data + 1, size - 1);
	/* Close every connection (a RELEASE may have marked ours dead). */
	while (d.conns)
		conn_close(&d, d.conns);
	while (d.dead_domains) {
		struct domain *x = d.dead_domains;
		d.dead_domains = x->next;
		domain_free(x);
	}
	events_clear(&d.ev);
	close(sv[1]);
	/* Keep the tree from growing without bound over a long run. */
	if (d.store.nodes.count > 20000) {
		store_fini(&d.store);
		core_store_init(&d);
	}
	return 0;
}
