/* path.h — XenStore node names: validation, canonical form, parents. */
#ifndef XSD_PATH_H
#define XSD_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Big enough for any canonical name built from a 4096-byte payload. */
#define PATH_BUF 4200
/* Xen's default limit on a path's length past "/local/domain/N/". */
#define PATH_REL_MAX 2048

/*
 * Canonicalise name as Xen does: a relative name is taken against implicit
 * (the connection's "/local/domain/<id>"); '@' names only if allow_special.
 * Valid: starts with '/' (or '@'), no trailing '/' (except "/"), no "//",
 * chars [A-Za-z0-9-/_@], at most max_rel chars past "/local/domain/<id>/".
 * Returns 0 with out filled, or EINVAL.
 */
int path_canon(const char *name, const char *implicit, bool allow_special,
	       size_t max_rel, char out[PATH_BUF]);
/* Parent of a canonical, non-root name ("/a" -> "/"). */
void path_parent(const char *name, char out[PATH_BUF]);
/* Last component of a canonical, non-root name. */
const char *path_base(const char *name);
/* Is child equal to parent or below it? ("/" is everyone's parent.) */
bool path_is_child(const char *child, const char *parent);

#endif
