#!/usr/bin/env bash
# Installs the Debian 12 packages `make bench` needs on top of scripts/install-deps.sh:
# the sinks and load generators of bench/run.sh (nginx-light, wrk, adnanh/webhook) and the
# profilers (linux-perf where the kernel allows it, valgrind's callgrind otherwise), and the
# PostgreSQL server of figure 8 (initdb/pg_ctl of postgresql-15: normally already there from
# install-deps.sh, which needs it for the PostgreSQL store tests; listed so the bench does
# not depend on that).
# Kept apart from install-deps.sh: `make test` and `make run` never need these.
# Fast and silent when everything is already present: dpkg is asked first, apt only runs
# for what is missing.
set -euo pipefail

packages=(nginx-light wrk webhook valgrind jq postgresql-15 sqlite3 python3)  # sqlite3, python3: bench/incoming_bytes.sh
optional=(linux-perf)  # not in every archive mirror; the profile falls back to callgrind

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]; }

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
missing_optional=()
for p in "${optional[@]}"; do installed "$p" || missing_optional+=("$p"); done
[[ ${#missing[@]} -eq 0 && ${#missing_optional[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-bench-deps: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for p in "${missing_optional[@]}"; do
  if apt-cache show "$p" >/dev/null 2>&1; then
    echo "install-bench-deps: installing $p" >&2
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$p" >/dev/null ||
      echo "install-bench-deps: $p could not be installed; profiles use callgrind" >&2
  fi
done
# nginx-light's package starts a system nginx on port 80; the benchmarks run their own.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null 2>&1; then
  "${sudo_cmd[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
fi
exit 0
