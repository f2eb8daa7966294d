# Helpers for the real-guest tier.
$(B)/tests/guest/ptydrive: $(B)/tests/guest/ptydrive.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lutil
TESTPROGS += $(B)/tests/guest/ptydrive
