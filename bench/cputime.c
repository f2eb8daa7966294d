/*
 * cputime — timing helper for bench/memcpu.sh (xm vcpu-set and mem-set
 * against raw QMP on the same guest). Prints seconds (CLOCK_MONOTONIC, µs
 * resolution); asserts nothing. Each floor step opens its own connection
 * to the domain's ctl.sock (as xm does) and is timed from before the
 * connect: what a client that already knows the slot or the size needs.
 *
 *   cputime run CMD [ARG...]
 *       Runs CMD (xm vcpu-set ..., xm mem-set ...): its wall time.
 *   cputime plug CTL SLOT
 *       device_add of CPU slot number SLOT (from 0, in xm/vcpu.c's order:
 *       by socket, die, core, thread), which must be empty (its type and ids
 *       read from query-hotpluggable-cpus beforehand, untimed), id
 *       benchcpuSLOT: until QEMU returned. (A slot is never plugged twice:
 *       QEMU 7.2 under TCG aborts then; see xm/vcpu.c.)
 *   cputime unplug CTL
 *       device_del of the last plugged CPU slot (found beforehand), until
 *       query-hotpluggable-cpus shows it empty, looked at after each
 *       DEVICE_DELETED (the guest's ACPI eject done), as xm does.
 *   cputime balloon CTL MIB
 *       QMP balloon to MIB: until QEMU returned.
 */
#include "qmp.h"
#include "spawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 30000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "cputime: %s: %s\n", what, err ? err : strerror(errno));
	exit(1);
}

static struct qmp *open_ctl(const char *ctl)
{
	char *err = NULL;
	struct qmp *q = qmp_connect(ctl, TIMEOUT_MS, &err);
	if (!q)
		die(ctl, err);
	return q;
}

/* A slot's place, as xm/vcpu.c orders the slots. */
static long slot_key(json_t *slot)
{
	json_t *p = json_object_get(slot, "props");
	return json_integer_value(json_object_get(p, "socket-id")) * 1000000 +
	       json_integer_value(json_object_get(p, "die-id")) * 10000 +
	       json_integer_value(json_object_get(p, "core-id")) * 100 +
	       json_integer_value(json_object_get(p, "thread-id"));
}

/* The slots, and how many are plugged. */
static json_t *slots(struct qmp *q, size_t *plugged)
{
	json_t *ret = NULL;
	char *err = NULL;
	if (qmp_exec(q, "query-hotpluggable-cpus", NULL, &ret, &err, TIMEOUT_MS) < 0)
		die("query-hotpluggable-cpus", err);
	size_t i;
	json_t *e;
	*plugged = 0;
	json_array_foreach(ret, i, e)
		*plugged += json_object_get(e, "qom-path") != NULL;
	return ret;
}

static int plug(const char *ctl, long slot)
{
	struct qmp *q = open_ctl(ctl);
	size_t n, i;
	json_t *s = slots(q, &n), *e, *args = NULL;
	qmp_close(q);
	json_array_foreach(s, i, e) { /* slot number `slot` in xm's order, empty */
		size_t j, before = 0;
		json_t *o;
		json_array_foreach(s, j, o)
			before += slot_key(o) < slot_key(e);
		if (json_object_get(e, "qom-path") || args || (long)before != slot)
			continue;
		args = json_deep_copy(json_object_get(e, "props"));
		json_object_set(args, "driver", json_object_get(e, "type"));
		json_object_set_new(args, "id", json_sprintf("benchcpu%ld", slot));
	}
	json_decref(s);
	if (!args)
		die("plug", "that CPU slot is not there or not empty");
	char *err = NULL;
	double t0 = now();
	q = open_ctl(ctl);
	if (qmp_exec(q, "device_add", args, NULL, &err, TIMEOUT_MS) < 0)
		die("device_add", err);
	printf("%.6f\n", now() - t0);
	qmp_close(q);
	return 0;
}

static int unplug(const char *ctl)
{
	struct qmp *q = open_ctl(ctl);
	size_t n, i;
	json_t *s = slots(q, &n), *e;
	char path[256] = "";
	qmp_close(q);
	long best = -1;
	json_array_foreach(s, i, e) { /* the last plugged one, in xm's order */
		const char *p = json_string_value(json_object_get(e, "qom-path"));
		if (p && slot_key(e) > best) {
			best = slot_key(e);
			snprintf(path, sizeof(path), "%s", p);
		}
	}
	json_decref(s);
	if (!*path || n < 2)
		die("unplug", "no CPU to plug out");
	char *err = NULL;
	double t0 = now();
	q = open_ctl(ctl);
	if (qmp_exec(q, "device_del", json_pack("{s:s}", "id", path), NULL, &err, TIMEOUT_MS) < 0)
		die("device_del", err);
	for (;;) {
		size_t left;
		json_decref(slots(q, &left));
		if (left < n)
			break;
		if (now() - t0 > TIMEOUT_MS / 1000)
			die("unplug", "the guest did not give the CPU back");
		qmp_wait_event(q, "DEVICE_DELETED", NULL, NULL, 250);
	}
	printf("%.6f\n", now() - t0);
	qmp_close(q);
	return 0;
}

static int balloon(const char *ctl, long mib)
{
	char *err = NULL;
	double t0 = now();
	struct qmp *q = open_ctl(ctl);
	if (qmp_exec(q, "balloon", json_pack("{s:I}", "value", (json_int_t)mib << 20), NULL, &err,
		     TIMEOUT_MS) < 0)
		die("balloon", err);
	printf("%.6f\n", now() - t0);
	qmp_close(q);
	return 0;
}

static int run(char **argv)
{
	double t0 = now();
	pid_t pid = bench_spawn(argv, 1, -1);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		die(argv[0], strerror(errno));
	double t = now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die(argv[0], "failed");
	printf("%.6f\n", t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argv + 2);
	if (argc == 4 && strcmp(argv[1], "plug") == 0)
		return plug(argv[2], atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "unplug") == 0)
		return unplug(argv[2]);
	if (argc == 4 && strcmp(argv[1], "balloon") == 0)
		return balloon(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: cputime run CMD... | plug CTL SLOT | unplug CTL | balloon CTL MIB\n");
	return 2;
}
