/* tap.h — a vif's tap on the host, put on its bridge (tap.c). */
#ifndef XMBACKD_TAP_H
#define XMBACKD_TAP_H

#include <stdbool.h>
#include <stddef.h>

/* Is there a host interface called name? */
bool tap_exists(const char *name);
/* ... and is it a bridge? */
bool tap_is_bridge(const char *name);
/* Make tap name (it must not exist yet), set it up on bridge (which must
 * exist) and return its descriptor; or -1 with one line in err ("bridge
 * xenbr0 does not exist"), nothing left on the host. */
int tap_open(const char *name, const char *bridge, char *err, size_t errlen);

#endif
