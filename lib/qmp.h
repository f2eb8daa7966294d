/*
 * qmp.h — a QEMU Machine Protocol client (JSON via jansson).
 *
 * Blocking use (xm): qmp_connect(), qmp_exec(), qmp_wait_event().
 * Event-loop use (xmbackd): qmp_send(), then on readable qmp_read() and
 * qmp_next() until NULL. Replies carry the "id" given by qmp_send.
 *
 * A QMP socket serves one client at a time and sends events only to it.
 */
#ifndef XM_QMP_H
#define XM_QMP_H

#include <jansson.h>
#include <stdbool.h>

struct qmp;

/* Connect to a QMP unix socket, read the greeting, negotiate capabilities.
 * On failure NULL, with a message in *err (malloc'd). */
struct qmp *qmp_connect(const char *path, int timeout_ms, char **err);
/* The same in steps, for an event loop that must not wait on one QEMU: open
 * the connection (never waits; NULL with *err when it cannot), then call
 * qmp_handshake each time qmp_fd is readable: it reads the greeting, sends
 * qmp_capabilities and takes its reply. 1 once ready (commands may be
 * sent), 0 not yet, -1 failed (*err). The socket never blocks: a send to a
 * QEMU that reads nothing fails instead of waiting. */
struct qmp *qmp_open(const char *path, char **err);
int qmp_handshake(struct qmp *q, char **err);
void qmp_close(struct qmp *q);
int qmp_fd(const struct qmp *q);
/* now_ms() when QEMU last sent anything (a reply, an event, the greeting)
 * on this connection, whoever read it; 0 if never. */
long qmp_heard(const struct qmp *q);
/* Has QEMU sent something not taken yet: kept messages, bytes read but not
 * parsed, or the socket readable now? (A caller that was busy elsewhere
 * checks before it calls QEMU silent.) */
bool qmp_pending(const struct qmp *q);

/* Send a command; args is stolen (may be NULL). Returns the id, or -1. */
long qmp_send(struct qmp *q, const char *cmd, json_t *args);
/* The same with a file descriptor passed along (SCM_RIGHTS) for a command
 * that takes one (add-fd, getfd); fd < 0: none. QEMU gets its own copy:
 * the caller still owns fd. */
long qmp_send_fd(struct qmp *q, const char *cmd, json_t *args, int fd);
/* How many commands that are not questions (query-*, qom-list, qom-get)
 * have been sent on q: a view of QEMU read meanwhile may be out of date. */
unsigned long qmp_changes(const struct qmp *q);
/* Read what is available on the socket. 0, or -1 on EOF/error (EMSGSIZE:
 * 4 MiB without an end of line, which no QMP message is). */
int qmp_read(struct qmp *q);
/* Next complete message already read, or NULL. Caller owns it. */
json_t *qmp_next(struct qmp *q);

/* Run a command and wait for its reply. 0 with *ret (may be NULL: not
 * wanted) or -1 with *err = QEMU's error description (or an I/O reason).
 * Events that arrive meanwhile are kept for qmp_pop_event/qmp_wait_event. */
int qmp_exec(struct qmp *q, const char *cmd, json_t *args, json_t **ret,
	     char **err, int timeout_ms);
/* Wait for the reply to the command qmp_send gave id (-1: the send failed),
 * as qmp_exec does. QEMU answers a monitor's commands in order, so several
 * can be sent before the first reply is waited for. */
int qmp_wait_reply(struct qmp *q, long id, json_t **ret, char **err, int timeout_ms);
/* The reply to the command qmp_send gave id is for the event loop: a
 * blocking call that reads it keeps it for qmp_pop_event instead of dropping
 * it (the last 32 ids asked so; ids are never reused). */
void qmp_keep(struct qmp *q, long id);
/* Oldest kept event (or kept reply, qmp_keep), or NULL. */
json_t *qmp_pop_event(struct qmp *q);
/* How many messages are kept for qmp_pop_event over every connection of the
 * process: none, and no connection has one (an event loop over many
 * monitors looks at none of them). */
size_t qmp_kept_count(void);
/* Wait for event `name` (with data.device == device when device != NULL).
 * 0 with *ev (optional) or -1 on timeout/EOF. Other events stay kept. */
int qmp_wait_event(struct qmp *q, const char *name, const char *device,
		   json_t **ev, int timeout_ms);

/* Is err (from qmp_exec, qmp_wait_reply) one of no answer (a timeout, a
 * broken connection), not QEMU's refusal? Then QEMU may still have done,
 * or do, what was asked. */
bool qmp_io_error(const char *err);

/* Is msg an event called name (and for device, when given)? */
int qmp_is_event(json_t *msg, const char *name, const char *device);

#endif
