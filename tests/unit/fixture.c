/* fixture.c — the unit tests' store fixture; see fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

const struct caller PRIV = { .domid = 0, .priv = true };
const struct caller D1 = { .domid = 1 };
const struct caller D2 = { .domid = 2 };
const struct caller D3 = { .domid = 3 };

static bool dom_exists(void *ctx, uint32_t id)
{
	const struct fx *f = ctx;
	return id < FX_MAXDOM && f->dom[id];
}

struct fx *fx_new(unsigned int ndom)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(store_nodes_alive(), 0);
	assert_int_equal(store_init(&f->s), 0);
	f->s.domain_exists = dom_exists;
	f->s.domain_ctx = f;
	for (uint32_t id = 1; id <= ndom; id++)
		fx_domain(f, id);
	events_clear(&f->ev);
	return f;
}

void fx_free(struct fx *f)
{
	for (int i = 0; i < FX_MAXTX; i++)
		if (f->open[i])
			store_txn_end(&f->s, f->open[i], false, NULL, &f->ev);
	events_free(&f->ev);
	store_fini(&f->s);
	free(f);
	assert_int_equal(store_nodes_alive(), 0);
}

int fx_setup(void **state)
{
	*state = fx_new(3);
	return 0;
}

int fx_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

void fx_domain(struct fx *f, uint32_t id)
{
	char name[64], spec[16];
	snprintf(name, sizeof(name), "/local/domain/%u", id);
	snprintf(spec, sizeof(spec), "n%u", id);
	f->dom[id] = true;
	assert_int_equal(store_mkdir(&f->s, NULL, &PRIV, name, &f->ev), 0);
	assert_int_equal(fx_setp(f, NULL, &PRIV, name, spec), 0);
}

int fx_perms(const char *spec, struct perm *p, unsigned int *n)
{
	char buf[256];
	size_t len = strlen(spec);
	assert_true(len + 1 < sizeof(buf));
	memcpy(buf, spec, len + 1);
	*n = 1;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == ',') {
			buf[i] = '\0';
			(*n)++;
		}
	return perms_parse(buf, *n, p);
}

int fx_setp(struct fx *f, struct txn *t, const struct caller *c, const char *name,
	    const char *spec)
{
	struct perm p[16];
	unsigned int n;
	assert_int_equal(fx_perms(spec, p, &n), 0);
	return store_set_perms(&f->s, t, c, name, p, n, &f->ev);
}

int fx_write(struct fx *f, struct txn *t, const struct caller *c, const char *name,
	     const char *data)
{
	return store_write(&f->s, t, c, name, data, strlen(data), &f->ev);
}

const struct node *fx_node(struct fx *f, struct txn *t, const char *name)
{
	const struct node *n = NULL;
	int err = store_read(&f->s, t, &PRIV, name, &n);
	if (err) {
		assert_int_equal(err, ENOENT);
		return NULL;
	}
	assert_non_null(n);
	return n;
}

/* len bytes of s as a string in buf, its NULs as ',' but a last one. */
static const char *show(char *buf, size_t cap, const char *s, size_t len, bool commas)
{
	assert_true(len < cap);
	if (len)
		memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; commas && i + 1 < len; i++)
		if (buf[i] == '\0')
			buf[i] = ',';
	return buf;
}

const char *fx_val(struct fx *f, struct txn *t, const char *name)
{
	static char buf[8192];
	const struct node *n = fx_node(f, t, name);
	return n ? show(buf, sizeof(buf), node_data(n), n->datalen, false) : "<absent>";
}

const char *fx_kids(struct fx *f, struct txn *t, const char *name)
{
	static char buf[4096];
	const struct node *n = fx_node(f, t, name);
	return n ? show(buf, sizeof(buf), node_children(n), n->childlen, true) : "<absent>";
}

const char *fx_evs(struct fx *f)
{
	static char buf[4096];
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < f->ev.n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s%s", i ? " " : "",
				 f->ev.v[i]->path, f->ev.v[i]->exact ? "!" : "");
		assert_true(w > 0 && (size_t)w < sizeof(buf) - len);
		len += (size_t)w;
	}
	events_clear(&f->ev);
	return buf;
}
