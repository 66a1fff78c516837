# omnisync — top-level build.  See README.md.
#
# Layout convention (no per-service Makefile edits needed; docs/architecture.md):
#   services/{lib,events,ledger,store,store/<platform>,app}/*.c
#                                 -> build/<cfg>/libcommon.a (the layers)
#   services/<svc>/*.c, services/devtools/<tool>/*.c
#                                 -> bin/<svc>  (main.c holds main(); the rest also
#                                    goes into build/<cfg>/lib<svc>.a for unit tests)
#   tests/unit/test_*.c           -> build/<cfg>/tests/test_*
# SANITIZER=address,undefined builds into build/san/ (binaries in build/san/bin/).

PKG_CONFIG ?= pkg-config
CC ?= cc
WERROR ?= 1
OPT ?= -O2 -g
PKGS := rdkafka libcurl hiredis libpq jansson libmicrohttpd libsodium

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 \
        -Wwrite-strings -Wundef -Wno-missing-field-initializers \
        -Werror=deprecated-declarations $(if $(filter 1,$(WERROR)),-Werror)
SAN := $(if $(SANITIZER),-fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer)

ifeq ($(SANITIZER),)
B := build/std
BIN := bin
else
B := build/san
BIN := build/san/bin
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
FINAL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(OPT) $(SAN) \
               $(LAYER_INC) -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
FINAL_LDFLAGS = $(SAN) $(LDFLAGS)
FINAL_LIBS = $(PKG_LIBS) -lpthread -lm $(LIBS)

# The git revision --version prints (lib/version.c): the short commit, with
# -dirty when tracked files differ from it; "unknown" when the tree is not a
# git checkout (a tarball, the container build's context, which leaves .git
# out: deploy/Dockerfile passes it as the build argument OMNISYNC_REV).
# `make OMNISYNC_REV=...` sets it.  Only lib/version.o is rebuilt when it
# changes (the stamp below keeps its last value).
ifeq ($(origin OMNISYNC_REV),undefined)
OMNISYNC_REV := $(shell [ -e .git ] && r=$$(git rev-parse --short=12 HEAD 2>/dev/null) && \
    { git diff --quiet HEAD -- 2>/dev/null && echo "$$r" || echo "$$r-dirty"; })
