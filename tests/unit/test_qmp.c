/*
 * test_qmp.c — lib/qmp over a real unix socket, the test playing QEMU's
 * side: the handshake of a non-blocking connection (qmp_open,
 * qmp_handshake), and what a blocking call does with the messages that are
 * not its reply: events are kept, a reply the event loop asked to keep
 * (qmp_keep: xmbackd's ping, an attach's commands) is kept for it, any
 * other reply is dropped; a line that never ends is refused past 4 MiB.
 * qmp_pending tells a caller that was busy elsewhere that QEMU did speak.
 * qmp_changes counts the commands that are not questions. The list of
 * replies kept is bounded (the oldest goes), and a kept id that finds no
 * memory is not kept (realloc made to fail: this program is linked with
 * -Wl,--wrap=realloc, tests/unit/module.mk).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp.h"
#include "qmpmon.h"

/* lib/qmp.c's realloc, failing while fail_realloc is set. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static bool fail_realloc;

void *__wrap_realloc(void *p, size_t n)
{
	return fail_realloc ? NULL : __real_realloc(p, n);
}

struct fake {
	struct qmpmon mon;
	struct qmp *q;
};

static void reply(struct fake *f, long id, const char *ret)
{
	char body[256];
	snprintf(body, sizeof(body), "\"return\": %s", ret);
	qmpmon_answer(&f->mon, id, body);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->q = qmpmon_open(&f->mon);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	qmp_close(f->q);
	qmpmon_close(&f->mon);
	free(f);
	return 0;
}

/* The ping's reply, read by a blocking call, is kept for the event loop;
 * a stale reply is dropped; an event is kept, in order. */
static void test_kept_reply(void **state)
{
	struct fake *f = *state;
	char cmd[64];
	json_t *ret = NULL, *m;

	long ping = qmp_send(f->q, "query-chardev", NULL);
	assert_true(ping > 0);
	qmp_keep(f->q, ping);
	assert_int_equal(qmpmon_hear(&f->mon, cmd, sizeof(cmd)), ping);
	assert_false(qmp_pending(f->q));

	reply(f, 999, "{\"stale\": true}"); /* a timed-out call's late reply */
	reply(f, ping, "[{\"label\": \"xenbus\"}]");
	qmpmon_say(&f->mon, "{\"event\": \"RESUME\", \"timestamp\": {}}");
	/* the blocking call's own reply comes after the others; its id is the
	 * next one, sent by qmp_exec */
	reply(f, ping + 1, "{\"status\": \"running\"}");
	assert_int_equal(qmp_exec(f->q, "query-status", NULL, &ret, NULL, 2000), 0);
	assert_int_equal(qmpmon_hear(&f->mon, cmd, sizeof(cmd)), ping + 1);
	assert_string_equal(cmd, "query-status");
	assert_string_equal(json_string_value(json_object_get(ret, "status")), "running");
	json_decref(ret);

	assert_true(qmp_pending(f->q)); /* the kept messages */
	m = qmp_pop_event(f->q);
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), ping);
	assert_true(json_is_array(json_object_get(m, "return")));
	json_decref(m);
	m = qmp_pop_event(f->q);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "event")), "RESUME");
	json_decref(m);
	assert_null(qmp_pop_event(f->q)); /* the stale reply was dropped */
	assert_false(qmp_pending(f->q));
}

/* Kept once: a second reply with the same id is not kept again. */
static void test_kept_once(void **state)
{
	struct fake *f = *state;
	char cmd[64];

	long ping = qmp_send(f->q, "query-chardev", NULL);
	qmp_keep(f->q, ping);
	qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	reply(f, ping, "[]");
	reply(f, ping, "[]");
	reply(f, ping + 1, "{}");
	assert_int_equal(qmp_exec(f->q, "query-status", NULL, NULL, NULL, 2000), 0);
	qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	json_t *m = qmp_pop_event(f->q);
	assert_non_null(m);
	json_decref(m);
	assert_null(qmp_pop_event(f->q));
}

/* Several replies kept at once (an attach's blockdev-add and device_add
 * with a ping), whatever blocking call reads them. */
static void test_kept_several(void **state)
{
	struct fake *f = *state;
	char cmd[64];
	long ids[3];

	for (int i = 0; i < 3; i++) {
		ids[i] = qmp_send(f->q, "query-chardev", NULL);
		qmp_keep(f->q, ids[i]);
		qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	}
	for (int i = 0; i < 3; i++)
		reply(f, ids[i], "{}");
	reply(f, ids[2] + 1, "{}");
	assert_int_equal(qmp_exec(f->q, "query-status", NULL, NULL, NULL, 2000), 0);
	qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	for (int i = 0; i < 3; i++) {
		json_t *m = qmp_pop_event(f->q);
		assert_non_null(m);
		assert_int_equal(json_integer_value(json_object_get(m, "id")), ids[i]);
		json_decref(m);
	}
	assert_null(qmp_pop_event(f->q));
}

