/*
 * test_qcall.c — commands to a guest's QEMU answered through xmbackd's
 * event loop (xmbackd/qcall.c), against a monitor played here: each
 * answer reaches its own call's fn by id, whatever the order; a call
 * unanswered past its deadline, or on a QEMU found stuck, ends without an
 * answer (a late answer is then nobody's); a monitor that closes ends them
 * all, or only drops them when xmbackd stops; a call that cannot be sent
 * ends before qcall returns; fn may send the next call; and the devices
 * that waited for the guest's calls are looked at once the last ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp.h"
#include "qmpmon.h"
#include "util.h"
#include "../../xmbackd/backd.h"
#include "../../xmbackd/qcall.h"
#include "../../xmbackd/vbd-int.h"

/* vbd.c's, here only counted: the deferred devices looked at */
static int scans;
void vbd_scan_domain(struct backd *b, unsigned int domid)
{
	(void)b;
	(void)domid;
	scans++;
}

struct fixture {
	struct qmpmon mon;      /* the monitor's side played here */
	struct backd b;
	struct guest g;
};

/* What the client has read, each message to qcall_message: how many it took. */
static int deliver(struct fixture *f)
{
	int taken = 0;
	assert_int_equal(qmp_read(f->g.q), 0);
	json_t *m;
	while ((m = qmp_next(f->g.q))) {
		taken += qcall_message(&f->b, &f->g, m);
		json_decref(m);
	}
	return taken;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->g.q = qmpmon_open(&f->mon);
	f->g.domid = 7;
	f->g.ready = true;
	scans = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	qcall_abort(&f->b, &f->g, false);
	if (f->g.q)
		qmp_close(f->g.q);
	qmpmon_close(&f->mon);
	free(f);
	return 0;
}

/* What fn was given, call by call. */
struct seen {
	int calls;
	int tag[8];
	char err[8][128];
	bool answered[8];
	char status[8][32];
};
static struct seen seen;

static void note(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		 bool answered)
{
	(void)b;
	(void)g;
	int k = seen.calls++;
	assert_true(k < 8);
	seen.tag[k] = arg ? *(int *)arg : -1;
	snprintf(seen.err[k], sizeof(seen.err[k]), "%s", err ? err : "");
	seen.answered[k] = answered;
	const char *st = json_string_value(json_object_get(ret, "status"));
	snprintf(seen.status[k], sizeof(seen.status[k]), "%s", st ? st : "");
}

static void call(struct fixture *f, const char *cmd, int tag)
{
	qcall(&f->b, &f->g, cmd, NULL, -1, note, &tag, sizeof(tag));
}

static void test_answers_by_id(void **state)
{
	struct fixture *f = *state;
	char cmd[64];
	memset(&seen, 0, sizeof(seen));
	call(f, "query-status", 1);
	call(f, "device_del", 2);
	long id1 = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	assert_string_equal(cmd, "query-status");
	long id2 = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	assert_string_equal(cmd, "device_del");
	assert_true(qcall_any(&f->g));
	/* the second first: each answer to its own call */
	qmpmon_answer(&f->mon, id2, "\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'xmdev-1' not found\"}");
	qmpmon_answer(&f->mon, id1, "\"return\": {\"status\": \"running\"}");
	assert_int_equal(deliver(f), 2);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.tag[0], 2);
	assert_true(seen.answered[0]);
	assert_true(qcall_not_found(seen.err[0]));
	assert_int_equal(seen.tag[1], 1);
	assert_string_equal(seen.err[1], "");
	assert_string_equal(seen.status[1], "running");
	assert_false(qcall_any(&f->g));
	/* an answer to nobody's id, and an event, are not taken */
	qmpmon_answer(&f->mon, id1, "\"return\": {}");
	qmpmon_say(&f->mon, "{\"event\": \"STOP\", \"timestamp\": {}}");
	assert_int_equal(deliver(f), 0);
}

