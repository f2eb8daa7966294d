# libFuzzer targets, one per parser (git's oss-fuzz/fuzz-*.c habit): every
# tests/fuzz/fuzz_NAME.c is a program $(B)/tests/fuzz/fuzz_NAME, run by
# tests/fuzz/run.sh. Always clang with the fuzzer, address and undefined
# sanitizers, whatever $(CC) and SANITIZE are, so the code a target reaches
# is compiled again for it under $(B)/fuzz-obj: all of lib/*.c (an archive,
# from which each target takes what it uses) and the program sources named
# below.
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(FUZZ_SAN) $(WARN) -Wno-unused-command-line-argument \
	-Ilib -I. -D_GNU_SOURCE
FUZZ_OBJ := $(B)/fuzz-obj
FUZZ_LIBXM := $(FUZZ_OBJ)/lib/libxm.a
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_PROGS := $(FUZZ_NAMES:%=$(B)/tests/fuzz/fuzz_%)

$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -MMD -MP -c -o $@ $<

$(FUZZ_LIBXM): $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(wildcard lib/*.c))
	@rm -f $@
	$(AR) rcs $@ $^

# The program sources a target needs besides lib/.
$(FUZZ_OBJ)/tests/fuzz/fuzz_request.o: FUZZ_INC := -Ixmstored
$(B)/tests/fuzz/fuzz_request: $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(XSD_LIB_SRCS) $(XSD_SRCS))
$(B)/tests/fuzz/fuzz_uevent: $(FUZZ_OBJ)/xmfront/uevent.o
$(B)/tests/fuzz/fuzz_config: $(FUZZ_OBJ)/xm/config.o $(FUZZ_OBJ)/xm/cfgkeys.o $(FUZZ_OBJ)/xm/cpus.o
# the journal: its records alone (with the store library), and the whole
# start from the files (with the daemon minus main)
$(FUZZ_OBJ)/tests/fuzz/fuzz_jrec.o $(FUZZ_OBJ)/tests/fuzz/fuzz_journal.o: FUZZ_INC := -Ixmstored
$(B)/tests/fuzz/fuzz_jrec: $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(XSD_LIB_SRCS) xmstored/jrec.c)
$(B)/tests/fuzz/fuzz_journal: $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(XSD_LIB_SRCS) $(XSD_SRCS) $(XSD_JRN_SRCS))
$(B)/tests/fuzz/fuzz_jrec $(B)/tests/fuzz/fuzz_journal: FUZZ_LIBS := -lz
# xmbackd: its view of QEMU, and the XenStore values it reads back;
# xmfront: the xenbus multiplexer
$(B)/tests/fuzz/fuzz_qview: $(FUZZ_OBJ)/xmbackd/qview.o
$(B)/tests/fuzz/fuzz_xsvalue: $(FUZZ_OBJ)/xmbackd/claims.o $(FUZZ_OBJ)/xmbackd/claimidx.o $(FUZZ_OBJ)/xmbackd/sharing.o
$(B)/tests/fuzz/fuzz_mux: $(FUZZ_OBJ)/xmfront/mux.o

$(FUZZ_PROGS): $(B)/tests/fuzz/fuzz_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o $(FUZZ_LIBXM)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $(filter %.o,$^) $(FUZZ_LIBXM) $(FUZZ_LIBS) -lpthread -ljansson -lxenstore

TESTPROGS += $(FUZZ_PROGS)
