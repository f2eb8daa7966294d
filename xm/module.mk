# xm: the toolstack CLI (daemonless, as xl). Links libxenstore and jansson
# (QMP); libxlutil is loaded when a config is read (see xm/config.c).
XM_SRCS := $(wildcard xm/*.c)
XM := $(B)/xm/xm
$(XM): $(XM_SRCS:%.c=$(B)/%.o) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore -ljansson
PROGS += $(XM)
# config.c reads its keys' table from cfgkeys.c: the config parser's fuzz
# target (tests/fuzz/module.mk, objects under $(B)/fuzz-obj) needs it too.
$(B)/tests/fuzz/fuzz_config: $(B)/fuzz-obj/xm/cfgkeys.o
