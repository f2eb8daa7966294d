/*
 * config.c — xm/xl domain configs. Values come from libxlutil's parser
 * (xlu_cfg_*), as xl reads them. libxlutil cannot list the keys of a file,
 * so a small scan of the top-level assignments finds each key and its line,
 * and checks it against the table of keys (cfgkeys.c): a key xm does not
 * honour is refused by name with its reason, or accepted when its value
 * asks for what xm does anyway; a key not in the table is a typo. Nothing
 * is silently ignored.
 */
#include "config.h"
#include "cfgkeys.h"
#include "cpus.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <libxlutil.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * libxlutil drags in libxenlight and some twenty libraries more; every xm
 * command would pay for loading them (~4 ms, measured by bench/block.sh),
 * while only configs need it. So it is loaded here, when a config is read.
 */
static struct {
	XLU_Config *(*init)(FILE *, const char *);
	int (*readdata)(XLU_Config *, const char *, int);
	void (*destroy)(XLU_Config *);
	int (*get_string)(const XLU_Config *, const char *, const char **, int);
	int (*get_long)(const XLU_Config *, const char *, long *, int);
	int (*get_list)(const XLU_Config *, const char *, XLU_ConfigList **, int *, int);
	const char *(*get_listitem)(const XLU_ConfigList *, int);
} xlu;

static int xlu_load(char *err, size_t len)
{
	static void *lib;
	if (lib)
		return 0;
	lib = dlopen("libxlutil.so.4.17", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		lib = dlopen("libxlutil.so", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, len, "cannot load libxlutil (Debian's libxen-dev): %s", dlerror());
		return -1;
	}
#define SYM(field, name) \
	if (!(*(void **)&xlu.field = dlsym(lib, name))) { \
		snprintf(err, len, "libxlutil lacks %s", name); \
		return -1; \
	}
	SYM(init, "xlu_cfg_init");
	SYM(readdata, "xlu_cfg_readdata");
	SYM(destroy, "xlu_cfg_destroy");
	SYM(get_string, "xlu_cfg_get_string");
	SYM(get_long, "xlu_cfg_get_long");
	SYM(get_list, "xlu_cfg_get_list");
	SYM(get_listitem, "xlu_cfg_get_listitem");
#undef SYM
	return 0;
}

/* What a config without memory = or vcpus = gets. */
#define DEFAULT_MEMORY_MIB 128
#define DEFAULT_VCPUS 1
#define MAX_VCPUS 64

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* The value of key k, as the table compares it and a message shows it:
 * a number in decimal (kind 'n'), or the string, in show quoted; a list
 * shows as "[...]" and sets *items to its length (else -1). */
static void value_of(XLU_Config *x, const struct cfgkey *k, char *val, size_t vlen, char *show,
		     size_t slen, int *items)
{
	const char *s;
	long n;
	XLU_ConfigList *list;
	*items = -1;
	if (k->kind == 'n' && xlu.get_long(x, k->key, &n, 1) == 0) {
		snprintf(val, vlen, "%ld", n);
		snprintf(show, slen, "%ld", n);
	} else if (xlu.get_string(x, k->key, &s, 1) == 0) {
		snprintf(val, vlen, "%s", s);
		bool digits = *s && strspn(s, "0123456789") == strlen(s);
		snprintf(show, slen, digits && k->kind != 's' ? "%s" : "\"%s\"", s);
	} else {
		if (xlu.get_list(x, k->key, &list, items, 1) != 0)
			*items = -1; /* neither: never an empty list */
		snprintf(val, vlen, "[...]");
		snprintf(show, slen, *items == 0 ? "[]" : "[...]");
	}
}

/* For "=KEY" values: the number KEY gives, or its default. */
static const char *same_as(const char *key, void *ctx)
{
	static char buf[32];
	long v, def = strcmp(key, "memory") == 0  ? DEFAULT_MEMORY_MIB :
		      strcmp(key, "vcpus") == 0 ? DEFAULT_VCPUS :
						  -1;
	if (xlu.get_long(ctx, key, &v, 1) != 0)
		v = def;
	snprintf(buf, sizeof(buf), "%ld", v);
	return buf;
}

