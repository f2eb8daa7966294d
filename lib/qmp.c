/* qmp.c — see qmp.h. QMP messages are JSON objects, one per line. */
#include "qmp.h"
#include "sock.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Why a call got no answer (not QEMU's own errors): qmp_io_error() knows them. */
#define ERR_TIMEOUT "timed out waiting for QEMU"
#define ERR_POLL "poll failed"
#define ERR_EOF "QEMU closed the monitor connection"
#define ERR_SEND "cannot send to QEMU's monitor"
/* xmbackd: up to 8 jobs a guest, 3 replies awaited each, and the
 * reconcile's view (4, and 2 or 3 a device); past it the oldest goes */
#define QMP_KEEP_MAX 1024
#define QMP_BUF_MAX (4 << 20) /* unparsed bytes a peer may leave us holding */

struct qmp {
	int fd;
	char *buf;
	size_t len, cap;
	json_t *kept;       /* events (and replies to keep[]) seen by blocking calls */
	long *keep;         /* replies a blocking call keeps, not drops (qmp_keep), */
	unsigned int nkeep, capkeep; /* ... not yet come, oldest first */
	long last_kept;     /* the id of the last reply qmp_next found in keep, or 0 */
	unsigned long changes; /* commands sent that are not questions (qmp_changes) */
	long next_id;
	long caps_id;       /* the qmp_capabilities sent (qmp_handshake), or -1 */
	bool ready;         /* its reply came: commands may be sent */
	long heard;         /* now_ms() of the last bytes read from QEMU */
};

/* Messages kept over every connection of the process (qmp_kept_count): the
 * event loop of a daemon with a thousand monitors need not ask each. */
static size_t kept_all;

static void keep_msg(struct qmp *q, json_t *m)
{
	if (json_array_append_new(q->kept, m) == 0)
		kept_all++;
}

static void unkeep(struct qmp *q, size_t i)
{
	if (json_array_remove(q->kept, i) == 0)
		kept_all--;
}

size_t qmp_kept_count(void)
{
	return kept_all;
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

int qmp_read(struct qmp *q)
{
	if (q->len >= QMP_BUF_MAX) { /* a line that never ends: not QMP */
		errno = EMSGSIZE;
		return -1;
	}
	if (q->cap - q->len < 4096) {
		size_t cap = q->cap ? q->cap * 2 : 8192;
		char *b = realloc(q->buf, cap);
		if (!b)
			return -1;
		q->buf = b;
		q->cap = cap;
	}
	ssize_t n = recv(q->fd, q->buf + q->len, q->cap - q->len, MSG_DONTWAIT);
	if (n == 0)
		return -1;
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	q->len += (size_t)n;
	q->heard = now_ms();
	return 0;
}

static bool take_keep(struct qmp *q, long id);

json_t *qmp_next(struct qmp *q)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (!nl)
			return NULL;
		size_t line = (size_t)(nl - q->buf) + 1;
		json_error_t jerr;
		json_t *msg = json_loadb(q->buf, line, JSON_DISABLE_EOF_CHECK, &jerr);
		memmove(q->buf, q->buf + line, q->len - line);
		q->len -= line;
		if (msg && json_is_object(msg)) {
			json_t *mid = json_object_get(msg, "id");
			long id = json_is_integer(mid) ? (long)json_integer_value(mid) : 0;
			q->last_kept = id > 0 && take_keep(q, id) ? id : 0;
			return msg;
		}
		json_decref(msg); /* blank or broken line: skip */
	}
}

/* Wait until readable or the deadline. 1 readable, 0 timeout, -1 error. */
static int wait_readable(struct qmp *q, long deadline)
{
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r > 0;
	}
}

/* Next message, waiting up to the deadline. NULL on timeout or EOF. */
static json_t *next_blocking(struct qmp *q, long deadline, const char **why)
{
	for (;;) {
		json_t *m = qmp_next(q);
		if (m)
			return m;
		int r = wait_readable(q, deadline);
		if (r <= 0) {
			*why = r == 0 ? ERR_TIMEOUT : ERR_POLL;
			return NULL;
		}
		if (qmp_read(q) < 0) {
			*why = ERR_EOF;
			return NULL;
		}
	}
}

/* Send all of s (len bytes); fd, when >= 0, rides on the first sendmsg
 * as SCM_RIGHTS (QEMU takes it for the command those bytes begin). 0 or -1. */
