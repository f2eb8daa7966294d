/*
 * vif.c — see vif.h.
 */
#include "vif.h"
#include "dom.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vif_init(struct vif *v, unsigned int domid, unsigned long devid)
{
	v->domid = domid;
	v->devid = devid;
	snprintf(v->be, sizeof(v->be), VIF_BACKEND_ROOT "/%u/%lu", domid, devid);
	snprintf(v->fe, sizeof(v->fe), "/local/domain/%u/device/vif/%lu", domid, devid);
	snprintf(v->tool, sizeof(v->tool), XM_TOOL_ROOT "/domain/%u/vif/%lu", domid, devid);
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int vif_mac_parse(const char *s, uint8_t mac[6], char *err, size_t errlen)
{
	const char *p = s;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':') || (i == 5 && p[2] != '\0'))
			return fail(err, errlen, "bad MAC '%s': six hex pairs are wanted, as "
				    "00:16:3e:12:34:56", s);
		mac[i] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
		p += 3;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return fail(err, errlen, "bad MAC '%s': all zeros", s);
	if (mac[0] & 1)
		return fail(err, errlen, "bad MAC '%s': a multicast address (the first octet is "
			    "odd)", s);
	return 0;
}

char *vif_mac_str(const uint8_t mac[6], char *out)
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return out;
}

void vif_mac_default(unsigned int domid, unsigned long devid, uint8_t mac[6])
{
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)((domid >> 8) & 0x7f);
	mac[4] = (uint8_t)(domid & 0xff);
	mac[5] = (uint8_t)(devid & 0xff);
}

bool vif_ifname_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return true;
}

void vif_tap_name(unsigned int domid, unsigned long devid, const char *vifname, char *out)
{
	if (vifname && *vifname)
		snprintf(out, IFNAMSIZ, "%s", vifname);
	else
		snprintf(out, IFNAMSIZ, "vif%u.%lu", domid, devid);
}

/* Keys of Xen's vif specification (xl-network-configuration(5), xm's
 * netif) that xm does not do, and why. */
static const struct {
	const char *key, *why;
} refused[] = {
	{ "rate", "xm does not limit a vif's bandwidth" },
	{ "script", "xmbackd puts the tap on the bridge itself, as vif-bridge does; no script is run" },
	{ "backend", "only Domain-0 serves vifs" },
	{ "gatewaydev", "it is for vif-nat and vif-route; xm's vifs are bridged" },
	{ "forwarddev", "it is for vif-openvswitch; xm's vifs are bridged" },
	{ "accel", "xm has no netfront accelerator" },
	{ "mtu", "a vif takes its bridge's MTU" },
	{ "trusted", "a guest's NIC has no Xen netback trust flag" },
	{ "devid", "xm numbers a domain's vifs itself, from 0" },
	{ "uuid", "xm keeps no vif uuid" },
	{ "powerswitch", "xm has no power switch" },
	{ "vlan", "put the tap's bridge on the VLAN instead" },
};

