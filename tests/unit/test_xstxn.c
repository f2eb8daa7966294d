/*
 * test_xstxn.c — xsc_transaction (lib/xsbatch.c), the one transaction
 * helper of xm and xmbackd, against a scripted store on a socketpair: a
 * commit with its end in the same batch, a veto by the fill or by the
 * check (ended without effect), a failure, conflicts retried (EAGAIN) and
 * given up after XSC_TXN_TRIES, a store gone; xsc_transaction_pre (reads
 * with the start, their replies in the fill, the end with the requests, a
 * look after the commit); and the single requests around it (xsc_read,
 * xsc_directory, xsc_watch's EEXIST).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "wire.h"
#include "xsbatch.h"

/* The store: answers until the connection closes. Its first `conflicts`
 * commits fail with EAGAIN. Exit status: commits * 16 + aborts (ends with
 * "F"), or 255 on a request it does not expect. */
static pid_t store(int fd, int other, int conflicts)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	close(other); /* the client's end: EOF when the client closes it */
	int commits = 0, aborts = 0;
	unsigned int tx = 0;
	struct xsd_sockmsg h;
	char *body;
	while (wire_recv(fd, &h, &body) == 0) {
		char reply[32] = "OK";
		uint32_t type = h.type;
		if (h.type == XS_TRANSACTION_START) {
			snprintf(reply, sizeof(reply), "%u", ++tx);
		} else if (h.type == XS_TRANSACTION_END && strcmp(body, "T") == 0 && conflicts > 0) {
			conflicts--;
			type = XS_ERROR;
			snprintf(reply, sizeof(reply), "EAGAIN");
		} else if (h.type == XS_TRANSACTION_END) {
			if (strcmp(body, "T") == 0)
				commits++;
			else
				aborts++;
		} else if (h.type == XS_READ || h.type == XS_DIRECTORY) {
			if (strcmp(body, "/there") == 0) {
				snprintf(reply, sizeof(reply), "v");
			} else if (strcmp(body, "/dir") == 0) {
				if (wire_send(fd, type, h.req_id, h.tx_id, "a\0bc\0", 5) < 0)
					_exit(254);
				free(body);
				continue;
			} else {
				type = XS_ERROR;
				snprintf(reply, sizeof(reply), "ENOENT");
			}
		} else if (h.type == XS_WATCH) {
			type = XS_ERROR;
			snprintf(reply, sizeof(reply), "EEXIST");
		} else if (h.type != XS_WRITE) {
			_exit(255);
		}
		free(body);
		size_t len = strlen(reply) + (type == XS_READ ? 0 : 1);
		if (wire_send(fd, type, h.req_id, h.tx_id, reply, len) < 0)
			_exit(254);
	}
	_exit(commits * 16 + aborts);
}

struct conn {
	int sv[2];
	pid_t pid;
	struct xsc c;
};

static void conn_open(struct conn *k, int conflicts)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, k->sv), 0);
	k->pid = store(k->sv[1], k->sv[0], conflicts);
	close(k->sv[1]);
	assert_int_equal(xsc_init(&k->c, k->sv[0], NULL, 0), 0);
}

