# libFuzzer targets (clang -fsanitize=fuzzer,address). `make fuzz` builds
# them all and runs each for FUZZ_TIME seconds; tests/cli/fuzz_*.sh run
# them for 30 s each in `make check`. Seeds: tests/fuzz/corpus/<target>/.
# Each target has its own block below; add yours as a separate block.
O          ?= build
FUZZ_CC    ?= clang
FUZZ_FLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TIME  ?= 300
FUZZ_TARGETS :=
.DEFAULT_GOAL := fuzz-run

# ---- agent: request parser and JSON writer (guest/init-agent/proto.c) ----
FUZZ_TARGETS += fuzz_agent_req
$(O)/fuzz/fuzz_agent_req: tests/fuzz/fuzz_agent_req.c guest/init-agent/proto.c guest/init-agent/agent.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iguest/init-agent -o $@ tests/fuzz/fuzz_agent_req.c guest/init-agent/proto.c
# ---- end agent ----

# ---- scenario: the YAML loader (harness/scenario/, libyaml, jansson), with the
# stages whose tables it checks names against (harness/disk, harness/archive) ----
FUZZ_TARGETS += fuzz_scenario
FUZZ_SCENARIO_SRC := $(wildcard harness/scenario/*.c) $(wildcard harness/disk/*.c) \
	$(wildcard harness/archive/*.c) $(wildcard harness/console/*.c) $(wildcard harness/util/*.c)
$(O)/fuzz/fuzz_scenario: tests/fuzz/fuzz_scenario.c $(FUZZ_SCENARIO_SRC) \
		$(wildcard harness/scenario/*.h harness/disk/*.h guest/init-agent/ops.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iharness \
		$$(pkg-config --cflags lzo2 2>/dev/null) -o $@ tests/fuzz/fuzz_scenario.c \
		$(FUZZ_SCENARIO_SRC) $$(pkg-config --cflags --libs jansson yaml-0.1 libcrypto zlib \
		liblzma libzstd liblz4 lzo2) -lbz2 -lpthread
# ---- end scenario ----

# ---- archive: stacked-initrd reader (+ lint) and the gen_init_cpio list parser ----
FUZZ_TARGETS += fuzz_archive_read fuzz_archive_list
ARCHIVE_FUZZ_SRC := $(sort $(wildcard harness/archive/*.c)) $(sort $(wildcard harness/util/*.c))
ARCHIVE_FUZZ_LIBS = $(shell pkg-config --libs zlib liblzma libzstd liblz4 lzo2 jansson libcrypto 2>/dev/null) -lbz2 -lpthread
$(O)/fuzz/fuzz_archive_%: tests/fuzz/fuzz_archive_%.c $(ARCHIVE_FUZZ_SRC) $(wildcard harness/archive/*.h harness/util/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iharness $(shell pkg-config --cflags lzo2 2>/dev/null) \
		-o $@ $< $(ARCHIVE_FUZZ_SRC) $(ARCHIVE_FUZZ_LIBS)
# ---- end archive ----

.PHONY: fuzz-build fuzz-run
fuzz-build: $(addprefix $(O)/fuzz/,$(FUZZ_TARGETS))

fuzz-run: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(O)/fuzz/corpus/$$t; \
		echo "  FUZZ    $$t ($(FUZZ_TIME) s)"; \
		$(O)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -max_len=70000 \
			$(O)/fuzz/corpus/$$t tests/fuzz/corpus/$$t; \
	done
