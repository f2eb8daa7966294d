/*
 * qmpmon.h — a QMP monitor played by a unit test (test_qmp, test_qcall):
 * the QEMU end of a real unix socket, driven line by line. Include after
 * <cmocka.h>: the helpers assert.
 */
#ifndef XM_TEST_QMPMON_H
#define XM_TEST_QMPMON_H

#include <stddef.h>

struct qmp;

struct qmpmon {
	char dir[64]; /* the socket's temp dir (the socket is gone once open) */
	int fd;       /* QEMU's end of the connection */
};

/* A client (lib/qmp.c) connected to m through its whole handshake:
 * nothing yet, then the greeting, then the answer to qmp_capabilities. */
struct qmp *qmpmon_open(struct qmpmon *m);
/* One line from QEMU (line without its "\r\n"). */
void qmpmon_say(struct qmpmon *m, const char *line);
/* The next command the client sent: its id, its "execute" into cmd. */
long qmpmon_hear(struct qmpmon *m, char *cmd, size_t len);
/* The answer to command id: {body, "id": id}, body being e.g.
 * "\"return\": {}" or "\"error\": {...}". */
void qmpmon_answer(struct qmpmon *m, long id, const char *body);
/* QEMU's end closed and the temp dir removed. */
void qmpmon_close(struct qmpmon *m);

#endif
