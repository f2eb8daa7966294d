/*
 * test_xsbatch.c — batched XenStore requests (lib/xsbatch.c) against a
 * scripted peer on a socketpair: the framing of each request (ids 0..n-1,
 * the transaction, the payloads), replies taken in order, errors mapped,
 * a peer that answers out of order or goes away; and a connection with
 * watches (struct xsc): events between replies kept by token, waited for
 * with a timeout, a peer that sends a reply nobody asked for; and the
 * same connection read as an event stream (xmbackd's), whose requests are
 * queued, never waited for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "xsbatch.h"

/* The peer: reads n requests, checks what the parent queued (tx 7, ids in
 * order), then answers each, in order unless swap. Exits 0 if all was as
 * expected, else with the number of the first wrong request + 1. */
static pid_t peer(int fd, unsigned int n, bool swap)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	struct xsd_sockmsg h[16];
	char *body[16];
	for (unsigned int i = 0; i < n; i++) {
		if (wire_recv(fd, &h[i], &body[i]) < 0 || h[i].req_id != i || h[i].tx_id != 7)
			_exit(10 + (int)i);
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int k = swap && n > 1 ? (i + 1) % n : i;
		const char *reply = "OK";
		uint32_t type = h[k].type;
		if (h[k].type == XS_READ && strcmp(body[k], "/missing") == 0) {
			type = XS_ERROR;
			reply = "ENOENT";
		} else if (h[k].type == XS_READ) {
			reply = "value";
		}
		if (wire_send(fd, type, h[k].req_id, h[k].tx_id, reply, strlen(reply) + 1) < 0)
			_exit(2);
	}
	/* the payloads as XenStore wants them */
	for (unsigned int i = 0; i < n; i++) {
		if (h[i].type == XS_WRITE &&
		    (h[i].len != sizeof("/a/b") + 3 || memcmp(body[i], "/a/b\0abc", h[i].len) != 0))
			_exit(30 + (int)i);
		if (h[i].type == XS_SET_PERMS &&
		    (h[i].len != sizeof("/a") + 3 + 3 || memcmp(body[i], "/a\0n0\0r3", h[i].len) != 0))
			_exit(40 + (int)i);
		free(body[i]);
	}
	_exit(0);
}

static int peer_status(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void queue_four(struct xsb *b)
{
	static const char *const perms[] = { "n0", "r3" };
	xsb_read(b, 7, "/x");
	xsb_read(b, 7, "/missing");
	xsb_write(b, 7, "/a/b", "abc");
	xsb_set_perms(b, 7, "/a", perms, 2);
}

static void test_batch_in_order(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = peer(sv[1], 4, false);
	close(sv[1]);
	struct xsb b;
	xsb_init(&b);
	queue_four(&b);
	assert_int_equal(b.n, 4);
	assert_int_equal(xsb_run(&b, sv[0]), 0);
	assert_int_equal(b.r[0].type, XS_READ);
	assert_string_equal(b.r[0].body, "value");
	assert_int_equal(xsb_errno(&b, 0), 0);
	assert_int_equal(b.r[1].type, XS_ERROR);
	assert_int_equal(xsb_errno(&b, 1), ENOENT);
	assert_int_equal(b.r[2].type, XS_WRITE);
	assert_int_equal(b.r[3].type, XS_SET_PERMS);
	assert_int_equal(xsb_errno(&b, 9), 0); /* out of range: no error */
	xsb_reset(&b);
	assert_int_equal(b.n, 0);
	close(sv[0]);
	assert_int_equal(peer_status(pid), 0);
}

static void test_reply_out_of_order(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = peer(sv[1], 4, true);
	close(sv[1]);
	struct xsb b;
	xsb_init(&b);
	queue_four(&b);
	errno = 0;
	assert_int_equal(xsb_run(&b, sv[0]), -1);
	assert_int_equal(errno, EPROTO);
	xsb_reset(&b);
	close(sv[0]);
	peer_status(pid);
}

static void test_peer_gone(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]); /* writing must fail with EPIPE, not kill the test with SIGPIPE */
	struct xsb b;
	xsb_init(&b);
	xsb_read(&b, 0, "/x");
	assert_int_equal(xsb_run(&b, sv[0]), -1);
	assert_int_equal(errno, EPIPE);
	struct xsb_reply r;
	assert_int_equal(xsb_call(sv[0], XS_TRANSACTION_START, 0, "", 1, &r), -1);
	assert_null(r.body);
	xsb_reset(&b);
	close(sv[0]);
}

