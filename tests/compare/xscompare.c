/*
 * xscompare — side-by-side comparison of two XenStore daemons.
 *
 *   xscompare [-v] [--seed N] [--count N] [--script NAME|--list] SOCKET_A SOCKET_B
 *
 * Connects to both daemons (AF_UNIX, domain 0, privileged), sends the very same
 * raw wire messages to both and compares every reply: type, req_id, tx_id and
 * payload, plus the watch events each connection received. Prints the first
 * mismatches side by side and exits 1 if there was any (2 on usage or
 * connection errors, 0 when both behaved the same).
 *
 * Two modes:
 *   --script NAME   one named case from the table below (no option: all of
 *                   them; --list prints the names). A case is a fixed list of
 *                   steps, as Xen's test-xenstore TEST("name", ...) table.
 *   --seed N        a random sequence of --count steps (default 200) drawn
 *                   from seed N over a tiny path alphabet, so that writes,
 *                   removals, watches and transactions collide often; three
 *                   connections per daemon are interleaved. With --edges a
 *                   quarter of the steps are drawn from the corners: the
 *                   special @ names and domain ids at the edge of their
 *                   space (see edge_step).
 *
 * How a step is run, and what is compared
 * ---------------------------------------
 * A step is a request on connection c (0..2). It is run on daemon A to the end,
 * then on daemon B:
 *   1. send the message; read until a message that is not a WATCH_EVENT
 *      arrives (the reply); events read meanwhile are kept for connection c;
 *   2. barrier: on every open connection send a READ of "/" (req_id
 *      PING_ID) and read up to its reply, keeping the events met on the way.
 *      Both daemons handle a connection's messages in order, and queue the
 *      events a request fires before they read the next request, so after the
 *      barrier every event caused by the step has arrived, and no later one.
 *      This is exact and fast (no sleeping); --settle MS adds a wait after
 *      the barrier for a daemon that defers events (nothing extra arrived
 *      for cxenstored or oxenstored).
 *   3. the step's result is rendered as text: the reply, then for each
 *      connection the events it received, sorted. Events are compared as a
 *      multiset per connection and per step: the order in which several
 *      watches of one connection fire for one change is an implementation
 *      detail (cxenstored walks its watch list, oxenstored a trie), and no
 *      client can rely on it across watches. The barrier pings themselves are
 *      not compared.
 * The texts of A and B must be equal.
 *
 * Normalisations (only what legitimately differs between two correct
 * daemons; two cxenstored instances must and do give identical texts):
 *   - Transaction ids. TRANSACTION_START's reply "N\0" is shown as "<Tk>\0"
 *     where k is the script's slot for that transaction; later requests in
 *     slot k carry each daemon's own N; a tx_id in a reply header that equals
 *     the id of a slot of that daemon is shown as "Tk". The value itself is
 *     opaque to clients (cxenstored numbers them per connection, so two
 *     connections may hold the same id; no case sends one connection's id
 *     on another that has transactions of its own).
 *   - DIRECTORY_PART's generation count (first string of the reply). It is a
 *     global counter of modifications in cxenstored, so its value depends on
 *     the whole history of the daemon. Each distinct value is replaced by
 *     "<Gk>", k numbered by first appearance in the case (per daemon), so
 *     "unchanged node, same generation; changed node, new generation" is
 *     still checked.
 *   - req_id in replies is shown as "=" when it echoes the request's id.
 *   - The per-case cleanup (RM of /cmp and of /local/domain/0/cmp before and
 *     after each case) is run but not compared: the daemons' initial trees
 *     may differ.
 * Nothing else is normalised: the order of DIRECTORY entries, error names,
 * the event paths of relative watches and the reply to each error are
 * compared as they are.
 */
#include "wire.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define NCONN 3
#define NSLOT 8
#define NGEN 64
#define MAXEV 64
#define PING_ID 0x7ffffff0u
#define NO_SLOT (-1)
#define MAX_SHOWN 5

/* ---------------------------------------------------------------- steps */

enum step_kind {
	S_REQ,      /* a request */
	S_OVERSIZE, /* header announcing garg bytes, then garg bytes */
	S_CLOSE,    /* close connection c (the daemon drops its tx/watches) */
	S_OPEN,     /* (re)open connection c */
	S_END,
};

enum gen_kind {
	G_NONE,
	G_ABS,       /* absolute path "/cmp/long/xxx..." of strlen garg, NUL */
	G_ABS_VAL,   /* the same plus value "v" (a WRITE) */
	G_REL,       /* relative path "cmp/long/xxx..." of strlen garg, NUL */
	G_REL_VAL,   /* the same plus value "v" */
	G_BIGCHILD,  /* "/cmp/big/<120 chars ending in garg>\0v" */
	G_BIGVAL,    /* "/cmp/val\0" + garg bytes of value */
};

struct step {
	enum step_kind kind;
	int conn;
	uint32_t type;
	int slot;          /* transaction slot used, or NO_SLOT */
	uint32_t rawtx;    /* literal tx_id when slot == NO_SLOT */
	int bind;          /* TRANSACTION_START: slot the new id goes to */
	const char *body;
	size_t len;
	enum gen_kind gen;
	int garg;
};

#define SREQ(c, t, s, raw, b, p) \
	{ S_REQ, c, t, s, raw, b, p, sizeof(p) - 1, G_NONE, 0 }
/* a request outside any transaction; the payload literal may hold \0 */
#define REQ(c, t, p) SREQ(c, t, NO_SLOT, 0, NO_SLOT, p)
/* a request in transaction slot s */
#define TREQ(c, s, t, p) SREQ(c, t, s, 0, NO_SLOT, p)
/* a request with a literal tx_id */
#define XREQ(c, raw, t, p) SREQ(c, t, NO_SLOT, raw, NO_SLOT, p)
#define TSTART(c, s) SREQ(c, XS_TRANSACTION_START, NO_SLOT, 0, s, "\0")
#define TEND(c, s, p) TREQ(c, s, XS_TRANSACTION_END, p)
#define GREQ(c, t, g, a) { S_REQ, c, t, NO_SLOT, 0, NO_SLOT, NULL, 0, g, a }
#define OVERSIZE(c, n) { S_OVERSIZE, c, 0, NO_SLOT, 0, NO_SLOT, NULL, 0, G_NONE, n }
#define CLOSE(c) { S_CLOSE, c, 0, NO_SLOT, 0, NO_SLOT, NULL, 0, G_NONE, 0 }
#define OPEN(c) { S_OPEN, c, 0, NO_SLOT, 0, NO_SLOT, NULL, 0, G_NONE, 0 }
#define END { S_END, 0, 0, NO_SLOT, 0, NO_SLOT, NULL, 0, G_NONE, 0 }

#define BIG8(i) GREQ(0, XS_WRITE, G_BIGCHILD, i), \
	GREQ(0, XS_WRITE, G_BIGCHILD, i + 1), GREQ(0, XS_WRITE, G_BIGCHILD, i + 2), \
	GREQ(0, XS_WRITE, G_BIGCHILD, i + 3), GREQ(0, XS_WRITE, G_BIGCHILD, i + 4), \
	GREQ(0, XS_WRITE, G_BIGCHILD, i + 5), GREQ(0, XS_WRITE, G_BIGCHILD, i + 6), \
	GREQ(0, XS_WRITE, G_BIGCHILD, i + 7)

/* ---------------------------------------------------------------- cases */

static const struct step c_basic[] = {
	REQ(0, XS_WRITE, "/cmp/a\0hello"),
	REQ(0, XS_READ, "/cmp/a\0"),
	REQ(0, XS_WRITE, "/cmp/a\0"),           /* empty value */
	REQ(0, XS_READ, "/cmp/a\0"),
	REQ(0, XS_WRITE, "/cmp/d\0a\0b\0"),     /* value holding NULs */
	REQ(0, XS_READ, "/cmp/d\0"),
	REQ(0, XS_WRITE, "/cmp/x/y/z\0deep"),   /* creates the parents */
	REQ(0, XS_READ, "/cmp/x\0"),
	REQ(0, XS_READ, "/cmp/x/y/z\0"),
	REQ(0, XS_DIRECTORY, "/cmp/x\0"),
	REQ(0, XS_READ, "/cmp/nope\0"),
	REQ(0, XS_READ, "/cmp/nope/deeper\0"),
	REQ(0, XS_READ, "/cmp/a"),              /* no terminating NUL */
	REQ(0, XS_WRITE, "/cmp/e"),             /* no NUL at all */
	REQ(0, XS_WRITE, ""),                   /* empty payload */
	REQ(0, XS_READ, ""),
	REQ(0, XS_READ, "/cmp/a\0extra\0"),     /* a second argument */
	REQ(1, XS_READ, "/cmp/a\0"),            /* another connection */
	REQ(0, XS_WRITE, "/cmp/a/sub\0s"),      /* a node with a value gets children */
	REQ(0, XS_READ, "/cmp/a\0"),
	REQ(0, XS_DIRECTORY, "/cmp/a\0"),
	END
};

