/*
 * qmpmon.c — a QMP monitor played by a unit test (see qmpmon.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmpmon.h"
#include "qmp.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct qmp *qmpmon_open(struct qmpmon *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *err = NULL, cmd[64];
	snprintf(m->dir, sizeof(m->dir), "/tmp/xm-qmpmon.XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp.sock", m->dir);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	struct qmp *q = qmp_open(sa.sun_path, &err);
	assert_non_null(q);
	m->fd = accept(l, NULL, NULL);
	assert_true(m->fd >= 0);
	close(l);
	unlink(sa.sun_path);
	assert_int_equal(qmp_handshake(q, &err), 0); /* nothing said yet */
	qmpmon_say(m, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}");
	assert_int_equal(qmp_handshake(q, &err), 0); /* greeting read, caps sent */
	long id = qmpmon_hear(m, cmd, sizeof(cmd));
	assert_string_equal(cmd, "qmp_capabilities");
	qmpmon_answer(m, id, "\"return\": {}");
	assert_int_equal(qmp_handshake(q, &err), 1);
	assert_null(err);
	return q;
}

void qmpmon_say(struct qmpmon *m, const char *line)
{
	size_t n = strlen(line);
	assert_int_equal(write(m->fd, line, n), (ssize_t)n);
	assert_int_equal(write(m->fd, "\r\n", 2), 2);
}

long qmpmon_hear(struct qmpmon *m, char *cmd, size_t len)
{
	char line[4096];
	size_t n = 0;
	for (;;) {
		assert_true(n < sizeof(line) - 1);
		assert_int_equal(read(m->fd, line + n, 1), 1);
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	json_t *msg = json_loads(line, 0, NULL);
	assert_non_null(msg);
	snprintf(cmd, len, "%s", json_string_value(json_object_get(msg, "execute")));
	long id = (long)json_integer_value(json_object_get(msg, "id"));
	json_decref(msg);
	return id;
}

void qmpmon_answer(struct qmpmon *m, long id, const char *body)
{
	char line[512];
	snprintf(line, sizeof(line), "{%s, \"id\": %ld}", body, id);
	qmpmon_say(m, line);
}

void qmpmon_close(struct qmpmon *m)
{
	close(m->fd);
	rmdir(m->dir);
}
