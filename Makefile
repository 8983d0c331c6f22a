# tonghop — build, test, install.
#
#   make              release build of tonghop-node and tonghop-hub (build/release)
#   make deps         install the missing Debian packages to build and run (apt-get; sudo
#                     when not root); make test and make demo add what they need
#   make test         deps, then ASan+UBSan build, every unit, integration and browser test
#   make asan | ubsan build and run the unit tests under one sanitizer
#   make valgrind     unit tests under valgrind (memcheck, leaks are errors)
#   make bench        benchmarks; rewrites the generated section of docs/benchmarks.md
#                     (QUICK=1: reduced sizes, under 2 minutes)
#   make fuzz         every libFuzzer target for FUZZ_SECS (60) seconds (clang, ASan+UBSan)
#   make chaos        SEEDS (10) seeded chaos scenarios of 60 communes (tests/chaos)
#   make demo         a whole province on one machine (see README)
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make deb          the Debian package build/tonghop_<version>_<arch>.deb (dpkg-deb;
#                     version: VERSION and debian/changelog); make deb-test checks it
#
# BUILD selects the variant: release, asan, ubsan, debug, fuzz (clang), deb (release
# with Debian's hardening flags, for make deb). Objects go to build/$(BUILD).

BUILD   ?= release
PREFIX  ?= /usr/local
CC      ?= cc
O       := build/$(BUILD)

PKGS    := libzmq libczmq msgpack lmdb libuv libsodium libmicrohttpd inih xlsxwriter jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
# The version, in one place: the file VERSION (the sync HELLO's agent string,
# the Debian package's upstream version).
VERSION := $(shell cat VERSION)
DEFS    := -D_GNU_SOURCE -DTH_VERSION='"$(VERSION)"'
INCS    := -Icommon -Inode -Ihub

ifeq ($(BUILD),release)
  OPT := -O2 -g
else ifeq ($(BUILD),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(BUILD),ubsan)
  OPT := -O1 -g -fsanitize=undefined -fno-sanitize-recover=all
else ifeq ($(BUILD),debug)
  OPT := -O0 -g
else ifeq ($(BUILD),deb)
  # the Debian package's programs (make deb): release, with the hardening
  # Debian's packages are built with (dpkg-buildflags, hardening=+all), and
  # the source path mapped away: the same source gives the same package
  OPT := -O2 -g
  HARDEN_CFLAGS  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wformat -Werror=format-security \
                    -ffile-prefix-map=$(CURDIR)=.
  HARDEN_LDFLAGS := -Wl,-z,relro -Wl,-z,now
else ifeq ($(BUILD),fuzz)
  # libFuzzer comes with Debian's clang; every object is instrumented for it
  CC  := clang
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link \
         -fno-sanitize-recover=all
else
  $(error unknown BUILD '$(BUILD)': use release, asan, ubsan, debug, fuzz or deb)
endif

CFLAGS  := $(WARN) $(DEFS) $(INCS) $(OPT) $(HARDEN_CFLAGS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(HARDEN_LDFLAGS) $(EXTRA_LDFLAGS)
LIBS    := $(PKG_LIBS) -lm -lpthread

COMMON_SRC := $(wildcard common/*.c)
NODE_SRC   := $(filter-out node/main.c,$(wildcard node/*.c))
HUB_SRC    := $(filter-out hub/main.c,$(wildcard hub/*.c))
TEST_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o)
NODE_OBJ   := $(NODE_SRC:%.c=$(O)/%.o)
HUB_OBJ    := $(HUB_SRC:%.c=$(O)/%.o)
TESTS      := $(TEST_SRC:tests/unit/%.c=$(O)/tests/%)
TOOLS      := $(TOOL_SRC:tests/tools/%.c=$(O)/tools/%)
FUZZERS    := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

BINS := $(O)/tonghop-node $(O)/tonghop-hub

.PHONY: all deps test-deps test check unit integration e2e asan ubsan valgrind bench demo install clean \
        fuzz fuzzers fuzz-run fuzz-seeds chaos deb deb-test
.DEFAULT_GOAL := all

all: $(BINS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Default forms and the official unit lists are compiled into the binaries
# (common/builtin.c uses .incbin), so an office works from the binary alone.
BUILTIN_DATA := $(wildcard config/forms/*.ini) $(wildcard config/units/*.csv)
$(O)/common/builtin.o: $(BUILTIN_DATA)
$(O)/node/uplink.o: VERSION

$(O)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(O)/libnode.a: $(NODE_OBJ)
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^
$(O)/libhub.a: $(HUB_OBJ)
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^

$(O)/tonghop-node: $(O)/node/main.o $(O)/libnode.a $(O)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(O)/tonghop-hub: $(O)/hub/main.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests: one binary per tests/unit/test_<module>.c, linked against the
# static libraries (the linker takes only the objects a test needs).
$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# Test tools (hostile clients and the like), linked like the tests.
$(O)/tools/%: $(O)/tests/tools/%.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer targets (tests/fuzz/fuzz_*.c), one binary each (BUILD=fuzz).
$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)
fuzzers: $(FUZZERS)
FUZZ_SECS ?= 60
fuzz-run: $(FUZZERS)
	@tools/fuzz.sh $(O) $(FUZZ_SECS)
fuzz: test-deps
	@$(MAKE) --no-print-directory BUILD=fuzz fuzz-run
# The binary seed corpora (records, messages, batches, enrollments) in
# tests/fuzz/corpus, made with the project's own encoders.
$(O)/tools/seeds: $(O)/tests/fuzz/seeds.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
fuzz-seeds: $(O)/tools/seeds
	$(O)/tools/seeds tests/fuzz/corpus

# Seeded chaos over real processes (tests/chaos/chaos.py), release build:
# SEEDS scenarios from seed FIRST; CHAOS_OPTS e.g. "--communes 90 --secs 120".
SEEDS ?= 10
FIRST ?= 1
CHAOS_OPTS ?=
chaos: test-deps
	@$(MAKE) --no-print-directory all
	@tools/chaos.sh build/release $(SEEDS) $(FIRST) $(CHAOS_OPTS)

deps:
	@tools/deps.sh
test-deps:
	@tools/deps.sh test

# The README's test command: sanitizers on, every test run, and a short run
# of every fuzzer (FUZZ_SECS=5 each; make fuzz for longer).
test check: test-deps
	@$(MAKE) --no-print-directory BUILD=asan unit integration e2e
	@$(MAKE) --no-print-directory BUILD=fuzz FUZZ_SECS=$(TEST_FUZZ_SECS) fuzz-run
TEST_FUZZ_SECS ?= 5

unit: $(TESTS) $(BINS)
	@tools/run-unit.sh $(TESTS)

integration: $(BINS) $(TOOLS)
	@tools/run-integration.sh $(O)

# Browser tests of the web interface: Debian's chromium driven by
# playwright-core (tests/e2e, installed from npm by the script).
e2e: $(BINS)
	@tools/run-e2e.sh $(O)

asan:
	@$(MAKE) --no-print-directory BUILD=asan unit
ubsan:
	@$(MAKE) --no-print-directory BUILD=ubsan unit
valgrind:
	@$(MAKE) --no-print-directory BUILD=debug $(BINS:build/$(BUILD)/%=build/debug/%) \
	    $(TESTS:build/$(BUILD)/%=build/debug/%)
	@VALGRIND=1 tools/run-unit.sh $(TESTS:build/$(BUILD)/%=build/debug/%)

$(O)/bench/%: $(O)/tests/bench/%.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# the MQTT peer links Debian's libmosquitto too
$(O)/bench/bench_mqtt: $(O)/tests/bench/bench_mqtt.o $(O)/libhub.a $(O)/libnode.a $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lmosquitto

# Every workload of tests/bench, tonghop beside its peers (installed here: the
# Debian packages, the npm ones into tests/bench/peers/node_modules); the
# section between the bench markers of docs/benchmarks.md is rewritten from
# the run. QUICK=1: reduced sizes (under 2 minutes), the section says so.
QUICK ?=
bench:
	@python3 tools/bench_report.py --selftest
	@tools/deps.sh bench
	@$(MAKE) --no-print-directory BUILD=release all build/release/bench/bench_office \
	    build/release/bench/bench_relay build/release/bench/bench_consolidate \
	    build/release/bench/bench_reconnect build/release/bench/bench_mqtt
	@[ -d tests/bench/peers/node_modules/pouchdb-node ] && \
	    [ -d tests/bench/peers/node_modules/express-pouchdb ] || \
	    (cd tests/bench/peers && npm ci --no-audit --no-fund) || \
	    echo "bench: npm ci failed: the PouchDB peer will not be measured" >&2
	@QUICK='$(QUICK)' BENCH_COMMAND='make bench$(if $(QUICK), QUICK=$(QUICK))' \
	    tools/bench.sh build/release

# TREE=2024 (three tiers, default), 2025 (two tiers) or national (the root VN above a
# few provinces); KEEP=1 keeps the hubs
# running for the dashboards until Ctrl-C.
TREE ?= 2024
# (a sub-make: the pkg-config flags are read once the packages are there)
demo: test-deps
	@$(MAKE) --no-print-directory all
	@python3 tools/demo.py $(O) --tree $(TREE)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tonghop/forms \
	    $(DESTDIR)$(PREFIX)/share/tonghop/units $(DESTDIR)$(PREFIX)/share/doc/tonghop
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 config/forms/*.ini $(DESTDIR)$(PREFIX)/share/tonghop/forms/
	install -m 0644 config/units/* $(DESTDIR)$(PREFIX)/share/tonghop/units/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/tonghop/
	install -d $(DESTDIR)$(PREFIX)/share/doc/tonghop/examples $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0644 config/examples/*.ini $(DESTDIR)$(PREFIX)/share/doc/tonghop/examples/
	install -m 0644 config/systemd/*.service $(DESTDIR)$(PREFIX)/lib/systemd/system/

# The Debian package, from a tree staged by tools/deb.sh (programs built with
# BUILD=deb, man pages from their --help, the units of config/systemd with the
# package's paths, debian/: changelog, copyright, maintainer scripts).
deb:
	@tools/deps.sh deb
	@$(MAKE) --no-print-directory BUILD=deb all
	@tools/deb.sh build/deb build
# The package's test alone (make test runs it among the integration scripts):
# contents, fields, lintian, an install in a throw-away root.
deb-test:
	@sh tests/integration/test_deb.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
