#!/usr/bin/env bash
# Checks infra/sam/template.yaml twice, with tools from PyPI in virtualenvs
# under ${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}/venv:
#
#  1. cfn-lint on the SAM template itself (cfn-lint 1.x checks SAM resources
#     against SAM's schemas, without expanding them);
#  2. the SAM translator, offline, expands it into the CloudFormation that
#     a deployment creates, and cfn-lint checks that too: references inside
#     events and policies are only resolved there.
#
# With WARD_TEST_SAM_BUILD=1 it also installs the SAM CLI in a second virtualenv
# and runs `sam build` on the template, without Docker, into a scratch
# directory. That needs the bootstraps: run infra/lambda/build.sh first.
set -euo pipefail
cd "$(dirname "$0")/../.."

CFN_LINT_VERSION=1.58.0
SAM_TRANSLATOR_VERSION=1.115.0
SAM_CLI_VERSION=1.170.0
cache=${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}
python=${PYTHON:-python3}

# venv NAME PACKAGE==VERSION...: a virtualenv holding those packages,
# made again when one is missing.
venv() {
  local dir=$cache/venv/$1 pkg ok=1
  shift
  for pkg in "$@"; do
    "$dir/bin/python" -m pip show -q "${pkg%%==*}" >/dev/null 2>&1 || ok=0
  done
  if [ "$ok" = 0 ]; then
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
  fi
  echo "$dir"
}

tools=$(venv "cfn-lint-$CFN_LINT_VERSION-sam-$SAM_TRANSLATOR_VERSION" \
  "cfn-lint==$CFN_LINT_VERSION" "aws-sam-translator==$SAM_TRANSLATOR_VERSION")
expanded=$(mktemp --suffix=.json)
trap 'rm -f "$expanded"' EXIT

echo "cfn-lint $("$tools/bin/cfn-lint" --version | awk '{print $2}'), sam translator $SAM_TRANSLATOR_VERSION"
"$tools/bin/cfn-lint" infra/sam/template.yaml
echo "cfn-lint: the SAM template is clean"
"$tools/bin/python" infra/sam/transform.py infra/sam/template.yaml "$expanded"
"$tools/bin/cfn-lint" "$expanded"
echo "cfn-lint: its CloudFormation expansion is clean"

if [ "${WARD_TEST_SAM_BUILD:-0}" = 1 ]; then
  for name in graphql tenants users orgs groups account admin audit sessions authn mfa pages issuers appstate oauth clients; do
    if [ ! -x "dist/lambda/$name/bootstrap" ]; then
      echo "validate.sh: dist/lambda/$name/bootstrap missing; run infra/lambda/build.sh" >&2
      exit 1
    fi
  done
  sam=$(venv "aws-sam-cli-$SAM_CLI_VERSION" "aws-sam-cli==$SAM_CLI_VERSION")
  out=$(mktemp -d)
  trap 'rm -rf "$out" "$expanded"' EXIT
  SAM_CLI_TELEMETRY=0 "$sam/bin/sam" build --template-file infra/sam/template.yaml \
    --build-dir "$out/build" --cache-dir "$out/cache"
  for name in Graphql Tenants Users Orgs Groups Account Admin Audit Sessions Authn Mfa Pages Issuers Appstate Oauth Clients; do
    test -x "$out/build/${name}Function/bootstrap"
  done
  echo "sam build: every function's bootstrap is in the build"
fi
