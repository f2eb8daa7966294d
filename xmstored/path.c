/* path.c — see path.h. */
#include "path.h"

#include <stdio.h>
#include <string.h>
#include <errno.h>

static bool valid_chars(const char *s)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789-/_@";
	return s[strspn(s, ok)] == '\0';
}

int path_canon(const char *name, const char *implicit, bool allow_special,
	       size_t max_rel, char out[PATH_BUF])
{
	size_t len;

	if (!name || !valid_chars(name) || (name[0] == '@' && !allow_special))
		return EINVAL;
	if (name[0] != '/' && name[0] != '@') {
		int n = snprintf(out, PATH_BUF, "%s/%s", implicit, name);
		if (n < 0 || n >= PATH_BUF)
			return EINVAL;
		len = (size_t)n;
	} else {
		len = strlen(name);
		if (len >= PATH_BUF)
			return EINVAL;
		memcpy(out, name, len + 1);
	}
	if (len > 1 && out[len - 1] == '/')
		return EINVAL;
	if (strstr(out, "//"))
		return EINVAL;

	unsigned int domid;
	int local_off = 0;
	if (sscanf(out, "/local/domain/%5u/%n", &domid, &local_off) != 1)
		local_off = 0;
	if (len - (size_t)local_off > max_rel)
		return EINVAL;
	return 0;
}

void path_parent(const char *name, char out[PATH_BUF])
{
	const char *slash = strrchr(name + 1, '/');
	if (!slash) {
		strcpy(out, "/");
		return;
	}
	size_t n = (size_t)(slash - name);
	memcpy(out, name, n);
	out[n] = '\0';
}

const char *path_base(const char *name)
{
	return strrchr(name, '/') + 1;
}

bool path_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (parent[0] == '/' && parent[1] == '\0')
		return true;
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}
