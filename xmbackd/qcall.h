/*
 * qcall.h — a command to one guest's QEMU whose answer the event loop takes.
 *
 * What xmbackd once waited for, up to QMP_TIMEOUT, right after that QEMU
 * had answered something else — a repair of the reconcile, a NIC's
 * teardown, a media change — is sent and given what to do with its answer
 * (fn). The loop goes on with the other guests meanwhile: a QEMU that
 * answers its pings and the reconcile's questions but hangs on a
 * blockdev-del holds up nobody but its own guest.
 *
 * fn is called once for each call: with QEMU's answer, with no answer
 * (QMP_TIMEOUT passed, the monitor closed, the send failed: then before
 * qcall returns), or never when xmbackd stops (qcall_abort, tell false:
 * the record says what is left). While a guest has calls out, its
 * reconcile waits (guest_any_job): what is under way is not seen half
 * done.
 */
#ifndef XMBACKD_QCALL_H
#define XMBACKD_QCALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct backd;
struct guest;

/* The answer: err NULL and ret QEMU's return (borrowed) when it did it;
 * else err, QEMU's refusal (answered) or why none came (not answered:
 * what was sent may yet be done). arg: qcall's copy of its arg (NULL when
 * it had none, or when no memory was left for the copy: the call is then
 * not sent, and fn is told "out of memory" before qcall returns). */
typedef void qcall_fn(struct backd *b, struct guest *g, void *arg, json_t *ret, const char *err,
		      bool answered);

/* Send cmd (args stolen; fd >= 0 passed along, the caller keeps its own)
 * to g's QEMU; fn gets its answer with a copy of arg's len bytes (len 0:
 * arg NULL). fn may be NULL: the answer is logged when it is an error. */
void qcall(struct backd *b, struct guest *g, const char *cmd, json_t *args, int fd, qcall_fn *fn,
	   const void *arg, size_t len);
/* m is the answer to one of g's calls: taken (fn called). */
bool qcall_message(struct backd *b, struct guest *g, json_t *m);
/* The calls whose deadline passed, or whose QEMU is found not answering:
 * done without an answer. */
void qcall_expire(struct backd *b, struct guest *g, long now);
/* g's monitor closes: every call done without an answer (tell), or only
 * dropped (xmbackd stops). */
void qcall_abort(struct backd *b, struct guest *g, bool tell);
/* Has g calls out? */
bool qcall_any(const struct guest *g);

/* QEMU's refusal of something it does not have (a device, a node, a
 * netdev): gone already, which is what was wanted. */
bool qcall_not_found(const char *err);

#endif
