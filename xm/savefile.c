/*
 * savefile.c — the save file's head and meta (savefile.h has the layout).
 */
#include "savefile.h"

#include "xm.h"
#include "dom.h"
#include "qmp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint32_t save_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;
	uint32_t crc = 0xFFFFFFFFu;
	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void save_head_pack(unsigned char out[SAVE_HEAD_LEN], const char *meta, size_t meta_len,
		    uint64_t stream_len)
{
	memcpy(out, SAVE_MAGIC, 8);
	put32(out + 8, SAVE_VERSION);
	put32(out + 12, (uint32_t)meta_len);
	put32(out + 16, (uint32_t)stream_len);
	put32(out + 20, (uint32_t)(stream_len >> 32));
	put32(out + 24, save_crc32(meta, meta_len));
	put32(out + 28, save_crc32(out, 28));
}

const char *meta_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

long long meta_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
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

/* What restore relies on is there and of its type. NULL, or what is not. */
static const char *meta_bad(json_t *m)
{
	static const char *const strs[] = { "save-id", "name", "uuid", "kernel", "ramdisk",
		"cmdline", "on_poweroff", "on_reboot", "on_crash", "config", NULL };
	for (int i = 0; strs[i]; i++)
		if (!json_is_string(json_object_get(m, strs[i])))
			return strs[i];
	if (strlen(meta_str(m, "save-id")) != 32 ||
	    strspn(meta_str(m, "save-id"), "0123456789abcdef") != 32)
		return "save-id";
	json_t *hvm = json_object_get(m, "hvm"), *boot = json_object_get(m, "boot");
	if ((hvm && !json_is_boolean(hvm)) || (boot && !json_is_string(boot)))
		return "hvm, boot";
	bool is_hvm = json_is_true(hvm);
	if (!*meta_str(m, "name") || (!is_hvm && !*meta_str(m, "kernel")))
		return "name, kernel";
	if (is_hvm && (!*meta_str(m, "boot") || strlen(meta_str(m, "boot")) > 3 ||
		       strspn(meta_str(m, "boot"), "cdn") != strlen(meta_str(m, "boot"))))
		return "boot";
	if (meta_int(m, "memory") <= 0 || meta_int(m, "vcpus") <= 0 || meta_int(m, "domid") <= 0 ||
	    meta_int(m, "maxmem") < meta_int(m, "memory") || meta_int(m, "maxvcpus") < meta_int(m, "vcpus"))
		return "memory, maxmem, vcpus, maxvcpus, domid";
	json_t *vbds = json_object_get(m, "vbds"), *store = json_object_get(m, "store"), *v;
	json_t *vifs = json_object_get(m, "vifs");
	size_t i;
	if (!json_is_array(vbds) || !json_is_array(store) || (vifs && !json_is_array(vifs)))
		return "vbds, vifs, store";
	json_array_foreach(vbds, i, v) {
		static const char *const vs[] = { "dev", "params", "type", "format", "mode",
			"device-type", "slot", NULL };
		for (int k = 0; vs[k]; k++)
			if (!json_is_string(json_object_get(v, vs[k])))
				return "vbds";
		json_t *bi = json_object_get(v, "bootindex");
		if (meta_int(v, "devid") <= 0 || (bi && !json_is_integer(bi)))
			return "vbds";
	}
	json_array_foreach(vifs, i, v) {
		static const char *const vs[] = { "mac", "bridge", "ip", "model", "vifname", "type",
			"slot", NULL };
		for (int k = 0; vs[k]; k++)
			if (!json_is_string(json_object_get(v, vs[k])))
				return "vifs";
		if (meta_int(v, "handle") < 0)
			return "vifs";
	}
	json_array_foreach(store, i, v) {
		if (!json_is_array(v) || json_array_size(v) != 3 ||
		    !json_is_string(json_array_get(v, 0)) || !json_is_string(json_array_get(v, 1)) ||
		    !json_is_array(json_array_get(v, 2)))
			return "store";
	}
	return NULL;
}

