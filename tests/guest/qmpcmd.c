/*
 * qmpcmd — run one QMP command and print its "return" as JSON (tests).
 * usage: qmpcmd SOCKET COMMAND [ARGUMENTS-JSON]
 */
#include "qmp.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: qmpcmd SOCKET COMMAND [ARGUMENTS-JSON]\n");
		return 2;
	}
	char *err = NULL;
	struct qmp *q = qmp_connect(argv[1], 5000, &err);
	if (!q) {
		fprintf(stderr, "qmpcmd: %s\n", err);
		free(err);
		return 1;
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
