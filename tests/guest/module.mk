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
