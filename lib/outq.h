/*
 * outq.h — a framed output queue: XenStore messages (header and payload)
 * appended to one growable buffer, written out as the fd takes them.
 *
 * xmstored queues replies and events per connection, xmfront per client
 * and towards the host; a batch of requests (xsbatch) is the same buffer
 * written at once with write_full(outq_data(q), outq_size(q)).
 */
#ifndef XM_OUTQ_H
#define XM_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

struct xsd_sockmsg;

/* Zero-initialise before use. The bytes waiting are buf[off, len). */
struct outq {
	char *buf;
	size_t off, len, cap;
	bool not_sock;  /* the fd is no socket: write(2), not send(2) */
};

/* Append h and its h->len bytes of body. 0, or -1 (ENOMEM: q unchanged). */
int outq_put(struct outq *q, const struct xsd_sockmsg *h, const void *body);
/* Bytes waiting, and where they start (outq_size of them, whole messages
 * unless a flush wrote part of one). */
size_t outq_size(const struct outq *q);
const char *outq_data(const struct outq *q);
/* Forget what is waiting (the memory is kept). */
void outq_clear(struct outq *q);
/* Write what the non-blocking fd takes: 0 when all is written, 1 when the
 * fd is full, -1 on another error (errno). A socket peer gone is EPIPE,
 * not SIGPIPE. A drained queue of a burst's size gives its memory back. */
int outq_flush(struct outq *q, int fd);
/* Free the memory; q is empty and can be used again. */
void outq_free(struct outq *q);

#endif
