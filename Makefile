# Lighthouse — build, test and benchmark.
#
#   make            build build/lighthouse and build/lighthouse-hook
#   make run        the main job (see README.md)
#   make test       every test; the last line is "N passed, N failed, N skipped"
#   make check      the tests again under AddressSanitizer and UBSan (in build-san/)
#   make bench      benchmarks that print figures
#   make perfgate   the CI performance gate: callgrind instruction counts vs bench/perf-baseline.txt
#   make static     scan-build and clang-tidy over src/ (build-scan/); any finding fails
#   make diff-shell the shell parser against mvdan/sh on 100k+ generated scripts (slow)
#   make mutation   mutation check: mutants of the code must fail the tests (long)
#   make install    install the two programs under $(PREFIX)/bin
#
# Sources are found by directory, so adding a file to a layer needs no edit here.

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2
SAN     ?=

CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Werror -Wshadow \
              -Wstrict-prototypes -Wno-unused-parameter -Isrc -I$(BUILD)/gen -pthread
# The sanitizer build also turns on the walking invariant checks (LH_DEBUG_ASSERT, util/check.h).
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DLH_DEBUG
LDSAN        = -fsanitize=address,undefined
endif
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)

# The hook stays slim: only these libraries (DESIGN.md, "start-up cost").
LIBS_ENGINE = -ljansson -lyaml -lpcre2-8
LIBS_STORE  = -lsqlite3 -lpq -lcrypto
LIBS_BRIDGE = -lmicrohttpd -lcurl -lfuse3
LIBS_ALL    = $(LIBS_BRIDGE) $(LIBS_STORE) $(LIBS_ENGINE) -lm -pthread

