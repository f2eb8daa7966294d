/*
 * fakeqemu — stands in for a guest's QEMU and its agent where a real one
 * per domain cannot be afforded: tests/guest/scale.sh and bench/xmscale.sh
 * put it in XM_QEMU for the hundreds of domains around the one real guest,
 * so that `xm create`, xmstored, xmbackd and `xm list`/`block-list` all run
 * for real on 300 or 1,000 domains (issue 14). It is what the host side
 * sees of a QEMU, nothing of a machine:
 *
 *  - the command line xm/create-qemu.c builds: -chardev socket ids qmp0
 *    and qmp1 (the monitors, served), xenbus (the channel to xmstored,
 *    connected), -pidfile (written and locked, as QEMU does), -runas U:G
 *    (taken once set up, which xm create waits for); the rest is ignored;
 *  - QMP: the greeting, qmp_capabilities, query-status, query-chardev (the
 *    xenbus port open once the channel is up), and a block device model
 *    of what xmbackd asks: add-fd (the descriptor on the message) and
 *    remove-fd, query-fdsets, blockdev-add/-del, device_add/_del (with
 *    DEVICE_DELETED), qom-list /machine/peripheral, qom-get share-rw /
 *    parent_bus / scsi-id, query-block, query-named-block-nodes; anything
 *    else is answered {} (quit and system_powerdown end it);
 *  - the agent's side of the channel, as xmfront speaks it: attr/xmfront
 *    ready, then each vbd's frontend state follows its backend (4 -> 4,
 *    5 -> 6), with a watch on its backends.
 *
 * One process per domain, single-threaded (poll).
 */
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#define MAXC 8     /* monitor clients at once */
#define MAXD 64    /* devices, nodes, fdsets */

static const char greeting[] =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"fakeqemu\"}, \"capabilities\": [\"oob\"]}}\r\n";

struct fdset { long id; int fd; char opaque[600]; };
struct node { char name[64]; char file[64]; bool ro; long long size; };
struct dev { char id[64]; char driver[32]; char drive[64]; char bus[32]; bool share_rw; int scsi_id; };

static struct fdset sets[MAXD];
static struct node nodes[MAXD];
static struct dev devs[MAXD];
static unsigned int nsets, nnodes, ndevs;
static unsigned int domid;
static bool chan_up;

struct client { int fd; char buf[65536]; size_t len; int pending_fd; };
static struct client cl[MAXC];

static void die(const char *what)
{
	fprintf(stderr, "fakeqemu: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		die(path);
	return fd;
}

/* "key=value" of a -chardev's comma list. */
static bool opt(const char *list, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			snprintf(out, len, "%.*s", (int)strcspn(p + k + 1, ","), p + k + 1);
			return true;
		}
	return false;
}

static void say(int fd, json_t *m)
{
	char *s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!s)
		return;
	size_t n = strlen(s);
	s = realloc(s, n + 3);
	if (!s)
		return;
	memcpy(s + n, "\r\n", 3);
	for (size_t o = 0; o < n + 2;) {
		ssize_t w = write(fd, s + o, n + 2 - o);
		if (w <= 0)
			break;
		o += (size_t)w;
	}
	free(s);
}

static json_t *err(const char *desc)
{
	return json_pack("{s:{s:s, s:s}}", "error", "class", "GenericError", "desc", desc);
}

static struct dev *dev_find(const char *id)
{
	for (unsigned int i = 0; id && i < ndevs; i++)
		if (strcmp(devs[i].id, id) == 0)
			return &devs[i];
	return NULL;
}

static struct node *node_find(const char *name)
{
	for (unsigned int i = 0; name && i < nnodes; i++)
		if (strcmp(nodes[i].name, name) == 0)
			return &nodes[i];
	return NULL;
}

static struct fdset *set_find(long id)
{
	for (unsigned int i = 0; i < nsets; i++)
		if (sets[i].id == id)
			return &sets[i];
	return NULL;
}

