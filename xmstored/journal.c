/*
 * journal.c — the journal's files: the write path, compaction into
 * snapshots, and loading at start (files and format: journal.h, jrec.h).
 *
 * Durability scope: the daemon, not the host. The files live in the run
 * directory (tmpfs); what is written there, by write(2) or into a shared
 * mapping, is in the page cache, which outlives the process however it dies
 * (kill -9 included), so no fsync: a power cut takes the guests down with
 * the store anyway.
 *
 * Write path. The store calls on_change() with the name of every live
 * record it changes or removes, and the daemon tells us of domain changes
 * (core.h, struct persist). At the end of each request (request_end) the
 * names it touched become one record holding each node as it now is, or its
 * removal, plus the domain changes: one record per request, so a committed
 * transaction, or a release with the removal of the domain's nodes, is one
 * record and replays atomically. Records are appended to an in-memory
 * buffer, and flush(), called by the loop before it writes any reply or
 * watch event, appends the whole batch at once (group commit): a reply
 * never leaves before its record is written. Appending is a copy into the
 * journal file's shared mapping, in room allocated ahead (map_room): no
 * system call per batch (write(2) where the file system cannot allocate).
 * An append that fails (a full file system) holds every reply and event,
 * and the daemon reads no request, until the batch is written (tried again
 * every 100 ms): no client ever sees a change that a restart would not
 * find.
 *
 * Compaction. Once the journal is past max(compact_min, 4 x the last
 * snapshot), the state (every node, every domain) goes to a new snapshot
 * with generation G+1: written to xmstored.snap.tmp, renamed over
 * xmstored.snap; then a journal holding only a header with G+1 is written
 * to xmstored.journal.tmp and renamed over xmstored.journal. A crash at any
 * instant leaves a consistent pair: before the first rename, the old pair;
 * between the renames, snapshot G+1 and journal G, which the loader knows to
 * be already inside the snapshot (a lower generation) and drops; after, the
 * new pair. (Records are whole node images, so even replaying an old
 * journal on a newer snapshot would give the same tree.)
 *
 * Loading. Snapshot (if any; generation 0 = the fresh store of store_init),
 * then each journal record in order; the first one that is short (a torn
 * tail) or damaged (magic, checksum, entries) ends the replay and the file
 * is cut there (ftruncate), with a log line saying how much was cut. Then
 * the domains' channels are made again (QEMU's chardevs reconnect by
 * themselves) and the node counts per domain rebuilt from the tree.
 * Connections, watches and transactions are not kept: clients reconnect.
 */
#include "journal.h"
#include "core.h"
#include "crashpoint.h"
#include "domain.h"
#include "jrec.h"
#include "util.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FILE_HDR 24
#define JRN_MAGIC "XMSTJRN1"
#define SNAP_MAGIC "XMSTSNP1"
#define COMPACT_MIN_DEFAULT (1024 * 1024)
#define MAP_STEP (64 * 1024)

struct touched {
	struct htab_entry he;
	struct touched *next;   /* in the order first touched */
	char name[];
};

struct journal {
	struct daemon *d;
	char *jpath, *jtmp, *spath, *stmp;
	int fd;                 /* the journal, O_APPEND */
	uint64_t fgen;          /* generation of the snapshot + journal pair */
	size_t jsize;           /* bytes in the journal file */
	size_t snap_size;
	size_t compact_min;
	struct jbuf out;        /* records not written yet */
	size_t out_done;        /* bytes of out already written */
	struct htab touched;    /* names the current request changed, */
	struct touched *tlist;  /* also listed (no walk over the slots) */
	int dirfd;              /* the directory, locked (flock) while we run */
	struct jbuf doms;       /* its domain changes, encoded */
	uint32_t ndoms;
	bool lost;              /* a record could not be made: compact */
	long behind_since;      /* a write failed then (now_ms), until one succeeds; 0: not */
	char *map;              /* the journal file mapped from 0 (map_room), or NULL */
	size_t map_len;         /* mapped and allocated: room for records up to it */
	bool no_map;            /* its file system cannot allocate ahead: write(2) */
	size_t retry_at;        /* after a failed compaction: journal size to
				 * try again at (0: no failure) */
};

/* ---- file headers: magic, generation, version, crc ---- */

static void hdr_make(char h[FILE_HDR], const char *magic, uint64_t gen)
{
	uint32_t version = 1;
	memcpy(h, magic, 8);
	memcpy(h + 8, &gen, 8);
	memcpy(h + 16, &version, 4);
	uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)h, 20);
	memcpy(h + 20, &crc, 4);
}

