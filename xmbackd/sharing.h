/* sharing.h — Xen's sharing rules for block backends: a device's identity,
 * the host's mounts, which modes conflict and the refusal texts (see
 * sharing.c). Who holds what is the claim registry's (claims.h). */
#ifndef XMBACKD_SHARING_H
#define XMBACKD_SHARING_H

#include <stdbool.h>
#include <stddef.h>

/* Room for an identity's text. */
#define SHARING_IDENT_MAX 96

/* The identity of target as text, the claim registry's key: tokens
 * "b<maj>:<min>" (a block device) and "f<dev>:<ino>" (a file, or the file
 * behind a loop device), space-separated; "" for no target. 0, or -1
 * (errno). */
int sharing_ident(const char *target, char *out, size_t len);
/* Do two identities name one device (a token in common)? */
bool sharing_same(const char *a, const char *b);
/* target against the host's mounts, for mode: 0, or -1 with Xen's message
 * in err. */
int sharing_host_check(const char *target, const char *mode, char *err, size_t errlen);
/* May a new holder in mode join one in omode? (w! skips the check.) */
bool sharing_compatible(const char *mode, const char *omode);
/* Xen's refusal of target in mode, held by domain name's device dev in
 * omode. */
void sharing_refusal(const char *target, const char *omode, const char *name, const char *dev,
		     char *err, size_t errlen);

#endif
