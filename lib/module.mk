# libxm: what the programs share (wire protocol framing, logging, utilities).
LIBXM_SRCS := $(wildcard lib/*.c)
LIBXM := $(B)/lib/libxm.a
$(LIBXM): $(LIBXM_SRCS:%.c=$(B)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
