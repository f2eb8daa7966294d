# xm: the toolstack CLI (daemonless, as xl). Links libxenstore, libxlutil
# (config parsing) and jansson (QMP).
XM_SRCS := $(wildcard xm/*.c)
XM := $(B)/xm/xm
$(XM): $(XM_SRCS:%.c=$(B)/%.o) $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lxenstore -lxlutil -ljansson
PROGS += $(XM)