/* The answer to one command (its "return" or "error" object). */
static json_t *run(struct client *c, const char *cmd, json_t *a, bool *deleted, char *delid)
{
	if (!strcmp(cmd, "query-status"))
		return json_pack("{s:{s:s, s:b, s:b}}", "return", "status", "running", "running", 1,
				 "singlestep", 0);
	if (!strcmp(cmd, "query-chardev"))
		return json_pack("{s:[{s:s, s:s, s:b}]}", "return", "label", "xenbus", "filename",
				 "unix:", "frontend-open", chan_up);
	if (!strcmp(cmd, "add-fd")) {
		if (c->pending_fd < 0)
			return err("No file descriptor supplied via SCM_RIGHTS");
		if (nsets == MAXD)
			return err("too many fdsets");
		struct fdset *s = &sets[nsets++];
		s->id = (long)json_integer_value(json_object_get(a, "fdset-id"));
		s->fd = c->pending_fd;
		c->pending_fd = -1;
		snprintf(s->opaque, sizeof(s->opaque), "%s",
			 json_string_value(json_object_get(a, "opaque")) ?: "");
		return json_pack("{s:{s:I, s:i}}", "return", "fdset-id", (json_int_t)s->id, "fd", s->fd);
	}
	if (!strcmp(cmd, "remove-fd")) {
		struct fdset *s = set_find((long)json_integer_value(json_object_get(a, "fdset-id")));
		if (!s)
			return err("File descriptor named 'fdset-id' not found");
		close(s->fd);
		*s = sets[--nsets];
		return json_pack("{s:{}}", "return");
	}
	if (!strcmp(cmd, "query-fdsets")) {
		json_t *r = json_array();
		for (unsigned int i = 0; i < nsets; i++)
			json_array_append_new(r, json_pack("{s:I, s:[{s:i, s:s}]}", "fdset-id",
							   (json_int_t)sets[i].id, "fds", "fd",
							   sets[i].fd, "opaque", sets[i].opaque));
		return json_pack("{s:o}", "return", r);
	}
	if (!strcmp(cmd, "blockdev-add")) {
		const char *name = json_string_value(json_object_get(a, "node-name"));
		const char *file = json_string_value(
			json_object_get(json_object_get(a, "file"), "filename"));
		long set = -1;
		if (!name || !file || node_find(name) || nnodes == MAXD)
			return err("bad blockdev-add");
		if (sscanf(file, "/dev/fdset/%ld", &set) != 1 || !set_find(set))
			return err("Could not open: No such file or directory");
		struct node *n = &nodes[nnodes++];
		struct stat st;
		snprintf(n->name, sizeof(n->name), "%s", name);
		snprintf(n->file, sizeof(n->file), "%s", file);
		n->ro = json_is_true(json_object_get(a, "read-only"));
		n->size = fstat(set_find(set)->fd, &st) == 0 ? (long long)st.st_size : 0;
		return json_pack("{s:{}}", "return");
	}
	if (!strcmp(cmd, "blockdev-del")) {
		struct node *n = node_find(json_string_value(json_object_get(a, "node-name")));
		if (!n)
			return err("Failed to find node with node-name");
		*n = nodes[--nnodes];
		return json_pack("{s:{}}", "return");
	}
	if (!strcmp(cmd, "device_add")) {
		const char *id = json_string_value(json_object_get(a, "id"));
		if (!id || dev_find(id) || ndevs == MAXD)
			return err("Duplicate device ID");
		struct dev *d = &devs[ndevs++];
		json_t *sr = json_object_get(a, "share-rw");
		snprintf(d->id, sizeof(d->id), "%s", id);
		snprintf(d->driver, sizeof(d->driver), "%s",
			 json_string_value(json_object_get(a, "driver")) ?: "virtio-blk-pci");
		snprintf(d->drive, sizeof(d->drive), "%s",
			 json_string_value(json_object_get(a, "drive")) ?: "");
		snprintf(d->bus, sizeof(d->bus), "%s",
			 json_string_value(json_object_get(a, "bus")) ?: "");
		d->share_rw = json_is_true(sr) || (json_is_string(sr) &&
						   !strcmp(json_string_value(sr), "on"));
		json_t *sid = json_object_get(a, "scsi-id");
		d->scsi_id = sid ? (int)json_integer_value(sid) : -1;
		return json_pack("{s:{}}", "return");
	}
	if (!strcmp(cmd, "device_del")) {
		struct dev *d = dev_find(json_string_value(json_object_get(a, "id")));
		if (!d)
			return err("Device not found");
		snprintf(delid, 64, "%s", d->id);
		*d = devs[--ndevs];
		*deleted = true;
		return json_pack("{s:{}}", "return");
	}
	if (!strcmp(cmd, "qom-list")) {
		json_t *r = json_array();
		for (unsigned int i = 0; i < ndevs; i++) {
			char t[64];
			snprintf(t, sizeof(t), "child<%s>", devs[i].driver);
			json_array_append_new(r, json_pack("{s:s, s:s}", "name", devs[i].id, "type", t));
		}
		json_array_append_new(r, json_pack("{s:s, s:s}", "name", "type", "type", "string"));
		return json_pack("{s:o}", "return", r);
	}
	if (!strcmp(cmd, "qom-get")) {
		const char *path = json_string_value(json_object_get(a, "path"));
		const char *prop = json_string_value(json_object_get(a, "property"));
		const char *slash = path ? strrchr(path, '/') : NULL;
		struct dev *d = slash ? dev_find(slash + 1) : NULL;
		char bus[128];
		if (!d || !prop)
			return err("Device not found");
		if (!strcmp(prop, "share-rw"))
			return json_pack("{s:b}", "return", d->share_rw);
		if (!strcmp(prop, "scsi-id"))
			return json_pack("{s:i}", "return", d->scsi_id);
		if (!strcmp(prop, "parent_bus")) {
			char b0[32];
			snprintf(b0, sizeof(b0), "%.*s", (int)strcspn(d->bus, "."), d->bus);
			snprintf(bus, sizeof(bus), "/machine/peripheral/%s/%s", b0, d->bus);
			return json_pack("{s:s}", "return", bus);
		}
		return err("Property not found");
	}
	if (!strcmp(cmd, "query-block")) {
		json_t *r = json_array();
		for (unsigned int i = 0; i < ndevs; i++) {
			char q[128];
			struct node *n = node_find(devs[i].drive);
			snprintf(q, sizeof(q), "/machine/peripheral/%s/virtio-backend", devs[i].id);
			json_t *e = json_pack("{s:s, s:s}", "device", "", "qdev", q);
			if (n)
				json_object_set_new(e, "inserted",
						    json_pack("{s:s, s:s, s:b}", "node-name", n->name,
							      "file", n->file, "ro", n->ro));
			json_array_append_new(r, e);
		}
		return json_pack("{s:o}", "return", r);
	}
	if (!strcmp(cmd, "query-named-block-nodes")) {
		json_t *r = json_array();
		for (unsigned int i = 0; i < nnodes; i++)
			json_array_append_new(r, json_pack("{s:s, s:s, s:b, s:{s:I}}", "node-name",
							   nodes[i].name, "file", nodes[i].file,
							   "ro", nodes[i].ro, "image",
							   "virtual-size", (json_int_t)nodes[i].size));
		return json_pack("{s:o}", "return", r);
	}
	if (!strcmp(cmd, "quit") || !strcmp(cmd, "system_powerdown"))
		exit(0);
	return json_pack("{s:{}}", "return");
}

