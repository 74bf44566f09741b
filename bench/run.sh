#!/usr/bin/env bash
# `make bench`: runs every benchmark against this machine's own limits, in one run.
# usage: bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
echo "== micro-benchmarks (Google Benchmark) =="
"$build/ulak_micro_bench" --benchmark_min_time=0.2
