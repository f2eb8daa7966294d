# xmstored: the XenStore daemon. The store (tree, permissions, transactions,
# watch matching, quotas) is a library without I/O (libxsd) so that the unit
# tests and the fuzzer link it directly; the daemon adds sockets and dispatch.
XSD_LIB_SRCS := xmstored/store.c xmstored/perms.c xmstored/watch.c xmstored/path.c
XSD_SRCS := xmstored/core.c xmstored/conn.c xmstored/trace.c xmstored/domain.c xmstored/control.c
LIBXSD := $(B)/xmstored/libxsd.a
XMSTORED := $(B)/xmstored/xmstored

$(LIBXSD): $(XSD_LIB_SRCS:%.c=$(B)/%.o)
	$(AR) rcs $@ $^

# libxsrv: the daemon minus main(), for the fuzzer and protocol unit tests.
LIBXSRV := $(B)/xmstored/libxsrv.a
$(LIBXSRV): $(XSD_SRCS:%.c=$(B)/%.o)
	$(AR) rcs $@ $^

$(XMSTORED): $(B)/xmstored/main.o $(LIBXSRV) $(LIBXSD) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

PROGS += $(XMSTORED)
