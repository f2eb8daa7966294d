# Helpers for the real-guest tier.
$(B)/tests/guest/ptydrive: $(B)/tests/guest/ptydrive.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lutil
TESTPROGS += $(B)/tests/guest/ptydrive
$(B)/tests/guest/qmpcmd: $(B)/tests/guest/qmpcmd.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson
TESTPROGS += $(B)/tests/guest/qmpcmd
$(B)/tests/guest/fakeqmp: $(B)/tests/guest/fakeqmp.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TESTPROGS += $(B)/tests/guest/fakeqmp
# tests/guest/xshostile: a guest's root attacking its own XenStore port
# (tests/guest/hostile.sh). Static, built like xmfront and xstest (their
# objects under $(B)/xmfront-static/, xmfront/module.mk's pattern rule).
XSHOSTILE_OBJS := $(addprefix $(B)/xmfront-static/,tests/guest/xshostile.o lib/wire.o lib/util.o)
$(B)/tests/guest/xshostile: $(XSHOSTILE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $^
TESTPROGS += $(B)/tests/guest/xshostile
# tests/guest/fakeqemu: what the host side sees of a QEMU and its agent, for
# the hundreds of domains of tests/guest/scale.sh and bench/xmscale.sh
$(B)/tests/guest/fakeqemu: $(B)/tests/guest/fakeqemu.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson
TESTPROGS += $(B)/tests/guest/fakeqemu
