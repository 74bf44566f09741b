#!/usr/bin/env bash
# Bytes stored per incoming request (issue 17): N signed Stripe events of ~3 KB each
# (pretty-printed, as Stripe sends them, a unique id each) to a Stripe source of a fresh
# SQLite file; prints the file's growth per request (after ulak stops, so the WAL is
# checkpointed into the file), what each table and index takes (sqlite3's dbstat) and the
# bytes ulak wrote through write(2)/pwrite(2) (/proc/PID/io wchar: the SQLite file and its WAL;
# Asio sends with sendmsg(2), which wchar does not count).
#   [CONNECTIONS=16] bench/incoming_bytes.sh [ULAK_BINARY] [N]
# With ULAK_PG_CONNINFO=postgresql://... (an empty database) it reports instead the growth of
# pg_total_relation_size of the tables and the server's WAL bytes (pg_stat_wal) per request.
set -euo pipefail
ulak=$(realpath "${1:-build/release/ulak}")
n=${2:-1000}
connections=${CONNECTIONS:-1}  # 1: one commit per request; more: group commits
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; [[ -n ${KEEP_DB:-} ]] && cp "$tmp/ulak.db" "$KEEP_DB"; rm -rf "$tmp"' EXIT
admin_key=ulak_admin_bench_0123456789abcdef0123456789abcdef
master_key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
database=${ULAK_PG_CONNINFO:+postgres}
database=${database:-sqlite:$tmp/ulak.db}
[[ $database == postgres ]] && database=$ULAK_PG_CONNINFO

start() {
  env ULAK_ADMIN_KEY=$admin_key ULAK_MASTER_KEY=$master_key ULAK_LOG_LEVEL=warn ULAK_LISTEN=127.0.0.1:$port \
    ULAK_DATABASE=$database "$ulak" serve >"$tmp/stdout" 2>>"$tmp/stderr" &
  pid=$!
  for _ in $(seq 300); do curl -sf "$url/healthz" >/dev/null && return 0; sleep 0.1; done
  cat "$tmp/stderr" >&2
  return 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; }
