# libFuzzer targets (clang -fsanitize=fuzzer,address). `make fuzz` builds
# them all and runs each, one at a time, for FUZZ_TIME seconds or FUZZ_RUNS
# executions (FUZZ_TARGETS_RUN picks some; FUZZ_NICE=nice -n 19 on a shared
# machine), then prints and writes $(O)/fuzz/summary.txt: target,
# executions, seconds, executions/s, findings (crash files kept in
# $(O)/fuzz/findings/<target>/). tests/cli/fuzz_*.sh run them for 30 s each
# in `make check`. Seeds: tests/fuzz/corpus/<target>/.
# Each target has its own block below; add yours as a separate block.
O          ?= build
FUZZ_CC    ?= clang
FUZZ_FLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TIME  ?= 300
FUZZ_RUNS  ?= -1
FUZZ_NICE  ?=
# seconds one input may take before libFuzzer calls it a hang; a run at
# nice 19 beside kernel builds can be starved that long (two such
# "timeouts" of 2026-12-06 took 17 and 450 ms when run again)
FUZZ_TIMEOUT ?= 10
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

# ---- archive extract into a scratch folder (nothing written outside it) ----
FUZZ_TARGETS += fuzz_archive_extract
# built by the archive block's pattern rule
# ---- end archive extract ----

# ---- session: console lines and agent channel lines (harness/session/, with
# harness/console, which splits printk times and names the lines that start
# a kernel report) ----
FUZZ_TARGETS += fuzz_session_console
FUZZ_SESSION_SRC := harness/session/classify.c harness/session/assert.c harness/scenario/outcome.c \
	harness/session/obs_parse.c harness/session/obs_spans.c harness/session/observe.c \
	$(sort $(wildcard harness/console/*.c)) $(sort $(wildcard harness/util/*.c))
$(O)/fuzz/fuzz_session_console: tests/fuzz/fuzz_session_console.c $(FUZZ_SESSION_SRC) \
		$(wildcard harness/session/*.h harness/scenario/*.h harness/console/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iharness -o $@ $< $(FUZZ_SESSION_SRC) \
		$$(pkg-config --libs jansson libcrypto) -lpthread
# ---- end session ----

# ---- disk spec: `bootlab disk build SPEC.json` (harness/scenario/disks.c) ----
FUZZ_TARGETS += fuzz_disk_spec
$(O)/fuzz/fuzz_disk_spec: tests/fuzz/fuzz_disk_spec.c $(FUZZ_SCENARIO_SRC) \
		$(wildcard harness/scenario/*.h harness/disk/*.h guest/init-agent/ops.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iharness \
		$$(pkg-config --cflags lzo2 2>/dev/null) -o $@ $< \
		$(FUZZ_SCENARIO_SRC) $$(pkg-config --cflags --libs jansson yaml-0.1 libcrypto zlib \
		liblzma libzstd liblz4 lzo2) -lbz2 -lpthread
# ---- end disk spec ----

FUZZ_TARGETS_RUN ?= $(FUZZ_TARGETS)

.PHONY: fuzz-build fuzz-run
fuzz-build: $(addprefix $(O)/fuzz/,$(FUZZ_TARGETS_RUN))

# one line per target in summary.txt; a finding does not stop the others
fuzz-run: fuzz-build
	@printf '%-22s %12s %8s %10s  %s\n' target executions seconds exec/s findings > $(O)/fuzz/summary.txt
	@for t in $(FUZZ_TARGETS_RUN); do \
		mkdir -p $(O)/fuzz/corpus/$$t $(O)/fuzz/findings/$$t; \
		echo "  FUZZ    $$t ($(FUZZ_TIME) s or $(FUZZ_RUNS) runs)"; \
		start=$$(date +%s); \
		(cd $(O)/fuzz/findings/$$t && $(FUZZ_NICE) $(CURDIR)/$(O)/fuzz/$$t \
			-max_total_time=$(FUZZ_TIME) -runs=$(FUZZ_RUNS) -max_len=70000 -timeout=$(FUZZ_TIMEOUT) \
			-rss_limit_mb=2048 -print_final_stats=1 \
			$(CURDIR)/$(O)/fuzz/corpus/$$t $(CURDIR)/tests/fuzz/corpus/$$t) \
			> $(O)/fuzz/$$t.log 2>&1; rc=$$?; \
		secs=$$(( $$(date +%s) - start )); \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(O)/fuzz/$$t.log | tail -1); \
		found=$$(ls $(O)/fuzz/findings/$$t | wc -l); \
		[ $$rc -eq 0 ] || found="$$found (exit $$rc, see $(O)/fuzz/$$t.log)"; \
		printf '%-22s %12s %8s %10s  %s\n' $$t "$${runs:-?}" $$secs \
			$$(( $${runs:-0} / ($$secs > 0 ? $$secs : 1) )) "$$found" >> $(O)/fuzz/summary.txt; \
	done; cat $(O)/fuzz/summary.txt
