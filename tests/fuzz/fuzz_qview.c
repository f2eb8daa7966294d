/*
 * fuzz_qview.c — libFuzzer target: xmbackd's reading of what a guest's
 * QEMU holds (xmbackd/qview.c: qom-list, query-block, qom-get,
 * query-named-block-nodes), fed QEMU's answers. A thread plays QEMU: a
 * greeting, then for each command the client sends, the next line of the
 * input as its "return" (a line that is not JSON: an error reply); no line
 * left, it closes the connection. The view is read as xmbackd's loop reads
 * it (qview_start, then qview_feed with each answer). Checked, on a view
 * read:
 *  - each device xmdev-N was listed by qom-list under exactly that name
 *    (the name xmbackd then builds from N finds it again), a disk has no
 *    SCSI id, and qview_dev finds it;
 *  - each node is named xmblk-N, fits its field, and qview_has_node finds it;
 *  - every text is NUL-terminated in its field, and a bus has no '/';
 * and on a failure, the view is empty.
 */
#include "qmp.h"
#include "xmbackd/qview.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/xm-fuzz-qview-XXXXXX";
static struct sockaddr_un addr = { .sun_family = AF_UNIX };
static int lfd = -1;
static sem_t go, done;
static const char *in;
static size_t in_len;
static json_t *listed; /* qom-list's answer, as QEMU gave it */

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* One command from the client (a line), or NULL at its end. */
static json_t *command(int fd, char *buf, size_t cap, size_t *have)
{
	for (;;) {
		char *nl = memchr(buf, '\n', *have);
		if (nl) {
			json_t *m = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
			*have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, *have);
			return m ? m : json_object();
		}
		if (*have == cap)
			return NULL;
		ssize_t r = read(fd, buf + *have, cap - *have);
		if (r <= 0)
			return NULL;
		*have += (size_t)r;
	}
}

static void serve(int fd)
{
	static const char greet[] = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n";
	char buf[8192];
	size_t have = 0;
	const char *p = in, *end = in + in_len;
	json_t *m;

	send_all(fd, greet, sizeof(greet) - 1);
	while ((m = command(fd, buf, sizeof(buf), &have))) {
		char cmd[64];
		const char *c = json_string_value(json_object_get(m, "execute"));
		snprintf(cmd, sizeof(cmd), "%s", c ? c : "");
		json_t *id = json_incref(json_object_get(m, "id")), *ret;
		json_decref(m);
		if (strcmp(cmd, "qmp_capabilities") == 0) {
			ret = json_object();
		} else {
			if (p >= end) {
				json_decref(id);
				break;
			}
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			ret = json_loadb(p, n, JSON_DECODE_ANY, NULL);
			p += n + (nl != NULL);
			if (ret && strcmp(cmd, "qom-list") == 0 && !listed)
				listed = json_incref(ret);
		}
		json_t *reply = ret ? json_pack("{s:o}", "return", ret)
				    : json_pack("{s:{s:s,s:s}}", "error", "class", "GenericError",
						"desc", "fuzzed");
		if (id)
			json_object_set_new(reply, "id", id);
		char *text = json_dumps(reply, JSON_COMPACT);
		json_decref(reply);
		if (text) {
			send_all(fd, text, strlen(text));
			send_all(fd, "\r\n", 2);
			free(text);
		}
	}
}

static void *qemu(void *arg)
{
	(void)arg;
	for (;;) {
		while (sem_wait(&go) < 0)
			;
		int fd;
		while ((fd = accept(lfd, NULL, NULL)) < 0)
			if (errno != EINTR)
				abort();
		serve(fd);
		close(fd);
		sem_post(&done);
	}
	return NULL;
}

static void cleanup(void)
{
	unlink(addr.sun_path);
	rmdir(dir);
}

static void setup(void)
{
	pthread_t t;

	if (!mkdtemp(dir))
		abort();
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/qmp", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 1) < 0 || sem_init(&go, 0, 0) || sem_init(&done, 0, 0) ||
	    pthread_create(&t, NULL, qemu, NULL))
		abort();
	atexit(cleanup);
}

static bool was_listed(const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(listed, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static void terminated(const char *s, size_t cap)
{
	if (strnlen(s, cap) == cap)
		abort();
}

static void check(const struct qview *v)
{
	char name[64];

	for (unsigned int i = 0; i < v->ndev; i++) {
		const struct qdev *d = &v->dev[i];
		snprintf(name, sizeof(name), "xmdev-%lu", d->devid);
		if (!was_listed(name) || (!d->cdrom && d->scsi_id != -1) || !qview_dev(v, d->devid))
			abort();
		terminated(d->node, sizeof(d->node));
		terminated(d->file, sizeof(d->file));
		terminated(d->bus, sizeof(d->bus));
		if (strchr(d->bus, '/'))
			abort();
	}
	for (unsigned int i = 0; i < v->nnode; i++) {
		terminated(v->node[i], sizeof(v->node[i]));
		if (strncmp(v->node[i], "xmblk-", 6) != 0 || !qview_has_node(v, v->node[i]))
			abort();
	}
}

/* The view as xmbackd's loop reads it (qview_start, qview_feed as QEMU
 * answers), here waiting on the socket: 0 with v, or -1 (v empty). */
static int read_view(struct qmp *q, struct qview *v)
{
	struct qview_job *j = qview_start(q);
	if (!j)
		abort();
	while (qview_state(j) == 0) {
		json_t *m = qmp_next(q);
		if (m) {
			qview_feed(j, q, m);
			json_decref(m);
			continue;
		}
		struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };
		if (poll(&p, 1, 10000) <= 0 || qmp_read(q) < 0)
			break; /* (no more input: the fake QEMU hung up) */
	}
	int rc = qview_take(j, v);
	qview_job_free(j);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *err = NULL;
	struct qview v;

	if (lfd < 0)
		setup();
	in = (const char *)data;
	in_len = size;
	listed = NULL;
	sem_post(&go);
	/* (10 s: the fake QEMU always greets and answers at once, but the long
	 * runs share two cores between a dozen targets under nice) */
	struct qmp *q = qmp_connect(addr.sun_path, 10000, &err);
	if (!q) {
		fprintf(stderr, "fuzz_qview: %s\n", err ? err : "?");
		abort();
	}
	if (read_view(q, &v) == 0)
		check(&v);
	else if (v.dev || v.node || v.ndev || v.nnode)
		abort();
	qview_free(&v);
	qmp_close(q);
	free(err);
	struct timespec limit;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 30;
	int r;
	while ((r = sem_timedwait(&done, &limit)) < 0 && errno == EINTR)
		;
	if (r < 0)
		abort();
	json_decref(listed);
	return 0;
}
