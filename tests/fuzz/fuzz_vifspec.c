/*
 * fuzz_vifspec.c — libFuzzer target: vif specifications as xm's config
 * (vif = [ '...' ]) and xm network-attach take them (lib/vif.c). The input
 * goes to the config form whole, and, split at newlines, to the KEY=VALUE
 * words of network-attach. A parsed spec must hold names the kernel takes
 * and a unicast MAC whose text parses to it again; a refused one must say
 * why, in one line.
 */
#include "vif.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const struct vifspec *s, const char *err, size_t errlen)
{
	if (rc < 0) {
		size_t n = strnlen(err, errlen);
		if (!n || n == errlen || memchr(err, '\n', n))
			abort();
		return;
	}
	if (rc != 0 || !vif_ifname_ok(s->bridge) || (s->vifname[0] && !vif_ifname_ok(s->vifname)))
		abort();
	if (strcmp(s->model, "virtio-net") != 0 ||
	    (strcmp(s->type, "vif") != 0 && strcmp(s->type, "ioemu") != 0))
		abort();
	if (s->has_mac) {
		char text[18], e[256];
		uint8_t again[6];
		if ((s->mac[0] & 1) || vif_mac_parse(vif_mac_str(s->mac, text), again, e, sizeof(e)) ||
		    memcmp(again, s->mac, 6) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), err[256];
	char *words[16];
	int n = 0;
	struct vifspec s;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	err[0] = '\0';
	check(vifspec_parse(buf, &s, err, sizeof(err)), &s, err, sizeof(err));
	for (char *p = buf; p && n < 16;) {
		words[n++] = p;
		if ((p = strchr(p, '\n')))
			*p++ = '\0';
	}
	err[0] = '\0';
	check(vifspec_parse_words(words, n, &s, err, sizeof(err)), &s, err, sizeof(err));
	free(buf);
	return 0;
}