static bool hdr_check(const char *buf, size_t len, const char *magic, uint64_t *gen)
{
	uint32_t crc;
	if (len < FILE_HDR || memcmp(buf, magic, 8) != 0)
		return false;
	memcpy(&crc, buf + 20, 4);
	if (crc != (uint32_t)crc32(0L, (const Bytef *)buf, 20))
		return false;
	memcpy(gen, buf + 8, 8);
	return true;
}

static int write_all(int fd, const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = write(fd, p + *done, n - *done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		*done += (size_t)w;
	}
	return 0;
}

/*
 * The journal file mapped, with room allocated past j->jsize for at least
 * need bytes: a record is then copied in, with no write(2) of its own (the
 * page cache of the mapping is the file's, which outlives the daemon as a
 * write's does). The room is allocated ahead (fallocate, MAP_STEP at a
 * time), so a full file system is told here, never by a SIGBUS on a copy.
 * The unused room reads as zeros, which the loader knows from a damaged
 * tail. 0, or -1 (errno; EOPNOTSUPP: j->no_map, records are written).
 */
static int map_room(struct journal *j, size_t need)
{
	if (j->no_map || (j->map && need <= j->map_len))
		return j->no_map ? -1 : 0;
	size_t len = (need / MAP_STEP + 1) * MAP_STEP;
	if (fallocate(j->fd, 0, 0, (off_t)len) < 0) {
		if (errno == EOPNOTSUPP) {
			log_info("journal: %s cannot be allocated ahead: records are written "
				 "one write(2) each", j->jpath);
			j->no_map = true;
		}
		return -1;
	}
	void *m = j->map ? mremap(j->map, j->map_len, len, MREMAP_MAYMOVE)
			 : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
	if (m == MAP_FAILED)
		return -1;
	j->map = m;
	j->map_len = len;
	return 0;
}

/* Drop the mapping; trim: the file back to what is used (a clean stop, or
 * before it is written by write(2)). */
static void unmap(struct journal *j, bool trim)
{
	if (j->map)
		munmap(j->map, j->map_len);
	j->map = NULL;
	j->map_len = 0;
	if (trim && j->fd >= 0 && ftruncate(j->fd, (off_t)j->jsize) < 0)
		log_warn("journal: cannot trim %s: %s", j->jpath, strerror(errno));
}

/* Append n bytes of records: copied into the mapping, or written. 0, or -1
 * (errno) with *done bytes appended. */
static int append(struct journal *j, const char *p, size_t n, size_t *done)
{
	*done = 0;
	if (map_room(j, j->jsize + n) == 0) {
		memcpy(j->map + j->jsize, p, n);
		*done = n;
		return 0;
	}
	if (!j->no_map)
		return -1;
	return write_all(j->fd, p, n, done);
}

/* The whole file at path in *buf (malloc'd): 0, 1 if there is none, -1. */
static int read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) < 0 || !(*buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return 0;
}

/*
 * A new file at path: header (magic, gen) then body, written to tmp and
 * renamed over path. With keep, the descriptor stays open for appending
 * (*keep), else it is closed. 0 or -1 (logged; tmp removed).
 */
