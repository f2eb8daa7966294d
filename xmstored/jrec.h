/*
 * jrec.h — the journal's record format: encoding, checking, decoding and
 * applying records. No file I/O (journal.c does that); the unit test
 * (tests/unit/test_journal.c) drives it directly.
 *
 * A record is the RESULT of one request (or of one committed transaction, or
 * a whole snapshot), never the request itself, so replaying it needs no
 * caller and no permission check:
 *
 *   header (24 bytes, host byte order; the file never leaves the host)
 *     u32 magic 'XMJR'   u32 len (payload bytes)
 *     u64 gen            the store's generation counter after the change
 *     u32 nent           entries in the payload
 *     u32 crc            zlib crc32 of the 20 bytes above, then the payload
 *   payload: nent entries, each a type byte and then
 *     JE_NODE     u32 namelen, nperms, datalen, childlen; u64 gen; the name
 *                 (no NUL); nperms x (u32 domid, u8 perms); data; children
 *                 (NUL-terminated names): a node record as it now is
 *     JE_DEL      u32 namelen; the name: the node is gone
 *     JE_INTRO    u32 domid: the domain is introduced
 *     JE_RELEASE  u32 domid: the domain is released
 *     JE_TARGET   u32 domid, u32 target
 *
 * Applying is idempotent (whole images and removals by name), and a record
 * is checked completely (checksum, then every entry's bounds) before
 * anything of it is applied: a damaged record is never half-applied.
 */
#ifndef XSD_JREC_H
#define XSD_JREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "path.h"
#include "store.h"

#define JREC_MAGIC 0x524a4d58u /* "XMJR" in memory on little-endian hosts */
#define JREC_HDR 24

enum jent_type { JE_NODE = 1, JE_DEL, JE_INTRO, JE_RELEASE, JE_TARGET };

/* A growing byte buffer; a failed allocation sets oom and drops the byte. */
struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void jbuf_free(struct jbuf *b);
int jbuf_put(struct jbuf *b, const void *p, size_t n);

/* Encoding: begin (returns the record's offset in b), entries, end. */
size_t jrec_begin(struct jbuf *b);
void jrec_node(struct jbuf *b, const struct node *n);
void jrec_img(struct jbuf *b, const struct node_img *n);
void jrec_del(struct jbuf *b, const char *name);
void jrec_dom(struct jbuf *b, enum jent_type type, uint32_t domid, uint32_t target);
/* Fill in the header of the record begun at start: nent entries, gen. */
void jrec_end(struct jbuf *b, size_t start, uint32_t nent, uint64_t gen);

/* A record as read: points into the caller's buffer. */
struct jrec {
	uint64_t gen;
	uint32_t nent;
	uint32_t len;
	const char *body;
};

enum jrec_status { JREC_OK, JREC_SHORT, JREC_BAD };
/*
 * The record at p (avail bytes there): JREC_OK with *r and *size (header +
 * payload), JREC_SHORT if it runs past avail (a truncated tail), JREC_BAD
 * if its magic, checksum or any entry is wrong.
 */
enum jrec_status jrec_read(const void *p, size_t avail, struct jrec *r, size_t *size);

/* One decoded entry. name is NUL-terminated; perms is owned by the entry
 * and reused (jent_free at the end). */
struct jent {
	enum jent_type type;
	char name[PATH_BUF];
	struct node_img img;      /* JE_NODE: img.name == name, data/children
				   * point into the record */
	struct perm *perms;
	unsigned int cap;
	uint32_t domid, target;
};

/* The next entry at *off: 1 (in *e), 0 at the end, -1 malformed. */
int jent_next(const struct jrec *r, size_t *off, struct jent *e);
void jent_free(struct jent *e);

/* Domains as a replay sees them. */
struct jdoms {
	struct { uint32_t domid, target; bool has_target; } *v;
	size_t n;
};

/* Apply a record read by jrec_read: its nodes to s, its domain changes to
 * doms. 0 or ENOMEM. */
int jrec_apply(const struct jrec *r, struct store *s, struct jdoms *doms);

#endif
