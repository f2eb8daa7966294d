/*
 * savetime — the floor of bench/saverestore.sh: a guest saved to a file and
 * restored from it with raw QMP, nothing else; and the bench's clock and
 * memory warm-up.
 *
 *   savetime save CTL FILE
 *       on the running guest's monitor CTL: stop, the same migration
 *       parameters as xm save, getfd + migrate fd: into FILE (head room of
 *       xm's size left in front), until query-migrate says completed, then
 *       fsync(FILE) (xm save makes its file durable before it destroys the
 *       domain); as xm save, the file's writeback is started at each poll
 *       (sync_file_range), so the fsync waits for the tail only
 *   savetime restore FILE OFFSET CTL IMG BUS SERIAL -- QEMU ARGV...
 *       start QEMU (ARGV, which has -S -incoming defer and its monitor on
 *       CTL), connect to CTL once it listens, add IMG as a virtio-blk disk
 *       on BUS (blockdev-add + device_add), getfd + migrate-incoming fd:
 *       from FILE at OFFSET, until completed, then cont. QEMU stays; its
 *       pid on stderr as "pid N", its steps' times as "steps: ...".
 *   savetime run TIMEFILE CMD [ARG...]
 *       run CMD (its stdin, stdout and stderr this one's): the milliseconds
 *       from before its fork to its exit into TIMEFILE; CMD's exit status.
 *       Every timed step of the bench, xm's and the floor's, runs under it.
 *   savetime warm MIB
 *       touch MIB MiB of fresh anonymous memory (as QEMU's guest RAM:
 *       MADV_HUGEPAGE) and give it back. This host (a VM with free page
 *       reporting) hands memory freed a second ago back to its hypervisor,
 *       and touching it again costs 10x (160 MiB: ~25 ms just freed, 150-
 *       600 ms taken back); so a restore loaded fast or slow by when the
 *       last QEMU quit. Run right before each timed step, it puts both
 *       sides in the same state: memory the kernel has at hand.
 */
#include "qmp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 5 /* as xm's (xm/savefile.h SAVE_POLL_MS) */

static void die(const char *what, char *err)
{
	fprintf(stderr, "savetime: %s: %s\n", what, err ? err : "no answer");
	exit(1);
}

static void exec_or_die(struct qmp *q, const char *cmd, json_t *args)
{
	char *err = NULL;
	if (qmp_exec(q, cmd, args, NULL, &err, 10000) < 0)
		die(cmd, err);
}

/* until completed; flush >= 0: the file QEMU writes, its writeback
 * started at each poll (as xm save does) */
