#!/usr/bin/env bash
# Ward and Ory Hydra side by side on client_credentials token issuance (JWT
# and opaque access tokens) and token introspection, with the same load
# command (e2e/load/oauth), the same concurrency and the same core.
#
# Hydra v2.3.0 runs `serve all --dev` on its default store for this
# comparison, DSN=memory (in-memory SQLite), restarted for each access
# token strategy (STRATEGIES_ACCESS_TOKEN=opaque, then jwt), first with its
# default client secret hashing (PBKDF2-SHA256, 25,000 iterations), then
# with that hashing at the minimum its configuration allows (PBKDF2, one
# iteration; bcrypt's minimum cost of 4 does more work per check). Its
# clients are made through its admin API; introspection is its admin
# endpoint.
#
# Ward runs as the local process on a fresh embedded store (bbolt) and the
# in-process cache, as e2e/load/run.sh starts it; a tenant and two
# confidential client_credentials clients (accessTokenFormat jwt and
# opaque, client_secret_basic) are made through GraphQL with the bootstrap
# token. If Ward's token endpoint answers 404, Ward is skipped with a
# message and only Hydra is measured.
#
# Each server is pinned to one core (taskset -c $OAUTH_SERVER_CPUS, default
# 1), the load command to the other (OAUTH_LOAD_CPUS, default 0), so both
# servers get the one core Hydra's earlier figures had and do not share it
# with the load command (other work on the machine still may). Every run prints its line; a table of all of them ends the
# output. Every process started here is stopped on exit.
#
# Usage: [OAUTH_SERVERS="hydra ward"] e2e/load/oauth.sh [-c 64] [-d 15s] [-warmup 3s]
#   (flags go to the load command; `make oauth-compare` runs it as is)
# Needs: go, a C compiler (Hydra's SQLite), curl, jq, taskset.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in go curl jq taskset; do
  command -v "$tool" >/dev/null || { echo "oauth.sh: $tool is needed" >&2; exit 1; }
done

hydra_version=v2.3.0
cache=${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}
hydra=$cache/bin/hydra
server_cpus=${OAUTH_SERVER_CPUS:-1}
load_cpus=${OAUTH_LOAD_CPUS:-0}
hydra_port=${WARD_TEST_HYDRA_PORT:-14444} # public; admin is the next port
ward_port=${WARD_TEST_LOAD_PORT:-18080}
servers=${OAUTH_SERVERS:-hydra ward} # either or both

work=$(mktemp -d)
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

random() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# wait_for URL: until it answers 2xx, for up to 30 s.
wait_for() {
  for _ in $(seq 300); do
    curl -fs "$1" >/dev/null && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "oauth.sh: $1 did not answer; the server's log:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}

# install_hydra builds Hydra into $cache/bin when it is missing.
# `go install github.com/ory/hydra/v2@v2.3.0` is refused ("The go.mod file
# for the module providing named packages contains one or more replace
# directives"), and DSN=memory needs the sqlite build tag anyway. So the
# same module, downloaded from the module proxy, is built in a copy: its
# replace of the client SDK points into ./internal/httpclient, which the
# module zip leaves out (a module of its own), so that replace is dropped
# for the published github.com/ory/hydra-client-go/v2 v2.2.1 its go.mod
# requires (the SDK is used by the CLI's client commands, not by the
# server).
install_hydra() {
  if [ -x "$hydra" ] && "$hydra" version 2>/dev/null | grep -q "$hydra_version"; then
    return
  fi
  echo "building Ory Hydra $hydra_version into $cache/bin (minutes on two cores)" >&2
  local dir
  dir=$(go mod download -json "github.com/ory/hydra/v2@$hydra_version" | jq -r .Dir)
  cp -r "$dir" "$work/hydra-src"
  chmod -R u+w "$work/hydra-src"
  mkdir -p "$cache/bin"
  (
    cd "$work/hydra-src"
    go mod edit -dropreplace github.com/ory/hydra-client-go/v2
    CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -tags sqlite,sqlite_omit_load_extension \
      -ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$hydra_version" \
      -o "$hydra.tmp" .
  )
  mv "$hydra.tmp" "$hydra"
}

results=$work/results
touch "$results"

# measure ARGS...: one run of the load command on the load cores; its
# lines go to the results. Status 3 (endpoint not served) is passed on.
measure() {
  local rc=0
  taskset -c "$load_cpus" "$work/load" "$@" "${load_flags[@]}" >"$work/out" || rc=$?
  cat "$work/out"
  cat "$work/out" >>"$results"
  return "$rc"
}

# hydra_run STRATEGY HASHING OPS: a fresh Hydra, a fresh client, one
# measurement of OPS.
hydra_run() {
  local strategy=$1 hashing=$2 ops=$3 pub=$hydra_port adm=$((hydra_port + 1))
  local hash_env=()
  if [ "$hashing" = minimum ]; then
    hash_env=(OAUTH2_HASHERS_ALGORITHM=pbkdf2 OAUTH2_HASHERS_PBKDF2_ITERATIONS=1)
  fi
  env DSN=memory SECRETS_SYSTEM="$(random)" LOG_LEVEL=warn \
    URLS_SELF_ISSUER="http://127.0.0.1:$pub" \
    SERVE_PUBLIC_HOST=127.0.0.1 SERVE_PUBLIC_PORT=$pub \
    SERVE_ADMIN_HOST=127.0.0.1 SERVE_ADMIN_PORT=$adm \
    STRATEGIES_ACCESS_TOKEN="$strategy" "${hash_env[@]}" \
    taskset -c "$server_cpus" "$hydra" serve all --dev >"$work/server.log" 2>&1 &
  server=$!
  wait_for "http://127.0.0.1:$adm/health/ready"
  wait_for "http://127.0.0.1:$pub/health/ready"
  local client
  client=$(curl -fsS -X POST "http://127.0.0.1:$adm/admin/clients" \
    -H 'Content-Type: application/json' \
    -d '{"client_name":"load","grant_types":["client_credentials"],
         "token_endpoint_auth_method":"client_secret_basic"}')
  measure -target hydra -format "$strategy" -label "$hashing hashing" -ops "$ops" \
    -token-url "http://127.0.0.1:$pub/oauth2/token" \
    -introspect-url "http://127.0.0.1:$adm/admin/oauth2/introspect" \
    -client-id "$(jq -r .client_id <<<"$client")" \
    -client-secret "$(jq -r .client_secret <<<"$client")"
  stop_server
}

# gql QUERY VARIABLES: a GraphQL call to Ward with the bootstrap token; the
# data, or a failure with the errors.
gql() {
  local out
  out=$(curl -fsS "http://127.0.0.1:$ward_port/graphql" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $ward_token" \
    -d "$(jq -cn --arg q "$1" --argjson v "$2" '{query: $q, variables: $v}')")
  if jq -e '.errors' <<<"$out" >/dev/null; then
    echo "oauth.sh: GraphQL: $out" >&2
    return 1
  fi
  jq -c .data <<<"$out"
}

ward_client() { # FORMAT: a new client's "id secret"
  gql 'mutation($t: ID!, $n: String!, $f: String!) { createOAuthClient(input: {
      tenantId: $t, name: $n, type: "confidential", authMethod: "client_secret_basic",
      grantTypes: ["client_credentials"], accessTokenFormat: $f}) { client { id } secret } }' \
    "$(jq -cn --arg t "$tenant_id" --arg f "$1" '{t: $t, n: ("load-" + $f), f: $f}')" |
    jq -r '.createOAuthClient | .client.id + " " + .secret'
}

