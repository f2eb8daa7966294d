/*
 * fuzz_qmp.c — libFuzzer target: the QMP client's reader, fed the input as
 * QEMU's monitor socket would send it. A thread plays QEMU: it accepts the
 * client, sends the input and closes its side; the client does what xm and
 * xmbackd do (greeting and capabilities, a command, a reply by id, an event
 * wait, kept events, the event loop's reads) and must end at that EOF.
 */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/xm-fuzz-qmp-XXXXXX";
static struct sockaddr_un addr = { .sun_family = AF_UNIX };
static int lfd = -1;
static sem_t go, done;
static const uint8_t *in;
static size_t in_len;

/* QEMU: per input, one client gets the input, then EOF. */
static void *qemu(void *arg)
{
	char sink[4096];

	(void)arg;
	for (;;) {
		while (sem_wait(&go) < 0)
			;
		int fd;
		while ((fd = accept(lfd, NULL, NULL)) < 0)
			if (errno != EINTR)
				abort();
		for (size_t off = 0; off < in_len;) {
			ssize_t w = send(fd, in + off, in_len - off, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		shutdown(fd, SHUT_WR);
		while (read(fd, sink, sizeof(sink)) > 0)
			;
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

static void use(struct qmp *q)
{
	json_t *m;
	char *err = NULL;

	qmp_exec(q, "query-status", NULL, &m, &err, 1000);
	json_decref(m);
	free(err);
	long id = qmp_send(q, "device_del", json_pack("{s:s}", "id", "xvda"));
	qmp_wait_reply(q, id, NULL, &err, 1000);
	free(err);
	if (qmp_wait_event(q, "DEVICE_DELETED", "xvda", &m, 1000) == 0)
		json_decref(m);
	while ((m = qmp_pop_event(q))) {
		qmp_is_event(m, "DEVICE_TRAY_MOVED", NULL);
		json_decref(m);
	}
	struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };
	while (poll(&p, 1, 1000) > 0 && qmp_read(q) == 0)
		while ((m = qmp_next(q)))
			json_decref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *err = NULL;

	if (lfd < 0)
		setup();
	in = data;
	in_len = size;
	sem_post(&go);
	struct qmp *q = qmp_connect(addr.sun_path, 1000, &err);
	if (q) {
		use(q);
		qmp_close(q);
	} else if (!err) {
		abort();
	}
	free(err);
	/* QEMU is done once the client is gone; not even connected, never */
	struct timespec limit;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 10;
	int r;
	while ((r = sem_timedwait(&done, &limit)) < 0 && errno == EINTR)
		;
	if (r < 0)
		abort();
	return 0;
}