static void wait_migration(struct qmp *q, int flush)
{
	for (;;) {
		if (flush >= 0)
			sync_file_range(flush, 0, 0, SYNC_FILE_RANGE_WRITE);
		json_t *ret = NULL;
		char *err = NULL;
		if (qmp_exec(q, "query-migrate", NULL, &ret, &err, 10000) < 0)
			die("query-migrate", err);
		const char *st = json_string_value(json_object_get(ret, "status"));
		if (st && strcmp(st, "completed") == 0) {
			json_decref(ret);
			return;
		}
		if (st && (strcmp(st, "failed") == 0 || strcmp(st, "cancelled") == 0))
			die("migration", (char *)json_string_value(json_object_get(ret, "error-desc")));
		json_decref(ret);
		struct timespec ts = { 0, POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void getfd(struct qmp *q, const char *name, int fd)
{
	char *err = NULL;
	if (qmp_wait_reply(q, qmp_send_fd(q, "getfd", json_pack("{s:s}", "fdname", name), fd),
			   NULL, &err, 10000) < 0)
		die("getfd", err);
}

static int save(const char *ctl, const char *file)
{
	long t0 = now_ms();
	char *err = NULL;
	struct qmp *q = qmp_connect(ctl, 5000, &err);
	if (!q)
		die(ctl, err);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || lseek(fd, 4096, SEEK_SET) < 0) /* xm's head and meta: a few KiB */
		die(file, strerror(errno));
	exec_or_die(q, "stop", NULL);
	exec_or_die(q, "migrate-set-parameters", json_pack("{s:I}", "max-bandwidth",
							    (json_int_t)(100LL << 30)));
	getfd(q, "floor", fd);
	exec_or_die(q, "migrate", json_pack("{s:s}", "uri", "fd:floor"));
	wait_migration(q, fd);
	if (fsync(fd) < 0)
		die(file, strerror(errno));
	close(fd);
	printf("%ld\n", now_ms() - t0);
	qmp_close(q);
	return 0;
}

static int restore(int argc, char **argv)
{
	const char *file = argv[2], *ctl = argv[4], *img = argv[5], *bus = argv[6],
		   *serial = argv[7];
	long off = atol(argv[3]);
	if (strcmp(argv[8], "--") != 0 || argc < 10)
		die("usage", "restore FILE OFFSET CTL IMG BUS SERIAL -- ARGV...");
	long t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		setsid();
		execvp(argv[9], argv + 9);
		_exit(127);
	}
	char *err = NULL;
	struct qmp *q = NULL;
	while (!q) {
		struct stat st;
		if (stat(ctl, &st) == 0 && (q = qmp_connect(ctl, 5000, &err)))
			break;
		free(err);
		err = NULL;
		if (now_ms() - t0 > 60000)
			die("QEMU's monitor", "not up in 60 s");
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	long t_up = now_ms();
	exec_or_die(q, "blockdev-add", json_pack("{s:s, s:s, s:{s:s, s:s}}", "node-name", "floorblk",
						  "driver", "raw", "file", "driver", "file",
						  "filename", img));
	exec_or_die(q, "device_add", json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver",
						"virtio-blk-pci", "id", "floordev", "bus", bus,
						"serial", serial, "drive", "floorblk"));
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || lseek(fd, off, SEEK_SET) < 0)
		die(file, strerror(errno));
	getfd(q, "floor", fd);
	close(fd);
	long t_disk = now_ms();
	exec_or_die(q, "migrate-incoming", json_pack("{s:s}", "uri", "fd:floor"));
	wait_migration(q, -1);
	long t_in = now_ms();
	exec_or_die(q, "cont", NULL);
	long t1 = now_ms();
	printf("%ld\n", t1 - t0);
	fprintf(stderr, "pid %ld\nsteps: QEMU up %ld, disk %ld, stream %ld, cont %ld ms\n", (long)pid,
		t_up - t0, t_disk - t_up, t_in - t_disk, t1 - t_in);
	qmp_close(q);
	return 0;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run(const char *timefile, char **cmd)
{
	double t0 = mono_ms();
	pid_t pid = fork();
	if (pid == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "savetime: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		die("fork", strerror(errno));
	double t1 = mono_ms();
	FILE *f = fopen(timefile, "w");
	if (!f || fprintf(f, "%.1f\n", t1 - t0) < 0 || fclose(f) != 0)
		die(timefile, strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int warm(long mib)
{
	size_t len = (size_t)mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap", strerror(errno));
	madvise(p, len, MADV_HUGEPAGE);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv + 3);
	if (argc == 3 && strcmp(argv[1], "warm") == 0 && atol(argv[2]) > 0)
		return warm(atol(argv[2]));
	if (argc == 4 && strcmp(argv[1], "save") == 0)
		return save(argv[2], argv[3]);
	if (argc >= 10 && strcmp(argv[1], "restore") == 0)
		return restore(argc, argv);
	fprintf(stderr, "usage: savetime save CTL FILE\n"
		"       savetime restore FILE OFFSET CTL IMG BUS SERIAL -- QEMU ARGV...\n"
		"       savetime run TIMEFILE CMD [ARG...]\n"
		"       savetime warm MIB\n");
	return 2;
}
