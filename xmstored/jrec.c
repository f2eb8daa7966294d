/*
 * jrec.c — the journal's records: encode, check, decode, apply (format in
 * jrec.h). The checksum is zlib's crc32: a well-kept, fast implementation
 * that Debian already ships (zlib1g is part of every system), rather than
 * one more hand-written table here.
 */
#include "jrec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void jbuf_free(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

static int jbuf_grow(struct jbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int jbuf_put(struct jbuf *b, const void *p, size_t n)
{
	if (jbuf_grow(b, n))
		return ENOMEM;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void put_u8(struct jbuf *b, uint8_t v)
{
	jbuf_put(b, &v, 1);
}

static void put_u32(struct jbuf *b, uint32_t v)
{
	jbuf_put(b, &v, 4);
}

static void put_u64(struct jbuf *b, uint64_t v)
{
	jbuf_put(b, &v, 8);
}

size_t jrec_begin(struct jbuf *b)
{
	static const char zero[JREC_HDR];
	size_t start = b->len;
	jbuf_put(b, zero, sizeof(zero));
	return start;
}

void jrec_img(struct jbuf *b, const struct node_img *n)
{
	uint32_t namelen = (uint32_t)strlen(n->name);

	put_u8(b, JE_NODE);
	put_u32(b, namelen);
	put_u32(b, n->nperms);
	put_u32(b, n->datalen);
	put_u32(b, n->childlen);
	put_u64(b, n->gen);
	jbuf_put(b, n->name, namelen);
	for (uint32_t i = 0; i < n->nperms; i++) {
		put_u32(b, n->perms[i].id);
		put_u8(b, n->perms[i].perms);
	}
	jbuf_put(b, n->data, n->datalen);
	jbuf_put(b, n->children, n->childlen);
}

void jrec_node(struct jbuf *b, const struct node *n)
{
	char name[PATH_BUF];
	struct node_img img;

	store_img(n, name, &img);
	jrec_img(b, &img);
}

void jrec_del(struct jbuf *b, const char *name)
{
	uint32_t namelen = (uint32_t)strlen(name);
	put_u8(b, JE_DEL);
	put_u32(b, namelen);
	jbuf_put(b, name, namelen);
}

void jrec_dom(struct jbuf *b, enum jent_type type, uint32_t domid, uint32_t target)
{
	put_u8(b, (uint8_t)type);
	put_u32(b, domid);
	if (type == JE_TARGET)
		put_u32(b, target);
}

static uint32_t rec_crc(const char *hdr, const char *body, uint32_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, (const Bytef *)hdr, 20);
	c = crc32(c, (const Bytef *)body, len);
	return (uint32_t)c;
}

void jrec_end(struct jbuf *b, size_t start, uint32_t nent, uint64_t gen)
{
	if (b->oom)
		return;
	char *h = b->p + start;
	uint32_t magic = JREC_MAGIC, len = (uint32_t)(b->len - start - JREC_HDR);
	memcpy(h, &magic, 4);
	memcpy(h + 4, &len, 4);
	memcpy(h + 8, &gen, 8);
	memcpy(h + 16, &nent, 4);
	uint32_t crc = rec_crc(h, h + JREC_HDR, len);
	memcpy(h + 20, &crc, 4);
}

/* ---- decoding ---- */

struct cursor {
	const char *p;
	size_t left;
};

static bool get(struct cursor *c, void *out, size_t n)
{
	if (c->left < n)
		return false;
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

static bool get_name(struct cursor *c, uint32_t len, char *out)
{
	if (len == 0 || len >= PATH_BUF || c->left < len || memchr(c->p, '\0', len))
		return false;
	memcpy(out, c->p, len);
	out[len] = '\0';
	c->p += len;
	c->left -= len;
	return true;
}

static bool get_perms(struct cursor *c, struct jent *e, uint32_t n)
{
	if (n == 0 || c->left / 5 < n)
		return false;
	if (n > e->cap) {
		struct perm *p = realloc(e->perms, n * sizeof(*p));
		if (!p)
			return false;
		e->perms = p;
		e->cap = n;
	}
	for (uint32_t i = 0; i < n; i++) {
		get(c, &e->perms[i].id, 4);
		get(c, &e->perms[i].perms, 1);
	}
	return true;
}

/* The rest of a JE_NODE entry. */
static bool get_node(struct cursor *c, struct jent *e)
{
	uint32_t namelen, np, dl, cl;
	struct node_img *n = &e->img;

	memset(n, 0, sizeof(*n));
	if (!get(c, &namelen, 4) || !get(c, &np, 4) || !get(c, &dl, 4) ||
	    !get(c, &cl, 4) || !get(c, &n->gen, 8) || !get_name(c, namelen, e->name) ||
	    !get_perms(c, e, np) || c->left < (size_t)dl + cl)
		return false;
	n->name = e->name;
	n->perms = e->perms;
	n->nperms = np;
	n->data = c->p;
	n->datalen = dl;
	n->children = c->p + dl;
	n->childlen = cl;
	c->p += (size_t)dl + cl;
	c->left -= (size_t)dl + cl;
	/* children: NUL-terminated names */
	return cl == 0 || n->children[cl - 1] == '\0';
}

int jent_next(const struct jrec *r, size_t *off, struct jent *e)
{
	struct cursor c = { r->body + *off, r->len - *off };
	uint8_t type;
	uint32_t namelen;

	if (c.left == 0)
		return 0;
	get(&c, &type, 1);
	e->type = type;
	bool ok;
	switch (type) {
	case JE_NODE:
		ok = get_node(&c, e);
		break;
	case JE_DEL:
		ok = get(&c, &namelen, 4) && get_name(&c, namelen, e->name);
		break;
	case JE_INTRO:
	case JE_RELEASE:
		ok = get(&c, &e->domid, 4);
		break;
	case JE_TARGET:
		ok = get(&c, &e->domid, 4) && get(&c, &e->target, 4);
		break;
	default:
		ok = false;
	}
	if (!ok)
		return -1;
	*off = (size_t)(c.p - r->body);
	return 1;
}

void jent_free(struct jent *e)
{
	free(e->perms);
	e->perms = NULL;
	e->cap = 0;
}

/* Every entry decodes, and there are exactly nent of them. */
static bool entries_ok(const struct jrec *r)
{
	struct jent *e = calloc(1, sizeof(*e));
	size_t off = 0;
	uint32_t n = 0;
	int got;

	if (!e)
		return false;
	while ((got = jent_next(r, &off, e)) == 1)
		n++;
	jent_free(e);
	free(e);
	return got == 0 && n == r->nent;
}

enum jrec_status jrec_read(const void *p, size_t avail, struct jrec *r, size_t *size)
{
	const char *h = p;
	uint32_t magic, len, crc;

	if (avail < JREC_HDR)
		return JREC_SHORT;
	memcpy(&magic, h, 4);
	memcpy(&len, h + 4, 4);
	memcpy(&r->gen, h + 8, 8);
	memcpy(&r->nent, h + 16, 4);
	memcpy(&crc, h + 20, 4);
	if (magic != JREC_MAGIC)
		return JREC_BAD;
	if (avail - JREC_HDR < len)
		return JREC_SHORT;
	r->len = len;
	r->body = h + JREC_HDR;
	if (rec_crc(h, r->body, len) != crc || !entries_ok(r))
		return JREC_BAD;
	*size = JREC_HDR + (size_t)len;
	return JREC_OK;
}

/* ---- applying ---- */

static size_t dom_slot(struct jdoms *d, uint32_t domid)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].domid == domid)
			return i;
	return d->n;
}

