# Benchmarks (not tests: they print, they assert nothing). bench/xsbench is a
# libxenstore client; bench/run-all.sh runs it against xmstored, cxenstored
# and oxenstored in one go (make bench).
XSBENCH := $(B)/bench/xsbench
$(XSBENCH): $(B)/bench/xsbench.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore
BENCHPROGS += $(XSBENCH)

# bench/domtime: the timing helper of bench/domains.sh (xm create / shutdown
# and the QEMU-only floor, waiting on XenStore watches and inotify).
DOMTIME := $(B)/bench/domtime
$(DOMTIME): $(B)/bench/domtime.o $(B)/bench/spawn.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore
BENCHPROGS += $(DOMTIME)

# bench/blktime: the timing helper of bench/block.sh (xm block-attach/-detach
# on XenStore watches, and the raw-QMP floor on the domain's ctl.sock).
BLKTIME := $(B)/bench/blktime
$(BLKTIME): $(B)/bench/blktime.o $(B)/bench/spawn.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore -ljansson
BENCHPROGS += $(BLKTIME)

# bench/qmpbytes: what a QMP command's length costs (bench/qmpbytes.sh).
$(B)/bench/qmpbytes: $(B)/bench/qmpbytes.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
BENCHPROGS += $(B)/bench/qmpbytes

# bench/xsfill: the filler of bench/memory.sh (many domains' nodes).
$(B)/bench/xsfill: $(B)/bench/xsfill.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore
BENCHPROGS += $(B)/bench/xsfill

# bench/domscale: many introduced domains with simulated frontends
# (bench/domscale.sh).
$(B)/bench/domscale: $(B)/bench/domscale.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore
BENCHPROGS += $(B)/bench/domscale
# bench/xmscale.sh runs tests/guest/fakeqemu (built there, with the benchmarks too)
BENCHPROGS += $(B)/tests/guest/fakeqemu

# bench/nettime: the timing helper of bench/network.sh (xm network-attach /
# -detach, and the raw floor: the tap by xmbackd's own tap.c, then QMP).
NETTIME := $(B)/bench/nettime
$(NETTIME): $(B)/bench/nettime.o $(B)/bench/spawn.o $(B)/xmbackd/tap.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson
BENCHPROGS += $(NETTIME)

# bench/savetime: the raw-QMP floor of bench/saverestore.sh (save to a file,
# restore into a fresh QEMU).
$(B)/bench/savetime: $(B)/bench/savetime.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson
BENCHPROGS += $(B)/bench/savetime

# bench/cputime: the timing helper of bench/memcpu.sh (xm vcpu-set / mem-set
# against raw QMP on the domain's ctl.sock).
$(B)/bench/cputime: $(B)/bench/cputime.o $(B)/bench/spawn.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson
BENCHPROGS += $(B)/bench/cputime