/* Read what a monitor client sent (and a descriptor riding on it). */
static bool client_read(struct client *c)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec io = { c->buf + c->len, sizeof(c->buf) - 1 - c->len };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return false;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			if (c->pending_fd >= 0)
				close(c->pending_fd);
			memcpy(&c->pending_fd, CMSG_DATA(h), sizeof(int));
		}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *nl;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = '\0';
		json_t *m = json_loads(c->buf, JSON_DISABLE_EOF_CHECK, NULL);
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->len - used);
		c->len -= used;
		c->buf[c->len] = '\0';
		if (!m)
			continue;
		const char *cmd = json_string_value(json_object_get(m, "execute"));
		bool deleted = false;
		char delid[64] = "";
		json_t *r = cmd && strcmp(cmd, "qmp_capabilities") ?
				    run(c, cmd, json_object_get(m, "arguments"), &deleted, delid) :
				    json_pack("{s:{}}", "return");
		json_t *id = json_object_get(m, "id");
		if (id)
			json_object_set(r, "id", id);
		say(c->fd, r);
		if (deleted)
			say(c->fd, json_pack("{s:s, s:{s:s, s:s}, s:{s:i, s:i}}", "event",
					     "DEVICE_DELETED", "data", "device", delid, "path", "",
					     "timestamp", "seconds", 0, "microseconds", 0));
		json_decref(m);
	}
	return c->len < sizeof(c->buf) - 1;
}

