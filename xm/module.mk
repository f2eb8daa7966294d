# xm: the toolstack CLI (daemonless, as xl). Links libxenstore and jansson
# (QMP); libxlutil is loaded when a config is read (see xm/config.c).
XM_SRCS := $(wildcard xm/*.c)
XM := $(B)/xm/xm
$(XM): $(XM_SRCS:%.c=$(B)/%.o) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore -ljansson
PROGS += $(XM)