static int send_all(int sock, const char *p, size_t left, int fd)
{
	while (left > 0) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = left };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		if (fd >= 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = sizeof(ctl.buf);
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		}
		ssize_t w = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		fd = -1; /* sent with the first bytes */
		p += w;
		left -= (size_t)w;
	}
	return 0;
}

long qmp_send(struct qmp *q, const char *cmd, json_t *args)
{
	return qmp_send_fd(q, cmd, args, -1);
}

/* Does cmd only ask (QEMU's state the same after it)? */
static bool question(const char *cmd)
{
	return strncmp(cmd, "query-", 6) == 0 || strcmp(cmd, "qom-list") == 0 ||
	       strcmp(cmd, "qom-get") == 0 || strcmp(cmd, "qmp_capabilities") == 0;
}

unsigned long qmp_changes(const struct qmp *q)
{
	return q->changes;
}

long qmp_send_fd(struct qmp *q, const char *cmd, json_t *args, int fd)
{
	if (!question(cmd))
		q->changes++;
	long id = q->next_id++;
	json_t *m = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (!m) {
		json_decref(args);
		return -1;
	}
	if (args)
		json_object_set_new(m, "arguments", args);
	char *s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!s)
		return -1;
	size_t len = strlen(s);
	s[len] = '\n'; /* replaces the NUL; we send len + 1 bytes */
	int rc = send_all(q->fd, s, len + 1, fd);
	free(s);
	return rc < 0 ? -1 : id;
}

static char *dup_err(const char *s)
{
	char *e = strdup(s ? s : "unknown error");
	return e;
}

/* Is mid the id of a reply kept for the event loop (qmp_keep)? (Asked of
 * the message qmp_next gave last: it took the id out of keep.) */
static bool kept_reply(struct qmp *q, json_t *mid)
{
	return json_is_integer(mid) && q->last_kept && json_integer_value(mid) == q->last_kept;
}

void qmp_keep(struct qmp *q, long id)
{
	if (id <= 0)
		return;
	if (q->nkeep == q->capkeep) {
		unsigned int cap = q->capkeep ? q->capkeep * 2 : 8;
		long *k = cap <= QMP_KEEP_MAX ? realloc(q->keep, cap * sizeof(*k)) : NULL;
		if (k) {
			q->keep = k;
			q->capkeep = cap;
		} else if (q->nkeep) { /* the oldest goes: its reply came long since */
			memmove(q->keep, q->keep + 1, (q->nkeep - 1) * sizeof(*q->keep));
			q->nkeep--;
		} else {
			return; /* (no memory for one: not kept) */
		}
	}
	q->keep[q->nkeep++] = id;
}

/* A reply came: its id is no longer awaited. Was it kept? */
static bool take_keep(struct qmp *q, long id)
{
	for (unsigned int i = 0; i < q->nkeep; i++)
		if (q->keep[i] == id) {
			memmove(q->keep + i, q->keep + i + 1, (q->nkeep - i - 1) * sizeof(*q->keep));
			q->nkeep--;
			return true;
		}
	return false;
}

int qmp_wait_reply(struct qmp *q, long id, json_t **ret, char **err, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	const char *why = NULL;

	if (ret)
		*ret = NULL;
	if (err)
		*err = NULL;
	if (id < 0) {
		if (err)
			*err = dup_err(ERR_SEND);
		return -1;
	}
	for (;;) {
		json_t *m = next_blocking(q, deadline, &why);
		if (!m) {
			if (err)
				*err = dup_err(why);
			return -1;
		}
		json_t *mid = json_object_get(m, "id");
		if (json_object_get(m, "event") || kept_reply(q, mid)) {
			keep_msg(q, m);
			continue;
		}
		if (!json_is_integer(mid) || json_integer_value(mid) != id) {
			json_decref(m);
			continue;
		}
		json_t *e = json_object_get(m, "error");
		if (e) {
			if (err)
				*err = dup_err(json_string_value(json_object_get(e, "desc")));
			json_decref(m);
			return -1;
		}
		if (ret)
			*ret = json_incref(json_object_get(m, "return"));
		json_decref(m);
		return 0;
	}
}

int qmp_exec(struct qmp *q, const char *cmd, json_t *args, json_t **ret,
	     char **err, int timeout_ms)
{
	return qmp_wait_reply(q, qmp_send(q, cmd, args), ret, err, timeout_ms);
}