api() { curl -sS -X "$1" "$url$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' --data-binary "$4"; }
stats() {  # what each table and index of the file takes
  sqlite3 "$tmp/ulak.db" "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY name" 2>/dev/null
}
pg_sizes() {
  psql -qAt "$ULAK_PG_CONNINFO" -c "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'
    AND c.relname IN ('events', 'incoming_requests', 'deliveries') ORDER BY 1"
}

start
read -r org key < <(api POST /api/organizations "$admin_key" '{"name":"bytes"}' | jq -r '"\(.organization.id) \(.api_key)"')
secret=whsec_bench_bytes
api POST /api/sources "$key" "{\"name\":\"stripe\",\"provider\":\"stripe\",\"secrets\":[\"$secret\"]}" >/dev/null
if [[ -z ${ULAK_PG_CONNINFO:-} ]]; then
  stop
  stats >"$tmp/before"
  size0=$(stat -c %s "$tmp/ulak.db")
  start
else
  pg_sizes >"$tmp/before"
  wal0=$(psql -qAt "$ULAK_PG_CONNINFO" -c "SELECT wal_bytes FROM pg_stat_wal")
fi
wchar0=$(awk '/^wchar/ {print $2}' /proc/$pid/io)
python3 - "$url/api/webhooks/stripe/$org" "$secret" "$n" "$connections" <<'EOF'
import hashlib, hmac, http.client, json, sys, threading, time, urllib.parse
url, secret, n, connections = urllib.parse.urlsplit(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
items = [{"id": "si_%014d" % i, "object": "subscription_item", "billing_thresholds": None, "created": 1700000000 + i,
          "metadata": {}, "price": {"id": "price_1OabcdEFghIJklmn%04d" % i, "object": "price", "active": True,
          "billing_scheme": "per_unit", "created": 1699000000, "currency": "usd", "livemode": False,
          "lookup_key": None, "metadata": {"plan": "pro", "tier": str(i)}, "nickname": "Pro monthly",
          "product": "prod_PqrstUVwxyZ%04d" % i, "recurring": {"aggregate_usage": None, "interval": "month",
          "interval_count": 1, "trial_period_days": None, "usage_type": "licensed"}, "tax_behavior": "exclusive",
          "type": "recurring", "unit_amount": 2900, "unit_amount_decimal": "2900"}, "quantity": 1,
          "subscription": "sub_1OabcdEFghIJklmnOPqr", "tax_rates": []} for i in range(2)]
bad = 0
def body_of(i):
    event = {"id": "evt_1Obytes%012d" % i, "object": "event", "api_version": "2023-10-16", "created": 1700000000 + i,
             "data": {"object": {"id": "sub_1OabcdEFghIJklmnOPqr", "object": "subscription", "cancel_at_period_end": False,
             "currency": "usd", "current_period_end": 1702592000, "current_period_start": 1700000000,
             "customer": "cus_PqrstUVwxyZabc", "items": {"object": "list", "data": items, "has_more": False,
             "total_count": 2, "url": "/v1/subscription_items?subscription=sub_1OabcdEFghIJklmnOPqr"},
             "status": "active"}, "previous_attributes": {"status": "trialing"}},
             "livemode": False, "pending_webhooks": 1, "request": {"id": "req_%014d" % i, "idempotency_key": None},
             "type": "customer.subscription.updated"}
    return json.dumps(event, indent=2).encode()
def send(first):
  global bad
  conn = http.client.HTTPConnection(url.hostname, url.port)
  for i in range(first, n, connections):
    body = body_of(i)
    t = int(time.time())
    sig = hmac.new(secret.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
    conn.request("POST", url.path, body, {"Content-Type": "application/json; charset=utf-8",
                 "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)", "Stripe-Signature": "t=%d,v1=%s" % (t, sig)})
    r = conn.getresponse()
    r.read()
    bad += r.status != 200
threads = [threading.Thread(target=send, args=(c,)) for c in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
if bad: sys.exit("%d requests were not accepted" % bad)
print("request body: %d bytes (the first one)" % len(body_of(0)))
EOF
wchar1=$(awk '/^wchar/ {print $2}' /proc/$pid/io)
echo "requests: $n over $connections connection(s)"
[[ -z ${ULAK_PG_CONNINFO:-} ]] &&
  echo "ulak write(2)/pwrite(2) bytes per request (wchar: the WAL and the checkpoints' copies): $(((wchar1 - wchar0) / n))"
if [[ -z ${ULAK_PG_CONNINFO:-} ]]; then
  stop
  stats >"$tmp/after"
  size1=$(stat -c %s "$tmp/ulak.db")
  echo "SQLite file growth per request: $(((size1 - size0) / n)) bytes"
  echo "per table/index, bytes per request (dbstat):"
  join -a2 -e0 -o 0,1.2,2.2 <(sort "$tmp/before" | tr '|' ' ') <(sort "$tmp/after" | tr '|' ' ') |
    awk -v n="$n" '{d = ($3 - $2) / n; if (d > 0) printf "  %-40s %8.0f\n", $1, d}'
else
  pg_sizes >"$tmp/after"
  wal1=$(psql -qAt "$ULAK_PG_CONNINFO" -c "SELECT wal_bytes FROM pg_stat_wal")
  stop
  echo "PostgreSQL WAL bytes per request (pg_stat_wal, the whole server): $(((wal1 - wal0) / n))"
  echo "PostgreSQL pg_total_relation_size growth per request:"
  join -a2 -e0 -o 0,1.2,2.2 <(sort "$tmp/before" | tr '|' ' ') <(sort "$tmp/after" | tr '|' ' ') |
    awk -v n="$n" '{d = ($3 - $2) / n; t += d; printf "  %-20s %8.0f\n", $1, d} END {printf "  %-20s %8.0f\n", "total", t}'
fi
