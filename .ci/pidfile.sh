# Shared by the scripts that start a throw-away server and stop it by its
# PID (.ci/redis.sh, .ci/kms.sh). The sourcing script sets `name` (how its
# messages start) and `pidfile` before calling these.

die() {
	echo "${name}: $*" >&2
	exit 1
}

# running prints the PID of the server the script started, if it is alive.
running() {
	[[ -s "${pidfile}" ]] || return 1
	local pid
	pid="$(cat "${pidfile}")"
	[[ "${pid}" =~ ^[0-9]+$ ]] || return 1
	kill -0 "${pid}" 2>/dev/null || return 1
	echo "${pid}"
}

# cmd_stop stops that server and waits up to 10 s for it to go.
cmd_stop() {
	local pid
	if ! pid="$(running)"; then
		rm -f "${pidfile}"
		echo "${name}: not running"
		return 0
	fi
	kill "${pid}"
	local i
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "${pid}" 2>/dev/null; then
			rm -f "${pidfile}"
			echo "${name}: stopped (pid ${pid})"
			return 0
		fi
		sleep 0.1
	done
	die "pid ${pid} still alive after 10 s"
}
