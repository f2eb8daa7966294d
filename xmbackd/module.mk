# xmbackd: the backend daemon (guest watch and cleanup, block backends).
XMBACKD_SRCS := $(wildcard xmbackd/*.c)
XMBACKD := $(B)/xmbackd/xmbackd
$(XMBACKD): $(XMBACKD_SRCS:%.c=$(B)/%.o) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore -ljansson -lsystemd
PROGS += $(XMBACKD)
# its claim index, unit-tested alone (pure: no store, no QEMU)
$(B)/tests/unit/test_claimidx: $(B)/xmbackd/claimidx.o
$(B)/tests/unit/test_qview: $(B)/xmbackd/qview.o
$(B)/tests/unit/test_qcall: $(B)/xmbackd/qcall.o