hydra_side() {
  install_hydra
  "$hydra" version | grep -q "$hydra_version" ||
    { echo "oauth.sh: $hydra is not $hydra_version" >&2; exit 1; }
  echo "== Ory Hydra $hydra_version (DSN=memory), on core(s) $server_cpus; load on $load_cpus"
  hydra_run opaque default issue,introspect
  hydra_run jwt default issue,introspect
  hydra_run opaque minimum issue
  hydra_run jwt minimum issue
}

ward_skipped=""
ward_side() {
  echo "== Ward (local process, bbolt), on core(s) $server_cpus; load on $load_cpus"
  go build -o "$work/ward" ./functions/local
  ward_token="load-bootstrap-token-$(random)"
  WARD_ADDR=127.0.0.1:$ward_port WARD_DATA_DIR="$work/data" WARD_BOOTSTRAP_TOKEN=$ward_token \
    WARD_LOG_LEVEL=warn taskset -c "$server_cpus" "$work/ward" >"$work/server.log" 2>&1 &
  server=$!
  wait_for "http://127.0.0.1:$ward_port/healthz"
  local tenant=oauth-load
  tenant_id=$(gql 'mutation($n: String!) { createTenant(input: {name: $n}) { id } }' \
    "$(jq -cn --arg n "$tenant" '{n: $n}')" | jq -r .createTenant.id)
  # The clients are made before the endpoint is probed, so that their
  # registration through GraphQL is checked by every run.
  local -A clients
  local format pair id secret rc
  for format in jwt opaque; do
    pair=$(ward_client "$format")
    [[ $pair =~ ^[^\ ]+\ [^\ ]+$ ]] ||
      { echo "oauth.sh: a client without a secret: $pair" >&2; exit 1; }
    clients[$format]=$pair
  done
  local base=http://127.0.0.1:$ward_port/t/$tenant/oauth2
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/token" \
    -d grant_type=client_credentials)" = 404 ]; then
    ward_skipped="Ward's token endpoint ($base/token) answers 404: not served by this build; Ward skipped"
    echo "$ward_skipped"
    stop_server
    return
  fi
  for format in jwt opaque; do
    read -r id secret <<<"${clients[$format]}"
    rc=0
    measure -target ward -format "$format" -ops issue,introspect \
      -token-url "$base/token" -introspect-url "$base/introspect" \
      -client-id "$id" -client-secret "$secret" || rc=$?
    if [ "$rc" = 3 ]; then
      ward_skipped="Ward's token endpoint answers 404; Ward skipped"
      break
    elif [ "$rc" != 0 ]; then
      exit "$rc"
    fi
  done
  stop_server
}

load_flags=("$@")
go build -o "$work/load" ./e2e/load/oauth
for side in $servers; do
  case $side in
  hydra) hydra_side ;;
  ward) ward_side ;;
  *) echo "oauth.sh: OAUTH_SERVERS names hydra and ward, not $side" >&2; exit 2 ;;
  esac
done

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "servers on core(s) $server_cpus, load on $load_cpus, flags: ${load_flags[*]:-defaults}"
echo
echo "| server, access token, secret hashing | operation | per second | p50 | p99 |"
echo "| --- | --- | --- | --- | --- |"
sed -E 's/^(.*) \((.*)\), concurrency ([0-9]+), ([^:]+): ([0-9]+) calls, ([0-9]+)\/s, p50 ([^,]+), p90 ([^,]+), p99 ([^,]+), max (.*)$/| \2 | \1 | \6 | \7 | \9 |/' \
  "$results"
if [ -n "$ward_skipped" ]; then
  echo
  echo "$ward_skipped."
fi
