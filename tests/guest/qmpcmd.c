/*
 * qmpcmd — run one QMP command and print its "return" as JSON (tests); or
 * wait for one event and print it whole.
 * usage: qmpcmd SOCKET COMMAND [ARGUMENTS-JSON]
 *        qmpcmd SOCKET --event NAME [TIMEOUT-MS [COUNT]]
 *               (COUNT events, default 1, each within TIMEOUT-MS, default
 *               10000; exit 1 on a timeout)
 */
#include "qmp.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wait_event(struct qmp *q, const char *name, int timeout_ms, int count)
{
	for (int i = 0; i < count; i++) {
		json_t *ev = NULL;
		if (qmp_wait_event(q, name, NULL, &ev, timeout_ms) < 0) {
			fprintf(stderr, "qmpcmd: no %s within %d ms\n", name, timeout_ms);
			return 1;
		}
		char *s = json_dumps(ev, JSON_COMPACT);
		if (s)
			puts(s);
		fflush(stdout);
		free(s);
		json_decref(ev);
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool event = argc > 2 && strcmp(argv[2], "--event") == 0;
	if (argc < 3 || argc > (event ? 6 : 4)) {
		fprintf(stderr, "usage: qmpcmd SOCKET COMMAND [ARGUMENTS-JSON]\n"
			"       qmpcmd SOCKET --event NAME [TIMEOUT-MS [COUNT]]\n");
		return 2;
	}
	if (event && argc < 4) {
		fprintf(stderr, "qmpcmd: --event needs a NAME\n");
		return 2;
	}
	char *err = NULL;
	struct qmp *q = qmp_connect(argv[1], 5000, &err);
	if (!q) {
		fprintf(stderr, "qmpcmd: %s\n", err);
		free(err);
		return 1;
	}
	if (event) {
		/* ready: a caller may now do what makes QEMU send it */
		fprintf(stderr, "qmpcmd: waiting\n");
		int rc = wait_event(q, argv[3], argc > 4 ? atoi(argv[4]) : 10000,
				    argc > 5 ? atoi(argv[5]) : 1);
		qmp_close(q);
		return rc;
	}
	json_t *args = NULL, *ret = NULL;
	if (argc == 4 && !(args = json_loads(argv[3], 0, NULL))) {
		fprintf(stderr, "qmpcmd: bad JSON arguments\n");
		qmp_close(q);
		return 2;
	}
	int rc = qmp_exec(q, argv[2], args, &ret, &err, 10000);
	if (rc) {
		fprintf(stderr, "qmpcmd: %s\n", err);
	} else {
		char *s = json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s)
			puts(s);
		free(s);
	}
	json_decref(ret);
	free(err);
	qmp_close(q);
	return rc ? 1 : 0;
}
