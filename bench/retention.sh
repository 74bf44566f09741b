#!/usr/bin/env bash
# Issue 16's retention figure (docs/BENCHMARKS.md): publish p99 without and during a cleanup
# of 1,000,000 old attempt rows, on SQLite and (when PostgreSQL's server binaries are
# installed) on a throwaway PostgreSQL cluster on a Unix socket.
#   bench/retention.sh BUILD_DIR   (a Release build with ULAK_BUILD_BENCH=ON; builds retention_bench)
# Env: RETENTION_ATTEMPTS (1000000), RETENTION_BATCH (100, the server's default),
#      RETENTION_CLIENTS (4), RETENTION_SECONDS (10), ULAK_PG_BINDIR.
set -euo pipefail
build=${1:?usage: bench/retention.sh BUILD_DIR}
cmake --build "$build" --target retention_bench >/dev/null
bench=$build/bench/retention_bench
args=(--attempts "${RETENTION_ATTEMPTS:-1000000}" --batch "${RETENTION_BATCH:-100}"
      --clients "${RETENTION_CLIENTS:-4}" --seconds "${RETENTION_SECONDS:-10}")
tmp=$(mktemp -d /tmp/ulak-retention-bench.XXXXXX)
pg_dir=
pg_as=()
cleanup() {
  if [[ -n $pg_dir && -f $pg_dir/data/postmaster.pid ]]; then
    (cd "$pg_dir" && "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w -t 20 stop >/dev/null 2>&1) || true
  fi
  [[ -n $pg_dir ]] && rm -rf "$pg_dir"
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== SQLite"
"$bench" --database "sqlite:$tmp/retention.db" "${args[@]}"

pg_bin=${ULAK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -1)}
if [[ -z $pg_bin || ! -x $pg_bin/initdb ]]; then
  echo "== PostgreSQL: skipped (no initdb; install postgresql-15)"
  exit 0
fi
echo "== PostgreSQL"
pg_dir=$(mktemp -d /tmp/ulak-retention-pg.XXXXXX)
if [[ $(id -u) -eq 0 ]]; then
  pg_as=(runuser -u postgres --)
  chown postgres: "$pg_dir"
fi
(cd "$pg_dir" && "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust --no-sync --no-locale \
  -E UTF8 >"$pg_dir/initdb.out" 2>&1)
(cd "$pg_dir" && "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 -o \
  "-c listen_addresses='' -k $pg_dir -p 5432 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on" \
  start >/dev/null)
"$bench" --database "host=$pg_dir port=5432 user=postgres dbname=postgres" "${args[@]}"
