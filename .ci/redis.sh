#!/usr/bin/env bash
# Runs a throw-away Redis for Ward's integration tests, on 127.0.0.1 only, with
# persistence off. Debian's redis-server package does not start a server on
# install, so this script starts and stops its own by PID.
#
#   .ci/redis.sh install   install redis-server from Debian if it is missing
#   .ci/redis.sh start     start a server on REDIS_PORT (6379) and wait for PING
#   .ci/redis.sh stop      stop the server this script started
#
# State (pidfile, log) lives in REDIS_STATE_DIR, by default
# ${TMPDIR:-/tmp}/ward-redis-<port>. The tests find the server through
# WARD_TEST_REDIS_ADDR=127.0.0.1:<port>.
set -euo pipefail

port="${REDIS_PORT:-6379}"
state="${REDIS_STATE_DIR:-${TMPDIR:-/tmp}/ward-redis-${port}}"
pidfile="${state}/redis.pid"
logfile="${state}/redis.log"
name=redis.sh
# shellcheck source=.ci/pidfile.sh
. "$(dirname "$0")/pidfile.sh"

ping() {
	redis-cli -h 127.0.0.1 -p "${port}" ping 2>/dev/null | grep -qx PONG
}

cmd_install() {
	if command -v redis-server >/dev/null 2>&1; then
		return 0
	fi
	local sudo=()
	if [[ "$(id -u)" -ne 0 ]]; then
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
	"${sudo[@]}" apt-get update -qq >/dev/null
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
	command -v redis-server >/dev/null 2>&1 || die "redis-server still missing after install"
}

cmd_start() {
	command -v redis-server >/dev/null 2>&1 || die "redis-server missing; run: $0 install"
	if pid="$(running)"; then
		echo "redis.sh: already running (pid ${pid}) on 127.0.0.1:${port}"
		return 0
	fi
	if ping; then
		die "port ${port} already answers PING but not from a server this script started"
	fi

	mkdir -p "${state}"
	rm -f "${pidfile}"
	redis-server \
		--bind 127.0.0.1 --port "${port}" --protected-mode yes \
		--save '' --appendonly no \
		--daemonize yes --pidfile "${pidfile}" --logfile "${logfile}" \
		--dir "${state}"

	local i
	for ((i = 0; i < 100; i++)); do
		if ping; then
			echo "redis.sh: ready on 127.0.0.1:${port} (pid $(cat "${pidfile}"))"
			return 0
		fi
		sleep 0.1
	done
	echo "redis.sh: no PING answer after 10 s; log follows" >&2
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