/* Close and return the store's status. */
static int conn_close(struct conn *k)
{
	int st = 0;
	xsc_close(&k->c);
	assert_int_equal(waitpid(k->pid, &st, 0), k->pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int fill_write(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	(void)c;
	int *calls = arg;
	(*calls)++;
	xsb_write(b, tx, "/a", "1");
	return 0;
}

static int fill_veto(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	(void)c;
	(void)arg;
	xsb_write(b, tx, "/a", "1");
	return 3;
}

static int fill_fail(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	(void)c;
	(void)b;
	(void)tx;
	(void)arg;
	errno = EIO;
	return -1;
}

/* Reads in tx first, as a fill that must decide does. */
static int fill_read(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	char *v = xsc_read(c, tx, "/there");
	int ok = v && strcmp(v, "v") == 0;
	free(v);
	*(int *)arg = ok;
	xsb_read(b, tx, "/missing");
	xsb_write(b, tx, "/a", "1");
	return 0;
}

static int check_gone(const struct xsb *b, void *arg)
{
	(void)arg;
	return xsb_errno(b, 0) == ENOENT ? 1 : 0;
}

static void test_commit(void **state)
{
	(void)state;
	struct conn k;
	int calls = 0;
	conn_open(&k, 0);
	assert_int_equal(xsc_transaction(&k.c, fill_write, NULL, &calls), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(conn_close(&k), 1 * 16 + 0);
}

static void test_fill_veto(void **state)
{
	(void)state;
	struct conn k;
	conn_open(&k, 0);
	assert_int_equal(xsc_transaction(&k.c, fill_veto, NULL, NULL), 3);
	assert_int_equal(conn_close(&k), 0 * 16 + 1);
}

static void test_fill_fails(void **state)
{
	(void)state;
	struct conn k;
	conn_open(&k, 0);
	errno = 0;
	assert_int_equal(xsc_transaction(&k.c, fill_fail, NULL, NULL), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(conn_close(&k), 0 * 16 + 1);
}

static void test_check_veto(void **state)
{
	(void)state;
	struct conn k;
	int saw = 0;
	conn_open(&k, 0);
	assert_int_equal(xsc_transaction(&k.c, fill_read, check_gone, &saw), 1);
	assert_int_equal(saw, 1);
	assert_int_equal(conn_close(&k), 0 * 16 + 1);
}

static void test_all_ok(void **state)
{
	(void)state;
	struct conn k;
	int saw = 0;
	conn_open(&k, 0);
	errno = 0;
	assert_int_equal(xsc_transaction(&k.c, fill_read, xsb_all_ok, &saw), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(conn_close(&k), 0 * 16 + 1);
}

static void test_conflicts_retried(void **state)
{
	(void)state;
	struct conn k;
	int calls = 0;
	conn_open(&k, 2);
	assert_int_equal(xsc_transaction(&k.c, fill_write, NULL, &calls), 0);
	assert_int_equal(calls, 3);
	assert_int_equal(conn_close(&k), 1 * 16 + 0);
}

static void test_conflicts_give_up(void **state)
{
	(void)state;
	struct conn k;
	int calls = 0;
	conn_open(&k, XSC_TXN_TRIES + 5);
	errno = 0;
	assert_int_equal(xsc_transaction(&k.c, fill_write, NULL, &calls), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(calls, XSC_TXN_TRIES);
	assert_int_equal(conn_close(&k), 0);
}

static void test_store_gone(void **state)
{
	(void)state;
	struct conn k;
	int calls = 0;
	conn_open(&k, 0);
	shutdown(k.sv[0], SHUT_WR); /* the store sees EOF and exits */
	assert_int_equal(xsc_transaction(&k.c, fill_write, NULL, &calls), -1);
	assert_int_equal(calls, 0);
	assert_int_equal(conn_close(&k), 0);
}

/* A never connected xsc (its reader not set up) closes nothing; the
 * deadline wait ends with ETIMEDOUT once past, without reading. */
/* xsc_transaction_pre: reads with the start, seen by the fill. */
struct pre_arg {
	struct xsb p;
	int pres, fills, veto;
	unsigned int n;   /* requests in p when the fill ran */
	bool there, missing;
};

static void pre_reads(struct xsb *p, void *arg)
{
	struct pre_arg *a = arg;
	a->pres++;
	xsb_read(p, 0, "/there");
	xsb_read(p, 0, "/missing");
}

static int fill_after_pre(struct xsc *c, struct xsb *b, uint32_t tx, void *arg)
{
	struct pre_arg *a = arg;
	(void)c;
	a->fills++;
	a->n = a->p.n;
	a->there = a->p.r[0].type == XS_READ && strcmp(a->p.r[0].body, "v") == 0;
	a->missing = xsb_errno(&a->p, 1) == ENOENT;
	if (a->veto)
		return a->veto;
	xsb_write(b, tx, "/a", "1");
	xsb_read(b, tx, "/missing");
	return 0;
}

static int after_missing(const struct xsb *b, void *arg)
{
	(void)arg;
	return xsb_errno(b, 1) == ENOENT ? 5 : 0;
}

static void test_pre_commit(void **state)
{
	(void)state;
	struct conn k;
	struct pre_arg a = { .veto = 0 };
	xsb_init(&a.p);
	conn_open(&k, 0);
	assert_int_equal(xsc_transaction_pre(&k.c, &a.p, pre_reads, fill_after_pre, NULL, &a), 0);
	assert_int_equal(a.pres, 1);
	assert_int_equal(a.fills, 1);
	assert_int_equal(a.n, 3); /* the two reads and the start */
	assert_true(a.there);
	assert_true(a.missing);
	xsb_reset(&a.p);
	assert_int_equal(conn_close(&k), 1 * 16 + 0);
}

static void test_pre_after(void **state)
{
	(void)state;
	struct conn k;
	struct pre_arg a = { .veto = 0 };
	xsb_init(&a.p);
	conn_open(&k, 0);
	/* the read in the transaction failed: committed all the same, and
	 * after says so */
	assert_int_equal(xsc_transaction_pre(&k.c, &a.p, pre_reads, fill_after_pre, after_missing,
					     &a), 5);
	xsb_reset(&a.p);
	assert_int_equal(conn_close(&k), 1 * 16 + 0);
}

static void test_pre_veto(void **state)
{
	(void)state;
	struct conn k;
	struct pre_arg a = { .veto = 4 };
	xsb_init(&a.p);
	conn_open(&k, 0);
	assert_int_equal(xsc_transaction_pre(&k.c, &a.p, pre_reads, fill_after_pre, NULL, &a), 4);
	assert_true(a.there);
	xsb_reset(&a.p);
	assert_int_equal(conn_close(&k), 0 * 16 + 1);
}

static void test_pre_conflicts(void **state)
{
	(void)state;
	struct conn k;
	struct pre_arg a = { .veto = 0 };
	xsb_init(&a.p);
	conn_open(&k, 2);
	assert_int_equal(xsc_transaction_pre(&k.c, &a.p, pre_reads, fill_after_pre, NULL, &a), 0);
	assert_int_equal(a.pres, 3); /* read again with each start */
	assert_int_equal(a.fills, 3);
	assert_int_equal(a.n, 3);
	xsb_reset(&a.p);
	assert_int_equal(conn_close(&k), 1 * 16 + 0);
}

static void test_zeroed_and_deadline(void **state)
{
	(void)state;
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	struct xsc z = { .fd = fd }; /* in NULL: never connected */
	assert_false(xsc_connected(&z));
	xsc_close(&z);
	assert_true(fcntl(fd, F_GETFD) >= 0); /* not ours to close */
	close(fd);
	struct conn k;
	conn_open(&k, 0);
	assert_true(xsc_connected(&k.c));
	errno = 0;
	assert_int_equal(xsc_wait_until(&k.c, now_ms() - 1), -1);
	assert_int_equal(errno, ETIMEDOUT);
	long t0 = now_ms();
	assert_int_equal(xsc_wait_until(&k.c, t0 + 50), 0); /* nothing fired */
	assert_true(now_ms() - t0 >= 40);
	assert_int_equal(conn_close(&k), 0);
}

static void test_single_requests(void **state)
{
	(void)state;
	struct conn k;
	unsigned int n = 9;
	conn_open(&k, 0);
	char *v = xsc_read(&k.c, 0, "/there");
	assert_non_null(v);
	assert_string_equal(v, "v");
	free(v);
	errno = 0;
	assert_null(xsc_read(&k.c, 0, "/missing"));
	assert_int_equal(errno, ENOENT);
	char *d = xsc_directory(&k.c, 0, "/dir", &n);
	assert_non_null(d);
	assert_int_equal(n, 2);
	assert_string_equal(d, "a");
	assert_string_equal(d + 2, "bc");
	free(d);
	assert_null(xsc_directory(&k.c, 0, "/nodir", &n));
	assert_int_equal(n, 0);
	assert_int_equal(xsc_watch(&k.c, "/w", "tok"), 0); /* EEXIST: set already */
	assert_int_equal(conn_close(&k), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit),
		cmocka_unit_test(test_fill_veto),
		cmocka_unit_test(test_fill_fails),
		cmocka_unit_test(test_check_veto),
		cmocka_unit_test(test_all_ok),
		cmocka_unit_test(test_conflicts_retried),
		cmocka_unit_test(test_conflicts_give_up),
		cmocka_unit_test(test_store_gone),
		cmocka_unit_test(test_pre_commit),
		cmocka_unit_test(test_pre_after),
		cmocka_unit_test(test_pre_veto),
		cmocka_unit_test(test_pre_conflicts),
		cmocka_unit_test(test_single_requests),
		cmocka_unit_test(test_zeroed_and_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
