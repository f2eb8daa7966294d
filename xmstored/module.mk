# xmstored: the XenStore daemon. The store (tree, permissions, transactions,
# watch matching, quotas) is a library without I/O (libxsd) so that the unit
# tests and the fuzzer link it directly; the daemon adds sockets and dispatch.
XSD_LIB_SRCS := xmstored/store.c xmstored/store-txn.c xmstored/store-event.c xmstored/store-raw.c xmstored/perms.c xmstored/watch.c xmstored/path.c
XSD_SRCS := xmstored/core.c xmstored/conn.c xmstored/trace.c xmstored/domain.c xmstored/control.c
# The journal (its records checksummed with zlib's crc32, hence -lz): in
# libxsrv's archive for the programs that use it (xmstored, test_journal),
# not in XSD_SRCS, which the fuzzer links whole; the daemon reaches it only
# through hooks (struct persist, store.on_change).
XSD_JRN_SRCS := xmstored/jrec.c xmstored/journal.c
LIBXSD := $(B)/xmstored/libxsd.a
XMSTORED := $(B)/xmstored/xmstored

$(LIBXSD): $(XSD_LIB_SRCS:%.c=$(B)/%.o)
	$(AR) rcs $@ $^

# libxsrv: the daemon minus main(), for the fuzzer and protocol unit tests.
LIBXSRV := $(B)/xmstored/libxsrv.a
$(LIBXSRV): $(XSD_SRCS:%.c=$(B)/%.o) $(XSD_JRN_SRCS:%.c=$(B)/%.o)
	$(AR) rcs $@ $^

$(XMSTORED): $(B)/xmstored/main.o $(LIBXSRV) $(LIBXSD) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lz -lsystemd

# The unit test of the record format links zlib after its archives.
$(B)/tests/unit/test_journal: -lz

PROGS += $(XMSTORED)