/* The key s (n bytes) at line of file, against the table. 0, or -1 (err). */
static int check_key(XLU_Config *x, const char *file, int line, const char *s, size_t n,
		     char *err, size_t len)
{
	const struct cfgkey *k = cfgkey_find(s, n);
	if (!k) {
		const char *near = cfgkey_nearest(s, n);
		return fail(err, len, "%s:%d: unknown config key '%.*s'%s%s%s", file, line, (int)n,
			    s, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
	if (k->status == CK_HONOURED)
		return 0;
	char val[256], show[256], only[256];
	int items;
	value_of(x, k, val, sizeof(val), show, sizeof(show), &items);
	if (k->status == CK_REFUSED || k->status == CK_PLANNED) {
		if (items == 0)
			return 0; /* an empty list asks for nothing */
		return fail(err, len, "%s:%d: config key '%s' is not supported%s: %s", file, line,
			    k->key, cfgkey_planned(k) ? " yet" : "", k->why);
	}
	if (items < 0 && cfgkey_allows(k, val, same_as, x))
		return 0;
	cfgkey_values_text(k, only, sizeof(only));
	return fail(err, len, "%s:%d: %s = %s is not supported%s (only %s): %s", file, line, k->key,
		    show, cfgkey_planned(k) ? " yet" : "", only, k->why);
}

/* Check every top-level key of text against the table, in the order they
 * come; 0, or -1 with the first refusal in err. */
static int scan_keys(XLU_Config *x, const char *text, const char *file, char *err, size_t len)
{
	int depth = 0, line = 1;
	bool at_stmt = true;

	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			if (depth == 0)
				at_stmt = true;
			continue;
		}
		if (*p == '#') {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			char q = *p;
			while (p[1] && p[1] != q)
				line += *++p == '\n';
			if (p[1])
				p++;
			at_stmt = false;
			continue;
		}
		if (*p == '[' || *p == '(')
			depth++;
		else if ((*p == ']' || *p == ')') && depth > 0)
			depth--;
		else if (*p == ';' && depth == 0)
			at_stmt = true;
		else if (depth == 0 && at_stmt && (isalpha((unsigned char)*p) || *p == '_')) {
			const char *s = p;
			while (isalnum((unsigned char)p[1]) || p[1] == '_')
				p++;
			if (check_key(x, file, line, s, (size_t)(p - s) + 1, err, len) < 0)
				return -1;
			at_stmt = false;
		} else if (!isspace((unsigned char)*p)) {
			at_stmt = false;
		}
	}
	return 0;
}

