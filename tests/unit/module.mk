# Unit tests (cmocka): every tests/unit/test_*.c is one program, linked with
# the store fixture (fixture.c) and the pure libraries. tests/unit/run.sh
# runs them all.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_PROGS := $(UNIT_SRCS:%.c=$(B)/%)
UNIT_FIXTURE := $(B)/tests/unit/fixture.o
$(UNIT_PROGS): $(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_FIXTURE) $(LIBXSRV) $(LIBXSD) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lxlutil -lxenlight -lxentoollog -ljansson -lxenstore
TESTPROGS += $(UNIT_PROGS)
# test_qmp makes lib/qmp.c's realloc fail (qmp_keep without memory)
$(B)/tests/unit/test_qmp: ALL_LDFLAGS += -Wl,--wrap=realloc
# the tests that play a QEMU monitor (test_qcall: also xmbackd/module.mk)
$(B)/tests/unit/test_qmp $(B)/tests/unit/test_qcall: $(B)/tests/unit/qmpmon.o
