# Lighthouse — build, test and benchmark.
#
#   make            build build/lighthouse and build/lighthouse-hook
#   make run        the main job (see README.md)
#   make test       every test; the last line is "N passed, N failed"
#   make check      the tests again under AddressSanitizer and UBSan (in build-san/)
#   make bench      benchmarks that print figures
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
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN        = -fsanitize=address,undefined
endif
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)

# The hook stays slim: only these libraries (DESIGN.md, "start-up cost").
LIBS_ENGINE = -ljansson -lyaml -lpcre2-8
LIBS_STORE  = -lsqlite3 -lpq -lcrypto
LIBS_BRIDGE = -lmicrohttpd -lcurl
LIBS_ALL    = $(LIBS_BRIDGE) $(LIBS_STORE) $(LIBS_ENGINE) -lm -pthread

ENGINE_SRC = $(wildcard src/engine/*.c) $(wildcard src/util/*.c) $(BUILD)/gen/default_policy.c
STORE_SRC  = $(wildcard src/store/*.c)
BRIDGE_SRC = $(wildcard src/bridge/*.c) $(wildcard src/load/*.c)
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
BENCH_SRC  = $(wildcard bench/bench_*.c)
BENCH_BIN  = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps run test check bench install clean fuzz mutation
.DELETE_ON_ERROR:

all: deps $(BUILD)/lighthouse $(BUILD)/lighthouse-hook

deps:
	@scripts/deps.sh

$(BUILD)/gen/default_policy.c: policies/default.yaml scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh lh_default_policy_yaml $< > $@

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

test: all $(UNIT_BIN) $(POWERCUT_SO)
	@scripts/run-tests.sh $(BUILD)

check:
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 OPT=-O1 test

bench: all $(BENCH_BIN)
	@scripts/run-bench.sh $(BUILD)

# Not part of `make test`: it rebuilds and tests once per mutant (scripts/mutate.py).
MUTATE_ARGS ?=
mutation: all $(UNIT_BIN) $(POWERCUT_SO)
	nice scripts/mutate.py --build $(BUILD) $(MUTATE_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/lighthouse $(BUILD)/lighthouse-hook $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Fuzz the engine with libFuzzer (clang): FUZZ_SECONDS of random and mutated input.
FUZZ_SECONDS ?= 60
fuzz: deps $(BUILD)/gen/default_policy.c
	@mkdir -p $(BUILD)/fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -I$(BUILD)/gen -fsanitize=fuzzer,address,undefined \
	  -o $(BUILD)/fuzz/fuzz_engine tests/fuzz/fuzz_engine.c $(ENGINE_SRC) -ljansson -lyaml -lpcre2-8 -pthread
	cp -r tests/fuzz/corpus $(BUILD)/fuzz/corpus-run
	$(BUILD)/fuzz/fuzz_engine -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 $(BUILD)/fuzz/corpus-run