int save_open(const char *file, int *fdp, json_t **meta, char *err, size_t errlen)
{
	unsigned char h[SAVE_HEAD_LEN];
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open %s: %s", file, strerror(errno));
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, h, sizeof(h)) : -2;
	if (n == -2) {
		close(fd);
		return fail(err, errlen, "%s is not a regular file", file);
	}
	if (n < 0 || (size_t)n < sizeof(h) || memcmp(h, SAVE_MAGIC, 8) != 0) {
		close(fd);
		return fail(err, errlen, "%s is not an xm save file", file);
	}
	if (get32(h + 28) != save_crc32(h, 28)) {
		close(fd);
		return fail(err, errlen, "%s is damaged or incomplete (its head does not check: "
			    "a save that did not finish?)", file);
	}
	uint32_t version = get32(h + 8), mlen = get32(h + 12), mcrc = get32(h + 24);
	uint64_t slen = (uint64_t)get32(h + 16) | (uint64_t)get32(h + 20) << 32;
	if (version != SAVE_VERSION) {
		close(fd);
		return fail(err, errlen, "%s is an xm save file of version %u; this xm reads "
			    "version %u", file, version, SAVE_VERSION);
	}
	uint64_t want = SAVE_HEAD_LEN + (uint64_t)mlen + slen;
	if (mlen == 0 || mlen > SAVE_META_MAX || slen == 0 || (uint64_t)st.st_size != want) {
		close(fd);
		return fail(err, errlen, "%s is truncated or damaged: %lld bytes, its head says "
			    "%llu", file, (long long)st.st_size, (unsigned long long)want);
	}
	char *text = malloc(mlen + 1);
	if (!text || read(fd, text, mlen) != (ssize_t)mlen) {
		free(text);
		close(fd);
		return fail(err, errlen, "cannot read %s: %s", file, strerror(errno ? errno : EIO));
	}
	text[mlen] = '\0';
	json_error_t je;
	json_t *m = save_crc32(text, mlen) == mcrc ? json_loadb(text, mlen, 0, &je) : NULL;
	free(text);
	const char *bad = m ? meta_bad(m) : "checksum";
	if (!m || !json_is_object(m) || bad) {
		json_decref(m);
		close(fd);
		return fail(err, errlen, "%s is damaged: its domain description does not check (%s)",
			    file, bad ? bad : "not an object");
	}
	*fdp = fd;
	*meta = m;
	return 0;
}

int save_migration_wait(struct qmp *q, const char *what, long deadline, int flush, char *err,
			size_t errlen)
{
	for (;;) {
		if (flush >= 0) /* (a hint: the fsync after it is what counts) */
			sync_file_range(flush, 0, 0, SYNC_FILE_RANGE_WRITE);
		json_t *ret = NULL;
		char *qerr = NULL;
		if (qmp_exec(q, "query-migrate", NULL, &ret, &qerr, 5000) < 0) {
			snprintf(err, errlen, "%s: query-migrate: %s", what, qerr ? qerr : "no answer");
			free(qerr);
			return -1;
		}
		const char *st = json_string_value(json_object_get(ret, "status"));
		if (st && strcmp(st, "completed") == 0) {
			json_decref(ret);
			return 0;
		}
		if (st && (strcmp(st, "failed") == 0 || strcmp(st, "cancelled") == 0)) {
			const char *why = json_string_value(json_object_get(ret, "error-desc"));
			snprintf(err, errlen, "%s %s: %s", what, st, why ? why : "QEMU gave no reason");
			json_decref(ret);
			return -1;
		}
		json_decref(ret);
		if (now_ms() > deadline) {
			snprintf(err, errlen, "%s: not done in time (status %s)", what, st ? st : "none");
			return -1;
		}
		struct timespec ts = { 0, SAVE_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

int save_drop_port(struct xs_handle *h, unsigned int id, const char *name, struct qmp *on)
{
	char arg[16], sock[600], *err = NULL;
	snprintf(arg, sizeof(arg), "%u", id);
	dom_file(id, "ctl.sock", sock, sizeof(sock));
	struct qmp *q = on ? on : xm_qmp_connect(sock, 5000, &err);
	if (!q) {
		xm_error("domain %s: %s", name, err);
		free(err);
		return 1;
	}
	char *r = xs_control_command(h, "disconnect", arg, (unsigned int)strlen(arg) + 1);
	if (!r) {
		if (q != on)
			qmp_close(q);
		return xm_store_error(errno, "domain %s: xmstored cannot let go of its port: %s",
				      name, strerror(errno));
	}
	free(r);
	long deadline = now_ms() + 3000;
	while (now_ms() < deadline) {
		json_t *ret = NULL, *c;
		size_t i;
		bool down = false;
		if (qmp_exec(q, "query-chardev", NULL, &ret, NULL, 5000) < 0)
			break;
		json_array_foreach(ret, i, c)
			if (strcmp(meta_str(c, "label"), "xenbus") == 0)
				down = strncmp(meta_str(c, "filename"), "disconnected:", 13) == 0;
		json_decref(ret);
		if (down) {
			if (q != on)
				qmp_close(q);
			return 0;
		}
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	if (q != on)
		qmp_close(q);
	return xm_error("domain %s: its QEMU did not let go of the XenStore port", name);
}
