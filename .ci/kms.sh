#!/usr/bin/env bash
# Runs a throw-away AWS KMS stand-in for Ward's integration tests: Local KMS
# (github.com/nsmithuk/local-kms, built from the Go module proxy), with its
# data in a fresh directory and no seed file; the tests create their keys
# through the KMS API. Local KMS listens on every interface (it has no
# bind-address setting): it holds only test keys, on a port of its own.
#
#   .ci/kms.sh install   build local-kms into $(go env GOPATH)/bin if missing
#   .ci/kms.sh start     start it on KMS_PORT (14599) and wait until it answers
#   .ci/kms.sh stop      stop the server this script started
#
# State (pidfile, log, data) lives in KMS_STATE_DIR, by default
# ${TMPDIR:-/tmp}/ward-kms-<port>. The tests find the server through
# WARD_TEST_KMS_ENDPOINT=http://127.0.0.1:<port>.
set -euo pipefail

version=v0.0.0-20260228092603-2a5e92d09ab6
port="${KMS_PORT:-14599}"
state="${KMS_STATE_DIR:-${TMPDIR:-/tmp}/ward-kms-${port}}"
pidfile="${state}/kms.pid"
logfile="${state}/kms.log"
name=kms.sh
# shellcheck source=.ci/pidfile.sh
. "$(dirname "$0")/pidfile.sh"
bin="$(go env GOPATH)/bin/local-kms"

# answers is true once the server speaks the KMS protocol: ListKeys is a
# signed request in real KMS, but Local KMS does not check signatures.
answers() {
	curl -fsS -o /dev/null -X POST "http://127.0.0.1:${port}/" \
		-H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: TrentService.ListKeys' -d '{}' 2>/dev/null
}

cmd_install() {
	[[ -x "${bin}" ]] && return 0
	go install "github.com/nsmithuk/local-kms@${version}"
	[[ -x "${bin}" ]] || die "local-kms still missing after go install"
}

cmd_start() {
	[[ -x "${bin}" ]] || die "local-kms missing; run: $0 install"
	if pid="$(running)"; then
		echo "kms.sh: already running (pid ${pid}) on port ${port}"
		return 0
	fi
	if answers; then
		die "port ${port} already answers but not from a server this script started"
	fi
	rm -rf "${state}"
	mkdir -p "${state}/data"
	PORT="${port}" KMS_DATA_PATH="${state}/data" KMS_SEED_PATH="${state}/none.yaml" \
		KMS_REGION=eu-central-1 KMS_ACCOUNT_ID=111122223333 \
		nohup "${bin}" >"${logfile}" 2>&1 &
	echo $! >"${pidfile}"

	local i
	for ((i = 0; i < 100; i++)); do
		if answers; then
			echo "kms.sh: ready on 127.0.0.1:${port} (pid $(cat "${pidfile}"))"
			return 0
		fi
		running >/dev/null || break
		sleep 0.1
	done
	echo "kms.sh: no answer after 10 s; log follows" >&2
	tail -n 20 "${logfile}" >&2 || true
	exit 1
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
*)
	echo "usage: $0 install|start|stop" >&2
	exit 2
	;;
esac