static void test_call(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct xsd_sockmsg h;
		char *body;
		if (wire_recv(sv[1], &h, &body) < 0 || h.type != XS_TRANSACTION_START || h.len != 1)
			_exit(1);
		_exit(wire_send(sv[1], XS_TRANSACTION_START, h.req_id, 0, "42", 3) < 0 ? 2 : 0);
	}
	close(sv[1]);
	struct xsb_reply r;
	assert_int_equal(xsb_call(sv[0], XS_TRANSACTION_START, 0, "", 1, &r), 0);
	assert_int_equal(r.type, XS_TRANSACTION_START);
	assert_string_equal(r.body, "42");
	free(r.body);
	close(sv[0]);
	assert_int_equal(peer_status(pid), 0);
}

static void test_too_big(void **state)
{
	(void)state;
	struct xsb b;
	xsb_init(&b);
	char *big = malloc(XENSTORE_PAYLOAD_MAX + 10);
	assert_non_null(big);
	memset(big, 'v', XENSTORE_PAYLOAD_MAX + 9);
	big[XENSTORE_PAYLOAD_MAX + 9] = '\0';
	xsb_write(&b, 0, "/a", big);
	xsb_read(&b, 0, "/b"); /* ignored once an error is set */
	errno = 0;
	assert_int_equal(xsb_run(&b, -1), -1);
	assert_int_equal(errno, E2BIG);
	xsb_reset(&b);
	free(big);
}

static void send_event(int fd, const char *path, const char *token)
{
	char body[128];
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	memcpy(body, path, pl);
	memcpy(body + pl, token, tl);
	if (wire_send(fd, XS_WATCH_EVENT, 0, 0, body, pl + tl) < 0)
		_exit(3);
}

static const char *const tokens[] = { "be", "fe", "err" };

/* Events before, between and after replies are kept by token; unknown
 * tokens are ignored; xsc_wait hands them out once, then times out. */
static void test_conn_events(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]); /* so that the parent's close is an EOF here */
		struct xsd_sockmsg h[2];
		char *body[2];
		for (int i = 0; i < 2; i++)
			if (wire_recv(sv[1], &h[i], &body[i]) < 0 || h[i].req_id != (uint32_t)i)
				_exit(1);
		send_event(sv[1], "/a", "fe");
		if (wire_send(sv[1], XS_READ, 0, 0, "v0", 3) < 0)
			_exit(2);
		send_event(sv[1], "/b", "nobody");
		send_event(sv[1], "/c", "err");
		if (wire_send(sv[1], XS_READ, 1, 0, "v1", 3) < 0)
			_exit(2);
		/* then, after a pause, one more */
		usleep(50 * 1000);
		send_event(sv[1], "/d", "be");
		char c;
		_exit(read(sv[1], &c, 1) == 0 ? 0 : 4); /* until the parent closes */
	}
	close(sv[1]);
	struct xsc c;
	assert_int_equal(xsc_init(&c, sv[0], tokens, 3), 0);
	struct xsb b;
	xsb_init(&b);
	xsb_read(&b, 0, "/x");
	xsb_read(&b, 0, "/y");
	assert_int_equal(xsc_run(&c, &b), 0);
	assert_string_equal(b.r[0].body, "v0");
	assert_string_equal(b.r[1].body, "v1");
	xsb_reset(&b);
	assert_int_equal(c.fired, 2u | 4u);
	assert_int_equal(xsc_wait(&c, 1000), 2 | 4); /* kept ones, at once */
	assert_int_equal(c.fired, 0u);
	assert_int_equal(xsc_wait(&c, 5000), 1); /* the late one */
	struct timeval t0, t1;
	gettimeofday(&t0, NULL);
	assert_int_equal(xsc_wait(&c, 100), 0); /* nothing more: timeout */
	gettimeofday(&t1, NULL);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	assert_true(ms >= 90);
	xsc_close(&c);
	assert_int_equal(c.fd, -1);
	assert_int_equal(peer_status(pid), 0);
}

