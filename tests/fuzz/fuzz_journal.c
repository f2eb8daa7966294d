/*
 * fuzz_journal.c — libFuzzer target: xmstored's start from its files
 * (xmstored/journal.c: the snapshot, then the journal's records replayed,
 * a damaged or torn tail cut), on files as a crash, a full disk or a
 * careless hand can leave them. The input is
 *   byte 0    bit 0: make every checksum right first (file headers, and the
 *             records as far as their lengths chain; so that the fuzzer gets
 *             past the crc32s it cannot forge); bit 1: there is a snapshot
 *   bytes 1-2 the snapshot's length (little-endian, cut to what is there)
 *   then      the snapshot, then the journal (none if empty)
 * What journal.h and journal.c's head comment promise, checked:
 *  - journal_open fails cleanly or loads a tree that has a root;
 *  - after a load, the journal file holds a valid header and then records
 *    that all read whole, up to its very end (the bad tail was cut);
 *  - what was loaded survives a clean stop (journal_close, which compacts)
 *    and a start again: the same nodes and the same domains.
 */
#include "core.h"
#include "domain.h"
#include "journal.h"
#include "jrec.h"
#include "store.h"
#include "same-tree.h"
#include "util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_HDR 24

static char dir[] = "/tmp/xm-fuzz-journal-XXXXXX";
static char jpath[64], spath[64], chan1[64], chan2[64];

static void cleanup(void)
{
	char p[128];
	unlink(jpath);
	unlink(spath);
	snprintf(p, sizeof(p), "%s.tmp", jpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s.tmp", spath);
	unlink(p);
}

static void rm_dir(void)
{
	cleanup();
	rmdir(chan1);
	rmdir(chan2);
	rmdir(dir);
}

static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	snprintf(jpath, sizeof(jpath), "%s/xmstored.journal", dir);
	snprintf(spath, sizeof(spath), "%s/xmstored.snap", dir);
	snprintf(chan1, sizeof(chan1), "%s/c1", dir);
	snprintf(chan2, sizeof(chan2), "%s/c2", dir);
	log_open("fuzz_journal", fopen("/dev/null", "w"), LOG_ERR_);
	atexit(rm_dir);
}

static void crc_put(char *p, const char *from, size_t n, const char *more, size_t m)
{
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, (const Bytef *)from, (uInt)n);
	c = crc32(c, (const Bytef *)more, (uInt)m);
	uint32_t v = (uint32_t)c;
	memcpy(p, &v, 4);
}

/* The file header's and the records' magic and checksums made right; a
 * snapshot's one record spans the rest of the file. */
static void fix_file(char *b, size_t len, const char *magic, bool snap)
{
	uint32_t rmagic = JREC_MAGIC, l;

	if (len < FILE_HDR)
		return;
	memcpy(b, magic, 8);
	crc_put(b + 20, b, 20, NULL, 0);
	for (size_t off = FILE_HDR; len - off >= JREC_HDR; off += JREC_HDR + l) {
		char *h = b + off;
		memcpy(h, &rmagic, 4);
		if (snap) {
			l = (uint32_t)(len - off - JREC_HDR);
			memcpy(h + 4, &l, 4);
		}
		memcpy(&l, h + 4, 4);
		if (l > len - off - JREC_HDR)
			return;
		crc_put(h + 20, h, 20, h + JREC_HDR, l);
	}
}

static void put_file(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* After a load: a good header, then whole records to the end. */
static void check_journal_file(void)
{
	char buf[1 << 16];
	int fd = open(jpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		abort();
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < FILE_HDR || memcmp(buf, "XMSTJRN1", 8) != 0)
		abort();
	for (size_t off = FILE_HDR, sz; off < (size_t)n; off += sz) {
		struct jrec r;
		if (jrec_read(buf + off, (size_t)n - off, &r, &sz) != JREC_OK)
			abort();
	}
}

static bool same_domains(struct daemon *a, struct daemon *b)
{
	size_t na = 0, nb = 0;
	for (struct domain *x = a->domains; x; x = x->next, na++) {
		struct domain *y = domain_find(b, x->domid);
		if (!y || x->has_target != y->has_target ||
		    (x->has_target && x->target != y->target))
			return false;
	}
	for (struct domain *y = b->domains; y; y = y->next)
		nb++;
	return na == nb;
}

static int start(struct daemon *d, const char *chan)
{
	struct journal_opts o = { .dir = dir };
	if (core_init(d) < 0)
		abort();
	d->chan_dir = chan;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		abort();
	return journal_open(d, &o);
}

static void stop(struct daemon *d)
{
	core_fini(d);
	close(d->epfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct daemon d1, d2;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 3 || size > 60000)
		return 0;
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t slen = (size_t)(uint8_t)buf[1] | (size_t)(uint8_t)buf[2] << 8;
	if (slen > size - 3)
		slen = size - 3;
	char *snap = buf + 3, *jrn = snap + slen;
	size_t jlen = size - 3 - slen;
	cleanup();
	if (buf[0] & 1) {
		fix_file(snap, slen, "XMSTSNP1", true);
		fix_file(jrn, jlen, "XMSTJRN1", false);
	}
	if (buf[0] & 2)
		put_file(spath, snap, slen);
	if (jlen)
		put_file(jpath, jrn, jlen);

	memset(&d1, 0, sizeof(d1));
	if (start(&d1, chan1) == 0) {
		if (!store_lookup(&d1.store, "/"))
			abort();
		check_journal_file();
		journal_close(&d1);
		memset(&d2, 0, sizeof(d2));
		if (start(&d2, chan2) != 0 || !same_tree(&d1.store, &d2.store) ||
		    !same_domains(&d1, &d2))
			abort();
		journal_close(&d2);
		stop(&d2);
	}
	stop(&d1);
	free(buf);
	return 0;
}