static int dom_apply(struct jdoms *d, const struct jent *e)
{
	size_t i = dom_slot(d, e->domid);

	if (e->type == JE_RELEASE) {
		if (i < d->n)
			d->v[i] = d->v[--d->n];
		for (size_t j = 0; j < d->n; j++)
			if (d->v[j].has_target && d->v[j].target == e->domid)
				d->v[j].has_target = false;
		return 0;
	}
	if (i == d->n) {
		void *v = realloc(d->v, (d->n + 1) * sizeof(*d->v));
		if (!v)
			return ENOMEM;
		d->v = v;
		d->v[d->n].domid = e->domid;
		d->v[d->n].has_target = false;
		d->v[d->n++].target = 0;
	}
	if (e->type == JE_TARGET) {
		d->v[i].has_target = true;
		d->v[i].target = e->target;
	}
	return 0;
}

int jrec_apply(const struct jrec *r, struct store *s, struct jdoms *doms)
{
	struct jent *e = calloc(1, sizeof(*e));
	size_t off = 0;
	int err = 0;

	if (!e)
		return ENOMEM;
	while (!err && jent_next(r, &off, e) == 1) {
		if (e->type == JE_NODE)
			err = store_put_raw(s, &e->img);
		else if (e->type == JE_DEL)
			store_del_raw(s, e->name);
		else
			err = dom_apply(doms, e);
	}
	jent_free(e);
	free(e);
	if (!err && r->gen > s->gen)
		s->gen = r->gen;
	return err;
}
