# tests/proto: protocol tests against a running daemon. domchan drives
# xmstored's per-domain channels with libxenstore and raw wire messages
# (run by tests/proto/domchan.sh).
DOMCHAN := $(B)/tests/proto/domchan
$(DOMCHAN): $(B)/tests/proto/domchan.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore
TESTPROGS += $(DOMCHAN)
# notifyrecv: the service manager's end of sd_notify (tests/proto/notify.sh).
$(B)/tests/proto/notifyrecv: $(B)/tests/proto/notifyrecv.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TESTPROGS += $(B)/tests/proto/notifyrecv
# quota: xmstored's per-domain limits (tests/proto/quota.sh).
$(B)/tests/proto/quota: $(B)/tests/proto/quota.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore
TESTPROGS += $(B)/tests/proto/quota