/* Bytes on the socket not read yet: pending, and heard once read. */
static void test_pending_socket(void **state)
{
	struct fake *f = *state;
	long before = qmp_heard(f->q);

	assert_false(qmp_pending(f->q));
	qmpmon_say(&f->mon, "{\"event\": \"STOP\", \"timestamp\": {}}");
	assert_true(qmp_pending(f->q));
	usleep(2000);
	assert_int_equal(qmp_read(f->q), 0);
	assert_true(qmp_heard(f->q) > before);
	json_t *m = qmp_next(f->q);
	assert_non_null(m);
	json_decref(m);
	assert_false(qmp_pending(f->q));
}

/* A peer whose line never ends is not held without bound: past 4 MiB
 * unparsed, qmp_read fails with EMSGSIZE (xmbackd then opens the monitor
 * again). */
static void test_endless_line(void **state)
{
	struct fake *f = *state;
	static char chunk[65536];
	int rc = 0;

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100 && rc == 0; i++) { /* up to 6.4 MiB, read as it comes */
		struct pollfd p = { .fd = qmp_fd(f->q), .events = POLLIN };
		assert_int_equal(write(f->mon.fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
		while (rc == 0 && poll(&p, 1, 0) > 0)
			rc = qmp_read(f->q);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EMSGSIZE);
}

/* A QEMU that never answers: the blocking call times out, and the late
 * reply, not kept, is dropped by the next call. */
static void test_timeout_then_late(void **state)
{
	struct fake *f = *state;
	char cmd[64], *err = NULL;

	assert_int_equal(qmp_exec(f->q, "query-status", NULL, NULL, &err, 50), -1);
	assert_non_null(err);
	assert_true(qmp_io_error(err));
	free(err);
	long id = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	reply(f, id, "{\"late\": true}");
	reply(f, id + 1, "{\"status\": \"running\"}");
	json_t *ret = NULL;
	assert_int_equal(qmp_exec(f->q, "query-status", NULL, &ret, NULL, 2000), 0);
	qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	assert_non_null(json_object_get(ret, "status"));
	json_decref(ret);
	assert_null(qmp_pop_event(f->q));
}

/* Questions (query-*, qom-list, qom-get) leave qmp_changes as it is; any
 * other command counts (a view of QEMU read meanwhile may be out of date). */
static void test_changes(void **state)
{
	struct fake *f = *state;
	char cmd[64];
	unsigned long c0 = qmp_changes(f->q);

	qmp_send(f->q, "query-block", NULL);
	qmp_send(f->q, "qom-list", NULL);
	qmp_send(f->q, "qom-get", NULL);
	for (int i = 0; i < 3; i++)
		qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	assert_int_equal(qmp_changes(f->q), c0);
	qmp_send(f->q, "device_add", NULL);
	qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	assert_int_equal(qmp_changes(f->q), c0 + 1);
	qmp_send_fd(f->q, "add-fd", NULL, 0);
	char buf[256];
	assert_true(read(f->mon.fd, buf, sizeof(buf)) > 0);
	assert_int_equal(qmp_changes(f->q), c0 + 2);
}

/* One reply of QEMU (id, "{}") read by a blocking call that comes next:
 * was it kept for the event loop? */
static bool kept_after(struct fake *f, long id)
{
	char cmd[64];
	long next = qmp_send(f->q, "query-version", NULL);
	assert_true(next > 0);
	qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	reply(f, id, "{}");
	reply(f, next, "{}");
	assert_int_equal(qmp_wait_reply(f->q, next, NULL, NULL, 2000), 0);
	json_t *m = qmp_pop_event(f->q);
	bool kept = m && json_integer_value(json_object_get(m, "id")) == id;
	json_decref(m);
	assert_null(qmp_pop_event(f->q));
	return kept;
}

/* More ids kept than the list holds (1,024, all unanswered): the oldest
 * goes, the newer ones stay. */
static void test_keep_bounded(void **state)
{
	struct fake *f = *state;
	for (long id = 100001; id <= 100001 + 1024; id++)
		qmp_keep(f->q, id);
	assert_false(kept_after(f, 100001));
	assert_true(kept_after(f, 100002));
	assert_true(kept_after(f, 100001 + 1024));
}

/* No memory for the first id kept: not kept, and nothing else happens
 * (it used to move (0 - 1) entries). */
static void test_keep_no_memory(void **state)
{
	struct fake *f = *state;
	fail_realloc = true;
	qmp_keep(f->q, 4242);
	fail_realloc = false;
	assert_false(kept_after(f, 4242));
	qmp_keep(f->q, 4243); /* memory again: kept */
	assert_true(kept_after(f, 4243));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_several, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_then_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_no_memory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
