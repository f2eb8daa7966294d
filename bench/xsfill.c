/*
 * xsfill — fill a XenStore daemon with the nodes of many domains, for
 * bench/memory.sh (memory per node, against cxenstored in the same run).
 *
 *   xsfill DOMAINS PER_DOMAIN VALUE_BYTES
 *
 * Through libxenstore on $XENSTORED_PATH (domain 0), writes PER_DOMAIN
 * nodes /local/domain/D/device/vbd/K/params for D = 1..DOMAINS (the shape a
 * host's backends have), each VALUE_BYTES long, and prints the nodes made
 * and the seconds it took. Exit status 1 on the first failed write.
 */
#include <xenstore.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: xsfill DOMAINS PER_DOMAIN VALUE_BYTES\n");
		return 2;
	}
	int ndom = atoi(argv[1]), per = atoi(argv[2]), vlen = atoi(argv[3]);
	if (ndom < 1 || per < 1 || vlen < 0 || vlen > 4000) {
		fprintf(stderr, "xsfill: bad numbers\n");
		return 2;
	}
	struct xs_handle *h = xs_open(0);
	if (!h) {
		fprintf(stderr, "xsfill: cannot connect: %s\n", strerror(errno));
		return 1;
	}
	char *val = malloc((size_t)vlen + 1);
	if (!val)
		return 1;
	memset(val, 'v', (size_t)vlen);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	long n = 0;
	for (int d = 1; d <= ndom; d++)
		for (int k = 0; k < per; k++) {
			char path[128];
			snprintf(path, sizeof(path), "/local/domain/%d/device/vbd/%d/params",
				 d, 51712 + 16 * k);
			if (!xs_write(h, XBT_NULL, path, val, (unsigned int)vlen)) {
				fprintf(stderr, "xsfill: write %s: %s\n", path, strerror(errno));
				return 1;
			}
			n++;
		}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%ld %.3f\n", n, (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	xs_close(h);
	free(val);
	return 0;
}