endif
override OMNISYNC_REV := $(or $(strip $(subst ",,$(subst ',,$(OMNISYNC_REV)))),unknown)
export OMNISYNC_REV

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The layers, lowest first; every binary links all of them.
LAYERS := lib events ledger store $(patsubst services/%/,%,$(dir $(wildcard services/store/*/*.c))) app
LAYERS := $(sort $(LAYERS))
LAYER_INC := -Iservices
COMMON_SRC := $(foreach l,$(LAYERS),$(wildcard services/$(l)/*.c))
COMMON_OBJ := $(patsubst services/%.c,$(B)/%.o,$(COMMON_SRC))
# A binary is a folder with a main.c: services/<svc>/ or services/devtools/<tool>/.
SVC_DIRS := $(patsubst %/,%,$(dir $(wildcard services/*/main.c services/devtools/*/main.c)))
SERVICES := $(notdir $(SVC_DIRS))
svc_dir = $(filter %/$(1),$(SVC_DIRS))
BINS := $(addprefix $(BIN)/,$(SERVICES))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
TOOL_SRC := $(wildcard tests/tools/*.c) $(wildcard bench/*.c)
TOOL_BINS := $(patsubst %.c,$(B)/tools/%,$(notdir $(TOOL_SRC)))
SVC_LIBS := $(foreach s,$(SERVICES),$(B)/lib$(s).a)
ALL_SRC := $(shell find services tests/unit tests/tools tests/fuzz bench -name '*.[ch]' 2>/dev/null)

.PHONY: FORCE all test unit check format format-check cppcheck arch-check valgrind clean up down \
        status restart bench config-doc config-doc-check deps demo fuzz fuzz-build chaos
all: $(BINS) $(UNIT_BINS) $(TOOL_BINS)

$(B)/%.o: services/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC    $<")
	$(Q)$(CC) $(FINAL_CFLAGS) -c $< -o $@

$(B)/rev.stamp: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(OMNISYNC_REV)' ] || echo '$(OMNISYNC_REV)' >$@
$(B)/lib/version.o: $(B)/rev.stamp
$(B)/lib/version.o: FINAL_CFLAGS += -DVERSION_GIT_REV='"$(OMNISYNC_REV)"'
FORCE:

$(B)/libcommon.a: $(COMMON_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

define svc_rules
$(1)_OBJ := $$(patsubst services/%.c,$(B)/%.o,$$(wildcard $(call svc_dir,$(1))/*.c))
$(1)_LIBOBJ := $$(filter-out %/main.o,$$($(1)_OBJ))
$(B)/lib$(1).a: $$($(1)_LIBOBJ)
	@mkdir -p $$(dir $$@)
	$(Q)rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,$$(COMMON_OBJ))
$(BIN)/$(1): $$($(1)_OBJ) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LINK  $$@")
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $$@ $$($(1)_OBJ) $(B)/libcommon.a $(FINAL_LIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call svc_rules,$(s))))

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -Itests/unit -c $< -o $@

$(B)/tests/test_%: $(B)/tests/test_%.o $(SVC_LIBS) $(B)/libcommon.a
	$(if $(Q),@echo "  LINK  $@")
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $< $(SVC_LIBS) $(B)/libcommon.a $(FINAL_LIBS)

# Test tools (tests/tools/*.c) and benchmark drivers (bench/*.c): one file,
# one program, in build/<cfg>/tools/.
$(B)/tools/%.o: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -c $< -o $@
$(B)/tools/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -c $< -o $@
$(B)/tools/%: $(B)/tools/%.o $(SVC_LIBS) $(B)/libcommon.a
	$(if $(Q),@echo "  LINK  $@")
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $< $(SVC_LIBS) $(B)/libcommon.a $(FINAL_LIBS)

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(B)/tests

# `make test` and `make demo` are the first commands after a clone (as root on
# Debian 12): each installs what is missing (deploy/install-deps.sh), builds
# in a sub-make (pkg-config is read after the install), and says what it does.
deps:
	@echo "== deps: deploy/install-deps.sh (installs only what is missing)"
	@deploy/install-deps.sh

test: deps
	@echo "== build: make all"
	@$(MAKE) --no-print-directory -j2 all
	@echo "== test: tests/run.sh (unit tests, sanitizers, integration against real servers)"
	@tests/run.sh

# The demo (deploy/demo.sh): a fresh stack in ./run/, the sample chain of
# deploy/sample/ and a trading day; DEMO_SPEED scales the store's API window
# (500 requests per 300/DEMO_SPEED s), DEMO_SAMPLE=small a 20-product chain.
DEMO_SPEED ?= 10
demo: deps
	@echo "== build: the services and the CLI"
	@$(MAKE) --no-print-directory -j2 $(BINS)
	@echo "== stack: a fresh local stack in ./run/ (deploy/stack.sh up, DEMO_SPEED=$(DEMO_SPEED))"
	@DEMO_SPEED=$(DEMO_SPEED) deploy/demo.sh fresh
	@env=$$(DEMO_SPEED=$(DEMO_SPEED) deploy/demo.sh stack-env) && eval "$$env" && deploy/stack.sh up
	@DEMO_SPEED=$(DEMO_SPEED) deploy/demo.sh

# The chaos suite (tests/chaos/run.sh, docs/chaos.md): kills, restarts and
# store faults over the whole stack, then its invariants.  CHAOS_PROFILE=
# short (~60 s of chaos, what CI runs) or long (15 min); CHAOS_SEED=N replays a run
# (default: derived from the time, printed); CHAOS_SECONDS=N sets the chaos.
CHAOS_PROFILE ?= short
chaos: deps
	@$(MAKE) --no-print-directory -j2 $(BINS)
	@CHAOS_PROFILE=$(CHAOS_PROFILE) CHAOS_SEED=$(CHAOS_SEED) \
		CHAOS_SECONDS=$(CHAOS_SECONDS) tests/chaos/run.sh

check: format-check cppcheck config-doc-check arch-check

# docs/config.md: every binary's config table as one markdown table,
# generated by tests/tools/cfgdoc.c (which also fails when two binaries
# disagree about a key).  config-doc-check fails when the file is stale.
CFGDOC := $(B)/tools/cfgdoc
config-doc: $(CFGDOC)
	$(Q)$(CFGDOC) >docs/config.md.tmp && mv docs/config.md.tmp docs/config.md
	@echo "config-doc: docs/config.md written"

config-doc-check: $(CFGDOC)
	@tmp=$$(mktemp) || exit 1; \
	if ! $(CFGDOC) >"$$tmp"; then rm -f "$$tmp"; exit 1; fi; \
	if diff -u docs/config.md "$$tmp"; then \
	  rm -f "$$tmp"; echo "config-doc-check: clean"; \
	else \
	  rm -f "$$tmp"; echo "config-doc-check: docs/config.md is stale (make config-doc)" >&2; \
	  exit 1; \
	fi

format:
	clang-format -i $(ALL_SRC)

format-check:
	@clang-format --dry-run --Werror $(ALL_SRC) && echo "format-check: clean"

cppcheck:
	@cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem $(LAYER_INC) services tests/unit \
	  && echo "cppcheck: clean"

# The architecture rules (layers, sql-owner, function-size, platform-names;
# tests/tools/archcheck.py, docs/architecture.md).  More rules join as hooks:
# ARCHCHECK_HOOKS += --hook 'NAME=COMMAND' (e.g. config-doc, once
# `make config-doc-check` exists: --hook 'config-doc=$(MAKE) -s config-doc-check').
ARCHCHECK_HOOKS ?=
arch-check:
	@python3 tests/tools/archcheck.py --root . $(ARCHCHECK_HOOKS)

valgrind: all
	@tests/valgrind.sh

# Fuzzing (docs/development.md "Fuzzing"): one libFuzzer program per
# tests/fuzz/fuzz_<target>.c, built with clang into build/fuzz/ with the
# layers compiled for coverage (-fsanitize=fuzzer-no-link) and ASan/UBSan;
# `make fuzz` runs each for FUZZ_SECONDS from its seeds
# (tests/fuzz/corpus/<target>/) and fails on a crash (tests/fuzz/run.sh).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FZ := build/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(FZ)/bin/fuzz_,$(FUZZ_TARGETS))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -O1 -g \
              $(FUZZ_SAN) $(LAYER_INC) -MMD -MP $(PKG_CFLAGS)
FUZZ_OBJ := $(patsubst services/%.c,$(FZ)/obj/%.o,$(COMMON_SRC))

$(FZ)/obj/%.o: services/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZCC $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FZ)/libcommon.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(FZ)/obj/fuzz_%.o: tests/fuzz/fuzz_%.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -c $< -o $@
$(FZ)/bin/fuzz_%: $(FZ)/obj/fuzz_%.o $(FZ)/libcommon.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LINK  $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FZ)/libcommon.a $(FINAL_LIBS)

# Keep the targets' objects (make would delete them as intermediates).
.SECONDARY: $(patsubst %,$(FZ)/obj/fuzz_%.o,$(FUZZ_TARGETS))
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: all
	@bench/run.sh $(PART)

# The local stack (deploy/stack.sh, docs/harness.md "Local stack"); the
# run directory is $(OMNISYNC_RUN_DIR), default ./run.
# `make restart SVC=order-ingestor` (or `make restart order-ingestor`)
# rebuilds, then restarts that one component.
up: all
	@deploy/stack.sh up

down:
	@deploy/stack.sh down

status:
	@deploy/stack.sh status

RESTART_ARGS := $(if $(filter restart,$(firstword $(MAKECMDGOALS))),$(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS)))
restart: all
	@deploy/stack.sh restart $(or $(SVC),$(RESTART_ARGS))
ifneq ($(RESTART_ARGS),)
$(RESTART_ARGS):
	@:
endif

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
