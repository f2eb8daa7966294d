# Unit tests (cmocka): every tests/unit/test_*.c is one program, linked with
# the pure libraries. tests/unit/run.sh runs them all.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_PROGS := $(UNIT_SRCS:%.c=$(B)/%)
$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIBXSRV) $(LIBXSD) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lxlutil -lxenlight -lxentoollog
TESTPROGS += $(UNIT_PROGS)
