# xmfront: the guest agent. It runs in the guest's initramfs, which has no C
# library, so it is linked -static. Static linking and the sanitizers do not
# mix, so its objects (and those of lib/ it uses) are built by their own rule
# under $(B)/xmfront-static/ with release flags, whatever SANITIZE says.
XMFRONT_SRCS := $(wildcard xmfront/*.c)
XMFRONT_LIB := lib/wire.c lib/util.c lib/vdev.c lib/outq.c lib/sock.c lib/vbd.c
XMFRONT_SB := $(B)/xmfront-static
XMFRONT := $(B)/xmfront/xmfront
XMFRONT_CFLAGS := -std=gnu11 -O2 $(WARN) $(CFLAGS) -Ilib -D_GNU_SOURCE

$(XMFRONT_SB)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(XMFRONT_CFLAGS) -MMD -MP -c -o $@ $<

$(XMFRONT): $(patsubst %.c,$(XMFRONT_SB)/%.o,$(XMFRONT_SRCS) $(XMFRONT_LIB))
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $^

PROGS += $(XMFRONT)

# The multiplexer is pure (no I/O): its unit test links the normal object.
$(B)/tests/unit/test_xmfront_mux: $(B)/xmfront/mux.o $(B)/lib/wire.o $(B)/lib/util.o
$(B)/tests/unit/test_xmfront_uevent: $(B)/xmfront/uevent.o $(B)/lib/util.o

# tests/guest/xstest: a static XenStore test client, used on the host (to
# introduce a domain) and inside the guest (a client that holds a
# transaction and watches until it is killed). Built like xmfront.
XSTEST := $(B)/tests/guest/xstest
$(XSTEST): $(patsubst %.c,$(XMFRONT_SB)/%.o,tests/guest/xstest.c $(XMFRONT_LIB))
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $^
TESTPROGS += $(XSTEST)
