# xm — Xen-style block hot-plug on QEMU guests.
#
# Plain make (as kvmtool and Xen's tools/ do): the project is a handful of C
# programs with one small shared library; per-folder fragments (*/module.mk)
# keep each program's rules beside its code. Build output goes to $(B).
#
#   make            build everything (release flags) into build/release
#   make check      install deps, build with ASan/UBSan into build/asan, run all tests
#   make demo       install deps, build, run the walk-through demo
#   make bench      build release, run the benchmarks under bench/
#   make install    build (release) and install (PREFIX, DESTDIR: install.mk)
#
# SANITIZE=address,undefined switches a build to the sanitizers (check uses it).

SANITIZE ?=
ifeq ($(SANITIZE),)
B ?= build/release
OPT ?= -O2
else
B ?= build/asan
OPT ?= -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LDFLAGS = -fsanitize=$(SANITIZE)
endif

CC ?= cc
WARN = -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
       -Wshadow -Wpointer-arith -Wvla -Werror
CFLAGS ?= -g
ALL_CFLAGS = -std=gnu11 $(OPT) $(WARN) $(CFLAGS) -Ilib -D_GNU_SOURCE
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)

PROGS :=
TESTPROGS :=
BENCHPROGS :=

all: programs

include lib/module.mk
include xmstored/module.mk
-include $(wildcard tests/*/module.mk bench/module.mk xm/module.mk xmbackd/module.mk xmfront/module.mk guest/module.mk)
include install.mk

programs: $(PROGS)
testprogs: $(TESTPROGS)
benchprogs: $(BENCHPROGS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

deps:
	@scripts/install-deps.sh

check: deps
	$(MAKE) SANITIZE=address,undefined programs testprogs
	tests/run-all.sh build/asan

demo: deps
	$(MAKE) programs
	scripts/demo.sh build/release

bench: deps
	$(MAKE) programs benchprogs
	bench/run-all.sh build/release

clean:
	rm -rf build

.PHONY: all programs testprogs benchprogs deps check demo bench clean
