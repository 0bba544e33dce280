#!/usr/bin/env bash
# `make test`: every test of Ward, against real servers. Installs what is
# missing (Redis from Debian, Cassandra 5 from Maven Central, the AWS Lambda
# runtime emulator, Mailpit and Local KMS from the Go module proxy, cfn-lint
# and the SAM CLI from PyPI, ldap-utils and Chromium from Debian, the
# browser tests' npm packages), starts Cassandra, Redis and Local KMS on
# ports of their own, runs the tests with the race detector, and stops the
# servers whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

export WARD_TEST_CACHE_DIR=${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}
export CASSANDRA_PORT=${CASSANDRA_PORT:-19042}
export REDIS_PORT=${REDIS_PORT:-16379}
export KMS_PORT=${KMS_PORT:-14599}
export WARD_TEST_CASSANDRA_HOSTS=127.0.0.1:$CASSANDRA_PORT
export WARD_TEST_REDIS_ADDR=127.0.0.1:$REDIS_PORT
export WARD_TEST_KMS_ENDPOINT=http://127.0.0.1:$KMS_PORT
export GOFLAGS=${GOFLAGS:-}

step() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

cassandra_pid=
cleanup() {
  status=$?
  [ -n "$cassandra_pid" ] && kill "$cassandra_pid" 2>/dev/null || true
  .ci/cassandra.sh stop >/dev/null 2>&1 || true
  .ci/redis.sh stop >/dev/null 2>&1 || true
  .ci/kms.sh stop >/dev/null 2>&1 || true
  exit $status
}
trap cleanup EXIT

step "Redis, OpenLDAP's clients and Chromium"
.ci/redis.sh install
missing=
command -v ldapsearch >/dev/null || missing="$missing ldap-utils"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
.ci/redis.sh start

# Cassandra takes a while to come up; it starts in the background while the
# code is vetted and compiled, and the tests wait for it below.
step "Cassandra (starting in the background)"
cassandra_log=$(mktemp)
.ci/cassandra.sh start >"$cassandra_log" 2>&1 &
cassandra_pid=$!

step "Tools"
go mod download
go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
go install github.com/axllent/mailpit@v1.33.1
export PATH="$(go env GOPATH)/bin:$PATH"
# Local KMS, an AWS KMS stand-in for shared/oauth/keys/kmskeys.
.ci/kms.sh install
.ci/kms.sh start
# The hosted pages' browser tests (e2e/browser_test.go): playwright-core
# drives the Chromium installed above.
(cd e2e/browser && npm ci --no-audit --no-fund --silent)
# openid-client's interop test (e2e/oidc_test.go), on the same Chromium.
(cd e2e/oidc && npm ci --no-audit --no-fund --silent)

step "Lint"
make --no-print-directory lint

step "Lambda bootstraps and the SAM template (cfn-lint, sam build)"
make --no-print-directory lambda
WARD_TEST_SAM_BUILD=1 ./infra/sam/validate.sh

step "Compile tests"
go test -race -tags integration -count=1 -run '^$' ./... >/dev/null

step "Waiting for Cassandra"
if ! wait "$cassandra_pid"; then
  cassandra_pid=
  cat "$cassandra_log"
  echo "Cassandra did not start" >&2
  exit 1
fi
cassandra_pid=
cat "$cassandra_log"

step "Tests"
go test -race -tags integration -count=1 -timeout 20m ./... 2>&1 | tee "${WARD_TEST_LOG:-/dev/null}"
