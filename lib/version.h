/* version.h — the release, as debian/changelog names it (tests/proto/
 * manpages.sh checks that the two agree). */
#ifndef XM_VERSION_H
#define XM_VERSION_H

#define XM_VERSION "0.5.0"

#endif
