# bootlab: plain GNU make. `make` builds ./bootlab, the agent for both
# arches (x86_64, aarch64: every shipped scenario's rows) and the guest tools,
# `make demo` boots the smoke scenario (ci/demo), `make check` runs the whole suite.
# V=1 shows full commands; DEV=1 turns warnings into errors; SAN=1 builds
# the harness with ASan/UBSan. `make check` builds both: the plain tree in
# build/ (./bootlab) and a DEV=1 SAN=1 tree in build/san/ (its bootlab and
# unit tests, which tests/run uses for the unit and CLI tests and one boot
# per backend). `make check-cold` runs `make check` in a fresh clone of
# HEAD with an empty kernel cache, as a new machine would.

CC        ?= cc
ARCH      ?= x86_64
O         ?= build
# the harness binary; build/san/bootlab for the sanitizer tree
BIN       ?= bootlab
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wformat=2
ifeq ($(DEV),1)
WARN      += -Werror
endif
ifeq ($(SAN),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer
# ASan intercepts the xdr_* functions and looks up the real ones at start:
# libvirt (dlopen'ed) brings libtirpc later, leaving those pointers NULL.
# Loaded from the start, libtirpc's functions are found.
LDFLAGS   += -fsanitize=address,undefined -Wl,--no-as-needed -l:libtirpc.so.3 -Wl,--as-needed
endif
PKGS      := jansson yaml-0.1 zlib liblzma libzstd liblz4 lzo2 libcrypto
# libvirt and libkmod: headers only; harness/machine/libvirt.c and
# harness/kernel/modules.c dlopen them when a boot needs them.
# The other libraries are linked statically (Debian's -dev packages ship
# the .a files): 13 shared objects cost ~2 ms of dynamic linking on every
# bootlab start, ~7% of a UML boot (bench/boot.sh).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libkmod libvirt 2>/dev/null)
PKG_LIBS   = -Wl,-Bstatic $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lbz2 -Wl,-Bdynamic \
	-lpthread -ldl
# -MMD: an object depends on the headers it includes, not on every header
HCFLAGS   := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iharness $(PKG_CFLAGS) -MMD -MP

# The flags an object was built with: when they change (SAN=1 on or off,
# CFLAGS, DEV=1), every object and program of the tree is built again
# instead of linking sanitized objects with plain ones (`make check SAN=1`
# then `make` failed to link).
FLAGS_STAMP := $(O)/.flags
FLAGS_NOW   := $(CC) $(CFLAGS) $(HCFLAGS) $(LDFLAGS)
ifeq ($(filter clean format,$(MAKECMDGOALS)),)
$(shell mkdir -p $(O) && { printf '%s\n' '$(FLAGS_NOW)' | cmp -s - $(FLAGS_STAMP) || \
	printf '%s\n' '$(FLAGS_NOW)' > $(FLAGS_STAMP); })
endif

Q := @
ifeq ($(V),1)
Q :=
endif

# Every harness/<stage>/*.c goes into the library; main.c is the CLI.
HARNESS_SRC := $(sort $(wildcard harness/*/*.c))
HARNESS_OBJ := $(HARNESS_SRC:%.c=$(O)/%.o)
LIB         := $(O)/libbootlab.a

# The agent: static, per architecture. CROSS_COMPILE is honoured.
AGENT_SRC := $(sort $(wildcard guest/init-agent/*.c))
ifeq ($(ARCH),x86_64)
AGENT_CC  ?= $(if $(CROSS_COMPILE),$(CROSS_COMPILE)gcc,musl-gcc)
else ifeq ($(ARCH),aarch64)
CROSS_COMPILE ?= aarch64-linux-gnu-
# musl-dev:arm64 (ci/install-deps): a 130 KB agent instead of glibc's 600 KB,
# which the guest unpacks and faults in before the hello (~100 ms under TCG)
MUSL_ARM64_SPECS := /usr/lib/aarch64-linux-musl/musl-gcc.specs
AGENT_CC  ?= $(CROSS_COMPILE)gcc $(if $(wildcard $(MUSL_ARM64_SPECS)),-specs=$(MUSL_ARM64_SPECS))
else
$(error ARCH must be x86_64 or aarch64)
endif
AGENT_BIN := $(O)/agent/$(ARCH)/init-agent
# -z noseparate-code: no page of padding between the code and the
# read-only data segments (8 KiB of a ~100 KiB agent); the agent is a test
# guest's init, not a hardened daemon
AGENT_CFLAGS := -std=gnu11 -static -Os -Wall -Wextra -Wno-unused-parameter \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-Wl,--gc-sections -Wl,-z,noseparate-code -s

UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)

.PHONY: all agent agents tools deps kernels kernels-debug demo check check-cold san test fuzz bench clean format
all: $(BIN) agents tools

deps:
	$(Q)./ci/install-deps

$(BIN): $(O)/harness/main.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LIB): $(HARNESS_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/harness/%.o: harness/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(HCFLAGS) -c -o $@ $<

-include $(HARNESS_OBJ:.o=.d) $(O)/harness/main.d

# the sanitizer tree: warnings are errors, ASan + UBSan
san:
	$(Q)$(MAKE) --no-print-directory O=build/san BIN=build/san/bootlab DEV=1 SAN=1 \
		build/san/bootlab unit

agent: $(AGENT_BIN)
$(AGENT_BIN): $(AGENT_SRC) $(wildcard guest/init-agent/*.h)
	@mkdir -p $(dir $@)
	@echo "  AGENT   $@ ($(ARCH))"
	$(Q)$(AGENT_CC) $(AGENT_CFLAGS) -o $@ $(AGENT_SRC)
	@echo "  agent size: $$(stat -c %s $@) bytes ($(ARCH), stripped)"

# Static guest tools that scenarios put in their archives (x86_64, musl).
# raidautorun stands in for busybox's applet: guest/tools/raidautorun.c.
TOOLS := $(O)/tools/raidautorun
tools: $(TOOLS)
$(O)/tools/%: guest/tools/%.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)musl-gcc -std=gnu11 -static -Os -Wall -Wextra -s -o $@ $<

agents:
	$(Q)$(MAKE) --no-print-directory agent ARCH=x86_64
	$(Q)$(MAKE) --no-print-directory agent ARCH=aarch64

$(O)/tests/unit/%: tests/unit/%.c tests/unit/t.h $(LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(HCFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)

-include $(UNIT_BIN:=.d)

unit: $(UNIT_BIN)

# The kernels the suite boots, built once into the cache (keyed by content).
# x86_64 (microvm/q35), um (UML) and aarch64 (virt) builds, and Debian's
# arm64 kernel fetched with apt (the smoke/smoke-debian scenarios).
kernels: bootlab
	$(Q)./bootlab kernel build --arch x86_64 >/dev/null
	$(Q)./bootlab kernel build --arch um >/dev/null
	$(Q)./bootlab kernel build --arch aarch64 >/dev/null
	$(Q)./bootlab kernel fetch --arch aarch64 >/dev/null

# the debug x86_64 kernel (KASAN, lockdep) only the suite's kernel-reports
# scenario boots: a second x86_64 build, so not part of `kernels`
kernels-debug: bootlab
	$(Q)./bootlab kernel build --arch x86_64 --fragment kernels/x86_64-debug.config >/dev/null

# a first verdict on Debian's packaged kernel within minutes, then the other
# Debian kernels and bootlab's own (docs/demo.md); ci/demo --first stops
# after the first verdict
demo:
	$(Q)ci/demo

# The debug kernel builds beside the tests (ci/beside: lowest priority,
# its output in build/kernels-debug.log): the emulators, mostly
# single-threaded under TCG, leave a core idle much of the time, and the
# first test that boots it comes ~20 minutes in. Beside the other kernel
# builds it only slowed them (docs/testing.md, "make check on a new
# machine").
NPROC := $(shell nproc 2>/dev/null || echo 1)
check: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all agents unit
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) san
	$(Q)$(MAKE) --no-print-directory kernels
	$(Q)ci/beside $(O)/kernels-debug.log $(MAKE) --no-print-directory kernels-debug -- tests/run

# a new machine: a fresh clone of HEAD, an empty cache (kernels, archives),
# the whole suite; prints its time. Uncommitted changes are not in it.
check-cold:
	$(Q)ci/check-cold

test: check

fuzz: deps
	$(Q)$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk

bench: deps all agents kernels
	$(Q)bench/run

# every tracked C file, as tests/cli/format.sh checks them
format:
	git ls-files -z '*.c' '*.h' | xargs -0 clang-format -i

clean:
	rm -rf $(O) bootlab