static const struct step c_mkdir_rm[] = {
	REQ(0, XS_MKDIR, "/cmp/m\0"),
	REQ(0, XS_READ, "/cmp/m\0"),
	REQ(0, XS_MKDIR, "/cmp/m\0"),           /* exists: still OK */
	REQ(0, XS_WRITE, "/cmp/m\0v"),
	REQ(0, XS_MKDIR, "/cmp/m\0"),           /* keeps the value? */
	REQ(0, XS_READ, "/cmp/m\0"),
	REQ(0, XS_MKDIR, "/cmp/m/n/o\0"),
	REQ(0, XS_DIRECTORY, "/cmp/m\0"),
	REQ(0, XS_MKDIR, "/cmp/bad/\0"),
	REQ(0, XS_MKDIR, ""),
	REQ(0, XS_RM, "/cmp/m/n\0"),
	REQ(0, XS_RM, "/cmp/m/n\0"),            /* gone, parent exists */
	REQ(0, XS_RM, "/cmp/zz/yy\0"),          /* parent missing */
	REQ(0, XS_DIRECTORY, "/cmp/m\0"),
	REQ(0, XS_WRITE, "/cmp/m/p/q\0v"),
	REQ(0, XS_RM, "/cmp/m\0"),              /* recursive */
	REQ(0, XS_READ, "/cmp/m/p/q\0"),
	REQ(0, XS_READ, "/cmp/m\0"),
	REQ(0, XS_RM, "/\0"),
	REQ(0, XS_RM, ""),
	REQ(0, XS_RM, "/cmp/m/\0"),
	REQ(0, XS_RM, "@introduceDomain\0"),
	END
};

static const struct step c_dir_order[] = {
	REQ(0, XS_WRITE, "/cmp/d/c\0"),
	REQ(0, XS_WRITE, "/cmp/d/a\0"),
	REQ(0, XS_WRITE, "/cmp/d/b\0"),
	REQ(0, XS_WRITE, "/cmp/d/z10\0"),
	REQ(0, XS_WRITE, "/cmp/d/z2\0"),
	REQ(0, XS_MKDIR, "/cmp/d/A\0"),
	REQ(0, XS_DIRECTORY, "/cmp/d\0"),
	REQ(0, XS_RM, "/cmp/d/a\0"),
	REQ(0, XS_WRITE, "/cmp/d/a\0again"),
	REQ(0, XS_DIRECTORY, "/cmp/d\0"),
	REQ(0, XS_WRITE, "/cmp/d/c\0changed"),  /* rewriting keeps the place */
	REQ(0, XS_DIRECTORY, "/cmp/d\0"),
	REQ(0, XS_DIRECTORY, "/cmp/d/c\0"),     /* a leaf */
	REQ(0, XS_DIRECTORY, "/cmp/none\0"),
	REQ(0, XS_DIRECTORY, "/cmp/d/\0"),
	REQ(0, XS_DIRECTORY, "/cmp/d"),
	REQ(0, XS_DIRECTORY, "@releaseDomain\0"),
	END
};

