/*
 * fuzz_xsvalue.c — libFuzzer target: the XenStore values that xmbackd and
 * xm read back from the store, where a guest or a stale record may have
 * written anything: a device's state node (vbd_state_parse), the guest's
 * refusal "ERRNO TEXT" (vbd_error_text), a device's claim "MODE IDENT"
 * (claim_parse, claim_format) and the sharing rules on identities and
 * modes (sharing_same, sharing_compatible). The input is two values, split
 * at the first newline. Checked:
 *  - a state is -1 or the value of an all-digit text;
 *  - a refusal's text is s itself or what follows its leading digits and
 *    spaces, never empty unless s is;
 *  - a claim that parses has a mode of 1-3 characters with no space, and
 *    formats to a text that parses to the same claim;
 *  - sharing_same is symmetric, true of an identity with itself when it
 *    has a token, and "w!" is compatible with anything.
 */
#include "vbd.h"
#include "xmbackd/claims.h"
#include "xmbackd/vbd-int.h"
#include "xmbackd/sharing.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The registry's store side, which claims.c links to and this target
 * never reaches. */
void kv_queue(struct xsb *b, uint32_t tx, const struct kv *kv, int n)
{
	(void)b, (void)tx, (void)kv, (void)n;
	abort();
}

int vbd_record(struct backd *b, const char *must_exist, const struct kv *kv, int n)
{
	(void)b, (void)must_exist, (void)kv, (void)n;
	abort();
}

int backd_xr(struct backd *b, int (*op)(struct xsc *c, void *arg), void *arg)
{
	(void)b, (void)op, (void)arg;
	abort();
}

void backd_read_many(struct backd *b, const char *const *paths, int n, char **vals)
{
	(void)b, (void)paths, (void)n, (void)vals;
	abort();
}

static void state(const char *s)
{
	int v = vbd_state_parse(s);
	if (v < -1)
		abort();
	if (v >= 0) {
		if (!*s || strspn(s, "0123456789") != strlen(s) || strtol(s, NULL, 10) != v)
			abort();
	}
}

static void error_text(const char *s)
{
	const char *t = vbd_error_text(s);
	if (t == s)
		return;
	if (t < s || t > s + strlen(s) || !*t || strspn(s, "0123456789 ") < (size_t)(t - s))
		abort();
}

static void claim(const char *s)
{
	struct claim c, c2;
	char text[sizeof(c.mode) + 1 + sizeof(c.ident)];

	memset(&c, 0, sizeof(c));
	if (claim_parse(s, &c) < 0)
		return;
	size_t m = strlen(c.mode);
	if (m == 0 || m >= sizeof(c.mode) || strchr(c.mode, ' ') || c.ident[0] == ' ' ||
	    strnlen(c.ident, sizeof(c.ident)) == sizeof(c.ident))
		abort();
	claim_format(&c, text, sizeof(text));
	memset(&c2, 0, sizeof(c2));
	if (claim_parse(text, &c2) < 0 || strcmp(c.mode, c2.mode) || strcmp(c.ident, c2.ident))
		abort();
}

static void sharing(const char *a, const char *b)
{
	if (sharing_same(a, b) != sharing_same(b, a))
		abort();
	if (a[strspn(a, " ")] && !sharing_same(a, a))
		abort();
	if (!sharing_compatible("w!", a))
		abort();
	if (sharing_compatible(a, b) && strcmp(a, "w!") != 0 && (a[0] == 'w' || b[0] == 'w'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = malloc(size + 1);

	if (!a)
		return 0;
	memcpy(a, data, size);
	a[size] = '\0';
	char *b = strchr(a, '\n');
	if (b)
		*b++ = '\0';
	else
		b = a + size;
	state(a);
	error_text(a);
	claim(a);
	sharing(a, b);
	free(a);
	return 0;
}
