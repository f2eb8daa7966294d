/*
 * claimidx.h — the claims by identity token, in xmbackd's memory, so the
 * sharing check reads the claims of the few devices that may be the same
 * as the one asked for, not every claim of every domain (claims.c).
 *
 * A hint, never the authority: the claims themselves stay in XenStore and
 * each candidate's claim is read there, in the taking transaction. An
 * entry whose claim has gone (a domain cleaned up by xm) is dropped when
 * it is next met. What must never happen is a claim missing here: xmbackd
 * is the only writer of claims, puts each one here as it commits it, and
 * builds the index again from the store whenever it may have missed one
 * (start, the store reconnected).
 */
#ifndef XMBACKD_CLAIMIDX_H
#define XMBACKD_CLAIMIDX_H

#include <stddef.h>

struct claimidx;

struct claimkey {
	unsigned int domid;
	unsigned long devid;
};

struct claimidx *claimidx_new(void);
void claimidx_free(struct claimidx *x);
/* Forget everything. */
void claimidx_clear(struct claimidx *x);
/* (domid, devid) claims ident (sharing.h's tokens; "" or NULL: nothing):
 * replaces what it claimed before. 0, or -1 (no memory: the index is
 * then cleared, the caller must build it again). */
int claimidx_put(struct claimidx *x, unsigned int domid, unsigned long devid, const char *ident);
/* (domid, devid) claims nothing any more; every device of domid. */
void claimidx_drop(struct claimidx *x, unsigned int domid, unsigned long devid);
void claimidx_drop_domain(struct claimidx *x, unsigned int domid);
/* The holders that share a token with ident, each once, into a malloc'd
 * array (*out; NULL when none); how many, or -1 (no memory). */
long claimidx_holders(const struct claimidx *x, const char *ident, struct claimkey **out);
/* How many (domid, devid) claim something. */
size_t claimidx_count(const struct claimidx *x);

#endif
