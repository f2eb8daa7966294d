/*
 * diskspec.c — block device specifications: xm's three arguments
 * (BACKDEV FRONTDEV MODE, as xend's BlkifController.getDeviceDetails
 * checked them) and xl's disk-spec strings (as libxlutil's disk lexer,
 * Xen 4.17, reads them; docs/misc/xl-disk-configuration.txt).
 *
 * The xl reader below is a hand-written equivalent of libxlu_disk_l.l: at
 * each position every rule is tried, the longest match wins (trailing
 * context counting towards the length, as in flex) and ties go to the
 * earlier rule. Only the first error is reported; libxlutil prints every
 * one, the first of which is the same line. See diskspec.h.
 */
#include "diskspec.h"
#include "vdev.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void spec_init(struct diskspec *d)
{
	memset(d, 0, sizeof(*d));
	d->backend = DISK_PHY;
	d->format = DISK_FMT_RAW;
	d->mode = DISK_MODE_R;
}

/* Copy n bytes of s into dst[cap] with a NUL; false if it does not fit. */
static bool copy_n(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

const char *disk_backend_name(enum disk_backend b)
{
	switch (b) {
	case DISK_PHY: return "phy";
	case DISK_FILE: return "file";
	case DISK_QDISK: return "qdisk";
	}
	return "?";
}

const char *disk_format_name(enum disk_format f)
{
	switch (f) {
	case DISK_FMT_RAW: return "raw";
	case DISK_FMT_QCOW2: return "qcow2";
	}
	return "?";
}

const char *disk_mode_name(enum disk_mode m)
{
	switch (m) {
	case DISK_MODE_R: return "r";
	case DISK_MODE_W: return "w";
	case DISK_MODE_W_SHARED: return "w!";
	}
	return "?";
}

/* ---------------------------------------------------------------- xm */

static bool parse_mode(const char *m, enum disk_mode *mode)
{
	if (!strcmp(m, "r") || !strcmp(m, "ro"))
		*mode = DISK_MODE_R;
	else if (!strcmp(m, "w") || !strcmp(m, "rw"))
		*mode = DISK_MODE_W;
	else if (!strcmp(m, "w!"))
		*mode = DISK_MODE_W_SHARED;
	else
		return false;
	return true;
}

/* xm's back ends: "phy", "file", "tap"/"tap2" with a tapdisk type, and
 * the "qcow2"/"raw" format prefixes. On success *rest is the path. */
static int xm_backend(const char *typ, size_t tl, const char *params, struct diskspec *d,
		      const char **rest, char *err, size_t errlen)
{
	if (tl == 3 && !strncmp(typ, "phy", 3)) {
		d->backend = DISK_PHY;
	} else if (tl == 4 && !strncmp(typ, "file", 4)) {
		d->backend = DISK_FILE;
	} else if (tl == 5 && !strncmp(typ, "qcow2", 5)) {
		d->backend = DISK_QDISK;
		d->format = DISK_FMT_QCOW2;
	} else if (tl == 3 && !strncmp(typ, "raw", 3)) {
		d->backend = DISK_QDISK;
	} else if ((tl == 3 && !strncmp(typ, "tap", 3)) || (tl == 4 && !strncmp(typ, "tap2", 4))) {
		/* tap:<type>:path, tap2:[tapdisk:]<type>:path; "tap:path" as aio */
		d->backend = DISK_QDISK;
		if (!strncmp(params, "tapdisk:", 8))
			params += 8;
		const char *c = strchr(params, ':');
		if (c) {
			size_t n = (size_t)(c - params);
			if ((n == 3 && !strncmp(params, "aio", 3)) ||
			    (n == 4 && !strncmp(params, "sync", 4)) ||
			    (n == 3 && !strncmp(params, "raw", 3))) {
				d->format = DISK_FMT_RAW;
			} else if (n == 5 && !strncmp(params, "qcow2", 5)) {
				d->format = DISK_FMT_QCOW2;
			} else {
				seterr(err, errlen, "Block device type \"%.*s:%.*s\" is invalid.",
				       (int)tl, typ, (int)n, params);
				return -1;
			}
			params = c + 1;
		}
	} else {
		seterr(err, errlen, "Block device type \"%.*s\" is invalid.", (int)tl, typ);
		return -1;
	}
	*rest = params;
	return 0;
}

int diskspec_parse_xm(const char *backdev, const char *frontdev, const char *mode,
		      struct diskspec *d, char *err, size_t errlen)
{
	const char *dev = frontdev ? frontdev : "";
	const char *colon;
	size_t devlen;

	spec_init(d);
	/* FRONTDEV: "ioemu:" dropped, then "name[:type]" */
	if (strstr(dev, "ioemu:"))
		dev = strchr(dev, ':') + 1;
	colon = strchr(dev, ':');
	devlen = colon ? (size_t)(colon - dev) : strlen(dev);
	if (colon) {
		if (!strcmp(colon + 1, "cdrom")) {
			d->cdrom = true;
		} else if (strcmp(colon + 1, "disk") != 0) {
			seterr(err, errlen, "Invalid device type \"%s\" (disk or cdrom)", colon + 1);
			return -1;
		}
	}

	/* BACKDEV */
	if (!backdev || !*backdev) {
		if (!d->cdrom) {
			seterr(err, errlen, "Block device must have physical details specified");
			return -1;
		}
		d->empty = true;
	} else {
		const char *c = strchr(backdev, ':'), *path;
		if (!c) {
			seterr(err, errlen, "Block device must have physical details specified");
			return -1;
		}
		if (xm_backend(backdev, (size_t)(c - backdev), c + 1, d, &path, err, errlen) < 0)
			return -1;
		if (!*path) {
			if (!d->cdrom) {
				seterr(err, errlen, "Block device must have physical details specified");
				return -1;
			}
			d->empty = true;
		} else if (d->backend == DISK_PHY && path[0] != '/') {
			/* as Xen's block hotplug script: phy:sdb1 is /dev/sdb1 */
			int n = snprintf(d->target, sizeof(d->target), "/dev/%s", path);
			if (n < 0 || (size_t)n >= sizeof(d->target)) {
				seterr(err, errlen, "Block device path too long");
				return -1;
			}
		} else if (!copy_n(d->target, sizeof(d->target), path, strlen(path))) {
			seterr(err, errlen, "Block device path too long");
			return -1;
		}
	}

	/* MODE (xend's default is "r") */
	if (!parse_mode(mode ? mode : "r", &d->mode)) {
		seterr(err, errlen, "Invalid mode");
		return -1;
	}
	if (d->cdrom)
		d->mode = DISK_MODE_R;

	/* the number */
	const char *name = dev;
	if (!strncmp(name, "/dev/", 5))
		name += 5;
	if (!copy_n(d->vdev, sizeof(d->vdev), name, devlen - (size_t)(name - dev)) ||
	    vdev_parse(d->vdev, &d->devid) < 0) {
		seterr(err, errlen, "Unable to find number for device (%.*s)", (int)devlen, dev);
		d->vdev[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- xl */

enum xfmt { XF_UNKNOWN, XF_QCOW, XF_QCOW2, XF_VHD, XF_RAW, XF_EMPTY, XF_QED };
enum xbt { XB_UNKNOWN, XB_PHY, XB_TAP, XB_QDISK, XB_STANDALONE };
enum xsp { XS_UNKNOWN, XS_XEN, XS_VIRTIO };

struct sub {
	const char *p;
	size_t n;
	bool set;
};

struct xl {
	const char *spec;
	bool split_target;      /* our extension: target= ends at a comma */
	bool target_had_comma;  /* a target= value contained a comma */
	struct sub target, vdev, backend, script, colo_host, colo_export, active_disk,
		hidden_disk;
	char scriptbuf[16];
	enum xfmt format;
	enum xbt backendtype;
	enum xsp specification;
	bool is_cdrom, readwrite, access_set, had_depr_prefix;
	int prefix_backend;     /* -1, or the enum disk_backend a prefix named */
	bool prefix_strong;     /* phy:/file: (over tap:, aio:, raw: ...) */
	bool failed;
	char *err;
	size_t errlen;
};

/* libxlutil's message: "... MESSAGE[: near `X'] in `SPEC'" */
static void xl_err(struct xl *c, const char *near, size_t nn, const char *msg)
{
	if (c->failed)
		return;
	c->failed = true;
	if (near)
		seterr(c->err, c->errlen,
		       "config parsing error in disk specification: %s: near `%.*s' in `%s'", msg,
		       (int)nn, near, c->spec);
	else
		seterr(c->err, c->errlen, "config parsing error in disk specification: %s in `%s'",
		       msg, c->spec);
}

static bool sub_is(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncmp(p, lit, n);
}

static void savestring(struct xl *c, struct sub *s, const char *what_respecified,
		       const char *p, size_t n)
{
	if (s->set && s->n) {
		xl_err(c, p, n, what_respecified);
		return;
	}
	s->p = p;
	s->n = n;
	s->set = true;
}

static void setformat(struct xl *c, const char *p, size_t n)
{
	enum xfmt f;
	if (sub_is(p, n, "") || sub_is(p, n, "raw"))
		f = XF_RAW;
	else if (sub_is(p, n, "qcow"))
		f = XF_QCOW;
	else if (sub_is(p, n, "qcow2"))
		f = XF_QCOW2;
	else if (sub_is(p, n, "vhd"))
		f = XF_VHD;
	else if (sub_is(p, n, "empty"))
		f = XF_EMPTY;
	else if (sub_is(p, n, "qed"))
		f = XF_QED;
	else {
		xl_err(c, p, n, "unknown value for format");
		return;
	}
	if (c->format != XF_UNKNOWN && c->format != f)
		xl_err(c, p, n, "format respecified");
	else
		c->format = f;
}

static void setaccess(struct xl *c, const char *p, size_t n)
{
	if (sub_is(p, n, "r") || sub_is(p, n, "ro"))
		c->readwrite = false;
	else if (sub_is(p, n, "rw") || sub_is(p, n, "w") || n == 0)
		c->readwrite = true;
	else
		xl_err(c, p, n, "unknown value for access");
}

static void setbackendtype(struct xl *c, const char *p, size_t n)
{
	enum xbt b;
	if (sub_is(p, n, "phy"))
		b = XB_PHY;
	else if (sub_is(p, n, "tap"))
		b = XB_TAP;
	else if (sub_is(p, n, "qdisk"))
		b = XB_QDISK;
	else if (sub_is(p, n, "standalone"))
		b = XB_STANDALONE;
	else {
		xl_err(c, p, n, "unknown value for backendtype");
		return;
	}
	if (c->backendtype != XB_UNKNOWN && c->backendtype != b)
		xl_err(c, p, n, "backend respecified");
	else
		c->backendtype = b;
}

static void setspecification(struct xl *c, const char *p, size_t n)
{
	enum xsp s;
	if (sub_is(p, n, "xen"))
		s = XS_XEN;
	else if (sub_is(p, n, "virtio"))
		s = XS_VIRTIO;
	else {
		xl_err(c, p, n, "unknown value for specification");
		return;
	}
	if (c->specification != XS_UNKNOWN && c->specification != s)
		xl_err(c, p, n, "specification respecified");
	else
		c->specification = s;
}

/* atoi() on a substring */
static long sub_atoi(const char *p, size_t n)
{
	size_t i = 0;
	long v = 0;
	bool neg = false;
	while (i < n && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')))
		i++;
	if (i < n && (p[i] == '-' || p[i] == '+'))
		neg = p[i++] == '-';
	for (; i < n && p[i] >= '0' && p[i] <= '9' && v < 100000000; i++)
		v = v * 10 + (p[i] - '0');
	return neg ? -v : v;
}

/* "<vdev>:<devtype>" as a positional parameter; false if no colon. */
static bool vdev_and_devtype(struct xl *c, const char *p, size_t n)
{
	size_t k = n;
	while (k > 0 && p[k - 1] != ':')
		k--;
	if (k == 0)
		return false;
	savestring(c, &c->vdev, "vdev respecified", p, k - 1);
	if (sub_is(p + k, n - k, "cdrom"))
		c->is_cdrom = true;
	else if (sub_is(p + k, n - k, "disk"))
		c->is_cdrom = false;
	else
		xl_err(c, p + k, n - k, "unknown deprecated type");
	return true;
}

/* The lexer's rules, in the order of libxlu_disk_l.l (4.17). */
enum rkind {
	R_WS, R_KEY, R_FLAG, R_TARGET, R_UNKNOWN_PARAM, R_PREFIX, R_UNKNOWN_PREFIX,
	R_POSITIONAL, R_DOT
};
enum ract {
	A_NONE, A_FORMAT, A_CDROM, A_DISK, A_BADTYPE, A_ACCESS, A_BACKEND, A_BACKENDTYPE,
	A_SPECIFICATION, A_VDEV, A_SCRIPT, A_COLO_HOST, A_COLO_PORT, A_COLO_EXPORT,
	A_ACTIVE_DISK, A_HIDDEN_DISK, A_FMT_PREFIX, A_SCRIPT_PREFIX, A_PHY, A_FILE, A_QDISK
};
struct rule {
	enum rkind kind;
	const char *lit;
	enum ract act;
};
static const struct rule rules[] = {
	{ R_WS, NULL, A_NONE },
	{ R_KEY, "format=", A_FORMAT },
	{ R_FLAG, "cdrom", A_CDROM },
	{ R_FLAG, "devtype=cdrom", A_CDROM },
	{ R_FLAG, "devtype=disk", A_DISK },
	{ R_KEY, "devtype=", A_BADTYPE },
	{ R_KEY, "access=", A_ACCESS },
	{ R_KEY, "backend=", A_BACKEND },
	{ R_KEY, "backendtype=", A_BACKENDTYPE },
	{ R_KEY, "specification=", A_SPECIFICATION },
	{ R_KEY, "vdev=", A_VDEV },
	{ R_KEY, "script=", A_SCRIPT },
	{ R_FLAG, "direct-io-safe", A_NONE },
	{ R_FLAG, "discard", A_NONE },
	{ R_FLAG, "no-discard", A_NONE },
	{ R_FLAG, "colo", A_NONE },
	{ R_FLAG, "no-colo", A_NONE },
	{ R_KEY, "colo-host=", A_COLO_HOST },
	{ R_KEY, "colo-port=", A_COLO_PORT },
	{ R_KEY, "colo-export=", A_COLO_EXPORT },
	{ R_KEY, "active-disk=", A_ACTIVE_DISK },
	{ R_KEY, "hidden-disk=", A_HIDDEN_DISK },
	{ R_TARGET, "target=", A_NONE },
	{ R_UNKNOWN_PARAM, NULL, A_NONE },
	{ R_PREFIX, "raw:", A_FMT_PREFIX },
	{ R_PREFIX, "qcow:", A_FMT_PREFIX },
	{ R_PREFIX, "qcow2:", A_FMT_PREFIX },
	{ R_PREFIX, "vhd:", A_FMT_PREFIX },
	{ R_PREFIX, "iscsi:", A_SCRIPT_PREFIX },
	{ R_PREFIX, "nbd:", A_SCRIPT_PREFIX },
	{ R_PREFIX, "enbd:", A_SCRIPT_PREFIX },
	{ R_PREFIX, "drbd:", A_SCRIPT_PREFIX },
	{ R_PREFIX, "tapdisk:", A_QDISK },
	{ R_PREFIX, "tap:", A_QDISK },
	{ R_PREFIX, "tap2:", A_QDISK },
	{ R_PREFIX, "aio:", A_QDISK },
	{ R_PREFIX, "ioemu:", A_QDISK },
	{ R_PREFIX, "file:", A_FILE },
	{ R_PREFIX, "phy:", A_PHY },
	{ R_UNKNOWN_PREFIX, NULL, A_NONE },
	{ R_POSITIONAL, NULL, A_NONE },
	{ R_DOT, NULL, A_NONE },
};

static bool is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static bool is_lower_digit(char ch) { return is_lower(ch) || (ch >= '0' && ch <= '9'); }

/* "lit..." up to and with the next comma (key=value), or the rest of the
 * spec for target= (its trailing context); -1 if s does not start so. */
static long match_key(const struct xl *c, const struct rule *r, const char *s, size_t *used)
{
	size_t len = strlen(s), n = strlen(r->lit);
	if (strncmp(s, r->lit, n))
		return -1;
	if (r->kind == R_TARGET && !c->split_target) {
		*used = len;
		return (long)len;
	}
	n += strcspn(s + n, ",");
	if (s[n] == ',')
		n++;
	*used = n;
	/* a split target= keeps its length: it stays the winning rule */
	return (long)(r->kind == R_TARGET ? len : n);
}

/* [a-z][-a-z0-9]*=[^,]+,? — a key nobody knows. */
static long match_unknown_param(const char *s, size_t *used)
{
	size_t n;
	if (!is_lower(s[0]))
		return -1;
	for (n = 1; is_lower_digit(s[n]) || s[n] == '-'; n++)
		;
	if (s[n] != '=' || s[n + 1] == '\0' || s[n + 1] == ',')
		return -1;
	n += 2;
	if (s[n] == ',')
		n++;
	*used = n;
	return (long)n;
}

/* [a-z][a-z0-9]*: — a prefix nobody knows (its trailing context: what
 * follows is not a name). */
static long match_unknown_prefix(const char *s, size_t *used)
{
	size_t n;
	if (!is_lower(s[0]))
		return -1;
	for (n = 1; is_lower_digit(s[n]); n++)
		;
	if (s[n] != ':')
		return -1;
	n++;
	*used = n;
	return (long)(s[n] && !is_lower_digit(s[n]) ? strlen(s) : n);
}

/* Length the rule matches at s (trailing context included), -1 if none;
 * *used is what it consumes (yyleng). */
static long rule_match(const struct xl *c, const struct rule *r, const char *s, size_t *used)
{
	size_t len = strlen(s), n;

	switch (r->kind) {
	case R_WS:
		n = strspn(s, " \t\n");
		if (!n)
			return -1;
		*used = n;
		return (long)(s[n] ? len : n);
	case R_KEY:
	case R_TARGET:
		return match_key(c, r, s, used);
	case R_FLAG:
		n = strlen(r->lit);
		if (strncmp(s, r->lit, n))
			return -1;
		if (s[n] == ',')
			n++;
		*used = n;
		return (long)n;
	case R_UNKNOWN_PARAM:
		return match_unknown_param(s, used);
	case R_PREFIX:
		n = strlen(r->lit);
		if (strncmp(s, r->lit, n))
			return -1;
		*used = n;
		return (long)len;
	case R_UNKNOWN_PREFIX:
		return match_unknown_prefix(s, used);
	case R_POSITIONAL:
		n = strcspn(s, "=,");
		if (s[n] == ',') {
			*used = n + 1;
			return (long)(n + 1);
		}
		if (!n)
			return -1;
		*used = n;
		return (long)n;
	case R_DOT:
		if (s[0] == '\n' || !s[0])
			return -1;
		*used = len;
		return 1;
	}
	return -1;
}

/* The value of a "key=..." token, trailing comma stripped. */
static void key_value(const char *tok, size_t used, const char **p, size_t *n)
{
	const char *eq = memchr(tok, '=', used);
	*p = eq + 1;
	*n = used - (size_t)(*p - tok);
	if (*n && (*p)[*n - 1] == ',')
		(*n)--;
}

static void positional(struct xl *c, const char *p, size_t n)
{
	if (!c->target.set) {
		savestring(c, &c->target, "target respecified", p, n);
	} else if (!c->had_depr_prefix && c->format == XF_UNKNOWN) {
		if (c->target.n == 0 && memchr(p, ':', n)) {
			vdev_and_devtype(c, p, n);
			c->format = XF_EMPTY;
		} else {
			setformat(c, p, n);
		}
	} else if (!c->vdev.set) {
		if (!vdev_and_devtype(c, p, n))
			savestring(c, &c->vdev, "vdev respecified", p, n);
	} else if (!c->access_set) {
		c->access_set = true;
		setaccess(c, p, n);
	} else {
		xl_err(c, p, n, "too many positional parameters");
	}
}

static void note_prefix_backend(struct xl *c, enum disk_backend b, bool strong)
{
	if (c->prefix_backend < 0 || (strong && !c->prefix_strong)) {
		c->prefix_backend = (int)b;
		c->prefix_strong = strong;
	}
}

/* The rule that matches longest at s (flex's choice: the first of equal
 * length), with what it consumes in *used; NULL if none does. */
static const struct rule *best_rule(const struct xl *c, const char *s, size_t *used)
{
	const struct rule *best = NULL;
	long bestlen = -1;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t u = 0;
		long l = rule_match(c, &rules[i], s, &u);
		if (l > bestlen) {
			bestlen = l;
			best = &rules[i];
			*used = u;
		}
	}
	return best;
}

/* A "key=value," token of action act. */
static void on_key(struct xl *c, enum ract act, const char *s, size_t used)
{
	const char *p;
	size_t n;
	key_value(s, used, &p, &n);
	switch (act) {
	case A_FORMAT: setformat(c, p, n); break;
	case A_BADTYPE: xl_err(c, s, used, "unknown value for type"); break;
	case A_ACCESS: setaccess(c, p, n); break;
	case A_BACKEND: savestring(c, &c->backend, "backend respecified", p, n); break;
	case A_BACKENDTYPE: setbackendtype(c, p, n); break;
	case A_SPECIFICATION: setspecification(c, p, n); break;
	case A_VDEV: savestring(c, &c->vdev, "vdev respecified", p, n); break;
	case A_SCRIPT: savestring(c, &c->script, "script respecified", p, n); break;
	case A_COLO_HOST: savestring(c, &c->colo_host, "colo-host respecified", p, n); break;
	case A_COLO_PORT:
		if (!sub_atoi(p, n))
			xl_err(c, p, n, "unknown value for colo_port");
		break;
	case A_COLO_EXPORT:
		savestring(c, &c->colo_export, "colo-export respecified", p, n);
		break;
	case A_ACTIVE_DISK:
		savestring(c, &c->active_disk, "active-disk respecified", p, n);
		break;
	case A_HIDDEN_DISK:
		savestring(c, &c->hidden_disk, "hidden-disk respecified", p, n);
		break;
	default:
		break;
	}
}

/* A deprecated "prefix:" of action act (used bytes, the ':' included). */
static void on_prefix(struct xl *c, enum ract act, const char *s, size_t used)
{
	size_t n = used - 1;   /* the ':' stripped */
	c->had_depr_prefix = true;
	if (act == A_FMT_PREFIX) {
		setformat(c, s, n);
		note_prefix_backend(c, DISK_QDISK, false);
	} else if (act == A_SCRIPT_PREFIX) {
		snprintf(c->scriptbuf, sizeof(c->scriptbuf), "block-%.*s", (int)n, s);
		savestring(c, &c->script, "script respecified", c->scriptbuf, strlen(c->scriptbuf));
	} else if (act == A_PHY) {
		note_prefix_backend(c, DISK_PHY, true);
	} else if (act == A_FILE) {
		note_prefix_backend(c, DISK_FILE, true);
	} else {
		note_prefix_backend(c, DISK_QDISK, false);
	}
}

/* "target=...": the rest of the spec (or up to a comma when split). */
static void on_target(struct xl *c, const char *s, size_t used)
{
	const char *p = s + strlen("target=");
	size_t n = used - strlen("target=");
	if (n && p[n - 1] == ',')
		n--;
	if (memchr(p, ',', n))
		c->target_had_comma = true;
	savestring(c, &c->target, "target respecified", p, n);
}

/* libxlutil's flex scanner, token by token. */
static void lex(struct xl *c)
{
	const char *s = c->spec;

	while (*s && !c->failed) {
		size_t used = 0, n;
		const struct rule *best = best_rule(c, s, &used);
		if (!best) {            /* a lone newline: nothing matches in flex either */
			xl_err(c, s, strlen(s), "bad disk syntax");
			return;
		}
		switch (best->kind) {
		case R_WS:
			break;
		case R_FLAG:
			if (best->act == A_CDROM)
				c->is_cdrom = true;
			else if (best->act == A_DISK)
				c->is_cdrom = false;
			break;
		case R_KEY:
			on_key(c, best->act, s, used);
			break;
		case R_TARGET:
			on_target(c, s, used);
			break;
		case R_UNKNOWN_PARAM:
			xl_err(c, s, used, "unknown parameter");
			break;
		case R_PREFIX:
			on_prefix(c, best->act, s, used);
			break;
		case R_UNKNOWN_PREFIX:
			xl_err(c, s, used, "unknown deprecated disk prefix");
			return;
		case R_POSITIONAL:
			n = used;
			if (n && s[n - 1] == ',')
				n--;
			positional(c, s, n);
			break;
		case R_DOT:
			/* flex's LEXERR state needs one more character to
			 * report; a '=' at the very end just ends the scan */
			if (s[1])
				xl_err(c, s, used, "bad disk syntax");
			return;
		}
		s += used;
	}
}

/* libxlutil's part: lex, defaults, the two final checks. */
static void xl_run(struct xl *c)
{
	lex(c);
	if (c->failed)
		return;
	if (c->format == XF_UNKNOWN)
		c->format = XF_RAW;
	if (c->is_cdrom) {
		c->readwrite = false;
		if (!c->target.set || c->target.n == 0)
			c->format = XF_EMPTY;
	}
	if (!c->vdev.set)
		xl_err(c, NULL, 0, "no vdev specified");
	else if (!c->target.set && !c->is_cdrom)
		xl_err(c, NULL, 0, "no target specified (and device not removable)");
}

static const char *xfmt_name(enum xfmt f)
{
	switch (f) {
	case XF_QCOW: return "qcow";
	case XF_VHD: return "vhd";
	case XF_QED: return "qed";
	case XF_QCOW2: return "qcow2";
	case XF_EMPTY: return "empty";
	default: return "raw";
	}
}

static int xl_finish(const struct xl *cp, struct diskspec *d, char *err, size_t errlen);

int diskspec_parse_xl(const char *spec, struct diskspec *d, char *err, size_t errlen)
{
	struct xl c;

	spec_init(d);
	if (!spec)
		spec = "";
	memset(&c, 0, sizeof(c));
	c.spec = spec;
	c.readwrite = true;
	c.prefix_backend = -1;
	c.err = err;
	c.errlen = errlen;
	xl_run(&c);
	if (c.failed && c.target_had_comma && !c.vdev.set) {
		/* Extension: xl's target= eats the rest of the string, so
		 * "target=/srv/dvd.iso,vdev=xvdc,access=r" has no vdev for xl.
		 * Such a spec can never be valid for xl; we read the target up
		 * to the first comma instead, if the whole spec is then valid,
		 * and otherwise report xl's error. */
		struct xl c2;
		char err2[16];
		memset(&c2, 0, sizeof(c2));
		c2.spec = spec;
		c2.split_target = true;
		c2.readwrite = true;
		c2.prefix_backend = -1;
		c2.err = err2;
		c2.errlen = sizeof(err2);
		xl_run(&c2);
		if (!c2.failed && xl_finish(&c2, d, err2, sizeof(err2)) == 0)
			return 0;
		spec_init(d);
	}
	if (c.failed)
		return -1;
	return xl_finish(&c, d, err, errlen);
}

/* From libxlutil's result to ours: what libxl would refuse later, what xm
 * does not serve, the backend. 0 or -1 with err. */
static int xl_finish(const struct xl *cp, struct diskspec *d, char *err, size_t errlen)
{
	const struct xl c = *cp;

	/* What libxl would refuse later, and what xm does not serve. */
	const char *vp = c.vdev.p;
	size_t vn = c.vdev.n;
	if (vn >= 5 && !strncmp(vp, "/dev/", 5)) {
		vp += 5;
		vn -= 5;
	}
	if (!copy_n(d->vdev, sizeof(d->vdev), vp, vn) || vdev_parse(d->vdev, &d->devid) < 0) {
		seterr(err, errlen, "Invalid or unsupported virtual disk identifier %.*s",
		       (int)c.vdev.n, c.vdev.p);
		d->vdev[0] = '\0';
		return -1;
	}
	if (c.format == XF_QCOW || c.format == XF_VHD || c.format == XF_QED) {
		seterr(err, errlen, "Disk format \"%s\" is not supported (raw or qcow2)",
		       xfmt_name(c.format));
		return -1;
	}
	if (c.format == XF_EMPTY) {
		if (!c.is_cdrom) {
			seterr(err, errlen, "Disk vdev=%s is empty but not cdrom", d->vdev);
			return -1;
		}
		if (c.target.set && c.target.n) {
			seterr(err, errlen, "Disk vdev=%s is empty but an image has been provided: %.*s",
			       d->vdev, (int)c.target.n, c.target.p);
			return -1;
		}
		d->empty = true;
	}
	if (c.script.set && c.script.n) {
		seterr(err, errlen, "Block scripts are not supported (script=%.*s)", (int)c.script.n,
		       c.script.p);
		return -1;
	}
	if (c.backend.set && c.backend.n && !sub_is(c.backend.p, c.backend.n, "0") &&
	    !sub_is(c.backend.p, c.backend.n, "Domain-0")) {
		seterr(err, errlen,
		       "Backend domain %.*s is not supported: only Domain-0 serves block devices here",
		       (int)c.backend.n, c.backend.p);
		return -1;
	}
	if (c.target.set && !copy_n(d->target, sizeof(d->target), c.target.p, c.target.n)) {
		seterr(err, errlen, "Block device path too long");
		return -1;
	}
	d->format = c.format == XF_QCOW2 ? DISK_FMT_QCOW2 : DISK_FMT_RAW;
	d->cdrom = c.is_cdrom;
	d->mode = c.readwrite ? DISK_MODE_W : DISK_MODE_R;

	/* The backend: backendtype=, else a prefix, else guessed from the
	 * path (libxl stats it; we may not touch the file system). */
	if (c.backendtype == XB_PHY)
		d->backend = DISK_PHY;
	else if (c.backendtype == XB_TAP || c.backendtype == XB_QDISK)
		d->backend = DISK_QDISK;
	else if (c.backendtype == XB_STANDALONE)
		goto no_backend;
	else if (c.prefix_backend >= 0)
		d->backend = (enum disk_backend)c.prefix_backend;
	else {
		d->backend_auto = true;
		if (d->empty || (d->format == DISK_FMT_RAW && !strncmp(d->target, "/dev/", 5)))
			d->backend = DISK_PHY;
		else if (d->format == DISK_FMT_RAW)
			d->backend = DISK_FILE;
		else
			d->backend = DISK_QDISK;
	}
	if (d->backend != DISK_QDISK && d->format != DISK_FMT_RAW)
		goto no_backend;
	return 0;

no_backend:
	seterr(err, errlen, "no suitable backend for disk %s", d->vdev);
	return -1;
}

/* ---------------------------------------------------------------- cfg */

/* xm's "uname,dev,mode" config entry: no '=', three fields, and a back
 * end xm knows (or none, for an empty cdrom ",hdc:cdrom,r"). */
static bool xm_entry(const char *e, const char **f1, const char **f2)
{
	static const char *const pfx[] = { "phy:", "file:", "tap:", "tap2:", "qcow2:", "raw:" };
	const char *c1, *c2;

	if (strchr(e, '='))
		return false;
	c1 = strchr(e, ',');
	if (!c1)
		return false;
	c2 = strchr(c1 + 1, ',');
	if (!c2 || strchr(c2 + 1, ','))
		return false;
	*f1 = c1;
	*f2 = c2;
	if (c1 == e)
		return memchr(c1 + 1, ':', (size_t)(c2 - c1 - 1)) != NULL;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (!strncmp(e, pfx[i], strlen(pfx[i])))
			return true;
	return false;
}

int diskspec_parse_cfg(const char *entry, struct diskspec *d, char *err, size_t errlen)
{
	const char *c1, *c2;

	if (entry && xm_entry(entry, &c1, &c2)) {
		char back[sizeof(d->target) + 16], front[128], mode[16];
		if (!copy_n(back, sizeof(back), entry, (size_t)(c1 - entry)) ||
		    !copy_n(front, sizeof(front), c1 + 1, (size_t)(c2 - c1 - 1)) ||
		    !copy_n(mode, sizeof(mode), c2 + 1, strlen(c2 + 1))) {
			spec_init(d);
			seterr(err, errlen, "Invalid disk specifier: %s", entry);
			return -1;
		}
		return diskspec_parse_xm(back, front, mode, d, err, errlen);
	}
	return diskspec_parse_xl(entry, d, err, errlen);
}
