# The README's two commands: `make run` and `make test`. Both install what is missing first.
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
CMAKE_COMMON = -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
RELEASE_DIR = build
TEST_DIR = build/asan

.PHONY: run test test-reliability bench build build-test deps clean

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_COMMON) >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target ulak

run: build
	@mkdir -p data
	./$(RELEASE_DIR)/ulak serve

build-test: deps
	@cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DULAK_SANITIZE=ON -DULAK_BUILD_BENCH=OFF $(CMAKE_COMMON) >/dev/null
	@cmake --build $(TEST_DIR) -j $(JOBS)

test: build-test
	@cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The soaks (docs/RELIABILITY.md): 2 minutes of load with 10 kill -9s, SQLite and PostgreSQL
# (ctest label `reliability`, skipped by `make test`, which runs their bounded versions);
# then the 3 min PostgreSQL outage under load (OutageE2E; its 3 s and 30 s cases are in `make test`).
test-reliability: build-test
	@cd $(TEST_DIR) && ULAK_SOAK_SECONDS=$${ULAK_SOAK_SECONDS:-120} ctest -L reliability -V $(CTEST_ARGS)
	@cd $(TEST_DIR) && ULAK_RELIABILITY=1 ./tests/ulak_e2e_tests --gtest_filter='OutageE2E.DatabaseAwayFor3Min*'

# `make bench` also needs the sinks, load generators and profilers (never needed by `make test`).
.PHONY: deps-bench
deps-bench: deps
	@./scripts/install-bench-deps.sh

bench: deps-bench
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_COMMON) >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target ulak ulak_micro_bench raw_client stamp_sink
	@./bench/run.sh $(RELEASE_DIR)

clean:
	rm -rf build