/* While nothing was asked, only events may come: a reply is a broken
 * peer, and so is a closed connection. */
static void test_conn_wait_broken(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct xsc c;
	assert_int_equal(xsc_init(&c, sv[0], tokens, 3), 0);
	assert_int_equal(wire_send(sv[1], XS_READ, 5, 0, "x", 2), 0);
	errno = 0;
	assert_int_equal(xsc_wait(&c, 1000), -1);
	assert_int_equal(errno, EPROTO);
	xsc_close(&c);
	close(sv[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(xsc_init(&c, sv[0], tokens, 3), 0);
	close(sv[1]);
	errno = 0;
	assert_int_equal(xsc_wait(&c, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	struct xsb_reply r;
	assert_int_equal(xsc_call(&c, XS_READ, 0, "/x", 3, &r), -1);
	assert_null(r.body);
	xsc_close(&c);
}

/* The event stream: a request sent without waiting, then its reply and
 * the events in order, each with its path; nothing more once drained; a
 * closed peer. */
static void test_conn_stream(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct xsc c;
	assert_int_equal(xsc_init(&c, sv[0], NULL, 0), 0);
	assert_int_equal(xsc_send(&c, XS_WATCH, "/p/state", "tok"), 0);
	struct xsd_sockmsg h;
	char *body;
	assert_int_equal(wire_recv(sv[1], &h, &body), 0);
	assert_int_equal(h.type, XS_WATCH);
	assert_int_equal(h.len, sizeof("/p/state") + sizeof("tok"));
	assert_memory_equal(body, "/p/state\0tok", h.len);
	free(body);
	assert_int_equal(wire_send(sv[1], XS_WATCH, 0, 0, "OK", 3), 0);
	send_event(sv[1], "/p/state", "tok");
	send_event(sv[1], "/p/other", "tok");
	assert_int_equal(wire_send(sv[1], XS_ERROR, 0, 0, "ENOSPC", 7), 0);
	const char *b;
	struct xsd_sockmsg m;
	assert_int_equal(xsc_next(&c, true, &m, &b), 1);
	assert_int_equal(m.type, XS_WATCH);
	assert_int_equal(xsc_next(&c, false, &m, &b), 1);
	assert_int_equal(m.type, XS_WATCH_EVENT);
	assert_string_equal(b, "/p/state");
	assert_int_equal(xsc_next(&c, false, &m, &b), 1);
	assert_string_equal(b, "/p/other");
	assert_int_equal(xsc_next(&c, false, &m, &b), 1);
	assert_int_equal(m.type, XS_ERROR);
	assert_int_equal(xsc_next(&c, false, &m, &b), 0); /* drained, no read */
	assert_int_equal(xsc_send(&c, XS_UNWATCH, "/p/state", NULL), 0);
	assert_int_equal(wire_recv(sv[1], &h, &body), 0);
	assert_int_equal(h.len, sizeof("/p/state"));
	free(body);
	close(sv[1]);
	errno = 0;
	assert_int_equal(xsc_next(&c, true, &m, &b), -1);
	assert_int_equal(errno, ECONNRESET);
	xsc_close(&c);
}

/* xsc_send never blocks: a thousand guests' watches set at once, with the
 * peer not reading (xmstored busy writing its replies and events the other
 * way), stay queued on the connection (xmbackd once waited in send() here
 * while xmstored waited for it to read: neither moved again). Then
 * written out in order as the peer reads, xsc_run refused meanwhile. */
static void test_conn_send_queues(void **state)
{
	(void)state;
	enum { N = 20000 };
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct xsc c;
	assert_int_equal(xsc_init(&c, sv[0], NULL, 0), 0);
	alarm(20); /* (blocked in send: the test dies) */
	char p[64];
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/local/domain/%d/device/vbd/51712/state", i);
		assert_int_equal(xsc_send(&c, XS_WATCH, p, "frontend"), 0);
	}
	assert_true(xsc_out_pending(&c));
	struct xsb b;
	xsb_init(&b);
	xsb_read(&b, 0, "/x");
	errno = 0;
	assert_int_equal(xsc_run(&c, &b), -1); /* its reply would follow theirs */
	assert_int_equal(errno, EBUSY);
	xsb_reset(&b);
	pid_t pid = fork();
	if (pid == 0) { /* the peer reads them all, in order */
		close(sv[0]);
		for (int i = 0; i < N; i++) {
			struct xsd_sockmsg h;
			char *body, want[64];
			snprintf(want, sizeof(want), "/local/domain/%d/device/vbd/51712/state", i);
			if (wire_recv(sv[1], &h, &body) < 0 || h.type != XS_WATCH ||
			    strcmp(body, want) != 0 || strcmp(body + strlen(body) + 1, "frontend") != 0)
				_exit(1);
			free(body);
		}
		_exit(0);
	}
	while (xsc_out_pending(&c)) {
		struct pollfd pf = { .fd = sv[0], .events = POLLOUT };
		assert_int_equal(poll(&pf, 1, 10000), 1);
		assert_int_equal(xsc_flush(&c), 0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	alarm(0);
	xsc_close(&c);
	close(sv[1]);
}

/* A batch larger than the socket holds, to a peer that answers each
 * request as it reads it and so stops reading while its replies back up
 * (as xmstored does): the replies are read while the requests go out
 * (written blocking first, each side waited for the other for ever). */
static void test_batch_bigger_than_socket(void **state)
{
	(void)state;
	enum { N = 20000 };
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		char reply[200];
		memset(reply, 'v', sizeof(reply));
		for (unsigned int i = 0; i < N; i++) {
			struct xsd_sockmsg h;
			char *body;
			if (wire_recv(sv[1], &h, &body) < 0 || h.req_id != i ||
			    wire_send(sv[1], XS_READ, i, 0, reply, sizeof(reply)) < 0)
				_exit(1);
			free(body);
		}
		_exit(0);
	}
	close(sv[1]);
	alarm(20); /* (both waiting: the test dies) */
	struct xsb b;
	xsb_init(&b);
	char p[80];
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/local/domain/%d/device/vbd/51712/state", i);
		xsb_read(&b, 0, p);
	}
	assert_int_equal(xsb_run(&b, sv[0]), 0);
	assert_int_equal(b.n, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(b.r[i].len, 200);
	alarm(0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	xsb_reset(&b);
	close(sv[0]);
}

/* xsb_watch: a WATCH outside any transaction, "path\0token\0"; one too big
 * for a payload fails the batch. */
static void test_watch_framing(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct xsb b;
	xsb_init(&b);
	xsb_watch(&b, "/a/state", "be");
	assert_int_equal(b.n, 1);
	assert_int_equal(write(sv[0], outq_data(&b.q), outq_size(&b.q)), (ssize_t)outq_size(&b.q));
	struct xsd_sockmsg h;
	char *body;
	assert_int_equal(wire_recv(sv[1], &h, &body), 0);
	assert_int_equal(h.type, XS_WATCH);
	assert_int_equal(h.tx_id, 0);
	assert_int_equal(h.len, sizeof("/a/state") + sizeof("be"));
	assert_memory_equal(body, "/a/state\0be", h.len);
	free(body);
	xsb_reset(&b);
	char *big = malloc(XENSTORE_PAYLOAD_MAX);
	assert_non_null(big);
	memset(big, 'p', XENSTORE_PAYLOAD_MAX - 1);
	big[XENSTORE_PAYLOAD_MAX - 1] = '\0';
	xsb_watch(&b, big, "tok");
	errno = 0;
	assert_int_equal(xsb_run(&b, sv[0]), -1);
	assert_int_equal(errno, E2BIG);
	xsb_reset(&b);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_in_order),
		cmocka_unit_test(test_reply_out_of_order),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_conn_events),
		cmocka_unit_test(test_conn_wait_broken),
		cmocka_unit_test(test_conn_stream),
		cmocka_unit_test(test_conn_send_queues),
		cmocka_unit_test(test_batch_bigger_than_socket),
		cmocka_unit_test(test_watch_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
