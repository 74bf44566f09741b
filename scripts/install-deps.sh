#!/usr/bin/env bash
# Installs the Debian 12 packages ulak needs to build, test and benchmark.
# Fast and silent when everything is already present: dpkg is asked first, apt only runs
# for what is missing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config ccache
  # libraries (Boost: only the parts we use, never -all-dev)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcli11-dev libyaml-cpp-dev
  libsqlite3-dev libssl-dev libcurl4-openssl-dev libpq-dev
  # delivery shaping: Lua transformations, RE2 filter regexes
  liblua5.4-dev libre2-dev
  # the release binary's allocator (tcmalloc_minimal; CMake option ULAK_TCMALLOC)
  libgoogle-perftools-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the throwaway PostgreSQL cluster of the PostgreSQL store tests (initdb, pg_ctl)
  postgresql-15
  # fuzz targets (tests/fuzz): clang and its libFuzzer runtime
  clang-14 libclang-rt-14-dev
  # `systemd-analyze verify deploy/ulak.service` (tests/e2e/deploy_e2e_test.cc)
  systemd
  # the web UI's build (npm ci + esbuild, ui/) and the end-to-end tests' npm packages; npm
  # is added below only when missing (a NodeSource nodejs carries its own npm and conflicts
  # with Debian's)
  nodejs
  # the browser tests (tests/browser): headless Chromium driven by playwright-core
  chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
