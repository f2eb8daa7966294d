/*
 * savefile.h — the file xm save writes and xm restore reads.
 *
 *   offset 0   struct save_head (32 bytes, little-endian)
 *   32         the meta: meta_len bytes of JSON (below), meta_crc its CRC-32
 *   32+meta    QEMU's migration stream, stream_len bytes, to the end
 *
 * The head is written last, once QEMU's stream is complete: a save that
 * died half-way has stream_len 0 and no valid head_crc. The file's size
 * must be exactly 32 + meta_len + stream_len, so a truncated copy is
 * refused before anything is made.
 *
 * The meta, one JSON object:
 *   save-id      the save's id (32 hex digits): its record XM_SAVED_ROOT/ID
 *   domid        the id the domain had
 *   name, uuid, memory, maxmem (MiB), vcpus, maxvcpus, kernel, ramdisk,
 *   cmdline, on_poweroff,
 *   on_reboot, on_crash, config   its config, as /vm/<uuid> and
 *                /tool/xm/domain/N kept it (xm create's)
 *   hvm, boot    an HVM guest (builder = "hvm": its kernel may be "")
 *                and its firmware's boot order ("cdn" letters); absent:
 *                false, ""
 *   vbds         [{devid, dev, params, type, format, mode, device-type,
 *                  slot, bootindex}] its block devices (slot: "rpN" or
 *                  "scsiN"; bootindex: QEMU's, -1 or absent: none)
 *   vifs         [{handle, mac, bridge, ip, model, vifname, type, slot}]
 *                its network interfaces (slot: the NIC's root port "rpN");
 *                absent: none
 *   store        [[path, value, [perm ...]] ...] the guest's own nodes
 *                (paths relative to /local/domain/N; "@" in a permission
 *                stands for the domain's id)
 */
#ifndef XM_SAVEFILE_H
#define XM_SAVEFILE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#define SAVE_MAGIC "XMSAVE\r\n"
#define SAVE_VERSION 1
#define SAVE_HEAD_LEN 32
#define SAVE_META_MAX (16u << 20)

struct save_head {
	char magic[8];
	uint32_t version;
	uint32_t meta_len;
	uint64_t stream_len;
	uint32_t meta_crc;
	uint32_t head_crc;  /* of the 28 bytes before it */
};

uint32_t save_crc32(const void *buf, size_t len);
/* The head's 32 bytes for meta (its text) and stream_len. */
void save_head_pack(unsigned char out[SAVE_HEAD_LEN], const char *meta, size_t meta_len,
		    uint64_t stream_len);

/* Read and check file's head and meta: fd open on it, positioned at the
 * stream's start; *meta the parsed meta. 0, or -1 with the reason in err
 * (nothing to free). */
int save_open(const char *file, int *fd, json_t **meta, char *err, size_t errlen);

/* Meta accessors: the string at key ("" when absent or not a string), the
 * integer (-1 when absent). */
const char *meta_str(json_t *o, const char *key);
long long meta_int(json_t *o, const char *key);

/* Poll query-migrate on q (every SAVE_POLL_MS) until the migration (out
 * or in) completed (0), failed, or deadline (now_ms()) passed: -1 with
 * "<what> failed: <QEMU's reason>" in err. flush >= 0: the file QEMU
 * writes into, whose writeback is started at each poll (so that the fsync
 * after it waits for the tail only). */
#define SAVE_POLL_MS 5
struct qmp;
int save_migration_wait(struct qmp *q, const char *what, long deadline, int flush, char *err,
			size_t errlen);

/* A restored guest's XenStore port let go by the store (xmstored's control
 * "disconnect N") and QEMU seen to notice; QEMU connects it again a second
 * later (reconnect=1). The guest, running, sees its port go and come back,
 * and its agent starts afresh on the new domain's connection (as after a
 * store restart: watches registered again, devices brought in line, ready
 * announced). Done after the guest runs: a close and an open queued while
 * it is stopped reach its agent as nothing. On the domain's monitor
 * connection on, or (NULL) one of its own. 0, or 1 (printed). */
struct xs_handle;
int save_drop_port(struct xs_handle *h, unsigned int id, const char *name, struct qmp *on);
/* A domain restored paused has this node (XM_TOOL_ROOT/domain/N/...):
 * xm unpause lets go of its port after it continues it. */
#define SAVE_PORT_PENDING "port-reset"

#endif