ENGINE_SRC = $(wildcard src/engine/*.c) $(wildcard src/util/*.c) $(BUILD)/gen/default_policy.c
STORE_SRC  = $(wildcard src/store/*.c)
BRIDGE_SRC = $(wildcard src/bridge/*.c) $(wildcard src/load/*.c) $(wildcard src/expert/*.c) \
             $(wildcard src/mcp/*.c) \
             $(BUILD)/gen/ui_files.c $(BUILD)/gen/expert_prompt.c
HOOK_SRC   = $(filter-out src/hook/hook_main.c,$(wildcard src/hook/*.c))
CLI_SRC    = src/main.c $(wildcard src/cli/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(BUILD)/%,%,$(1)))

ENGINE_OBJ = $(call obj,$(ENGINE_SRC))
STORE_OBJ  = $(call obj,$(STORE_SRC))
BRIDGE_OBJ = $(call obj,$(BRIDGE_SRC))
HOOK_OBJ   = $(call obj,$(HOOK_SRC))
CLI_OBJ    = $(call obj,$(CLI_SRC))

LIB_ENGINE = $(BUILD)/libengine.a
LIB_STORE  = $(BUILD)/libstore.a
LIB_BRIDGE = $(BUILD)/libbridge.a
LIB_HOOK   = $(BUILD)/libhook.a
ALL_LIBS   = $(LIB_BRIDGE) $(LIB_HOOK) $(LIB_STORE) $(LIB_ENGINE)

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES = $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
REPLAY_BIN = $(patsubst %,$(BUILD)/fuzz-replay/%,$(FUZZ_NAMES))
BENCH_SRC  = $(wildcard bench/bench_*.c)
BENCH_BIN  = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps run test check bench perfgate install clean fuzz fuzz-build diff-shell mutation static print-cflags image
.DELETE_ON_ERROR:

all: deps $(BUILD)/lighthouse $(BUILD)/lighthouse-hook

deps:
	@scripts/deps.sh

$(BUILD)/gen/default_policy.c: policies/default.yaml scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh lh_default_policy_yaml $< > $@

# The review console's static files (ui/), compiled into the bridge (src/bridge/console.h).
UI_FILES = $(sort $(shell find ui -type f))
UI_DIRS  = $(shell find ui -type d)
$(BUILD)/gen/ui_files.c: $(UI_FILES) $(UI_DIRS) scripts/embed_ui.sh
	@mkdir -p $(@D)
	scripts/embed_ui.sh $(UI_FILES) > $@

# The LLM expert's built-in prompt (docs/expert-llm.md).
$(BUILD)/gen/expert_prompt.c: prompts/expert-llm.md scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh lh_expert_llm_prompt $< > $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_ENGINE): $(ENGINE_OBJ)
$(LIB_STORE):  $(STORE_OBJ)
$(LIB_BRIDGE): $(BRIDGE_OBJ)
$(LIB_HOOK):   $(HOOK_OBJ)
$(BUILD)/lib%.a: | $(BUILD)/obj/empty.o
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^ $(if $^,,$(BUILD)/obj/empty.o)

$(BUILD)/obj/empty.o:
	@mkdir -p $(@D)
	echo 'typedef int lh_empty_unit;' | $(CC) -x c -c - -o $@

$(BUILD)/lighthouse: $(CLI_OBJ) $(ALL_LIBS)
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(ALL_LIBS) $(LIBS_ALL)

# The slim hook: the engine and a plain-socket client, linked against nothing heavier.
# Its three libraries are linked statically: the dynamic loader's work is a large part of
# a short-lived process's start-up (measured with callgrind in docs/architecture.md).
$(BUILD)/lighthouse-hook: $(BUILD)/obj/src/hook/hook_main.o $(LIB_HOOK) $(LIB_ENGINE)
	$(CC) $(LDSAN) -o $@ $^ -Wl,-Bstatic $(LIBS_ENGINE) -Wl,-Bdynamic -pthread

$(BUILD)/tests/%: tests/unit/%.c $(ALL_LIBS) tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(ALL_LIBS) -lcmocka $(LIBS_ALL) $(LDSAN)

# Each fuzz harness without libFuzzer: a main that replays files (tests/fuzz/replay_main.c),
# built like the unit tests, so `make test` and `make check` replay every seed and crash.
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(ALL_LIBS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/replay_main.c $(ALL_LIBS) $(LIBS_ALL) $(LDSAN)

# The engine's side of the differential shell-parser test (tests/diff/, make diff-shell).
$(BUILD)/tests/shell_dump: tests/diff/shell_dump.c $(LIB_ENGINE)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_ENGINE) -ljansson -lyaml -lpcre2-8 -lm -pthread $(LDSAN)

# The differential test on 100,000 more scripts (another seed than make test's sample).
DIFF_SEED  ?= 2
DIFF_COUNT ?= 100000
diff-shell: all $(BUILD)/tests/shell_dump
	LH_BUILD=$(CURDIR)/$(BUILD) LH_ROOT=$(CURDIR) DIFF_SEED=$(DIFF_SEED) DIFF_COUNT=$(DIFF_COUNT) \
	  bash tests/integration/diff_shell.sh

$(BUILD)/bench/%: bench/%.c $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS_ALL) $(LDSAN)

run: all
	@scripts/run.sh $(BUILD)

# The power-cut layer for tests/integration/store_powerloss.sh (LD_PRELOAD). Built without
# sanitizers even in build-san: it is preloaded into the program under test.
POWERCUT_SO = $(BUILD)/tests/powercut.so
$(POWERCUT_SO): tests/powercut/powercut.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -g -O2 -Wall -Wextra -Werror -Wno-format-truncation -fPIC -shared -o $@ $< -ldl -pthread

# The power-cut file system for tests/integration/store_powerloss_pg.sh (FUSE, run as root).
CUTFS = $(BUILD)/tests/cutfs
$(CUTFS): tests/powercut/cutfs.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -g -O2 -Wall -Wextra -Werror -Wno-format-truncation -o $@ $< -lfuse3 -pthread

test: all $(UNIT_BIN) $(POWERCUT_SO) $(CUTFS) $(REPLAY_BIN) $(BUILD)/tests/shell_dump
	@scripts/run-tests.sh $(BUILD)

check:
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 OPT=-O1 test

bench: all $(BENCH_BIN)
	@scripts/run-bench.sh $(BUILD)

# The CI performance gate (scripts/perfgate.sh, run by .ci/run after make test): instructions
# per decision, per request and per append, counted by callgrind, against bench/perf-baseline.txt.
perfgate: all $(BUILD)/bench/perf_driver
	@scripts/perfgate.sh --build $(BUILD)

# Not part of `make test`: it rebuilds and tests once per mutant (scripts/mutate.py).
MUTATE_ARGS ?=
mutation: all $(UNIT_BIN) $(POWERCUT_SO) $(CUTFS)
	nice scripts/mutate.py --build $(BUILD) $(MUTATE_ARGS)

# clang's static analyzer and clang-tidy (.clang-tidy) over src/, in build-scan/ (scripts/static.sh).
static: deps
	@scripts/static.sh build-scan

# The OCI image localhost/lighthouse:latest (mmdebstrap + buildah, scripts/image.sh). Not part
# of `make test` (it takes minutes); tests/integration/image.sh tests it when it exists.
image: all
	@scripts/image.sh $(BUILD)

# The compiler flags, for tools that need them (scripts/static.sh's compile_commands.json).
print-cflags:
	@echo $(ALL_CFLAGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/lighthouse $(BUILD)/lighthouse-hook $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz build-scan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Fuzz every harness in tests/fuzz/ with libFuzzer (clang), FUZZ_SECONDS each, in
# build-fuzz/ (the libraries built again by clang with -fsanitize=fuzzer-no-link,address,
# undefined). New inputs go to build-fuzz/fuzz/corpus/NAME, findings to
# build-fuzz/fuzz/crashes/NAME (see tests/fuzz/README.md). FUZZ=NAME runs one harness.
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_CFLAGS   = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -Wno-error -DLH_DEBUG
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT=-O1 CFLAGS='$(FUZZ_CFLAGS)' fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ)

fuzz-build: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))

$(BUILD)/fuzz/%: tests/fuzz/%.c $(ALL_LIBS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(ALL_LIBS) $(LIBS_ALL)
