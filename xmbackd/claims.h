/*
 * claims.h — the claim registry: who holds which device, in which mode.
 * The sharing decision sits behind it and nowhere else, so that a
 * registry for several hosts (a transaction in etcd under the host's
 * lease) can take the place of this one without a change to the block
 * path.
 *
 * A claim is (domid, devid) holding a device identity (sharing.h: "b7:0
 * f803:1a2b") in a mode (r, w, w!). Taking one is the sharing check and
 * the claim in one step, together with the caller's own record (the
 * attach's intent): refused with Xen's message when a holder conflicts.
 * Releasing goes with the caller's last writes in one step too.
 *
 * This implementation (claims.c) is XenStore on one host: the claim is the
 * node claim = "MODE IDENT" of the device's record,
 * /tool/xm/domain/D/vbd/DEVID/claim, so a domain's claims go with its
 * record when it is cleaned up. A saved domain's claims (xm save) are
 * XM_SAVED_ROOT/ID/vbd/DEVID/claim, written by xm save in the transaction
 * that reads the domain's own; they count as domain D's (so as not to
 * stand in its way) while XM_SAVED_ROOT/ID/restoring is D, as held by
 * nobody else's domain otherwise.
 */
#ifndef XMBACKD_CLAIMS_H
#define XMBACKD_CLAIMS_H

#include "sharing.h"
#include "vbd-int.h"

struct claim {
	unsigned int domid;
	unsigned long devid;
	char mode[4];
	char ident[SHARING_IDENT_MAX];
	char saved[48];   /* a saved domain's claim: its save id (else "") */
};

enum { CLAIM_REFUSED = 1, CLAIM_GONE = 2 };

/* Take c's claim on target (its identity c->ident): refused when another
 * holder conflicts (CLAIM_REFUSED, Xen's message in err; w! is never
 * refused); else the claim and the caller's nodes (kv, n: the intent) are
 * written in one transaction, if must_exist (NULL: no condition) still
 * exists with the value must_be (NULL: any; CLAIM_GONE if not). 0,
 * CLAIM_REFUSED, CLAIM_GONE, or -1 (the store failed: logged, why in err).
 * A registry across hosts does the same as one transaction of its own,
 * under the host's lease, before the caller's nodes are written. */
int claims_take(struct backd *b, const struct claim *c, const char *target,
		const char *must_exist, const char *must_be, const struct kv *kv, int n, char *err,
		size_t errlen);
/* Several claims (claims_take each) in one transaction: four round trips
 * for them all when no holder is in the way. Each is also checked against
 * the claims before it in r (a refusal names that one's holder); one whose
 * condition fails (CLAIM_GONE) is left out and the others are taken
 * without it. At most CLAIMS_MAX. */
#define CLAIMS_MAX 64
struct claim_req {
	const struct claim *c;
	const char *target;
	const char *must_exist, *must_be;
	const struct kv *kv;
	int n;
	char *err;              /* out: why (refused, failed) */
	size_t errlen;
	int rc;                 /* out: claims_take's result */
	struct claim holder;    /* (who refused it) */
};
void claims_take_many(struct backd *b, struct claim_req *r, int n);
/* Set (domid, devid)'s claim to c as it is, with no check: what QEMU
 * really holds, which no record can overrule. 0 or -1. */
int claims_set(struct backd *b, const struct claim *c);
/* Release (domid, devid)'s claim, with the caller's nodes (kv, n) in the
 * same transaction, if must_exist (NULL: no condition) still does. 0,
 * 1 (must_exist is gone: nothing done) or -1. */
int claims_release(struct backd *b, unsigned int domid, unsigned long devid,
		   const char *must_exist, const struct kv *kv, int n);
/* The claim text of c ("MODE IDENT") into out; and back (0, or -1 if s is
 * not one). */
void claim_format(const struct claim *c, char *out, size_t len);
int claim_parse(const char *s, struct claim *c);

#endif
