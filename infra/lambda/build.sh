#!/usr/bin/env bash
# Builds one AWS Lambda bootstrap per deployable, for the provided.al2023
# runtime: dist/lambda/<name>/bootstrap (what the SAM template's CodeUri
# points at) and dist/lambda/<name>.zip (for a plain upload), and prints
# each bootstrap's size.
#
#   infra/lambda/build.sh                 # graphql tenants users orgs groups account admin audit sessions authn mfa pages issuers appstate oauth clients
#   infra/lambda/build.sh tenants users   # just these
#   WARD_TEST_LAMBDA_ARCH=amd64 infra/lambda/build.sh   # for x86_64 functions
set -euo pipefail
cd "$(dirname "$0")/../.."

arch=${WARD_TEST_LAMBDA_ARCH:-arm64}
if [ "$#" -eq 0 ]; then
  set -- graphql tenants users orgs groups account admin audit sessions authn mfa pages issuers appstate oauth clients
fi

for name in "$@"; do
  if [ ! -f "functions/$name/main.go" ]; then
    echo "build.sh: no deployable functions/$name" >&2
    exit 1
  fi
done

mkdir -p dist/lambda
printf '%-10s %12s %12s\n' function bootstrap zip
for name in "$@"; do
  dir=dist/lambda/$name
  rm -rf "$dir" "dist/lambda/$name.zip"
  mkdir -p "$dir"
  # lambda.norpc leaves out the RPC mode that only the retired go1.x
  # runtime used; provided.al2023 speaks the runtime API. ward.nogcf leaves
  # out the Cloud Functions framework, which a Lambda never runs.
  CGO_ENABLED=0 GOOS=linux GOARCH="$arch" \
    go build -tags lambda.norpc,ward.nogcf -trimpath -ldflags='-s -w' -o "$dir/bootstrap" "./functions/$name"
  chmod 0755 "$dir/bootstrap"
  # -X leaves out extra file attributes; a fixed time keeps the zip the same
  # for the same binary.
  touch -d '2020-01-01 00:00:00 UTC' "$dir/bootstrap"
  (cd "$dir" && zip -q -X "../$name.zip" bootstrap)
  printf '%-10s %12s %12s\n' "$name" \
    "$(stat -c %s "$dir/bootstrap")" "$(stat -c %s "dist/lambda/$name.zip")"
done
