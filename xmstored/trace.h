/*
 * trace.h — xmstored's message trace (--trace-file), as cxenstored's: one
 * line per message in and out, with a microsecond timestamp, for following
 * a toolstack's and a guest's XenStore traffic side by side.
 */
#ifndef XMSTORED_TRACE_H
#define XMSTORED_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct conn;

/* dir: "IN" (a request read) or "OUT" (a reply or watch event queued). */
void trace_msg(FILE *f, const char *dir, const struct conn *c, uint32_t type, uint32_t req_id,
	       uint32_t tx_id, const char *body, size_t len);
/* A connection opened or closed ("NEW", "END"). */
void trace_conn(FILE *f, const char *what, const struct conn *c);

#endif
