# Shared by the tests that start tools/vlun-up (test/up/test-vlun-up.sh on the host,
# test/vm/scenarios/vlun-up-native.sh in a guest).  Source it.
#   up_wait LOG PID TRIES INTERVAL
# Returns 0 once vlun-up's LOG says the target is up; 1, after printing the log, if
# process PID ends first or TRIES checks INTERVAL seconds apart pass without it.
up_wait() {
	local i
	for i in $(seq "$3"); do
		grep -q "vlun target is up" "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep "$4"
	done
	cat "$1"; return 1
}
