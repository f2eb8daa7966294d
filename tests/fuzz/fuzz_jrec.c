/*
 * fuzz_jrec.c — libFuzzer target: xmstored's journal record decoder
 * (xmstored/jrec.c), on bytes as a damaged journal or snapshot file holds
 * them. The first byte chooses: bit 0 set, the header's length and
 * checksum are made right for the rest of the input before it is read (so
 * that the fuzzer reaches the entries past the crc32 it cannot forge);
 * else the rest is read as it is. What jrec.h promises, checked:
 *  - a record read OK is exactly JREC_HDR + len bytes, and its entries,
 *    decoded one by one and encoded again (jrec_node, jrec_del, jrec_dom,
 *    jrec_end with its nent and gen), give back the very same bytes;
 *  - any shorter prefix of a good record reads as JREC_SHORT (a torn tail
 *    is told from damage), and JREC_SHORT is only said of a prefix;
 *  - applying a record is idempotent: once or twice, the same tree and the
 *    same domains;
 *  - the tree it gives, written out as one snapshot record (as journal.c's
 *    compaction does), reads OK and applies to the same tree on a fresh
 *    store.
 */
#include "jrec.h"
#include "store.h"
#include "same-tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The header made right for buf (len bytes): length, then checksum. */
static void fix_header(char *buf, size_t len)
{
	uint32_t magic = JREC_MAGIC, l = (uint32_t)(len - JREC_HDR);
	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &l, 4);
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, (const Bytef *)buf, 20);
	c = crc32(c, (const Bytef *)buf + JREC_HDR, l);
	uint32_t crc = (uint32_t)c;
	memcpy(buf + 20, &crc, 4);
}

/* Decode every entry of r and encode it again: the same bytes as rec. */
static void reencode(const struct jrec *r, const char *rec, size_t size)
{
	struct jbuf b = { 0 };
	struct jent e = { 0 };
	size_t off = 0, start = jrec_begin(&b);
	uint32_t n = 0;
	int got;

	while ((got = jent_next(r, &off, &e)) == 1) {
		n++;
		if (e.type == JE_NODE) {
			if (e.img.name != e.name || strlen(e.name) == 0 || e.img.nperms == 0 ||
			    (e.img.childlen && e.img.children[e.img.childlen - 1] != '\0'))
				abort();
			jrec_img(&b, &e.img);
		} else if (e.type == JE_DEL) {
			jrec_del(&b, e.name);
		} else {
			jrec_dom(&b, e.type, e.domid, e.target);
		}
	}
	if (got != 0 || n != r->nent || off != r->len)
		abort();
	jrec_end(&b, start, n, r->gen);
	if (b.oom || b.len != size || memcmp(b.p, rec, size) != 0)
		abort();
	jbuf_free(&b);
	jent_free(&e);
}

/* Same domains, in any order? */
static bool same_doms(const struct jdoms *a, const struct jdoms *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		size_t j = 0;
		while (j < b->n && b->v[j].domid != a->v[i].domid)
			j++;
		if (j == b->n || a->v[i].has_target != b->v[j].has_target ||
		    (a->v[i].has_target && a->v[i].target != b->v[j].target))
			return false;
	}
	return true;
}

/* The whole tree and the domains as one record (journal.c's snapshot). */
static void snapshot(const struct store *s, const struct jdoms *d, struct jbuf *b)
{
	size_t it, start = jrec_begin(b);
	uint32_t n = 0;

	for (const struct node *e = store_first(s, &it); e; e = store_next(s, &it, e), n++)
		jrec_node(b, e);
	for (size_t i = 0; i < d->n; i++, n++) {
		jrec_dom(b, JE_INTRO, d->v[i].domid, 0);
		if (d->v[i].has_target) {
			jrec_dom(b, JE_TARGET, d->v[i].domid, d->v[i].target);
			n++;
		}
	}
	jrec_end(b, start, n, s->gen);
}

static void apply_checks(const struct jrec *r)
{
	struct store once, twice, again;
	struct jdoms d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	struct jbuf snap = { 0 };
	struct jrec sr;
	size_t ssize;

	if (store_init(&once) || store_init(&twice) || store_init(&again))
		abort();
	if (jrec_apply(r, &once, &d1) || jrec_apply(r, &twice, &d2) ||
	    jrec_apply(r, &twice, &d2))
		abort();
	if (!same_tree(&once, &twice) || !same_doms(&d1, &d2) || once.gen != twice.gen)
		abort();
	snapshot(&once, &d1, &snap);
	if (snap.oom || jrec_read(snap.p, snap.len, &sr, &ssize) != JREC_OK ||
	    ssize != snap.len)
		abort();
	store_clear(&again);
	if (jrec_apply(&sr, &again, &d3) || !same_tree(&once, &again) || !same_doms(&d1, &d3))
		abort();
	jbuf_free(&snap);
	free(d1.v);
	free(d2.v);
	free(d3.v);
	store_fini(&once);
	store_fini(&twice);
	store_fini(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jrec r;
	size_t len, rsize;

	if (size < 1)
		return 0;
	len = size - 1;
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & 1) && len >= JREC_HDR)
		fix_header(buf, len);
	enum jrec_status st = jrec_read(buf, len, &r, &rsize);
	if (st == JREC_SHORT) {
		uint32_t l;
		if (len >= JREC_HDR && (memcpy(&l, buf + 4, 4), l <= len - JREC_HDR))
			abort();
	} else if (st == JREC_OK) {
		if (rsize != JREC_HDR + (size_t)r.len || rsize > len || r.body != buf + JREC_HDR)
			abort();
		reencode(&r, buf, rsize);
		/* every prefix is a torn tail: a few of them, not all */
		for (size_t cut = 1; cut <= rsize; cut += cut < 64 ? 1 : rsize / 16 + 1) {
			struct jrec t;
			size_t tsize;
			if (jrec_read(buf, rsize - cut, &t, &tsize) != JREC_SHORT)
				abort();
		}
		apply_checks(&r);
	}
	free(buf);
	return 0;
}
