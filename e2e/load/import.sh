#!/usr/bin/env bash
# Builds the local process, starts it on a fresh store, imports users
# through GraphQL with e2e/load/import, and prints wall time, rows/s and
# Ward's peak RSS (VmHWM). Bolt by default; Cassandra with
#   WARD_STORE=scylla WARD_SCYLLA_HOSTS=127.0.0.1:24042 e2e/load/import.sh
# which uses a keyspace of its own and drops it afterwards.
# Usage: e2e/load/import.sh [-users 100000] [-chunk 5000]
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/ward" ./functions/local
go build -o "$work/import" ./e2e/load/import

token="load-bootstrap-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port=${WARD_TEST_LOAD_PORT:-18081}
store=${WARD_STORE:-bolt}
extra=()
if [ "$store" = scylla ]; then
  export WARD_SCYLLA_KEYSPACE="ward_import_$(date +%s)_$$"
  extra=(-drop-keyspace "$WARD_SCYLLA_KEYSPACE")
fi
WARD_STORE=$store WARD_ADDR=127.0.0.1:$port WARD_DATA_DIR="$work/data" \
  WARD_BOOTSTRAP_TOKEN=$token WARD_LOG_LEVEL=warn "$work/ward" 2>"$work/ward.log" &
pid=$!
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/ward.log"; exit 1; }
  sleep 0.1
done
echo "store: $store"
rc=0
"$work/import" -url "http://127.0.0.1:$port" -token "$token" "${extra[@]}" "$@" || rc=$?
if [ -r "/proc/$pid/status" ]; then
  echo "ward peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB\n", $2/1024}' "/proc/$pid/status")"
else
  echo "ward exited:"; tail -20 "$work/ward.log"
fi
exit "$rc"
