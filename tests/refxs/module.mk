# tests/refxs: xsshim.so, the preload library under which Xen's own XenStore
# daemons run without a hypervisor (tests/refxs/refxs.sh starts them; the
# tests compare with them, the benchmarks measure them). It is loaded into
# Debian's uninstrumented binaries, so it is built without $(OPT)'s
# sanitizers, whatever SANITIZE says. Benchmarks need it too.
XSSHIM := $(B)/tests/refxs/xsshim.so
$(XSSHIM): tests/refxs/xsshim.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -fPIC -shared -o $@ $<
TESTPROGS += $(XSSHIM)
BENCHPROGS += $(XSSHIM)