static const struct step c_dir_part[] = {
	REQ(0, XS_WRITE, "/cmp/p/one\0"),
	REQ(0, XS_WRITE, "/cmp/p/two\0"),
	REQ(0, XS_WRITE, "/cmp/p/three\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),   /* same generation */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "4\0"),   /* at "two" */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "2\0"),   /* inside "one" */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "14\0"),  /* the end */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "15\0"),  /* past the end */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "99\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "-1\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "abc\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0"),         /* no offset */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0"),     /* offset without NUL */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p/one\0" "0\0"), /* a leaf */
	REQ(0, XS_DIRECTORY_PART, "/cmp/none\0" "0\0"),
	REQ(0, XS_WRITE, "/cmp/p/one\0newvalue"),      /* a child's value */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	REQ(0, XS_WRITE, "/cmp/p/four\0"),             /* a new child */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	REQ(0, XS_WRITE, "/cmp/p\0v"),                 /* the node's value */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0r1\0"),          /* its permissions */
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	REQ(0, XS_RM, "/cmp/p/two\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	TSTART(0, 1),
	TREQ(0, 1, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	TREQ(0, 1, XS_WRITE, "/cmp/p/five\0"),
	TREQ(0, 1, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	TEND(0, 1, "T\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/p\0" "0\0"),
	END
};

static const struct step c_dir_big[] = {
	BIG8(0), BIG8(8), BIG8(16), BIG8(24), BIG8(32),
	REQ(0, XS_DIRECTORY, "/cmp/big\0"),            /* reply > 4096 */
	REQ(0, XS_DIRECTORY_PART, "/cmp/big\0" "0\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/big\0" "3993\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/big\0" "4840\0"),
	REQ(0, XS_DIRECTORY_PART, "/cmp/big\0" "4000\0"),
	REQ(0, XS_RM, "/cmp/big\0"),
	GREQ(0, XS_WRITE, G_BIGVAL, 4096 - 9),         /* the biggest write */
	REQ(0, XS_READ, "/cmp/val\0"),
	GREQ(0, XS_WRITE, G_BIGVAL, 2048),
	REQ(0, XS_READ, "/cmp/val\0"),
	END
};

static const struct step c_path_chars[] = {
	REQ(0, XS_WRITE, "/cmp/ok-_@AZaz09\0v"),
	REQ(0, XS_READ, "/cmp/ok-_@AZaz09\0"),
	REQ(0, XS_WRITE, "/cmp/a b\0v"),
	REQ(0, XS_WRITE, "/cmp/a.b\0v"),
	REQ(0, XS_WRITE, "/cmp/a~b\0v"),
	REQ(0, XS_WRITE, "/cmp/a:b\0v"),
	REQ(0, XS_WRITE, "/cmp/a\xc3\xa9\0v"),
	REQ(0, XS_WRITE, "/cmp/a\tb\0v"),
	REQ(0, XS_READ, "/cmp/a.b\0"),
	REQ(0, XS_READ, "/cmp//a\0"),
	REQ(0, XS_WRITE, "/cmp//a\0v"),
	REQ(0, XS_WRITE, "/cmp/a/\0v"),
	REQ(0, XS_READ, "/cmp/\0"),
	REQ(0, XS_READ, "/\0"),
	REQ(0, XS_READ, "//\0"),
	REQ(0, XS_READ, "\0"),
	REQ(0, XS_READ, "@introduceDomain\0"),
	REQ(0, XS_READ, "@foo\0"),
	REQ(0, XS_WRITE, "@foo\0v"),
	REQ(0, XS_WRITE, "@releaseDomain\0v"),
	REQ(0, XS_GET_PERMS, "/cmp/a b\0"),
	REQ(0, XS_WRITE, "/\0"),
	REQ(0, XS_MKDIR, "/\0"),
	END
};

static const struct step c_path_len[] = {
	GREQ(0, XS_WRITE, G_ABS_VAL, 3072),     /* XENSTORE_ABS_PATH_MAX */
	GREQ(0, XS_READ, G_ABS, 3072),
	GREQ(0, XS_WRITE, G_ABS_VAL, 3073),
	GREQ(0, XS_READ, G_ABS, 3073),          /* EINVAL before ENOENT? */
	GREQ(0, XS_READ, G_ABS, 4000),
	GREQ(0, XS_MKDIR, G_ABS, 3073),
	GREQ(0, XS_RM, G_ABS, 3073),
	GREQ(0, XS_WRITE, G_REL_VAL, 2048),     /* XENSTORE_REL_PATH_MAX */
	GREQ(0, XS_READ, G_REL, 2048),
	GREQ(0, XS_WRITE, G_REL_VAL, 2049),
	GREQ(0, XS_READ, G_REL, 2049),
	GREQ(0, XS_WRITE, G_REL_VAL, 3040),     /* absolute 3056 */
	GREQ(0, XS_READ, G_REL, 3040),
	GREQ(0, XS_WATCH, G_ABS_VAL, 3073),     /* token "v" */
	GREQ(0, XS_WATCH, G_REL_VAL, 2049),
	GREQ(0, XS_WATCH, G_ABS_VAL, 3072),
	GREQ(0, XS_UNWATCH, G_ABS_VAL, 3072),
	END
};

static const struct step c_relative[] = {
	REQ(0, XS_WRITE, "cmp/rel\0v"),
	REQ(0, XS_READ, "/local/domain/0/cmp/rel\0"),
	REQ(0, XS_READ, "cmp/rel\0"),
	REQ(0, XS_DIRECTORY, "cmp\0"),
	REQ(0, XS_MKDIR, "cmp/dir\0"),
	REQ(0, XS_GET_PERMS, "cmp/rel\0"),
	REQ(0, XS_SET_PERMS, "cmp/rel\0n0\0r1\0"),
	REQ(0, XS_GET_PERMS, "cmp/rel\0"),
	REQ(0, XS_DIRECTORY_PART, "cmp\0" "0\0"),
	REQ(0, XS_READ, "cmp/\0"),
	REQ(0, XS_READ, "cmp//rel\0"),
	REQ(0, XS_RM, "cmp/rel\0"),
	REQ(0, XS_READ, "cmp/rel\0"),
	TSTART(0, 1),
	TREQ(0, 1, XS_WRITE, "cmp/txrel\0t"),
	TREQ(0, 1, XS_READ, "cmp/txrel\0"),
	TEND(0, 1, "T\0"),
	REQ(0, XS_READ, "/local/domain/0/cmp/txrel\0"),
	END
};

static const struct step c_perms[] = {
	REQ(0, XS_WRITE, "/cmp/p\0v"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0w1\0r2\0b3\0n4\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_WRITE, "/cmp/p/c\0"),         /* a child inherits */
	REQ(0, XS_GET_PERMS, "/cmp/p/c\0"),
	REQ(0, XS_MKDIR, "/cmp/p/m\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p/m\0"),
	REQ(0, XS_WRITE, "/cmp/p/c\0w"),        /* a rewrite keeps perms */
	REQ(0, XS_GET_PERMS, "/cmp/p/c\0"),
	REQ(0, XS_READ, "/cmp/p\0"),            /* dom0 is privileged */
	REQ(0, XS_SET_PERMS, "/cmp/p\0n0\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0r0\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0b7\0"),   /* owner that does not exist */
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0n0\0r1\0r1\0w1\0"), /* duplicates */
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0x0\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0r\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0rabc\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0r0x\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0r-1\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0r99999999999\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0R0\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0"),
	REQ(0, XS_SET_PERMS, "/cmp/p\0n0"),     /* last perm without NUL */
	REQ(0, XS_SET_PERMS, "/cmp/p\0n0\0x1\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),       /* unchanged by the errors */
	REQ(0, XS_SET_PERMS, "/cmp/none\0n0\0"),
	REQ(0, XS_GET_PERMS, "/cmp/none\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p/\0"),
	REQ(0, XS_GET_PERMS, "@introduceDomain\0"),
	REQ(0, XS_GET_PERMS, "@releaseDomain\0"),
	REQ(0, XS_GET_PERMS, "@foo\0"),
	REQ(0, XS_SET_PERMS, "@releaseDomain\0n0\0r1\0"),
	REQ(0, XS_GET_PERMS, "@releaseDomain\0"),
	REQ(0, XS_SET_PERMS, "@releaseDomain\0n0\0"),
	REQ(0, XS_GET_PERMS, "/\0"),
	TSTART(0, 1),
	TREQ(0, 1, XS_SET_PERMS, "/cmp/p\0n5\0r0\0"),
	TREQ(0, 1, XS_GET_PERMS, "/cmp/p\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	TEND(0, 1, "T\0"),
	REQ(0, XS_GET_PERMS, "/cmp/p\0"),
	END
};

static const struct step c_perms_many[] = {
	REQ(0, XS_WRITE, "/cmp/q\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n0\0r1\0r2\0r3\0r4\0r5\0r6\0r7\0r8\0r9\0"
		"w10\0w11\0w12\0b13\0b14\0"),
	REQ(0, XS_GET_PERMS, "/cmp/q\0"),
	REQ(0, XS_WRITE, "/cmp/q/child\0"),
	REQ(0, XS_GET_PERMS, "/cmp/q/child\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n65535\0"),
	REQ(0, XS_GET_PERMS, "/cmp/q\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n65536\0"),
	REQ(0, XS_GET_PERMS, "/cmp/q\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n4294967296\0"),
	REQ(0, XS_GET_PERMS, "/cmp/q\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n 1\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n+1\0"),
	REQ(0, XS_SET_PERMS, "/cmp/q\0n0x1\0"),
	REQ(0, XS_GET_PERMS, "/cmp/q\0"),
	END
};

static const struct step c_watch[] = {
	REQ(1, XS_WATCH, "/cmp/w\0tok\0"),      /* initial event */
	REQ(0, XS_WRITE, "/cmp/w\0v"),
	REQ(0, XS_WRITE, "/cmp/w/child\0v"),
	REQ(0, XS_WRITE, "/cmp/w/a/b/c\0v"),    /* creates a and b too */
	REQ(0, XS_WRITE, "/cmp/wx\0v"),         /* a sibling with that prefix */
	REQ(0, XS_WRITE, "/cmp\0v"),            /* the parent */
	REQ(0, XS_READ, "/cmp/w\0"),            /* reads fire nothing */
	REQ(0, XS_MKDIR, "/cmp/w/child\0"),     /* exists: no change */
	REQ(0, XS_MKDIR, "/cmp/w/new\0"),
	REQ(0, XS_SET_PERMS, "/cmp/w\0n0\0r1\0"),
	REQ(1, XS_WATCH, "/cmp/w\0tok\0"),      /* twice */
	REQ(1, XS_WATCH, "/cmp/w\0tok2\0"),     /* another token */
	REQ(2, XS_WATCH, "/cmp/w\0tok\0"),      /* another connection */
	REQ(0, XS_WRITE, "/cmp/w\0v2"),
	REQ(1, XS_UNWATCH, "/cmp/w\0tok2\0"),
	REQ(1, XS_UNWATCH, "/cmp/w\0tok2\0"),
	REQ(1, XS_UNWATCH, "/cmp/w\0nosuch\0"),
	REQ(1, XS_UNWATCH, "/cmp/w\0"),
	REQ(0, XS_WRITE, "/cmp/w\0v3"),
	REQ(1, XS_WATCH, "/cmp/w\0"),           /* no token */
	REQ(1, XS_WATCH, "/cmp/w\0\0"),         /* empty token */
	REQ(0, XS_WRITE, "/cmp/w\0v4"),
	REQ(1, XS_WATCH, "/cmp/w/\0t\0"),
	REQ(1, XS_WATCH, "/cmp/a b\0t\0"),
	REQ(1, XS_WATCH, "\0t\0"),
	REQ(1, XS_WATCH, "/cmp/w\0tok\0extra\0"),
	REQ(1, XS_WATCH, "/cmp/w\0t o k\0"),    /* any token bytes */
	REQ(1, XS_WATCH, "/cmp/notyet/x\0t\0"), /* node need not exist */
	REQ(0, XS_WRITE, "/cmp/notyet/x/y\0"),
	REQ(1, XS_WATCH, "/\0root\0"),
	REQ(0, XS_WRITE, "/cmp/w/child\0v5"),
	REQ(1, XS_UNWATCH, "/\0root\0"),
	REQ(0, XS_RM, "/cmp/w/child\0"),
	REQ(0, XS_RM, "/cmp/w/child\0"),        /* nothing to remove */
	REQ(0, XS_RM, "/cmp/w\0"),
	REQ(2, XS_UNWATCH, "/cmp/w\0tok\0"),
	REQ(2, XS_UNWATCH, "/cmp/w/\0tok\0"),
	END
};

static const struct step c_watch_rm[] = {
	REQ(0, XS_WRITE, "/cmp/r/a/b/c\0v"),
	REQ(1, XS_WATCH, "/cmp/r/a/b\0deep\0"),
	REQ(1, XS_WATCH, "/cmp/r/a/b/c\0leaf\0"),
	REQ(1, XS_WATCH, "/cmp/r/a/b/c/d\0below\0"),
	REQ(2, XS_WATCH, "/cmp/r\0top\0"),
	REQ(2, XS_WATCH, "/cmp\0cmp\0"),
	REQ(0, XS_WRITE, "/cmp/r/a/sib\0v"),
	REQ(0, XS_RM, "/cmp/r/a\0"),            /* the parent goes */
	REQ(0, XS_WRITE, "/cmp/r/a/b/c\0back"),
	REQ(0, XS_RM, "/cmp/r\0"),
	REQ(0, XS_RM, "/cmp\0"),
	END
};

/* several watches of one connection matching one change */
static const struct step c_watch_same_token[] = {
	REQ(1, XS_WATCH, "/cmp/d\0A\0"),
	REQ(1, XS_WATCH, "/cmp/d/e\0A\0"),
	REQ(1, XS_WATCH, "/cmp/d/e\0B\0"),
	REQ(1, XS_WATCH, "/cmp/d/e/f\0A\0"),
	REQ(0, XS_WRITE, "/cmp/d/e/f\0v"),
	REQ(0, XS_WRITE, "/cmp/d/e\0v"),
	REQ(1, XS_WATCH, "cmp/d\0A\0"),
	REQ(1, XS_WATCH, "/local/domain/0/cmp/d\0A\0"),
	REQ(0, XS_WRITE, "cmp/d/x\0v"),
	REQ(2, XS_WATCH, "/cmp/d\0A\0"),
	REQ(0, XS_RM, "/cmp/d\0"),
	END
};

static const struct step c_watch_rel[] = {
	REQ(0, XS_WRITE, "cmp/rw\0v"),
	REQ(1, XS_WATCH, "cmp/rw\0rel\0"),      /* initial event: relative */
	REQ(1, XS_WATCH, "/local/domain/0/cmp/rw\0abs\0"),
	REQ(0, XS_WRITE, "/local/domain/0/cmp/rw/x\0v"),
	REQ(0, XS_WRITE, "cmp/rw/y\0v"),
	REQ(0, XS_RM, "cmp/rw\0"),
	REQ(1, XS_UNWATCH, "/local/domain/0/cmp/rw\0rel\0"), /* path as given */
	REQ(1, XS_UNWATCH, "cmp/rw\0rel\0"),
	REQ(1, XS_UNWATCH, "cmp/rw\0abs\0"),
	REQ(1, XS_WATCH, "cmp\0relcmp\0"),
	REQ(0, XS_WRITE, "/local/domain/0/cmp/z\0v"),
	REQ(1, XS_WATCH, "/local/domain/0\0dom0\0"),
	REQ(0, XS_WRITE, "cmp/z\0v2"),
	REQ(1, XS_UNWATCH, "/local/domain/0\0dom0\0"),
	REQ(1, XS_RESET_WATCHES, ""),
	END
};

static const struct step c_watch_special[] = {
	REQ(1, XS_WATCH, "@introduceDomain\0intro\0"),
	REQ(1, XS_WATCH, "@releaseDomain\0rel\0"),
	REQ(1, XS_WATCH, "@foo\0foo\0"),
	REQ(1, XS_WATCH, "@introduceDomain/x\0ix\0"),
	REQ(1, XS_WATCH, "@\0at\0"),
	REQ(0, XS_WRITE, "/cmp/s\0v"),
	REQ(1, XS_UNWATCH, "@introduceDomain\0intro\0"),
	REQ(1, XS_UNWATCH, "@releaseDomain\0rel\0"),
	REQ(1, XS_UNWATCH, "@foo\0foo\0"),
	END
};

static const struct step c_reset_watches[] = {
	REQ(1, XS_WATCH, "/cmp/rw1\0a\0"),
	REQ(1, XS_WATCH, "/cmp/rw2\0b\0"),
	REQ(2, XS_WATCH, "/cmp/rw1\0c\0"),
	REQ(1, XS_RESET_WATCHES, ""),
	REQ(0, XS_WRITE, "/cmp/rw1\0v"),
	REQ(0, XS_WRITE, "/cmp/rw2\0v"),
	REQ(1, XS_UNWATCH, "/cmp/rw1\0a\0"),
	REQ(1, XS_RESET_WATCHES, ""),           /* none left */
	REQ(1, XS_RESET_WATCHES, "junk\0"),
	REQ(1, XS_WATCH, "/cmp/rw1\0a\0"),      /* same again is fine */
	REQ(0, XS_WRITE, "/cmp/rw1\0v2"),
	END
};

static const struct step c_watch_tx[] = {
	REQ(1, XS_WATCH, "/cmp/wt\0tok\0"),
	TSTART(0, 1),
	TREQ(0, 1, XS_WRITE, "/cmp/wt/a\0v"),   /* no event yet */
	TREQ(0, 1, XS_WRITE, "/cmp/wt/b\0v"),
	TREQ(0, 1, XS_WRITE, "/cmp/wt/a\0v2"),
	TEND(0, 1, "T\0"),                      /* events now */
	TSTART(0, 2),
	TREQ(0, 2, XS_WRITE, "/cmp/wt/c\0v"),
	TEND(0, 2, "F\0"),                      /* aborted: none */
	TSTART(0, 3),
	TREQ(0, 3, XS_RM, "/cmp/wt/a\0"),
	TREQ(0, 3, XS_SET_PERMS, "/cmp/wt/b\0n0\0r2\0"),
	TREQ(0, 3, XS_MKDIR, "/cmp/wt/m\0"),
	TEND(0, 3, "T\0"),
	TSTART(1, 4),                           /* the watcher's own tx */
	TREQ(1, 4, XS_WRITE, "/cmp/wt/own\0v"),
	TEND(1, 4, "T\0"),
	END
};

static const struct step c_tx_basic[] = {
	REQ(0, XS_WRITE, "/cmp/t/old\0o"),
	TSTART(0, 1),
	TREQ(0, 1, XS_WRITE, "/cmp/t/new\0n"),
	TREQ(0, 1, XS_READ, "/cmp/t/new\0"),
	REQ(0, XS_READ, "/cmp/t/new\0"),        /* not visible outside */
	REQ(1, XS_READ, "/cmp/t/new\0"),
	TREQ(0, 1, XS_DIRECTORY, "/cmp/t\0"),
	REQ(1, XS_DIRECTORY, "/cmp/t\0"),
	TREQ(0, 1, XS_RM, "/cmp/t/old\0"),
	TREQ(0, 1, XS_READ, "/cmp/t/old\0"),
	REQ(1, XS_READ, "/cmp/t/old\0"),
	TREQ(0, 1, XS_MKDIR, "/cmp/t/dir\0"),
	TREQ(0, 1, XS_GET_PERMS, "/cmp/t/dir\0"),
	TREQ(0, 1, XS_READ, "/cmp/t/nope\0"),
	TREQ(0, 1, XS_GET_DOMAIN_PATH, "0\0"),
	TREQ(0, 1, XS_WATCH, "/cmp/t\0intx\0"), /* watch inside a tx */
	TREQ(0, 1, XS_UNWATCH, "/cmp/t\0intx\0"),
	TEND(0, 1, "T\0"),
	REQ(1, XS_READ, "/cmp/t/new\0"),
	REQ(1, XS_READ, "/cmp/t/old\0"),
	REQ(1, XS_DIRECTORY, "/cmp/t\0"),
	TSTART(0, 2),                           /* an empty transaction */
	TEND(0, 2, "T\0"),
	TSTART(0, 3),                           /* read-only */
	TREQ(0, 3, XS_READ, "/cmp/t/new\0"),
	TEND(0, 3, "T\0"),
	END
};

static const struct step c_tx_conflict[] = {
	REQ(0, XS_WRITE, "/cmp/c/x\0one"),
	REQ(0, XS_WRITE, "/cmp/c/y\0one"),
	/* read, then someone else writes it: EAGAIN */
	TSTART(0, 1),
	TREQ(0, 1, XS_READ, "/cmp/c/x\0"),
	TREQ(0, 1, XS_WRITE, "/cmp/c/z\0mine"),
	REQ(1, XS_WRITE, "/cmp/c/x\0two"),
	TEND(0, 1, "T\0"),
	TREQ(0, 1, XS_READ, "/cmp/c/x\0"),      /* the tx is gone */
	TEND(0, 1, "T\0"),
	REQ(0, XS_READ, "/cmp/c/z\0"),          /* not applied */
	/* blind write vs outside write of the same node */
	TSTART(0, 2),
	TREQ(0, 2, XS_WRITE, "/cmp/c/y\0tx"),
	REQ(1, XS_WRITE, "/cmp/c/y\0out"),
	TEND(0, 2, "T\0"),
	REQ(0, XS_READ, "/cmp/c/y\0"),
	/* an unrelated outside change: no conflict */
	TSTART(0, 3),
	TREQ(0, 3, XS_READ, "/cmp/c/x\0"),
	TREQ(0, 3, XS_WRITE, "/cmp/c/x\0three"),
	REQ(1, XS_WRITE, "/cmp/other\0v"),
	TEND(0, 3, "T\0"),
	REQ(0, XS_READ, "/cmp/c/x\0"),
	/* a sibling created outside while the tx read the directory */
	TSTART(0, 4),
	TREQ(0, 4, XS_DIRECTORY, "/cmp/c\0"),
	REQ(1, XS_WRITE, "/cmp/c/new\0v"),
	TEND(0, 4, "T\0"),
	/* a sibling created outside while the tx created another child */
	TSTART(0, 5),
	TREQ(0, 5, XS_WRITE, "/cmp/c/mine\0v"),
	REQ(1, XS_WRITE, "/cmp/c/theirs\0v"),
	TEND(0, 5, "T\0"),
	REQ(0, XS_DIRECTORY, "/cmp/c\0"),
	/* a read of a missing node, created outside */
	TSTART(0, 6),
	TREQ(0, 6, XS_READ, "/cmp/c/later\0"),
	REQ(1, XS_WRITE, "/cmp/c/later\0v"),
	TEND(0, 6, "T\0"),
	/* the outside change is a removal of a read node */
	TSTART(0, 7),
	TREQ(0, 7, XS_READ, "/cmp/c/later\0"),
	REQ(1, XS_RM, "/cmp/c/later\0"),
	TEND(0, 7, "T\0"),
	/* two transactions writing the same node: the second fails */
	TSTART(0, 1),
	TSTART(1, 2),
	TREQ(0, 1, XS_WRITE, "/cmp/c/both\0a"),
	TREQ(1, 2, XS_WRITE, "/cmp/c/both\0b"),
	TEND(1, 2, "T\0"),
	TEND(0, 1, "T\0"),
	REQ(0, XS_READ, "/cmp/c/both\0"),
	/* an aborted conflicting tx is just aborted */
	TSTART(0, 3),
	TREQ(0, 3, XS_READ, "/cmp/c/x\0"),
	REQ(1, XS_WRITE, "/cmp/c/x\0four"),
	TEND(0, 3, "F\0"),
	END
};

static const struct step c_tx_ids[] = {
	TSTART(0, 1),
	TSTART(0, 2),                           /* several per connection */
	TREQ(0, 1, XS_WRITE, "/cmp/i/one\0v"),
	TREQ(0, 2, XS_READ, "/cmp/i/one\0"),    /* isolated from tx 1 */
	TEND(0, 2, "F\0"),
	TREQ(0, 2, XS_READ, "/cmp/i/one\0"),    /* ended */
	/* c1 has no transaction of its own: c0's id is unknown there */
	TEND(1, 1, "T\0"),
	TREQ(1, 1, XS_READ, "/cmp/i/one\0"),
	SREQ(0, XS_TRANSACTION_START, 1, 0, 4, "\0"), /* nested start */
	TEND(0, 4, "F\0"),
	TEND(0, 1, "X\0"),                      /* bad argument */
	TEND(0, 1, "\0"),
	TEND(0, 1, "TRUE\0"),
	TEND(0, 1, "T"),                        /* no NUL */
	TEND(0, 1, ""),
	TREQ(0, 1, XS_READ, "/cmp/i/one\0"),    /* still alive after those? */
	TEND(0, 1, "T\0"),
	REQ(0, XS_TRANSACTION_END, "T\0"),      /* tx 0 */
	XREQ(0, 0xdead0001u, XS_READ, "/cmp/i/one\0"),
	XREQ(0, 0xdead0001u, XS_WRITE, "/cmp/i/two\0v"),
	XREQ(0, 0xdead0001u, XS_TRANSACTION_END, "T\0"),
	XREQ(0, 0xdead0001u, XS_GET_DOMAIN_PATH, "0\0"),
	XREQ(0, 0xdead0001u, XS_WATCH, "/cmp/i\0t\0"),
	XREQ(0, 0xdead0001u, XS_UNWATCH, "/cmp/i\0t\0"),
	XREQ(0, 0xdead0001u, XS_RESET_WATCHES, ""),
	XREQ(0, 0xdead0001u, XS_CONTROL, "check\0"),
	XREQ(0, 0xdead0001u, XS_IS_DOMAIN_INTRODUCED, "0\0"),
	XREQ(0, 0xdead0001u, XS_INTRODUCE, "1\0" "0\0" "0\0"),
	XREQ(0, 0xdead0001u, XS_RELEASE, "1\0"),
	XREQ(0, 0xdead0001u, 99, ""),           /* unknown type first? */
	SREQ(0, XS_TRANSACTION_START, NO_SLOT, 0, 5, ""),       /* no NUL */
	SREQ(0, XS_TRANSACTION_START, NO_SLOT, 0, 6, "junk\0"),
	TREQ(0, 5, XS_WRITE, "/cmp/i/five\0v"),
	TEND(0, 5, "T\0"),
	TEND(0, 6, "T\0"),
	TSTART(1, 3),
	TREQ(1, 3, XS_WRITE, "/cmp/i/three\0v"),
	TREQ(1, 3, XS_READ, "/cmp/i/five\0"),
	TEND(1, 3, "T\0"),
	REQ(0, XS_READ, "/cmp/i/three\0"),
	END
};

static const struct step c_tx_close[] = {
	REQ(1, XS_WATCH, "/cmp/cl\0tok\0"),
	TSTART(1, 1),
	TREQ(1, 1, XS_WRITE, "/cmp/cl/a\0v"),
	CLOSE(1),                               /* aborts tx, drops watch */
	OPEN(1),
	REQ(0, XS_READ, "/cmp/cl/a\0"),
	REQ(0, XS_WRITE, "/cmp/cl/b\0v"),
	TREQ(1, 1, XS_READ, "/cmp/cl/a\0"),
	REQ(1, XS_UNWATCH, "/cmp/cl\0tok\0"),
	END
};

static const struct step c_domain[] = {
	REQ(1, XS_WATCH, "@introduceDomain\0intro\0"), /* fired by any of these? */
	REQ(1, XS_WATCH, "@releaseDomain\0release\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "0\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "1\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "32767\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "65535\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "abc\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "-1\0"),
	REQ(0, XS_GET_DOMAIN_PATH, "\0"),
	REQ(0, XS_GET_DOMAIN_PATH, ""),
	REQ(0, XS_GET_DOMAIN_PATH, "3"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, "0\0"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, "1\0"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, "abc\0"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, ""),
	REQ(0, XS_RELEASE, "1\0"),
	REQ(0, XS_RELEASE, "0\0"),
	REQ(0, XS_RELEASE, "abc\0"),
	REQ(0, XS_RELEASE, ""),
	REQ(0, XS_RESUME, "1\0"),
	REQ(0, XS_RESUME, "0\0"),
	REQ(0, XS_RESUME, ""),
	REQ(0, XS_SET_TARGET, "1\0" "2\0"),
	REQ(0, XS_SET_TARGET, "1\0"),
	REQ(0, XS_SET_TARGET, ""),
	REQ(0, XS_INTRODUCE, ""),
	REQ(0, XS_INTRODUCE, "1\0"),
	REQ(0, XS_INTRODUCE, "1\0" "0\0"),
	REQ(0, XS_INTRODUCE, "abc\0" "0\0" "0\0"),
	REQ(0, XS_INTRODUCE, "0\0" "0\0" "1\0"),  /* dom0 again */
	REQ(0, XS_INTRODUCE, "0\0" "0\0" "1\0" "extra\0"),
	REQ(0, XS_INTRODUCE, "1\0" "0\0" "abc\0"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, "0\0"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, "7\0"),
	REQ(0, XS_RELEASE, "7\0"),
	END
};

/*
 * What INTRODUCE of a guest does where there is no hypervisor to map its
 * ring: cxenstored under tests/refxs answers ENOSYS (the shim's grant mapping),
 * xmstored opens a channel instead. Not run by default (see --list).
 */
static const struct step c_introduce_nohv[] = {
	REQ(0, XS_INTRODUCE, "1\0" "abc\0" "1\0"),
	REQ(0, XS_INTRODUCE, "7\0" "4096\0" "5\0"),
	REQ(0, XS_IS_DOMAIN_INTRODUCED, "7\0"),
	REQ(0, XS_RELEASE, "7\0"),
	END
};

static const struct step c_unknown[] = {
	REQ(0, XS_WATCH_EVENT, "/cmp\0t\0"),
	REQ(0, XS_ERROR, "EINVAL\0"),
	REQ(0, 20, "\0"),                      /* the removed XS_RESTRICT */
	REQ(0, XS_TYPE_COUNT, "\0"),
	REQ(0, 99, "/cmp\0"),
	REQ(0, XS_INVALID, ""),
	REQ(0, XS_READ, "/\0"),                /* still connected */
	END
};

static const struct step c_control[] = {
	REQ(0, XS_CONTROL, "check\0"),
	REQ(0, XS_CONTROL, "bogus-command\0"),
	REQ(0, XS_CONTROL, "\0"),
	REQ(0, XS_CONTROL, ""),
	REQ(0, XS_CONTROL, "check\0extra\0"),
	TSTART(0, 1),
	TREQ(0, 1, XS_CONTROL, "check\0"),
	TEND(0, 1, "F\0"),
	END
};

static const struct step c_oversize[] = {
	REQ(1, XS_WATCH, "/cmp/o\0tok\0"),
	REQ(0, XS_WRITE, "/cmp/o\0v"),
	OVERSIZE(1, XENSTORE_PAYLOAD_MAX + 1), /* drops that connection */
	REQ(1, XS_READ, "/cmp/o\0"),
	REQ(0, XS_WRITE, "/cmp/o\0v2"),          /* no watcher left */
	REQ(0, XS_READ, "/cmp/o\0"),
	OPEN(1),
	REQ(1, XS_READ, "/cmp/o\0"),
	OVERSIZE(1, XENSTORE_PAYLOAD_MAX),     /* the limit itself is fine */
	REQ(1, XS_READ, "/cmp/o\0"),
	END
};

struct script {
	const char *name;
	const struct step *steps;
	bool optional;  /* only with --script NAME; not listed by --list */
};

static const struct script scripts[] = {
	{ "basic", c_basic, false },
	{ "mkdir-rm", c_mkdir_rm, false },
	{ "directory-order", c_dir_order, false },
	{ "directory-part", c_dir_part, false },
	{ "directory-big", c_dir_big, false },
	{ "path-chars", c_path_chars, false },
	{ "path-length", c_path_len, false },
	{ "relative", c_relative, false },
	{ "perms", c_perms, false },
	{ "perms-many", c_perms_many, false },
	{ "watch", c_watch, false },
	{ "watch-rm-parent", c_watch_rm, false },
	{ "watch-same-token", c_watch_same_token, false },
	{ "watch-relative", c_watch_rel, false },
	{ "watch-special", c_watch_special, false },
	{ "reset-watches", c_reset_watches, false },
	{ "watch-transaction", c_watch_tx, false },
	{ "tx-basic", c_tx_basic, false },
	{ "tx-conflict", c_tx_conflict, false },
	{ "tx-ids", c_tx_ids, false },
	{ "tx-close", c_tx_close, false },
	{ "domain", c_domain, false },
	{ "unknown-types", c_unknown, false },
	{ "control", c_control, false },
	{ "oversize", c_oversize, false },
	{ "introduce-nohv", c_introduce_nohv, true },
};

/* ---------------------------------------------------------------- text */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			perror("xscompare: realloc");
			exit(2);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_fmt(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A payload as a C-like string: \0 for NUL, runs of one byte as x{N}. */
static void buf_payload(struct buf *b, const char *p, size_t len)
{
	buf_str(b, "\"");
	for (size_t i = 0; i < len;) {
		size_t run = 1;
		while (i + run < len && p[i + run] == p[i])
			run++;
		unsigned char c = (unsigned char)p[i];
		char one[8];
		if (c == '\0' && i + 1 < len && p[i + 1] >= '0' && p[i + 1] <= '7')
			snprintf(one, sizeof(one), "\\000");
		else if (c == '\0')
			snprintf(one, sizeof(one), "\\0");
		else if (c == '"' || c == '\\')
			snprintf(one, sizeof(one), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			snprintf(one, sizeof(one), "\\x%02x", c);
		else
			snprintf(one, sizeof(one), "%c", c);
		if (run > 8) {
			buf_fmt(b, "%s{%zu}", one, run);
			i += run;
		} else {
			buf_str(b, one);
			i++;
		}
	}
	buf_str(b, "\"");
}

/* ---------------------------------------------------------------- daemons */

struct daemon {
	const char *name;      /* "A" or "B" */
	const char *sock;
	int fd[NCONN];
	bool bound[NSLOT];
	uint32_t txid[NSLOT];
	int txconn[NSLOT];
	char gen[NGEN][24];
	int ngen;
	char *ev[NCONN][MAXEV]; /* events met during the current step */
	int nev[NCONN];
};

static int settle_ms;
static int verbose;

static int conn_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	/* a daemon that never answers must not hang the test */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void daemon_close(struct daemon *d, int c)
{
	if (d->fd[c] >= 0)
		close(d->fd[c]);
	d->fd[c] = -1;
}

static int daemon_open(struct daemon *d, int c)
{
	daemon_close(d, c);
	d->fd[c] = conn_open(d->sock);
	if (d->fd[c] < 0) {
		fprintf(stderr, "xscompare: %s: connect %s: %s\n", d->name,
			d->sock, strerror(errno));
		return -1;
	}
	return 0;
}

/* Forget the per-case state: connections, transactions, generations. */
static int daemon_reset(struct daemon *d)
{
	for (int c = 0; c < NCONN; c++)
		if (daemon_open(d, c) < 0)
			return -1;
	memset(d->bound, 0, sizeof(d->bound));
	d->ngen = 0;
	return 0;
}

static void event_add(struct daemon *d, int c, const struct xsd_sockmsg *h,
		      const char *body)
{
	struct buf b = { 0 };

	if (h->req_id || h->tx_id)
		buf_fmt(&b, "(req=%u tx=%u)", h->req_id, h->tx_id);
	buf_payload(&b, body, h->len);
	if (d->nev[c] < MAXEV)
		d->ev[c][d->nev[c]++] = b.p;
	else
		free(b.p);
}

enum rstatus { RS_OK, RS_EOF, RS_TIMEOUT, RS_BIG, RS_ERR };

/* Read up to the next message that is not a watch event. */
static enum rstatus read_reply(struct daemon *d, int c, struct xsd_sockmsg *h,
			       char **body)
{
	for (;;) {
		if (wire_recv(d->fd[c], h, body) < 0) {
			int e = errno;
			daemon_close(d, c);
			if (e == ECONNRESET || e == EPIPE)
				return RS_EOF;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return RS_TIMEOUT;
			if (e == EPROTO)
				return RS_BIG;
			return RS_ERR;
		}
		if (h->type != XS_WATCH_EVENT)
			return RS_OK;
		event_add(d, c, h, *body);
		free(*body);
		*body = NULL;
	}
}

/* Events already readable on c without waiting longer than ms. */
static void drain_events(struct daemon *d, int c, int ms)
{
	struct pollfd pfd = { .fd = d->fd[c], .events = POLLIN };

	while (d->fd[c] >= 0 && poll(&pfd, 1, ms) == 1) {
		struct xsd_sockmsg h;
		char *body;
		enum rstatus r = read_reply(d, c, &h, &body);
		if (r == RS_OK) {
			/* a reply nobody asked for: record it as an event */
			struct xsd_sockmsg x = h;
			x.type = XS_WATCH_EVENT;
			x.len = 17;
			event_add(d, c, &x, "!unexpected reply");
		}
		free(body);
		if (r != RS_OK)
			break;
	}
}

/* Barrier: one round trip on every open connection (see the file head). */
static void barrier(struct daemon *d)
{
	for (int c = 0; c < NCONN; c++) {
		if (d->fd[c] < 0)
			continue;
		if (wire_send(d->fd[c], XS_READ, PING_ID, 0, "/", 2) < 0) {
			daemon_close(d, c);
			continue;
		}
		struct xsd_sockmsg h;
		char *body = NULL;
		read_reply(d, c, &h, &body);
		free(body);
	}
	if (settle_ms > 0)
		for (int c = 0; c < NCONN; c++)
			if (d->fd[c] >= 0)
				drain_events(d, c, settle_ms);
}

/* ---------------------------------------------------------------- steps */

static void gen_payload(const struct step *s, struct buf *b)
{
	char tail[160];
	size_t n;

	switch (s->gen) {
	case G_NONE:
		buf_add(b, s->body, s->len);
		return;
	case G_ABS:
	case G_ABS_VAL:
	case G_REL:
	case G_REL_VAL: {
		bool abs = s->gen == G_ABS || s->gen == G_ABS_VAL;
		const char *pre = abs ? "/cmp/long/" : "cmp/long/";
		buf_str(b, pre);
		for (n = strlen(pre); n < (size_t)s->garg; n++)
			buf_add(b, "x", 1);
		buf_add(b, "", 1);
		if (s->gen == G_ABS_VAL || s->gen == G_REL_VAL)
			buf_str(b, "v");
		return;
	}
	case G_BIGCHILD:
		memset(tail, 'c', 120);
		snprintf(tail + 110, sizeof(tail) - 110, "%010d", s->garg);
		buf_str(b, "/cmp/big/");
		buf_add(b, tail, 121);   /* 120 chars and the NUL */
		buf_str(b, "v");
		return;
	case G_BIGVAL:
		buf_add(b, "/cmp/val", 9);
		for (n = 0; n < (size_t)s->garg; n++)
			buf_add(b, n % 64 == 63 ? "\n" : "v", 1);
		return;
	}
}

static void describe_step(const struct step *s, struct buf *b)
{
	switch (s->kind) {
	case S_OPEN:
		buf_fmt(b, "c%d open", s->conn);
		return;
	case S_CLOSE:
		buf_fmt(b, "c%d close", s->conn);
		return;
	case S_OVERSIZE:
		buf_fmt(b, "c%d message of %d bytes", s->conn, s->garg);
		return;
	default:
		break;
	}
	const char *tn = wire_type_name(s->type);
	if (tn)
		buf_fmt(b, "c%d %s", s->conn, tn);
	else
		buf_fmt(b, "c%d type %u", s->conn, s->type);
	if (s->slot != NO_SLOT)
		buf_fmt(b, " tx=T%d", s->slot);
	else if (s->rawtx)
		buf_fmt(b, " tx=%#x", s->rawtx);
	if (s->bind != NO_SLOT)
		buf_fmt(b, " ->T%d", s->bind);
	buf_str(b, " ");
	struct buf p = { 0 };
	gen_payload(s, &p);
	buf_payload(b, p.p ? p.p : "", p.len);
	free(p.p);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void render_tx(const struct daemon *d, int c, uint32_t tx, struct buf *b)
{
	int any = -1;

	if (tx == 0) {
		buf_str(b, "0");
		return;
	}
	for (int k = 0; k < NSLOT; k++) {
		if (!d->bound[k] || d->txid[k] != tx)
			continue;
		if (d->txconn[k] == c) {
			buf_fmt(b, "T%d", k);
			return;
		}
		any = k;
	}
	if (any >= 0)
		buf_fmt(b, "T%d", any);
	else
		buf_fmt(b, "%#x", tx);
}

/* Render the reply, applying the normalisations listed at the file head. */
static void render_reply(struct daemon *d, const struct step *s, uint32_t req_id,
			 const struct xsd_sockmsg *h, const char *body,
			 struct buf *b)
{
	const char *tn = wire_type_name(h->type);

	if (tn)
		buf_str(b, tn);
	else
		buf_fmt(b, "type %u", h->type);
	if (h->req_id == req_id)
		buf_str(b, " req==");
	else
		buf_fmt(b, " req=%u(sent %u)", h->req_id, req_id);
	buf_str(b, " tx=");
	render_tx(d, s->conn, h->tx_id, b);
	buf_str(b, " ");

	if (h->type == XS_TRANSACTION_START && s->bind != NO_SLOT &&
	    h->len >= 2 && body[h->len - 1] == '\0' &&
	    strlen(body) == h->len - 1 && all_digits(body)) {
		int k = s->bind;
		d->bound[k] = true;
		d->txid[k] = (uint32_t)strtoul(body, NULL, 10);
		d->txconn[k] = s->conn;
		buf_fmt(b, "\"<T%d>\\0\"", k);
		return;
	}
	if (h->type == XS_DIRECTORY_PART && h->len > 0 &&
	    memchr(body, '\0', h->len) && all_digits(body) &&
	    strlen(body) < sizeof(d->gen[0])) {
		int g;
		for (g = 0; g < d->ngen; g++)
			if (strcmp(d->gen[g], body) == 0)
				break;
		if (g == d->ngen && d->ngen < NGEN)
			strcpy(d->gen[d->ngen++], body);
		size_t skip = strlen(body);
		buf_fmt(b, "<G%d>", g);
		buf_payload(b, body + skip, h->len - skip);
		return;
	}
	buf_payload(b, body, h->len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one step on one daemon; its result, as text, goes to out. */
static void run_step(struct daemon *d, const struct step *s, uint32_t req_id,
		     struct buf *out)
{
	struct xsd_sockmsg h;
	char *body = NULL;
	struct buf p = { 0 };
	int c = s->conn;

	for (int i = 0; i < NCONN; i++)
		d->nev[i] = 0;

	switch (s->kind) {
	case S_OPEN:
		buf_str(out, daemon_open(d, c) < 0 ? "connect failed" : "connected");
		goto events;
	case S_CLOSE:
		daemon_close(d, c);
		buf_str(out, "closed");
		goto events;
	default:
		break;
	}
	if (d->fd[c] < 0) {
		buf_str(out, "not connected");
		goto events;
	}
	if (s->kind == S_OVERSIZE) {
		struct xsd_sockmsg x = { XS_WRITE, req_id, 0, (uint32_t)s->garg };
		size_t n = WIRE_HDR_LEN + (size_t)s->garg;
		char *m = calloc(1, n);
		if (!m) {
			perror("xscompare: calloc");
			exit(2);
		}
		memcpy(m, &x, WIRE_HDR_LEN);
		memcpy(m + WIRE_HDR_LEN, "/cmp/o", 7);
		memset(m + WIRE_HDR_LEN + 7, 'o', n - WIRE_HDR_LEN - 7);
		/* the daemon may close before reading it all: ignore EPIPE */
		if (write(d->fd[c], m, n) < 0) {
			/* reported by the read below */
		}
		free(m);
	} else {
		uint32_t tx = s->rawtx;
		if (s->slot != NO_SLOT)
			tx = d->bound[s->slot] ? d->txid[s->slot] : 0xdead0000u + (uint32_t)s->slot;
		gen_payload(s, &p);
		if (wire_send(d->fd[c], s->type, req_id, tx, p.p ? p.p : "", p.len) < 0) {
			buf_fmt(out, "send failed: %s", strerror(errno));
			daemon_close(d, c);
			goto events;
		}
	}
	switch (read_reply(d, c, &h, &body)) {
	case RS_OK:
		render_reply(d, s, req_id, &h, body, out);
		break;
	case RS_EOF:
		buf_str(out, "EOF (connection closed by the daemon)");
		break;
	case RS_TIMEOUT:
		buf_str(out, "TIMEOUT (no reply in 2 s)");
		break;
	case RS_BIG:
		buf_str(out, "reply over XENSTORE_PAYLOAD_MAX (connection dropped)");
		break;
	case RS_ERR:
		buf_fmt(out, "read error");
		break;
	}
	free(body);
events:
	free(p.p);
	barrier(d);
	for (int i = 0; i < NCONN; i++) {
		if (!d->nev[i])
			continue;
		qsort(d->ev[i], (size_t)d->nev[i], sizeof(char *), cmp_str);
		buf_fmt(out, "\n      events c%d:", i);
		for (int k = 0; k < d->nev[i]; k++) {
			buf_fmt(out, " %s", d->ev[i][k]);
			free(d->ev[i][k]);
		}
		d->nev[i] = 0;
	}
}

/* Cleanup around a case: run on a fresh connection, not compared. */
static void cleanup(struct daemon *d)
{
	static const char *const paths[] = { "/cmp", "/local/domain/0/cmp" };
	int fd = conn_open(d->sock);

	if (fd < 0)
		return;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct xsd_sockmsg h;
		char *body = NULL;
		if (wire_send(fd, XS_RM, 1, 0, paths[i], strlen(paths[i]) + 1) < 0)
			break;
		do {
			free(body);
			body = NULL;
			if (wire_recv(fd, &h, &body) < 0)
				break;
		} while (h.type == XS_WATCH_EVENT);
		free(body);
	}
	close(fd);
}

/*
 * Run a list of steps on both daemons. Returns the number of mismatching
 * steps; prints the first MAX_SHOWN with the few steps before the first one.
 */
static int run_steps(const char *name, const struct step *steps,
		     struct daemon *a, struct daemon *b)
{
	int bad = 0, n = 0;

	cleanup(a);
	cleanup(b);
	if (daemon_reset(a) < 0 || daemon_reset(b) < 0)
		exit(2);
	for (; steps[n].kind != S_END; n++) {
		const struct step *s = &steps[n];
		struct buf ra = { 0 }, rb = { 0 }, desc = { 0 };
		uint32_t req_id = 100 + (uint32_t)n;

		run_step(a, s, req_id, &ra);
		run_step(b, s, req_id, &rb);
		describe_step(s, &desc);
		bool same = strcmp(ra.p, rb.p) == 0;
		if (!same && bad == 0 && !verbose) {
			/* context: the steps just before, as requests */
			for (int k = n - 3 < 0 ? 0 : n - 3; k < n; k++) {
				struct buf ctx = { 0 };
				describe_step(&steps[k], &ctx);
				printf("  %s: step %d: %s\n", name, k, ctx.p);
				free(ctx.p);
			}
		}
		if (!same)
			bad++;
		if (verbose || (!same && bad <= MAX_SHOWN)) {
			printf("  %s: step %d: %s\n", name, n, desc.p);
			if (same) {
				printf("      %s\n", ra.p);
			} else {
				printf("    A %s\n", ra.p);
				printf("    B %s\n", rb.p);
			}
		}
		free(ra.p);
		free(rb.p);
		free(desc.p);
	}
	if (bad > MAX_SHOWN && !verbose)
		printf("  %s: ... %d more mismatching steps\n", name, bad - MAX_SHOWN);
	for (int c = 0; c < NCONN; c++) {
		daemon_close(a, c);
		daemon_close(b, c);
	}
	cleanup(a);
	cleanup(b);
	printf("%s %s (%d steps, %d differ)\n", bad ? "DIFF" : "same", name, n, bad);
	return bad;
}

/* ---------------------------------------------------------------- random */

/*
 * The random sequence is made up front from the seed alone (it never looks
 * at replies), so both daemons get exactly the same bytes. Paths come from
 * a tiny alphabet: "/cmp/r", its children a, b, c down to depth 3, and the
 * same under the relative "cmp/r" (/local/domain/0/cmp/r), so nodes are
 * created, removed and watched over and over. Connection c uses transaction
 * slots 2c and 2c+1.
 */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* splitmix64: small and the same everywhere */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)(z % n);
}

static void rnd_path(struct buf *b)
{
	/* mostly shallow: depth 0-2, now and then 3 */
	int depth = rnd(8) == 0 ? 3 : (int)rnd(3);

	buf_str(b, rnd(6) == 0 ? "cmp/r" : "/cmp/r");
	for (int i = 0; i < depth; i++)
		buf_str(b, (const char *[]){ "/a", "/b", "/c" }[rnd(3)]);
	if (rnd(40) == 0)
		buf_str(b, (const char *[]){ "/", "//x", "/a b" }[rnd(3)]);
	buf_add(b, "", 1);
}

/*
 * --edges: a quarter of the steps from the corners a plain run rarely
 * reaches (issue 11): every operation on the special names (@introduceDomain,
 * @releaseDomain, an unknown @name, "@" alone, with a child), and the
 * domain-id argument of GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, RESUME,
 * RELEASE and SET_TARGET at the edges of the id space and past them, as
 * numbers, signs, spaces and junk.
 */
static bool edges;

static void edge_step(struct step *s, struct buf *b)
{
	static const char *const specials[] = {
		"@introduceDomain", "@releaseDomain", "@other", "@", "@introduceDomain/x",
		"@releaseDomain/", "@@", "@a b",
	};
	static const char *const ids[] = {
		"0", "1", "7", "32751", "32752", "32767", "32768", "65535", "65536",
		"2147483647", "2147483648", "4294967295", "4294967296", "-1", "+1",
		"", "abc", "1x", "007", " 1", "0x10", "18446744073709551616",
	};
	const char *sp = specials[rnd(sizeof(specials) / sizeof(specials[0]))];
	const char *id = ids[rnd(sizeof(ids) / sizeof(ids[0]))];
	uint32_t w = rnd(14);

	switch (w) {
	case 0: s->type = XS_READ; break;
	case 1: s->type = XS_WRITE; break;
	case 2: s->type = XS_MKDIR; break;
	case 3: s->type = XS_RM; break;
	case 4: s->type = XS_DIRECTORY; break;
	case 5: s->type = XS_GET_PERMS; break;
	case 6: s->type = XS_SET_PERMS; break;
	case 7: s->type = XS_WATCH; s->slot = NO_SLOT; break;
	case 8: s->type = XS_UNWATCH; s->slot = NO_SLOT; break;
	case 9: s->type = XS_GET_DOMAIN_PATH; break;
	case 10: s->type = XS_IS_DOMAIN_INTRODUCED; break;
	case 11: s->type = XS_RESUME; break;
	case 12: s->type = XS_RELEASE; break;
	default: s->type = XS_SET_TARGET; break;
	}
	s->slot = NO_SLOT;
	if (w <= 8) {
		/* SET_PERMS of any other @ name kills cxenstored 4.17 (xmstored:
		 * EINVAL for a malformed name, ENOENT for an unknown one) */
		if (s->type == XS_SET_PERMS)
			sp = rnd(2) ? "@introduceDomain" : "@releaseDomain";
		buf_str(b, sp);
		buf_add(b, "", 1);
		if (s->type == XS_WRITE)
			buf_str(b, "v");
		else if (s->type == XS_SET_PERMS)
		{
			bool one = rnd(2);
			buf_add(b, one ? "n0\0" : "r0\0b1\0", one ? 3 : 6);
		}
		else if (s->type == XS_WATCH || s->type == XS_UNWATCH)
			buf_add(b, "t0", 3);
		return;
	}
	buf_str(b, id);
	buf_add(b, "", 1);
	if (s->type == XS_SET_TARGET) {
		buf_str(b, ids[rnd(sizeof(ids) / sizeof(ids[0]))]);
		buf_add(b, "", 1);
	}
}

static struct step *random_steps(uint64_t seed, int count)
{
	static const char *const vals[] = { "", "1", "hello", "x y", "1" };
#define PERM(p) { p, sizeof(p) - 1 }
	static const struct { const char *p; size_t len; } perms[] = {
		PERM("n0\0"), PERM("r0\0"), PERM("n0\0r1\0"), PERM("b1\0w0\0r2\0"),
		PERM("w2\0"), PERM("q0\0"), PERM(""),
	};
#undef PERM
	/* room for the extra OPEN step a reconnection adds */
	struct step *v = calloc(2 * (size_t)count + 1, sizeof(*v));
	bool open[NSLOT] = { false };

	if (!v) {
		perror("xscompare: calloc");
		exit(2);
	}
	rng_state = seed * 0x2545f4914f6cdd1dull + 1;
	int n = 0;
	for (int i = 0; i < count; i++) {
		struct step *s = &v[n++];
		struct buf b = { 0 };
		int c = (int)rnd(NCONN);
		int slot = 2 * c + (int)rnd(2);
		uint32_t w = rnd(100);

		if (rnd(100) == 0) {
			/* a client goes away and comes back: its watches and
			 * transactions must be gone */
			*s = (struct step)CLOSE(c);
			v[n++] = (struct step)OPEN(c);
			open[2 * c] = open[2 * c + 1] = false;
			continue;
		}

		*s = (struct step){ S_REQ, c, 0, NO_SLOT, 0, NO_SLOT, NULL, 0, G_NONE, 0 };
		if (edges && rnd(4) == 0) {
			edge_step(s, &b);
			goto done;
		}
		/* half of a connection's requests go into an open transaction */
		if (open[slot] && rnd(2))
			s->slot = slot;
		else if (rnd(50) == 0)
			s->slot = slot; /* maybe ended: ENOENT */
		if (w < 22) {
			s->type = XS_WRITE;
			rnd_path(&b);
			buf_str(&b, vals[rnd(5)]);
		} else if (w < 32) {
			s->type = XS_READ;
			rnd_path(&b);
		} else if (w < 38) {
			s->type = XS_MKDIR;
			rnd_path(&b);
		} else if (w < 48) {
			s->type = XS_RM;
			rnd_path(&b);
		} else if (w < 54) {
			s->type = XS_DIRECTORY;
			rnd_path(&b);
		} else if (w < 57) {
			s->type = XS_DIRECTORY_PART;
			rnd_path(&b);
			buf_add(&b, rnd(3) ? "0" : "2", 2);
		} else if (w < 61) {
			s->type = XS_GET_PERMS;
			rnd_path(&b);
		} else if (w < 66) {
			int k = (int)rnd(sizeof(perms) / sizeof(perms[0]));
			s->type = XS_SET_PERMS;
			rnd_path(&b);
			buf_add(&b, perms[k].p, perms[k].len);
		} else if (w < 73) {
			s->type = XS_WATCH;
			s->slot = NO_SLOT;
			rnd_path(&b);
			buf_add(&b, rnd(2) ? "t0" : "t1", 3);
		} else if (w < 77) {
			s->type = XS_UNWATCH;
			s->slot = NO_SLOT;
			rnd_path(&b);
			buf_add(&b, rnd(2) ? "t0" : "t1", 3);
		} else if (w < 78) {
			s->type = XS_RESET_WATCHES;
			s->slot = NO_SLOT;
		} else if (w < 89) {
			/* start a transaction in a free slot, else end one */
			if (!open[slot]) {
				s->type = XS_TRANSACTION_START;
				s->slot = NO_SLOT;
				s->bind = slot;
				open[slot] = true;
				buf_add(&b, "", 1);
				goto done;
			}
			s->type = XS_TRANSACTION_END;
			s->slot = slot;
			open[slot] = false;
			buf_add(&b, rnd(5) ? "T" : "F", 2);
		} else if (w < 97) {
			/* the same node from another angle: its parent */
			s->type = rnd(3) ? XS_DIRECTORY : XS_RM;
			buf_str(&b, rnd(2) ? "/cmp/r/a" : "/cmp/r");
			buf_add(&b, "", 1);
		} else {
			s->type = XS_GET_DOMAIN_PATH;
			s->slot = NO_SLOT;
			buf_add(&b, "0", 2);
		}
done:
		s->body = b.p ? b.p : strdup("");
		s->len = b.len;
	}
	v[n].kind = S_END;
	return v;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f, "usage: xscompare [-v] [--settle MS] [--seed N] [--count N] [--edges] "
		"[--script NAME|--list] SOCKET_A SOCKET_B\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "script", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "edges", no_argument, NULL, 'e' },
		{ "settle", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *script = NULL;
	bool have_seed = false;
	uint64_t seed = 0;
	int count = 200, opt, bad = 0, ran = 0;
	struct daemon a = { .name = "A" }, b = { .name = "B" };
	size_t nscripts = sizeof(scripts) / sizeof(scripts[0]);

	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'c':
			script = optarg;
			break;
		case 'w':
			settle_ms = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'e':
			edges = true;
			break;
		case 'l':
			for (size_t i = 0; i < nscripts; i++)
				if (!scripts[i].optional)
					printf("%s\n", scripts[i].name);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2 || count < 1 || (have_seed && script)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	a.sock = argv[optind];
	b.sock = argv[optind + 1];
	for (int c = 0; c < NCONN; c++)
		a.fd[c] = b.fd[c] = -1;

	if (have_seed) {
		char name[64];
		struct step *v = random_steps(seed, count);
		snprintf(name, sizeof(name), "seed-%llu", (unsigned long long)seed);
		bad = run_steps(name, v, &a, &b);
		for (int i = 0; v[i].kind != S_END; i++)
			if (v[i].kind == S_REQ)
				free((void *)v[i].body);
		free(v);
		return bad ? 1 : 0;
	}
	for (size_t i = 0; i < nscripts; i++) {
		if (script ? strcmp(script, scripts[i].name) != 0 : scripts[i].optional)
			continue;
		ran++;
		if (run_steps(scripts[i].name, scripts[i].steps, &a, &b))
			bad++;
	}
	if (!ran) {
		fprintf(stderr, "xscompare: no script named %s (see --list)\n", script);
		return 2;
	}
	return bad ? 1 : 0;
}