static char *read_file(const char *path, char *err, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fail(err, len, "Cannot read config file %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	do {
		if (cap - n < 4096) {
			char *b = realloc(buf, cap + 65536);
			if (!b) {
				free(buf);
				fclose(f);
				fail(err, len, "out of memory");
				return NULL;
			}
			buf = b;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0 && n < 1024 * 1024);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A path from the config, taken relative to the config file's folder. */
static char *resolve(const char *cfgfile, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char tmp[4096], *out;
	snprintf(tmp, sizeof(tmp), "%s", cfgfile);
	if (asprintf(&out, "%s/%s", dirname(tmp), p) < 0)
		return NULL;
	char *real = realpath(out, NULL);
	if (real) {
		free(out);
		return real;
	}
	return out;
}

static int get_str(XLU_Config *x, const char *key, char **out, char *err, size_t len)
{
	const char *v;
	int r = xlu.get_string(x, key, &v, 1);
	if (r == ESRCH) {
		*out = NULL;
		return 0;
	}
	if (r)
		return fail(err, len, "config key '%s' must be a string", key);
	*out = strdup(v);
	return 0;
}

static int get_num(XLU_Config *x, const char *key, long *out, long def, char *err, size_t len)
{
	int r = xlu.get_long(x, key, out, 1);
	if (r == ESRCH) {
		*out = def;
		return 0;
	}
	if (r)
		return fail(err, len, "config key '%s' must be a number", key);
	return 0;
}

/* name, memory, vcpus. 0 or -1 (err). */
static int load_identity(XLU_Config *x, struct domcfg *c, const char *path, char *err,
			 size_t len)
{
	if (get_str(x, "name", &c->name, err, len) ||
	    get_num(x, "memory", &c->memory_mib, DEFAULT_MEMORY_MIB, err, len) ||
	    get_num(x, "vcpus", &c->vcpus, DEFAULT_VCPUS, err, len))
		return -1;
	if (!c->name || !*c->name)
		return fail(err, len, "%s: no domain name given (name = \"...\")", path);
	for (const char *p = c->name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return fail(err, len, "invalid domain name '%s' (letters, digits, '-', '_', '.')",
				    c->name);
	if (strcmp(c->name, "Domain-0") == 0 || isdigit((unsigned char)c->name[0]))
		return fail(err, len, "invalid domain name '%s'", c->name);
	if (c->memory_mib < 32 || c->memory_mib > 65536)
		return fail(err, len, "memory = %ld: must be 32 to 65536 (MiB)", c->memory_mib);
	if (c->vcpus < 1 || c->vcpus > MAX_VCPUS)
		return fail(err, len, "vcpus = %ld: must be 1 to %d", c->vcpus, MAX_VCPUS);
	return 0;
}

/* maxmem, maxvcpus (each at least its base: xl's rule) and cpus. 0 or -1. */
static int load_limits(XLU_Config *x, struct domcfg *c, const char *path, char *err,
		       size_t len)
{
	if (get_num(x, "maxmem", &c->maxmem_mib, c->memory_mib, err, len) ||
	    get_num(x, "maxvcpus", &c->maxvcpus, c->vcpus, err, len))
		return -1;
	if (c->maxmem_mib < c->memory_mib || c->maxmem_mib > 65536)
		return fail(err, len, "%s: maxmem = %ld: must be at least memory = %ld and at most "
			    "65536 (MiB)", path, c->maxmem_mib, c->memory_mib);
	if (c->maxvcpus < c->vcpus || c->maxvcpus > MAX_VCPUS)
		return fail(err, len, "%s: maxvcpus = %ld: must be at least vcpus = %ld and at "
			    "most %d", path, c->maxvcpus, c->vcpus, MAX_VCPUS);
	/* cpus = "LIST": every vCPU on LIST; cpus = ["L0", "L1", ...]: vCPU i
	 * on Li, the vCPUs past the list unpinned (xl.cfg(5)) */
	const char *s = NULL;
	XLU_ConfigList *list = NULL;
	int n = 0;
	char why[200];
	cpu_set_t set;
	bool all;
	if (xlu.get_string(x, "cpus", &s, 1) == 0) {
		if (cpus_parse(s, &set, &all, why, sizeof(why)) < 0)
			return fail(err, len, "%s: cpus = \"%s\": %s", path, s, why);
		if (all)
			return 0;
		n = (int)c->maxvcpus;
	} else if (xlu.get_list(x, "cpus", &list, &n, 1) == 0) {
		if (n > c->maxvcpus)
			return fail(err, len, "%s: cpus = [...] has %d entries for %ld vCPUs "
				    "(maxvcpus)", path, n, c->maxvcpus);
	} else {
		long v;
		if (xlu.get_long(x, "cpus", &v, 1) == 0)
			return fail(err, len, "%s: cpus = %ld: must be a string (\"0-1\") or a list of "
				    "strings", path, v);
		return 0;
	}
	if (n == 0)
		return 0;
	if (!(c->cpus = calloc((size_t)n, sizeof(char *))))
		return fail(err, len, "out of memory");
	c->ncpus = n;
	for (int i = 0; i < n; i++) {
		const char *item = list ? xlu.get_listitem(list, i) : s;
		if (!item)
			return fail(err, len, "%s: cpus = [...] must be a list of strings", path);
		if (cpus_parse(item, &set, &all, why, sizeof(why)) < 0)
			return fail(err, len, "%s: cpus = [...] entry %d: %s", path, i, why);
		if (!(c->cpus[i] = strdup(all ? "all" : item)))
			return fail(err, len, "out of memory");
	}
	return 0;
}

/* Xen's HVM loader, which xm's HVM configs name as their kernel
 * (xmexample.hvm): here it means the BIOS (SeaBIOS) that boots a disk. */
#define HVMLOADER "hvmloader"

/* builder = "hvm" or type = "hvm" (their values checked by the table),
 * and boot = (HVM only): one to three of c (disk), d (CD-ROM), n
 * (network), each once, as QEMU's PC takes them. 0 or -1 (err). */
static int load_type(XLU_Config *x, struct domcfg *c, const char *path, char *err, size_t len)
{
	char *builder = NULL, *type = NULL, *boot = NULL;
	int rc = -1;
	if (get_str(x, "builder", &builder, err, len) || get_str(x, "type", &type, err, len) ||
	    get_str(x, "boot", &boot, err, len))
		goto out;
	bool bhvm = builder && strcmp(builder, "hvm") == 0, thvm = type && strcmp(type, "hvm") == 0;
	if (builder && type && bhvm != thvm) {
		fail(err, len, "%s: builder = \"%s\" and type = \"%s\" disagree", path, builder, type);
		goto out;
	}
	c->hvm = bhvm || thvm;
	if (boot && !c->hvm) {
		fail(err, len, "%s: boot = \"%s\": the boot order is for HVM guests (builder = \"hvm\"); "
		     "a PV guest boots its kernel =", path, boot);
		goto out;
	}
	const char *order = boot ? boot : "cd"; /* xl's default */
	size_t n = strlen(order);
	if (n < 1 || n > 3) {
		fail(err, len, "%s: boot = \"%s\": one to three of c (disk), d (CD-ROM), n (network)",
		     path, order);
		goto out;
	}
	for (size_t i = 0; c->hvm && i < n; i++) {
		if (order[i] == 'a' || order[i] == 'b') {
			fail(err, len, "%s: boot = \"%s\": '%c' is a floppy drive, which a guest does not "
			     "have (c disk, d CD-ROM, n network)", path, order, order[i]);
			goto out;
		}
		if (!strchr("cdn", order[i]) || memchr(order, order[i], i)) {
			fail(err, len, "%s: boot = \"%s\": one to three of c (disk), d (CD-ROM), "
			     "n (network), each once", path, order);
			goto out;
		}
	}
	if (c->hvm)
		snprintf(c->boot, sizeof(c->boot), "%s", order);
	rc = 0;
out:
	free(builder);
	free(type);
	free(boot);
	return rc;
}

/* kernel, ramdisk and the command line (root, cmdline, extra). An HVM
 * guest without kernel =, or with Xen's hvmloader, boots through its BIOS;
 * with another kernel it is booted directly, as xl does. 0 or -1. */
static int load_image(XLU_Config *x, struct domcfg *c, const char *path, char *err, size_t len)
{
	char *s = NULL;
	if (get_str(x, "kernel", &s, err, len))
		return -1;
	if (!s && !c->hvm)
		return fail(err, len, "%s: no kernel given (kernel = \"...\")", path);
	if (s && c->hvm) {
		const char *base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
		if (strcmp(base, HVMLOADER) == 0) { /* the BIOS: nothing to read */
			free(s);
			s = NULL;
		}
	}
	if (s) {
		c->kernel = resolve(path, s);
		free(s);
		if (access(c->kernel, R_OK) < 0)
			return fail(err, len, "kernel %s: %s", c->kernel, strerror(errno));
	}
	if (get_str(x, "ramdisk", &s, err, len))
		return -1;
	if (s) {
		c->ramdisk = resolve(path, s);
		free(s);
		if (!c->kernel)
			return fail(err, len, "%s: ramdisk = without a kernel: an HVM guest's BIOS boots "
				    "its disk, whose boot loader loads its own", path);
		if (access(c->ramdisk, R_OK) < 0)
			return fail(err, len, "ramdisk %s: %s", c->ramdisk, strerror(errno));
	}
	char *extra = NULL, *cmdline = NULL, *root = NULL;
	int rc = -1;
	if (get_str(x, "extra", &extra, err, len) || get_str(x, "cmdline", &cmdline, err, len) ||
	    get_str(x, "root", &root, err, len))
		goto out;
	if (!c->kernel && (extra || cmdline || root)) {
		fail(err, len, "%s: %s = without a kernel: an HVM guest's BIOS boots its disk, whose "
		     "boot loader gives the kernel its command line", path,
		     root ? "root" : cmdline ? "cmdline" : "extra");
		goto out;
	}
	/* root=ROOT, cmdline and extra, a space between each (xl takes cmdline
	 * alone when it is given; xm.cfg(5) says what xm does) */
	if (asprintf(&c->extra, "%s%s%s%s%s%s", root ? "root=" : "", root ? root : "",
		     root && (cmdline || extra) ? " " : "", cmdline ? cmdline : "",
		     cmdline && extra ? " " : "", extra ? extra : "") < 0)
		c->extra = NULL;
	rc = 0;
out:
	free(extra);
	free(cmdline);
	free(root);
	return rc;
}

/* uuid and the on_* actions (their values checked by the table). 0 or -1. */
static int load_actions(XLU_Config *x, struct domcfg *c, char *err, size_t len)
{
	if (get_str(x, "uuid", &c->uuid, err, len) ||
	    get_str(x, "on_poweroff", &c->on_poweroff, err, len) ||
	    get_str(x, "on_reboot", &c->on_reboot, err, len) ||
	    get_str(x, "on_crash", &c->on_crash, err, len))
		return -1;
	return 0;
}

/* disk = [...], as given (parsed by the caller). 0 or -1 (err). */
static int load_disks(XLU_Config *x, struct domcfg *c, const char *path, char *err, size_t len)
{
	XLU_ConfigList *list;
	int n;
	if (xlu.get_list(x, "disk", &list, &n, 1) != 0)
		return 0;
	c->disks = calloc((size_t)n + 1, sizeof(char *));
	if (!c->disks)
		return fail(err, len, "out of memory");
	for (int i = 0; i < n; i++) {
		const char *item = xlu.get_listitem(list, i); /* NULL: not a string */
		if (!item)
			return fail(err, len, "%s: disk = [...] must be a list of strings", path);
		if (!(c->disks[c->ndisks] = strdup(item)))
			return fail(err, len, "out of memory");
		c->ndisks++;
	}
	return 0;
}

/* vif = [...], as given (parsed by the caller). 0 or -1 (err). */
static int load_vifs(XLU_Config *x, struct domcfg *c, const char *path, char *err, size_t len)
{
	XLU_ConfigList *list;
	int n;
	if (xlu.get_list(x, "vif", &list, &n, 1) != 0)
		return 0;
	c->vifs = calloc((size_t)n + 1, sizeof(char *));
	if (!c->vifs)
		return fail(err, len, "out of memory");
	for (int i = 0; i < n; i++) {
		const char *item = xlu.get_listitem(list, i);
		if (!item)
			return fail(err, len, "%s: vif = [...] must be a list of strings", path);
		if (!(c->vifs[c->nvifs] = strdup(item)))
			return fail(err, len, "out of memory");
		c->nvifs++;
	}
	return 0;
}

/*
 * xm read its configs as Python (xmexample2 computes names from a vmid,
 * xmexample.hvm imports os); xl's syntax, which libxlutil reads, has only
 * KEY = VALUE. When libxlutil's parse error ("FILE:LINE: config parsing
 * error ...") is at a line that reads as Python, the message says so.
 */
#define PYTHON_HINT " (Python: xm reads only xl's KEY = VALUE syntax, see xm.cfg(5))"

static bool pythonic(const char *text, const char *path, const char *report)
{
	size_t plen = strlen(path);
	if (strncmp(report, path, plen) != 0 || report[plen] != ':')
		return false;
	long line = strtol(report + plen + 1, NULL, 10);
	const char *l = text;
	for (long i = 1; i < line && l; i++)
		if ((l = strchr(l, '\n')))
			l++;
	if (!l)
		return false;
	static const char *const words[] = { "import", "from",  "def", "if",     "elif",
					     "else",   "for",   "while", "return", "try",
					     "except", "print", "True", "False",  "None" };
	for (const char *p = l; *p && *p != '\n' && *p != '#'; p++) {
		if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);
			if (!q)
				return false;
			p = q;
		} else if (strchr("%(){}:", *p) || (*p == '+' && p[1] != '=')) {
			return true;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			size_t n = 1;
			while (isalnum((unsigned char)p[n]) || p[n] == '_')
				n++;
			for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
				if (strlen(words[i]) == n && strncmp(words[i], p, n) == 0)
					return true;
			p += n - 1;
		}
	}
	return false;
}

int config_load(const char *path, struct domcfg *c, char *err, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->file = strdup(path);
	if (xlu_load(err, len) < 0)
		return -1;
	char *text = read_file(path, err, len);
	if (!text)
		return -1;

	char *report = NULL;
	size_t rlen = 0;
	FILE *rep = open_memstream(&report, &rlen);
	XLU_Config *x = xlu.init(rep ? rep : stderr, path);
	int rc = -1;
	if (!x) {
		fail(err, len, "out of memory");
		goto out;
	}
	if (xlu.readdata(x, text, (int)strlen(text))) {
		if (rep)
			fflush(rep);
		char *nl = report ? strchr(report, '\n') : NULL;
		if (nl)
			*nl = '\0';
		fail(err, len, "%s%s", report && *report ? report : "cannot parse config file",
		     report && pythonic(text, path, report) ? PYTHON_HINT : "");
		goto out;
	}
	if (scan_keys(x, text, path, err, len) || load_identity(x, c, path, err, len) ||
	    load_limits(x, c, path, err, len) || load_type(x, c, path, err, len) ||
	    load_image(x, c, path, err, len) || load_actions(x, c, err, len) ||
	    load_disks(x, c, path, err, len) || load_vifs(x, c, path, err, len))
		goto out;
	rc = 0;
out:
	if (x)
		xlu.destroy(x);
	if (rep)
		fclose(rep);
	free(report);
	free(text);
	return rc;
}

void config_free(struct domcfg *c)
{
	free(c->file);
	free(c->name);
	free(c->kernel);
	free(c->ramdisk);
	free(c->extra);
	free(c->uuid);
	free(c->on_poweroff);
	free(c->on_reboot);
	free(c->on_crash);
	for (int i = 0; i < c->ncpus; i++)
		free(c->cpus[i]);
	free(c->cpus);
	for (int i = 0; i < c->ndisks; i++)
		free(c->disks[i]);
	free(c->disks);
	for (int i = 0; i < c->nvifs; i++)
		free(c->vifs[i]);
	free(c->vifs);
	memset(c, 0, sizeof(*c));
}

static bool is_file(const char *path)
{
	return access(path, R_OK) == 0;
}

const char *config_find(const char *name, char *buf, size_t len)
{
	if (strchr(name, '/') || is_file(name))
		return name;
	const char *path = getenv("XM_CONFIG_PATH");
	if (!path || !*path)
		path = XM_CONFIG_PATH_DEFAULT;
	for (const char *d = path; *d;) {
		size_t n = strcspn(d, ":");
		static const char *const suffixes[] = { "", ".cfg" };
		for (int s = 0; s < 2 && n > 0; s++) {
			int w = snprintf(buf, len, "%.*s/%s%s", (int)n, d, name, suffixes[s]);
			if (w > 0 && (size_t)w < len && is_file(buf))
				return buf;
		}
		d += n + (d[n] == ':');
	}
	return name;
}
