/*
 * test_oplock.c — the operation and create locks' "is anyone at work?"
 * (lib/oplock.c): held while a holder has it, free once released or when
 * there is no file, and never "free" on a guess: a lock that cannot be
 * opened (the asker out of descriptors) is not told free, since xmbackd
 * undoes what a free lock's holder left (a live xm create's domain, found
 * so by tests/guest/scale.sh's first run at 245 guests under 256
 * descriptors).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oplock.h"

static char dir[] = "/tmp/xm-oplock.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[128];
	(void)state;
	snprintf(p, sizeof(p), "%s/free.lock", dir);
	unlink(p);
	return rmdir(dir);
}

static void held_then_free(void **state)
{
	char p[128];
	(void)state;
	snprintf(p, sizeof(p), "%s/op.lock", dir);
	assert_false(oplock_held(p)); /* no file: nobody */
	int fd = oplock_take(p);
	assert_true(fd >= 0);
	assert_true(oplock_held(p));
	assert_int_equal(oplock_take(p), -1); /* a second taker waits */
	assert_int_equal(errno, EWOULDBLOCK);
	oplock_release(fd, p);
	assert_false(oplock_held(p)); /* released: the file gone */
}

static void not_free_when_it_cannot_be_told(void **state)
{
	char p[128];
	struct rlimit old, low;
	(void)state;
	snprintf(p, sizeof(p), "%s/free.lock", dir);
	int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600); /* a lock file nobody holds */
	assert_true(f >= 0);
	close(f);
	assert_false(oplock_held(p));

	/* every descriptor taken: the lock cannot be opened to be looked at */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int fds[64], n = 0;
	while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		n++;
	assert_true(n < 64);
	assert_int_equal(errno, EMFILE);
	bool held = oplock_held(p);
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(held); /* not "free": nothing is undone on that */
	assert_false(oplock_held(p)); /* told again once it can be */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(held_then_free),
		cmocka_unit_test(not_free_when_it_cannot_be_told),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
