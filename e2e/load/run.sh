#!/usr/bin/env bash
# Builds the local process, starts it on a fresh embedded store, and runs a
# load against it: the user(id) query (e2e/load, the default) or password
# sign-in through the flow API (e2e/load/signin).
# Usage: e2e/load/run.sh [user|signin] [-c 32] [-d 20s]
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/ward" ./functions/local
scenario=./e2e/load
case "${1:-}" in
user) shift ;;
signin) scenario=./e2e/load/signin; shift ;;
esac
go build -o "$work/load" "$scenario"

token="load-bootstrap-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port=${WARD_TEST_LOAD_PORT:-18080}
WARD_ADDR=127.0.0.1:$port WARD_DATA_DIR="$work/data" WARD_BOOTSTRAP_TOKEN=$token \
  WARD_LOG_LEVEL=warn "$work/ward" 2>"$work/ward.log" &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
"$work/load" -url "http://127.0.0.1:$port" -token "$token" "$@"
