/*
 * journal.h — xmstored's tree kept across its own death: an append-only
 * journal of committed changes plus a snapshot, in the run directory.
 *
 * Files in DIR (default: the socket's directory):
 *   xmstored.snap      the whole state at some point: a file header (magic,
 *                      generation G) and one record (jrec.h) of every node
 *                      and every introduced domain
 *   xmstored.journal   a file header with generation G, then one record per
 *                      request that changed something, appended in order
 *
 * The journal applies on top of the snapshot with the same generation (or,
 * at G = 0 without a snapshot, on top of a fresh store). See journal.c for
 * the write path (group commit before replies), compaction and loading.
 */
#ifndef XSD_JOURNAL_H
#define XSD_JOURNAL_H

#include <stddef.h>

struct daemon;

struct journal_opts {
	const char *dir;
	size_t compact_min;   /* compact once the journal is past this and
			       * past 4 x the last snapshot (default 1 MiB) */
};

/*
 * Load DIR's snapshot and journal into d's store and domains (a damaged
 * journal tail is cut and logged), re-create every domain's channel, and
 * from then on journal every change of d. d->epfd and d->chan_dir must be
 * set. 0, or -1 (logged: the state could not be loaded or the files not
 * written; the daemon must not serve).
 */
int journal_open(struct daemon *d, const struct journal_opts *o);
/* A clean stop: write what is pending, compact, detach from d. Removes
 * nothing: the next start finds everything. */
void journal_close(struct daemon *d);

#endif