int qmp_is_event(json_t *msg, const char *name, const char *device)
{
	const char *ev = json_string_value(json_object_get(msg, "event"));
	if (!ev || strcmp(ev, name) != 0)
		return 0;
	if (!device)
		return 1;
	json_t *data = json_object_get(msg, "data");
	const char *dev = json_string_value(json_object_get(data, "device"));
	return dev && strcmp(dev, device) == 0;
}

json_t *qmp_pop_event(struct qmp *q)
{
	if (json_array_size(q->kept) == 0)
		return NULL;
	json_t *e = json_incref(json_array_get(q->kept, 0));
	unkeep(q, 0);
	return e;
}

int qmp_wait_event(struct qmp *q, const char *name, const char *device,
		   json_t **ev, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	const char *why;

	for (size_t i = 0; i < json_array_size(q->kept); i++) {
		json_t *m = json_array_get(q->kept, i);
		if (qmp_is_event(m, name, device)) {
			if (ev)
				*ev = json_incref(m);
			unkeep(q, i);
			return 0;
		}
	}
	for (;;) {
		json_t *m = next_blocking(q, deadline, &why);
		if (!m)
			return -1;
		if (qmp_is_event(m, name, device)) {
			if (ev)
				*ev = m;
			else
				json_decref(m);
			return 0;
		}
		if (json_object_get(m, "event") || kept_reply(q, json_object_get(m, "id")))
			keep_msg(q, m);
		else
			json_decref(m);
	}
}

struct qmp *qmp_open(const char *path, char **err)
{
	struct qmp *q = calloc(1, sizeof(*q));

	*err = NULL;
	if (!q || !(q->kept = json_array())) {
		free(q);
		*err = dup_err("out of memory");
		return NULL;
	}
	q->next_id = 1;
	q->caps_id = -1;
	if ((q->fd = unix_connect_nb(path)) < 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "cannot connect to QEMU monitor %s: %s", path,
			 errno == EAGAIN ? "it accepts no connection (QEMU stopped or hung?)" :
			 strerror(errno));
		*err = dup_err(msg);
		qmp_close(q);
		return NULL;
	}
	return q;
}

int qmp_handshake(struct qmp *q, char **err)
{
	*err = NULL;
	if (q->ready)
		return 1;
	if (qmp_read(q) < 0) {
		*err = dup_err(ERR_EOF);
		return -1;
	}
	json_t *m;
	while ((m = qmp_next(q))) {
		if (q->caps_id < 0) { /* the greeting first */
			bool greeting = json_object_get(m, "QMP") != NULL;
			json_decref(m);
			if (!greeting) {
				*err = dup_err("not a QMP greeting");
				return -1;
			}
			if ((q->caps_id = qmp_send(q, "qmp_capabilities", NULL)) < 0) {
				*err = dup_err(ERR_SEND);
				return -1;
			}
			continue;
		}
		if (json_object_get(m, "event")) {
			keep_msg(q, m);
			continue;
		}
		json_t *id = json_object_get(m, "id");
		bool ours = json_is_integer(id) && json_integer_value(id) == q->caps_id;
		json_t *e = ours ? json_object_get(m, "error") : NULL;
		if (e)
			*err = dup_err(json_string_value(json_object_get(e, "desc")));
		json_decref(m);
		if (e)
			return -1;
		if (ours) {
			q->ready = true;
			return 1;
		}
	}
	return 0;
}

struct qmp *qmp_connect(const char *path, int timeout_ms, char **err)
{
	long deadline = now_ms() + timeout_ms;
	struct qmp *q = qmp_open(path, err);
	if (!q)
		return NULL;
	for (;;) {
		int r = qmp_handshake(q, err);
		if (r > 0)
			return q;
		if (r < 0)
			break;
		if ((r = wait_readable(q, deadline)) <= 0) {
			*err = dup_err(r == 0 ? ERR_TIMEOUT : ERR_POLL);
			break;
		}
	}
	qmp_close(q);
	return NULL;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	kept_all -= json_array_size(q->kept);
	json_decref(q->kept);
	free(q->keep);
	free(q->buf);
	free(q);
}

bool qmp_io_error(const char *err)
{
	return err && (strcmp(err, ERR_TIMEOUT) == 0 || strcmp(err, ERR_POLL) == 0 ||
		       strcmp(err, ERR_EOF) == 0 || strcmp(err, ERR_SEND) == 0);
}

long qmp_heard(const struct qmp *q)
{
	return q->heard;
}

bool qmp_pending(const struct qmp *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLIN };
	return json_array_size(q->kept) > 0 || q->len > 0 || poll(&p, 1, 0) > 0;
}