static int file_replace(const char *tmp, const char *path, const char *magic,
			uint64_t gen, const struct jbuf *body, int *keep)
{
	char h[FILE_HDR];
	size_t done;
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);

	hdr_make(h, magic, gen);
	if (fd < 0 || write_all(fd, h, sizeof(h), &done) < 0 ||
	    (body && write_all(fd, body->p, body->len, &done) < 0)) {
		log_err("journal: cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (strcmp(magic, SNAP_MAGIC) == 0)
		crash_point("xmstored.snapshot-written");
	if (rename(tmp, path) < 0) {
		log_err("journal: cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	if (keep)
		*keep = fd;
	else
		close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* ---- the state as one record ---- */

static void snapshot_encode(struct daemon *d, struct jbuf *b)
{
	size_t it, start = jrec_begin(b);
	uint32_t n = 0;
	const struct node **v = store_list(&d->store);

	if (v) {
		for (; n < d->store.nodes.count; n++)
			jrec_node(b, v[n]);
		free(v);
	} else { /* short of memory: in any order (loads back the same tree) */
		for (const struct node *e = store_first(&d->store, &it); e;
		     e = store_next(&d->store, &it, e), n++)
			jrec_node(b, e);
	}
	for (struct domain *dom = d->domains; dom; dom = dom->next) {
		jrec_dom(b, JE_INTRO, dom->domid, 0);
		n++;
		if (dom->has_target) {
			jrec_dom(b, JE_TARGET, dom->domid, dom->target);
			n++;
		}
	}
	jrec_end(b, start, n, d->store.gen);
}

/*
 * Compaction (see the head comment). Nothing may be pending in j->out. On a
 * failure before the snapshot's rename the old pair stays in use; after it,
 * the old journal is taken over in place (its header gets G+1, its records
 * are dropped) so that what follows is not lost.
 */
static int compact(struct journal *j)
{
	struct jbuf snap = { 0 };
	uint64_t gen = j->fgen + 1;
	int fd = -1;
	long t0 = now_ms();

	snapshot_encode(j->d, &snap);
	if (snap.oom || file_replace(j->stmp, j->spath, SNAP_MAGIC, gen, &snap, NULL) < 0) {
		if (snap.oom)
			log_err("journal: no memory for a snapshot");
		jbuf_free(&snap);
		return -1;
	}
	crash_point("xmstored.snapshot-renamed");
	unmap(j, false); /* the records go either way */
	if (file_replace(j->jtmp, j->jpath, JRN_MAGIC, gen, NULL, &fd) < 0) {
		/* (emptied first: a crash before the header leaves an empty
		 * journal, which the loader replaces; O_APPEND writes at 0) */
		char h[FILE_HDR];
		size_t done;
		hdr_make(h, JRN_MAGIC, gen);
		if (ftruncate(j->fd, 0) < 0 || write_all(j->fd, h, sizeof(h), &done) < 0)
			log_err("journal: cannot restart %s: %s; changes from now on are not kept",
				j->jpath, strerror(errno));
	} else {
		close(j->fd);
		j->fd = fd;
	}
	crash_point("xmstored.journal-restarted");
	log_info("journal: compacted into snapshot %llu (%zu bytes, %zu nodes) in %ld ms",
		 (unsigned long long)gen, snap.len + FILE_HDR, j->d->store.nodes.count,
		 now_ms() - t0);
	j->fgen = gen;
	j->jsize = FILE_HDR;
	j->snap_size = snap.len + FILE_HDR;
	j->lost = false;
	jbuf_free(&snap);
	/* The snapshot's buffer (the size of the tree) came from the heap once
	 * malloc's mmap threshold had risen past it: give the pages back, or
	 * every node would seem to cost half as much again (bench/memory.sh). */
	malloc_trim(0);
	return 0;
}

/* ---- the write path (struct persist hooks) ---- */

static void on_change(void *ctx, const char *name)
{
	struct journal *j = ctx;
	if (htab_find(&j->touched, name))
		return;
	size_t len = strlen(name) + 1;
	struct touched *t = malloc(sizeof(*t) + len);
	if (!t) {
		j->lost = true;
		return;
	}
	memcpy(t->name, name, len);
	t->he.key = t->name;
	if (htab_insert(&j->touched, &t->he) < 0) {
		free(t);
		j->lost = true;
		return;
	}
	t->next = j->tlist;
	j->tlist = t;
}

/* Empty the touched set. */
static void touched_clear(struct journal *j)
{
	while (j->tlist) {
		struct touched *t = j->tlist;
		j->tlist = t->next;
		htab_remove(&j->touched, &t->he);
		free(t);
	}
}

static void on_domain(void *ctx, enum persist_dom op, uint32_t domid, uint32_t target)
{
	struct journal *j = ctx;
	static const enum jent_type type[] = {
		[PERSIST_INTRODUCE] = JE_INTRO, [PERSIST_RELEASE] = JE_RELEASE,
		[PERSIST_TARGET] = JE_TARGET,
	};
	jrec_dom(&j->doms, type[op], domid, target);
	j->ndoms++;
}

/* The touched names as entries of the record being made; the set emptied. */
static uint32_t put_touched(struct journal *j)
{
	uint32_t n = 0;

	for (struct touched *t = j->tlist; t; t = t->next, n++) {
		const struct node *node = store_lookup(&j->d->store, t->name);
		if (node)
			jrec_node(&j->out, node);
		else
			jrec_del(&j->out, t->name);
	}
	touched_clear(j);
	return n;
}

static void request_end(void *ctx)
{
	struct journal *j = ctx;

	if (!j->touched.count && !j->ndoms)
		return;
	size_t start = jrec_begin(&j->out);
	jbuf_put(&j->out, j->doms.p, j->doms.len);
	uint32_t n = j->ndoms + put_touched(j);
	jrec_end(&j->out, start, n, j->d->store.gen);
	if (j->out.oom || j->doms.oom) {
		log_err("journal: no memory for a record; a snapshot will be taken");
		j->out.len = start;
		j->out.oom = false;
		j->lost = true;
	}
	j->doms.len = 0;
	j->doms.oom = false;
	j->ndoms = 0;
}

static int flush(void *ctx)
{
	struct journal *j = ctx;
	size_t done;

	if (j->out.len > j->out_done) {
		int r = append(j, j->out.p + j->out_done, j->out.len - j->out_done, &done);
		j->out_done += done;
		j->jsize += done;
		if (r < 0) {
			if (!j->behind_since) {
				log_err("journal: write to %s: %s; replies wait until it can be "
					"written", j->jpath, strerror(errno));
				j->behind_since = now_ms();
			}
			return -1;
		}
		j->out.len = j->out_done = 0;
		crash_point("xmstored.journal-written");
		if (j->behind_since) {
			log_info("journal: written again after %ld ms; replies go",
				 now_ms() - j->behind_since);
			j->behind_since = 0;
		}
	}
	if (j->retry_at && j->jsize < j->retry_at)
		return 0;
	if (j->lost || (j->jsize > j->compact_min && j->jsize > 4 * j->snap_size))
		j->retry_at = compact(j) < 0 ? j->jsize + j->compact_min : 0;
	return 0;
}

/* ---- loading ---- */

/* The snapshot into d's store and doms. 0 (also: none), or -1. */
static int load_snapshot(struct journal *j, struct jdoms *doms)
{
	char *buf;
	size_t len, size;
	struct jrec r;
	int rc = read_file(j->spath, &buf, &len);

	if (rc != 0) {
		if (rc < 0)
			log_err("journal: cannot read %s: %s", j->spath, strerror(errno));
		return rc < 0 ? -1 : 0;
	}
	if (!hdr_check(buf, len, SNAP_MAGIC, &j->fgen) ||
	    jrec_read(buf + FILE_HDR, len - FILE_HDR, &r, &size) != JREC_OK ||
	    size != len - FILE_HDR) {
		log_err("journal: %s is damaged; move it away to start without it", j->spath);
		free(buf);
		return -1;
	}
	store_clear(&j->d->store);
	rc = jrec_apply(&r, &j->d->store, doms);
	free(buf);
	if (rc) {
		log_err("journal: no memory to load %s", j->spath);
		return -1;
	}
	j->snap_size = len;
	log_info("journal: snapshot %llu loaded (%zu bytes)", (unsigned long long)j->fgen, len);
	return 0;
}

/* Replay the records of buf from off; the offset of the end of the last good
 * one in *good. -1 only for a lack of memory. */
static int replay(struct journal *j, const char *buf, size_t len, size_t *good,
		  struct jdoms *doms, unsigned long *nrec)
{
	size_t off = FILE_HDR, size;
	struct jrec r;
	enum jrec_status st = JREC_OK;

	while (off < len && (st = jrec_read(buf + off, len - off, &r, &size)) == JREC_OK) {
		if (jrec_apply(&r, &j->d->store, doms)) {
			log_err("journal: no memory to replay %s", j->jpath);
			return -1;
		}
		off += size;
		(*nrec)++;
	}
	*good = off;
	size_t end = len; /* (trailing zeros: the room allocated ahead, unused) */
	while (end > off && buf[end - 1] == 0)
		end--;
	if (off < end)
		log_warn("journal: %s: cut %zu bytes at offset %zu (%s record); "
			 "the %lu records before it are kept", j->jpath, end - off, off,
			 st == JREC_SHORT ? "truncated" : "damaged", *nrec);
	return 0;
}

/* A fresh journal (header only) with the current generation. */
static int journal_new(struct journal *j)
{
	if (file_replace(j->jtmp, j->jpath, JRN_MAGIC, j->fgen, NULL, &j->fd) < 0)
		return -1;
	j->jsize = FILE_HDR;
	return 0;
}

/* The journal: replayed, its bad tail cut, opened for appending. */
static int load_journal(struct journal *j, struct jdoms *doms)
{
	char *buf;
	size_t len, good = 0;
	uint64_t gen;
	unsigned long nrec = 0;
	int rc = read_file(j->jpath, &buf, &len);

	if (rc < 0) {
		log_err("journal: cannot read %s: %s", j->jpath, strerror(errno));
		return -1;
	}
	if (rc == 1 || !hdr_check(buf, len, JRN_MAGIC, &gen) || gen < j->fgen) {
		if (rc == 0)
			log_warn("journal: %s is %s; starting a new one", j->jpath,
				 len >= FILE_HDR && hdr_check(buf, len, JRN_MAGIC, &gen)
				 ? "older than the snapshot (already in it)" : "damaged (header)");
		free(buf);
		return journal_new(j);
	}
	if (gen > j->fgen) {
		log_err("journal: %s follows snapshot %llu, which is missing (have %llu)",
			j->jpath, (unsigned long long)gen, (unsigned long long)j->fgen);
		free(buf);
		return -1;
	}
	rc = replay(j, buf, len, &good, doms, &nrec);
	free(buf);
	if (rc < 0)
		return -1;
	j->fd = open(j->jpath, O_RDWR | O_APPEND | O_CLOEXEC);
	if (j->fd < 0 || (good < len && ftruncate(j->fd, (off_t)good) < 0)) {
		log_err("journal: cannot open %s: %s", j->jpath, strerror(errno));
		return -1;
	}
	j->jsize = good;
	log_info("journal: %lu records replayed (%zu bytes)", nrec, good);
	return 0;
}

/* The domains of the loaded state, with their channels made again. */
static int domains_back(struct daemon *d, const struct jdoms *doms)
{
	for (size_t i = 0; i < doms->n; i++)
		if (domain_introduce(d, doms->v[i].domid))
			return -1;
	for (size_t i = 0; i < doms->n; i++)
		if (doms->v[i].has_target)
			domain_set_target(d, doms->v[i].domid, doms->v[i].target);
	events_clear(&d->ev); /* @introduceDomain: nobody is connected yet */
	return 0;
}

static void journal_free(struct journal *j)
{
	if (!j)
		return;
	unmap(j, true);
	if (j->fd >= 0)
		close(j->fd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	touched_clear(j);
	htab_fini(&j->touched);
	jbuf_free(&j->out);
	jbuf_free(&j->doms);
	free(j->jpath);
	free(j->jtmp);
	free(j->spath);
	free(j->stmp);
	free(j);
}

static struct journal *journal_new_state(struct daemon *d, const struct journal_opts *o)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->d = d;
	j->fd = j->dirfd = -1;
	j->compact_min = o->compact_min ? o->compact_min : COMPACT_MIN_DEFAULT;
	if (htab_init(&j->touched, 64) < 0 ||
	    asprintf(&j->jpath, "%s/xmstored.journal", o->dir) < 0 ||
	    asprintf(&j->jtmp, "%s/xmstored.journal.tmp", o->dir) < 0 ||
	    asprintf(&j->spath, "%s/xmstored.snap", o->dir) < 0 ||
	    asprintf(&j->stmp, "%s/xmstored.snap.tmp", o->dir) < 0) {
		journal_free(j);
		return NULL;
	}
	return j;
}

int journal_open(struct daemon *d, const struct journal_opts *o)
{
	struct jdoms doms = { 0 };
	long t0 = now_ms();
	struct journal *j = journal_new_state(d, o);

	if (!j || mkdir_p(o->dir) < 0 ||
	    (j->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_err("journal: cannot set up in %s: %s", o->dir, strerror(errno));
		journal_free(j);
		return -1;
	}
	/* One daemon per journal: two would interleave their records. */
	if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0) {
		log_err("journal: %s is in use by another xmstored (%s)", o->dir, strerror(errno));
		journal_free(j);
		return -1;
	}
	unlink(j->jtmp);
	unlink(j->stmp);
	if (load_snapshot(j, &doms) < 0 || load_journal(j, &doms) < 0 ||
	    store_loaded(&d->store, 0) != 0 || domains_back(d, &doms) < 0) {
		free(doms.v);
		journal_free(j);
		return -1;
	}
	log_info("journal: %zu nodes, %zu domains loaded from %s in %ld ms",
		 d->store.nodes.count, doms.n, o->dir, now_ms() - t0);
	free(doms.v);
	d->store.on_change = on_change;
	d->store.change_ctx = j;
	d->persist = (struct persist){ on_domain, request_end, flush, j };
	return 0;
}

void journal_close(struct daemon *d)
{
	struct journal *j = d->persist.ctx;

	if (!j)
		return;
	flush(j);
	if (j->out.len == 0 && j->jsize > FILE_HDR)
		compact(j);
	d->store.on_change = NULL;
	d->store.change_ctx = NULL;
	d->persist = (struct persist){ 0 };
	journal_free(j);
}
