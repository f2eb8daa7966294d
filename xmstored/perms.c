/* perms.c — see perms.h. Semantics follow Xen's perm_for_conn(). */
#include "perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int perms_parse(const char *s, unsigned int n, struct perm *out)
{
	for (unsigned int i = 0; i < n; i++) {
		switch (*s) {
		case 'r': out[i].perms = PERM_READ; break;
		case 'w': out[i].perms = PERM_WRITE; break;
		case 'b': out[i].perms = PERM_READ | PERM_WRITE; break;
		case 'n': out[i].perms = PERM_NONE; break;
		default: return EINVAL;
		}
		/* As cxenstored: a number must follow and nothing after it;
		 * strtol's leniency (space, sign, wrap-around) is kept. */
		char *end;
		long id = strtol(s + 1, &end, 0);
		if (end == s + 1 || *end != '\0')
			return EINVAL;
		out[i].id = (uint32_t)id;
		s += strlen(s) + 1;
	}
	return 0;
}

size_t perms_format(const struct perm *p, unsigned int n, char *buf, size_t cap)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++) {
		int w = snprintf(buf + len, cap - len, "%c%d",
				 letter[p[i].perms & (PERM_READ | PERM_WRITE)],
				 (int)p[i].id);
		if (w < 0 || (size_t)w + 1 > cap - len)
			return 0;
		len += (size_t)w + 1;
	}
	return len;
}

static bool is_me(const struct caller *c, uint32_t id)
{
	return id == c->domid || (c->has_target && id == c->target);
}

unsigned int perms_for(const struct caller *c, const struct perm *p, unsigned int n)
{
	const unsigned int all = PERM_READ | PERM_WRITE | PERM_OWNER;

	if (c->priv || n == 0 || is_me(c, p[0].id))
		return all;
	for (unsigned int i = 1; i < n; i++)
		if (!(p[i].perms & PERM_IGNORE) && is_me(c, p[i].id))
			return p[i].perms & all;
	return p[0].perms & all;
}
