/*
 * cfgkeys.h — what each key of an xm/xl domain config means to xm: every
 * top-level key of xl.cfg(5) and of xm's example configs, honoured, accepted
 * when its value asks for what xm does anyway, or refused with one line
 * that says why. A key not in the table is unknown (a typo). The table is
 * the one in man/xm.cfg.5 (tests/proto/cfgkeys.sh checks that they agree).
 */
#ifndef XM_CFGKEYS_H
#define XM_CFGKEYS_H

#include <stdbool.h>
#include <stddef.h>

enum cfgkey_status {
	CK_HONOURED,        /* used as Xen means it, whatever the value */
	CK_HONOURED_IF,     /* used with the values listed; others refused */
	CK_HONOURED_IF_YET, /* ... others not supported yet */
	CK_ACCEPTED_IF,     /* the values listed are what xm does anyway;
			     * others refused */
	CK_ACCEPTED_IF_YET, /* ... others not supported yet */
	CK_REFUSED,         /* refused whatever its value (an empty list
			     * asks for nothing and is accepted) */
	CK_PLANNED,         /* refused: not supported yet */
};

/* The kind of value: 's' string, 'n' number or boolean, 'l' list,
 * 'x' any of these (xl takes more than one form). */
struct cfgkey {
	const char *key;
	enum cfgkey_status status;
	char kind;
	/* The values taken, '|'-separated ("" is the empty string); "=KEY":
	 * the same number as KEY's (with its default). NULL: any. */
	const char *values;
	const char *why;    /* why it or other values are refused */
};

extern const struct cfgkey cfgkeys[];
extern const size_t cfgkeys_count;

/* The entry of the n-byte key s, or NULL (unknown). */
const struct cfgkey *cfgkey_find(const char *s, size_t n);

/* The known key nearest to the n-byte s when near enough to be a typo of
 * it (two edits at most, fewer for short keys), or NULL. */
const char *cfgkey_nearest(const char *s, size_t n);

/* Whether a refusal of k (or of its other values) is "not supported yet". */
bool cfgkey_planned(const struct cfgkey *k);

/* Whether value (a number in decimal for kind 'n') is one of k's values.
 * same(key, ctx) gives the value of another key for "=KEY". */
bool cfgkey_allows(const struct cfgkey *k, const char *value,
		   const char *(*same)(const char *key, void *ctx), void *ctx);

/* k's values for a message: "0", "\"pv\" or \"pvh\"", "maxmem = memory". */
void cfgkey_values_text(const struct cfgkey *k, char *buf, size_t len);

#endif
