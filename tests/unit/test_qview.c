/*
 * test_qview.c — xmbackd's view of a QEMU (xmbackd/qview.c) when its
 * questions could not be sent: the view fails at once, and an answer
 * whose id is not positive is none of its own (a command not sent keeps
 * -1 as its id, and a broken monitor answering with id -1 must not fill
 * that slot and miscount the answers still awaited: a79c2dd).
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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp.h"
#include "../../xmbackd/qview.h"

/* A QMP connection whose other end has gone: every send fails. */
static struct qmp *dead_monitor(char *dir, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *err = NULL;
	snprintf(dir, len, "/tmp/test_qview.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp.sock", dir);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	struct qmp *q = qmp_open(sa.sun_path, &err);
	assert_non_null(q);
	int c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	close(c);
	close(l);
	unlink(sa.sun_path);
	return q;
}

static void test_unsent_ids(void **state)
{
	char dir[64];
	(void)state;
	struct qmp *q = dead_monitor(dir, sizeof(dir));
	struct qview_job *j = qview_start(q);
	assert_non_null(j);
	assert_int_equal(qview_state(j), -1); /* not sent: nothing to wait for */
	for (long id = -1; id <= 0; id++) {
		json_t *m = json_pack("{s:[], s:I}", "return", "id", (json_int_t)id);
		assert_false(qview_feed(j, q, m));
		json_decref(m);
	}
	struct qview v;
	assert_int_equal(qview_take(j, &v), -1);
	qview_job_free(j);
	qmp_close(q);
	rmdir(dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsent_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