/* One KEY=VALUE into s. */
static int one(const char *key, const char *val, struct vifspec *s, char *err, size_t len)
{
	if (strcmp(key, "mac") == 0) {
		if (vif_mac_parse(val, s->mac, err, len) < 0)
			return -1;
		s->has_mac = true;
	} else if (strcmp(key, "bridge") == 0) {
		if (!vif_ifname_ok(val))
			return fail(err, len, "bad bridge '%s': not a host interface name", val);
		snprintf(s->bridge, sizeof(s->bridge), "%s", val);
	} else if (strcmp(key, "vifname") == 0) {
		if (!vif_ifname_ok(val))
			return fail(err, len, "bad vifname '%s': not a host interface name (1 to 15 "
				    "characters, no '/', ':' or blank)", val);
		snprintf(s->vifname, sizeof(s->vifname), "%s", val);
	} else if (strcmp(key, "ip") == 0) {
		char buf[128];
		if (strlen(val) >= sizeof(buf))
			return fail(err, len, "bad ip '%s': too long", val);
		snprintf(buf, sizeof(buf), "%s", val);
		int n = 0;
		for (char *save = NULL, *a = strtok_r(buf, " ", &save); a;
		     a = strtok_r(NULL, " ", &save), n++) {
			struct in_addr in;
			if (inet_pton(AF_INET, a, &in) != 1)
				return fail(err, len, "bad ip '%s': '%s' is not an IPv4 address", val, a);
		}
		if (n == 0)
			return fail(err, len, "bad ip '%s': no address", val);
		snprintf(s->ip, sizeof(s->ip), "%s", val);
	} else if (strcmp(key, "model") == 0) {
		if (strcmp(val, "virtio-net") != 0 && strcmp(val, "virtio") != 0)
			return fail(err, len, "model=%s is not supported: a guest's NICs are "
				    "virtio-net (model=virtio-net)", val);
		snprintf(s->model, sizeof(s->model), "%s", VIF_MODEL);
	} else if (strcmp(key, "type") == 0) {
		if (strcmp(val, "vif") != 0 && strcmp(val, "ioemu") != 0)
			return fail(err, len, "bad type '%s': vif or ioemu", val);
		snprintf(s->type, sizeof(s->type), "%s", val);
	} else {
		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (strcmp(key, refused[i].key) == 0) {
				if (strcmp(key, "script") == 0 &&
				    (strcmp(val, "vif-bridge") == 0 || strcmp(val, VIF_SCRIPT) == 0))
					return 0; /* what xmbackd does anyway */
				if (strcmp(key, "backend") == 0 &&
				    (strcmp(val, "0") == 0 || strcmp(val, "Domain-0") == 0))
					return 0;
				return fail(err, len, "vif key '%s' is not supported: %s", key,
					    refused[i].why);
			}
		return fail(err, len, "unknown vif key '%s'", key);
	}
	return 0;
}

static void defaults(struct vifspec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->bridge, sizeof(s->bridge), "%s", VIF_DEFAULT_BRIDGE);
	snprintf(s->model, sizeof(s->model), "%s", VIF_MODEL);
	snprintf(s->type, sizeof(s->type), "vif");
}

/* "  key = value " into key and value (trimmed; word is modified). */
static int split(char *word, char **key, char **val, char *err, size_t len)
{
	char *eq = strchr(word, '=');
	bool ctl = false;
	for (const char *c = word; *c && !eq; c++)
		ctl = ctl || iscntrl((unsigned char)*c);
	if (!eq)
		return ctl ? fail(err, len, "bad vif setting: KEY=VALUE is wanted") :
			     fail(err, len, "bad vif setting '%s': KEY=VALUE is wanted", word);
	*eq = '\0';
	char *k = word, *v = eq + 1;
	while (isspace((unsigned char)*k))
		k++;
	for (char *e = k + strlen(k); e > k && isspace((unsigned char)e[-1]);)
		*--e = '\0';
	while (isspace((unsigned char)*v))
		v++;
	for (char *e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
		*--e = '\0';
	for (const char *c = k; *c; c++) /* never echoed: the error is one line */
		if (iscntrl((unsigned char)*c))
			return fail(err, len, "bad vif setting: a control character in a key");
	for (const char *c = v; *c; c++)
		if (iscntrl((unsigned char)*c))
			return fail(err, len, "bad vif setting '%s': a control character in its value",
				    k);
	if (!*k)
		return fail(err, len, "bad vif setting '=%s': no key", v);
	*key = k;
	*val = v;
	return 0;
}

int vifspec_parse(const char *spec, struct vifspec *s, char *err, size_t errlen)
{
	defaults(s);
	char *copy = strdup(spec);
	if (!copy)
		return fail(err, errlen, "out of memory");
	int rc = 0;
	for (char *save = NULL, *w = strtok_r(copy, ",", &save); w && rc == 0;
	     w = strtok_r(NULL, ",", &save)) {
		char *k, *v;
		const char *t = w;
		while (isspace((unsigned char)*t))
			t++;
		if (!*t)
			continue; /* 'mac=..,' */
		rc = split(w, &k, &v, err, errlen) || one(k, v, s, err, errlen) ? -1 : 0;
	}
	free(copy);
	return rc;
}

int vifspec_parse_words(char *const *words, int n, struct vifspec *s, char *err, size_t errlen)
{
	defaults(s);
	for (int i = 0; i < n; i++) {
		char *w = strdup(words[i]), *k, *v;
		if (!w)
			return fail(err, errlen, "out of memory");
		int rc = split(w, &k, &v, err, errlen) || one(k, v, s, err, errlen) ? -1 : 0;
		free(w);
		if (rc)
			return -1;
	}
	return 0;
}
