# Starting tcmu-runner with the vlun handler, shared by tools/vlun-up (native mode), the
# appliance (appliance-init) and the test harness (test/vm/lib/guest-lib.sh).  Source it.
#   runner_start HANDLER-DIR LOG-DIR
# Starts the runner in the background, sets RUNNER_PID and returns once the runner is on
# the D-Bus system bus (it registers there when its handlers are loaded); returns 1 with
# the runner's own output on stderr if it exits or does not register within 10 s.
runner_start() {
	local out=$2/tcmu-runner.out i
	: >"$2/tcmu-runner.log"
	tcmu-runner --handler-path "$1" -l "$2" >"$out" 2>&1 &
	RUNNER_PID=$!
	for i in $(seq 100); do
		dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.ListNames 2>/dev/null | grep -q org.kernel.TCMUService1 && return 0
		kill -0 $RUNNER_PID 2>/dev/null || break
		sleep 0.1
	done
	cat "$out" >&2
	return 1
}
