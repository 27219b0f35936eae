# Front door for netstack-c. Wraps CMake; see README.md.
#   make            build the library, the tools and the tests (build/dev)
#   make test       install missing Debian packages, build the normal and
#                   ASan+UBSan trees, check format and layering, run every suite
#                   (in the normal tree also under valgrind memcheck)
#   make install PREFIX=/usr/local
#   make bench      benchmarks against gVisor and lwIP (never part of test)
#   make bench-callgrind  instructions per op of the netstack-c rows (callgrind)
#   make fuzz       libFuzzer targets for a set time each
#   make soak       10 million mixed packets through one stack and an 8 GiB
#                   fragment flood, under ASan+UBSan (never part of test)
#   make demo       the stack as a router between two namespaces (see README)
#   make docs       API reference (Doxygen HTML in build/docs/html) and the
#                   architecture diagram (docs/architecture.svg, Graphviz)

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
CTEST ?= ctest
FUZZ_SECONDS ?= 600

.PHONY: all build deps-build test check-format check-layering check-docs install bench bench-callgrind fuzz soak demo docs format clean

all: build

deps-build:
	@scripts/deps.sh build

build: deps-build
	@$(CMAKE) --preset dev >/dev/null
	@$(CMAKE) --build build/dev -j $(JOBS)

test:
	@scripts/deps.sh test
	@echo "==> checking layering and format"
	@scripts/check-layering.sh
	@scripts/check-format.sh
	@echo "==> checking that every public symbol has its comment (and docs/counters.md)"
	@scripts/check-docs.sh
	@echo "==> building the normal tree (build/dev)"
	@$(CMAKE) --preset dev >/dev/null
	@$(CMAKE) --build build/dev -j $(JOBS)
	@echo "==> building the ASan+UBSan tree (build/asan)"
	@$(CMAKE) --preset asan-ubsan >/dev/null
	@$(CMAKE) --build build/asan -j $(JOBS)
	@echo "==> running the suites in the normal tree (and unit, scenario, hostile again under valgrind memcheck)"
	@$(CTEST) --test-dir build/dev --output-on-failure -j $(JOBS)
	@echo "==> ThreadSanitizer: two stacks driven by two threads (HOSTILE-INPUTS 78)"
	@$(CMAKE) -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-fsanitize=thread \
		-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
	@$(CMAKE) --build build/tsan -j $(JOBS) --target hostile_test_two_threads >/dev/null
	@TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/hostile_test_two_threads >/dev/null
	@echo "==> running the suites in the ASan+UBSan tree"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(CTEST) --test-dir build/asan --output-on-failure -j $(JOBS)

check-format:
	@scripts/check-format.sh

check-layering:
	@scripts/check-layering.sh

check-docs:
	@scripts/check-docs.sh

# The version comes from project() in CMakeLists.txt, the one place it is set.
NS_VERSION := $(shell sed -nE '/^project.netstack VERSION/s/.*VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)

docs:
	@scripts/deps.sh docs
	@mkdir -p build/docs
	@python3 scripts/gen-counters.py
	@dot -Tsvg docs/architecture.dot -o docs/architecture.svg
	@NS_VERSION=$(NS_VERSION) doxygen docs/Doxyfile
	@echo "docs: build/docs/html/index.html (API reference), docs/architecture.svg, docs/counters.md"
	@echo "      man page: man -l docs/netstack.1"

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

install: build
	@$(CMAKE) --install build/dev --prefix $(PREFIX)

bench:
	@scripts/deps.sh bench
	@bench/run.sh

# bench/README.md: fixed operation counts, stable from run to run.
bench-callgrind:
	@scripts/deps.sh bench
	@bench/callgrind.sh

fuzz:
	@scripts/deps.sh fuzz
	@$(CMAKE) --preset fuzz >/dev/null
	@$(CMAKE) --build build/fuzz -j $(JOBS)
	@tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

# docs/robustness.md: what the soak checks and what it reported last.
SOAK_PACKETS ?= 10000000
SOAK_FLOOD_BYTES ?= 8589934592
soak:
	@scripts/deps.sh test
	@$(CMAKE) --preset asan-ubsan >/dev/null
	@$(CMAKE) --build build/asan -j $(JOBS) --target ns_soak hostile_test_flood
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build/asan/tests/soak/ns_soak $(SOAK_PACKETS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		NS_FLOOD_BYTES=$(SOAK_FLOOD_BYTES) build/asan/tests/hostile_test_flood

# The demo needs root for namespaces and TAP devices; without it, it says so
# and replays the bundled capture instead. It leaves build/demo/demo.pcap.
demo:
	@scripts/deps.sh demo
	@$(CMAKE) --preset dev >/dev/null
	@$(CMAKE) --build build/dev -j $(JOBS)
	@mkdir -p build/demo
	@NETSTACK=$(CURDIR)/build/dev/tools/netstack build/dev/tools/netstack demo --out build/demo

clean:
	rm -rf build