static void test_deadline(void **state)
{
	struct fixture *f = *state;
	char cmd[64];
	memset(&seen, 0, sizeof(seen));
	call(f, "blockdev-del", 3);
	long id = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	qcall_expire(&f->b, &f->g, now_ms());
	assert_int_equal(seen.calls, 0); /* not yet */
	qcall_expire(&f->b, &f->g, now_ms() + QMP_TIMEOUT + 1);
	assert_int_equal(seen.calls, 1);
	assert_false(seen.answered[0]);
	assert_string_equal(seen.err[0], "QEMU did not answer");
	/* the answer that comes late is nobody's */
	qmpmon_answer(&f->mon, id, "\"return\": {}");
	assert_int_equal(deliver(f), 0);
	assert_int_equal(seen.calls, 1);
}

static void test_stuck_and_abort(void **state)
{
	struct fixture *f = *state;
	char cmd[64];
	memset(&seen, 0, sizeof(seen));
	call(f, "eject", 4);
	call(f, "netdev_del", 5);
	f->g.stuck = true;
	qcall_expire(&f->b, &f->g, now_ms());
	f->g.stuck = false;
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.tag[0], 4); /* oldest first */
	assert_string_equal(seen.err[1], "QEMU does not answer");
	call(f, "closefd", 6);
	qcall_abort(&f->b, &f->g, true);
	assert_int_equal(seen.calls, 3);
	assert_false(seen.answered[2]);
	call(f, "remove-fd", 7);
	qcall_abort(&f->b, &f->g, false); /* xmbackd stops: nothing told */
	assert_int_equal(seen.calls, 3);
	assert_false(qcall_any(&f->g));
	for (int k = 0; k < 4; k++)
		qmpmon_hear(&f->mon, cmd, sizeof(cmd)); /* (all four were sent) */
}

static void test_unsent(void **state)
{
	struct fixture *f = *state;
	memset(&seen, 0, sizeof(seen));
	struct qmp *q = f->g.q;
	f->g.q = NULL; /* its monitor being opened again */
	call(f, "device_del", 8);
	assert_int_equal(seen.calls, 1); /* before qcall returned */
	assert_false(seen.answered[0]);
	assert_false(qcall_any(&f->g));
	f->g.q = q;
	/* fn without arg memory is still told; no fn: only logged */
	qcall(&f->b, &f->g, "device_del", NULL, -1, NULL, NULL, 0);
	assert_true(qcall_any(&f->g));
}

/* fn sends the next step, as a NIC's teardown does */
static void chain(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		  bool answered)
{
	note(b, g, arg, ret, err, answered);
	if (!err) {
		int next = *(int *)arg + 1;
		qcall(b, g, "netdev_del", NULL, -1, note, &next, sizeof(next));
	}
}

static void test_chain_and_deferred(void **state)
{
	struct fixture *f = *state;
	char cmd[64];
	int tag = 10;
	memset(&seen, 0, sizeof(seen));
	f->g.deferred = true; /* a device waited for the guest's calls */
	qcall(&f->b, &f->g, "device_del", NULL, -1, chain, &tag, sizeof(tag));
	long id = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	qmpmon_answer(&f->mon, id, "\"return\": {}");
	assert_int_equal(deliver(f), 1);
	assert_int_equal(scans, 0); /* the next step is out: not yet */
	id = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	assert_string_equal(cmd, "netdev_del");
	f->b.batch_depth = 1; /* ends in a batch: left for its end */
	qmpmon_answer(&f->mon, id, "\"return\": {}");
	assert_int_equal(deliver(f), 1);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.tag[1], 11);
	assert_int_equal(scans, 0);
	assert_true(f->b.rescan_due);
	f->b.batch_depth = 0;
	/* and out of a batch: at once, once */
	call(f, "blockdev-del", 12);
	id = qmpmon_hear(&f->mon, cmd, sizeof(cmd));
	qmpmon_answer(&f->mon, id, "\"return\": {}");
	assert_int_equal(deliver(f), 1);
	assert_int_equal(scans, 1);
	assert_false(f->g.deferred);
	/* a monitor that closes looks at nothing new */
	f->g.deferred = true;
	call(f, "blockdev-del", 13);
	qcall_abort(&f->b, &f->g, true);
	assert_int_equal(scans, 1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answers_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_and_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_and_deferred, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
