# libFuzzer target for xmstored's decoder and dispatcher. Always clang, with
# the fuzzer, address and undefined sanitizers, whatever $(CC) is.
FUZZ_SRCS := lib/wire.c lib/htab.c lib/util.c $(XSD_LIB_SRCS) $(XSD_SRCS) tests/fuzz/fuzz_request.c
FUZZER := $(B)/tests/fuzz/fuzz_request
$(FUZZER): $(FUZZ_SRCS) $(wildcard lib/*.h xmstored/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(WARN) -Wno-unused-command-line-argument \
		-Ilib -Ixmstored -D_GNU_SOURCE -o $@ $(FUZZ_SRCS)
TESTPROGS += $(FUZZER)