/* ---- the agent's side of the channel ------------------------------------- */

static void xs_send(int fd, uint32_t type, uint32_t req, const char *const *v, int n)
{
	char buf[1024];
	size_t len = wire_pack(buf, sizeof(buf), v, n, type != XS_WRITE);
	if (wire_send(fd, type, req, 0, buf, len) < 0)
		exit(0); /* the store went: so does this "guest" */
}

static void front_state(int fd, const char *devid, const char *st)
{
	char p[128];
	snprintf(p, sizeof(p), "device/vbd/%s/state", devid);
	const char *v[2] = { p, st };
	xs_send(fd, XS_WRITE, 0, v, 2);
}

/* A backend's state changed (an event on .../backend/vbd/D/DEVID/state):
 * read it (req_id 1 says a state's reply; the path rides in req's order). */
static char pending[64][24];
static unsigned int npend;

static void chan_message(int fd, const struct xsd_sockmsg *h, const char *body)
{
	if (h->type == XS_WATCH_EVENT) {
		const char *v[2];
		char dev[24];
		unsigned int d;
		int n = 0;
		if (wire_split(body, h->len, v, 2) != 2)
			return;
		if (sscanf(v[0], "/local/domain/0/backend/vbd/%u/%23[0-9]/state%n", &d, dev, &n) != 2 ||
		    v[0][n] != '\0' || npend == 64)
			return;
		snprintf(pending[npend++], sizeof(pending[0]), "%s", dev);
		const char *r[1] = { v[0] };
		xs_send(fd, XS_READ, 1, r, 1);
	} else if (h->type == XS_READ && h->req_id == 1 && npend) {
		char dev[24];
		snprintf(dev, sizeof(dev), "%s", pending[0]);
		memmove(pending, pending + 1, --npend * sizeof(pending[0]));
		if (h->len == 1 && body[0] == '4')
			front_state(fd, dev, "4");
		else if (h->len == 1 && body[0] == '5')
			front_state(fd, dev, "6");
	}
}

static int chan_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	static bool said;
	if (!said)
		fprintf(stderr, "fakeqemu: channel %s: %s (trying again)\n", path, strerror(errno));
	said = true;
	return -1;
}

static void chan_start(int fd)
{
	char p[128], tok[8] = "b";
	const char *v[2] = { "attr/xmfront/version", "fakeqemu" };
	xs_send(fd, XS_WRITE, 0, v, 2);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u", domid);
	const char *w[2] = { p, tok };
	xs_send(fd, XS_WATCH, 0, w, 2);
	const char *r[2] = { "attr/xmfront/state", "ready" };
	xs_send(fd, XS_WRITE, 0, r, 2);
}

int main(int argc, char **argv)
{
	char qmp[512] = "", ctl[512] = "", chan[512] = "", pidfile[512] = "", v[512];
	unsigned long uid = 0, gid = 0;
	bool runas = false;
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "-chardev") && opt(argv[i + 1], "id", v, sizeof(v))) {
			if (!strcmp(v, "qmp0"))
				opt(argv[i + 1], "path", qmp, sizeof(qmp));
			else if (!strcmp(v, "qmp1"))
				opt(argv[i + 1], "path", ctl, sizeof(ctl));
			else if (!strcmp(v, "xenbus"))
				opt(argv[i + 1], "path", chan, sizeof(chan));
		} else if (!strcmp(argv[i], "-pidfile")) {
			snprintf(pidfile, sizeof(pidfile), "%s", argv[i + 1]);
		} else if (!strcmp(argv[i], "-runas")) {
			runas = sscanf(argv[i + 1], "%lu:%lu", &uid, &gid) == 2;
		}
	}
	const char *d = strrchr(chan, '-');
	if (!qmp[0] || !ctl[0] || !chan[0] || !pidfile[0] || !d || sscanf(d, "-%u.sock", &domid) != 1) {
		fprintf(stderr, "fakeqemu: not the command line xm create builds\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int lq = listen_on(qmp), lc = listen_on(ctl);
	int pf = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (pf < 0 || fcntl(pf, F_SETLK, &lk) < 0 || dprintf(pf, "%d\n", (int)getpid()) < 0)
		die(pidfile);
	/* QEMU connects its chardevs before it drops to -runas: so does this */
	int cfd = chan_connect(chan);
	if (runas && (setgroups(0, NULL) < 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0 ||
		      setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0))
		die("-runas");
	for (int i = 0; i < MAXC; i++)
		cl[i] = (struct client){ .fd = -1, .pending_fd = -1 };
	struct wire_in in = { 0 };
	if (cfd >= 0) {
		chan_start(cfd);
		chan_up = true;
	}
	for (;;) {
		struct pollfd p[3 + MAXC];
		int np = 0;
		if (cfd < 0 && (cfd = chan_connect(chan)) >= 0) {
			chan_start(cfd);
			chan_up = true;
		}
		p[np++] = (struct pollfd){ .fd = lq, .events = POLLIN };
		p[np++] = (struct pollfd){ .fd = lc, .events = POLLIN };
		p[np++] = (struct pollfd){ .fd = cfd, .events = POLLIN };
		for (int i = 0; i < MAXC; i++)
			p[np++] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		if (poll(p, (nfds_t)np, cfd < 0 ? 200 : -1) < 0 && errno != EINTR)
			die("poll");
		for (int l = 0; l < 2; l++)
			if (p[l].revents & POLLIN) {
				int fd = accept4(p[l].fd, NULL, NULL, SOCK_CLOEXEC);
				int i = 0;
				while (i < MAXC && cl[i].fd >= 0)
					i++;
				if (fd >= 0 && i == MAXC) {
					close(fd);
				} else if (fd >= 0) {
					cl[i] = (struct client){ .fd = fd, .pending_fd = -1 };
					if (write(fd, greeting, sizeof(greeting) - 1) < 0) {
						close(fd);
						cl[i].fd = -1;
					}
				}
			}
		if (p[2].revents) {
			enum wire_status st = wire_in_fill(&in, cfd);
			if (st == WIRE_EOF || st == WIRE_ERR)
				return 0; /* the store closed the channel: the domain is gone */
			struct xsd_sockmsg h;
			const char *body;
			while (wire_in_next(&in, &h, &body) == WIRE_OK)
				chan_message(cfd, &h, body);
		}
		for (int i = 0; i < MAXC; i++)
			if (cl[i].fd >= 0 && p[3 + i].revents && !client_read(&cl[i])) {
				close(cl[i].fd);
				if (cl[i].pending_fd >= 0)
					close(cl[i].pending_fd);
				cl[i] = (struct client){ .fd = -1, .pending_fd = -1 };
			}
	}
}
