#!/bin/bash
# The sanlock lease provider against real sanlock daemons: two simulated blades on this
# machine, each its own daemon (own SANLOCK_RUN_DIR, host name vlun-test-A / -B), sharing
# a 64 MiB sparse file as the pool disk.  The daemons run with -w 0, i.e. WITHOUT a
# watchdog: fine for a test, never for production (docs/lease-sanlock.md).
#   test-sanlock.sh AGENT      (AGENT = the test-sanlock program, one process per holder)
# Prints ok/FAIL lines and figures; exits 0 only if every check passed, 77 if not root.
set -uo pipefail
AGENT=$1
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the sanlock daemons need root"
	exit 77
fi
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
dump() { sed 's/^/#   /' "$1"; } # FILE: shown as comment lines
wait_exit() { # TENTHS PID...: wait up to TENTHS tenths of a second for them to exit
	local n=$1; shift
	for _ in $(seq "$n"); do kill -0 "$@" 2>/dev/null || break; sleep 0.1; done
}
command -v sanlock >/dev/null || { bad "no sanlock program: tools/install-deps.sh test"; exit 1; }

base=${VLUN_TEST_TMPDIR:-/var/tmp}
# sanlock opens its disks with O_DIRECT, which tmpfs refuses
if ! dd if=/dev/zero of="$base/.vlun-odirect.$$" bs=4096 count=1 oflag=direct 2>/dev/null; then
	echo "# $base has no O_DIRECT (tmpfs?): using /var/tmp for the shared disk"
	base=/var/tmp
fi
rm -f "$base/.vlun-odirect.$$"
T=$(mktemp -d "$base/vlun-sanlock.XXXXXX")
DISK=$T/disk
SPACE=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n') # like a pool UUID: 32 hex digits
declare -A IN OUT PID WPID DPID DWPID DEAD

# Background processes run under a wrapper shell that waits for them: when the test kills
# one on purpose the wrapper reaps it, so this shell prints no "Killed" notice, and the
# wrapper's exit status is the process's (137 = SIGKILL).
spawn() { # STDIN STDOUT STDERR COMMAND... (output appended)
	local i=$1 o=$2 e=$3; shift 3
	bash -c '"$@"; exit $?' spawn "$@" <"$i" >>"$o" 2>>"$e" &
}

# ---- cleanup: agents, then daemons (by their pids), then the directory ----
cleanup() {
	local a d
	for a in "${!PID[@]}"; do
		kill -CONT "${PID[$a]}" 2>/dev/null
		kill -KILL "${PID[$a]}" 2>/dev/null
		wait "${WPID[$a]}" 2>/dev/null
	done
	for d in "${!DPID[@]}"; do
		kill -CONT "${DPID[$d]}" 2>/dev/null
		SANLOCK_RUN_DIR=$T/run$d timeout 10 sanlock client shutdown -f 1 >/dev/null 2>&1
	done
	for d in "${!DPID[@]}"; do
		wait_exit 50 "${DPID[$d]}"
		if kill -0 "${DPID[$d]}" 2>/dev/null; then
			echo "# daemon $d did not shut down: killing it"
			kill_daemon "$d" 2>/dev/null
		fi
		wait "${DWPID[$d]}" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- daemons ----
# A sandbox without CAP_SYS_RESOURCE cannot raise the memlock limit, which a privileged
# daemon insists on; SANLOCK_PRIVILEGED=0 skips that (and the switch to -U/-G).
capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
if (( !((16#$capeff >> 24) & 1) )); then
	echo "# no CAP_SYS_RESOURCE here: daemons run with SANLOCK_PRIVILEGED=0"
	export SANLOCK_PRIVILEGED=0
fi

start_daemon() { # NAME
	local d=$1 dir=$T/run$1
	mkdir -p "$dir"
	rm -f "$dir/sanlock.pid"
	# -D foreground, log to stderr; -w 0 no watchdog (test only); -l 0 no mlockall;
	# -e a stable host name (a new one each start would make rejoining slow);
	# -L/-S -1: nothing to /var/log/sanlock.log or syslog
	SANLOCK_RUN_DIR=$dir spawn /dev/null "$T/daemon$d.log" "$T/daemon$d.log" \
		sanlock daemon -D -w 0 -l 0 -U root -G root -e "vlun-test-$d" -L -1 -S -1
	DWPID[$d]=$!
	for _ in $(seq 100); do
		if SANLOCK_RUN_DIR=$dir sanlock client status >/dev/null 2>&1; then
			DPID[$d]=$(cat "$dir/sanlock.pid")
			return 0
		fi
		kill -0 "${DWPID[$d]}" 2>/dev/null || break
		sleep 0.1
	done
	bad "sanlock daemon $d did not start; its log:"
	dump "$T/daemon$d.log"
	exit 1
}
kill_daemon() { # NAME: SIGKILL, as a crash would
	local d=$1 helper
	helper=$(pgrep -P "${DPID[$d]}")
	kill -KILL "${DPID[$d]}" $helper
	wait "${DWPID[$d]}" 2>/dev/null
	unset "DPID[$d]"
}

# ---- agents: one test-sanlock process per blade process, spoken to over FIFOs ----
start_agent() { # NAME DAEMON HOST_ID
	local a=$1 fi fo
	rm -f "$T/$a.in" "$T/$a.out"
	unset "DEAD[$a]"
	mkfifo "$T/$a.in" "$T/$a.out"
	# read-write opens of the FIFOs never block, even if the agent fails to start
	exec {fi}<>"$T/$a.in" {fo}<>"$T/$a.out"
	SANLOCK_RUN_DIR=$T/run$2 spawn "$T/$a.in" "$T/$a.out" "$T/$a.err" \
		"$AGENT" "$SPACE" "$DISK" "$3" 1
	WPID[$a]=$!
	IN[$a]=$fi OUT[$a]=$fo
	ask "$a" pid
	PID[$a]=$(val pid)
}
end_agent() { # NAME: wait for it (after quit, or after it was killed); its status in st
	local a=$1 fi=${IN[$1]} fo=${OUT[$1]}
	wait "${WPID[$a]}"; st=$?
	exec {fi}>&- {fo}<&-
	unset "PID[$a]" "WPID[$a]"
}
quit_agent() { # NAME: ask it to exit (kill it if it does not within 10 s); status in st
	local a=$1 p=${PID[$1]:-}
	[ -n "$p" ] || p=$(pgrep -P "${WPID[$a]}") # it never told its pid
	[ -z "${DEAD[$a]:-}" ] && echo quit >&"${IN[$a]}"
	wait_exit 100 $p
	kill -KILL $p 2>/dev/null
	end_agent "$a"
}
R=
ask() { # AGENT COMMAND...: the reply in R (fields: val KEY)
	local a=$1; shift
	if [ -n "${DEAD[$a]:-}" ]; then # gave no answer before: do not wait again
		R="rc=no-agent"
	else
		echo "$*" >&"${IN[$a]}"
		if ! read -r -t 30 R <&"${OUT[$a]}"; then
			R="rc=timeout" DEAD[$a]=1
			echo "# $a: no reply to '$*'; its stderr:"; dump "$T/$a.err"
		fi
	fi
	echo "# $a: $* -> $R"
}
val() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<" $R"; }
rc_is() { [ "$(val rc)" = "$1" ]; }
ms_of() { local m; m=$(val ms); echo "${m%.*}"; }
EBUSY=-16 EAGAIN=-11 ENOENT=-2 ENOTCONN=-107 EUCLEAN=-117
# AGENT SECONDS OLD MAX_MS: acquire-retry L for up to SECONDS; true if it got L at a
# version above OLD in under MAX_MS.  The version in ver, the time taken in took.
retake() {
	ask "$1" acquire-retry vol-1 1 "$2"
	ver=$(val version) took=$(ms_of)
	rc_is 0 && [ "${ver:-0}" -gt "$3" ] && [ "$took" -lt "$4" ]
}

# Lease layout on the shared disk (MiB): lockspace 0, L 1, M 2 (bench), H 3 (hand-over),
# t-0..t-8 20..28 (threads); 10 is left unformatted.
truncate -s 64M "$DISK"
start_agent x X 1 # no daemon behind $T/runX
nd=0
for c in join "acquire vol-1 1" "holder vol-1 1" "format-lease vol-1 1"; do
	ask x $c; rc_is $ENOTCONN || nd=1
done
[ $nd = 0 ] && ok "without a daemon: join, acquire, holder, format answer -ENOTCONN" ||
	bad "without a daemon (see above)"
quit_agent x
start_daemon A
start_daemon B
ok "two sanlock daemons run, one per simulated blade (-w 0: no watchdog, test only)"
start_agent a1 A 1
start_agent b1 B 2

# ---- format, join ----
ask a1 format-space
rc_is 0 && ok "format_space writes the lockspace" || bad "format_space: $R"
fmt=0
for l in "vol-1 1" "ag-0 2" "pool 3" "t-0 20" "t-1 21" "t-2 22" "t-3 23" "t-4 24" \
	 "t-5 25" "t-6 26" "t-7 27" "t-8 28"; do
	ask a1 format-lease $l; rc_is 0 || fmt=1
done
[ $fmt = 0 ] && ok "format_lease writes twelve leases" || bad "format_lease failed"
ask b1 acquire vol-1 1
rc_is $ENOTCONN && ok "acquire before joining: -ENOTCONN" || bad "acquire before join: $R"

echo join >&"${IN[a1]}"; echo join >&"${IN[b1]}" # both blades join at once
read -r -t 30 ja <&"${OUT[a1]}"; read -r -t 30 jb <&"${OUT[b1]}"
echo "# a1: join -> $ja"; echo "# b1: join -> $jb"
R=$ja; ja_rc=$(val rc) ja_ms=$(ms_of)
R=$jb; jb_rc=$(val rc) jb_ms=$(ms_of)
if [ "$ja_rc" = 0 ] && [ "$jb_rc" = 0 ]; then
	ok "both blades join the lockspace (${ja_ms} ms, ${jb_ms} ms at io_timeout 1)"
else
	bad "join: A $ja / B $jb"
fi
echo "figure: sanlock join ms (io_timeout 1): $ja_ms"
ask a1 join
rc_is 0 && [ "$(ms_of)" -lt 1000 ] && ok "joining again returns 0 at once" || bad "rejoin: $R"

ask a1 hosts-wait 3 15
rc_is 0 && [ "$(val alive)" = 0x3 ] && ok "hosts() on A: both alive after $(ms_of) ms" ||
	bad "hosts on A: $R"
ask b1 hosts-wait 3 15
rc_is 0 && [ "$(val alive)" = 0x3 ] && ok "hosts() on B: both alive" || bad "hosts on B: $R"

# ---- contention ----
ask a1 acquire vol-1 1
v1=$(val version)
rc_is 0 && [ "${v1:-0}" -gt 0 ] && ok "A acquires L: version $v1" || bad "A acquire: $R"
ask a1 holder vol-1 1
rc_is 0 && [ "$(val holder)" = 1 ] && [ "$(val version)" = "$v1" ] &&
	ok "holder(): host 1 at version $v1 (the acquire's version is the one on disk)" ||
	bad "holder after A's acquire: $R"
ask a1 acquire vol-1 1
rc_is 0 && [ "$(val version)" = "$v1" ] && ok "acquiring a lease it holds: 0, same version" ||
	bad "A's second acquire: $R"
ask b1 acquire vol-1 1
rc_is $EBUSY && [ "$(val holder)" = 1 ] && ok "B's acquire while A holds: -EBUSY, holder 1" ||
	bad "B's acquire while A holds: $R"
ask a1 release vol-1 1
rc_is 0 || bad "A release: $R"
ask b1 acquire vol-1 1
v2=$(val version)
rc_is 0 && [ "${v2:-0}" -gt "$v1" ] && ok "B acquires after A released: version $v2 > $v1" ||
	bad "B's acquire after release: $R"
ask a1 holder vol-1 1
rc_is 0 && [ "$(val holder)" = 2 ] && [ "$(val version)" = "$v2" ] &&
	ok "holder() seen from A: host 2 at version $v2" || bad "holder seen from A: $R"
ask a1 acquire vol-1 1
rc_is $EBUSY && [ "$(val holder)" = 2 ] && ok "A's acquire while B holds: -EBUSY, holder 2" ||
	bad "A's acquire while B holds: $R"
ask a1 release vol-1 1
rc_is $ENOENT && ok "releasing a lease it does not hold: -ENOENT" || bad "release not held: $R"
ask a1 acquire nothing 10
rc_is $EUCLEAN && ok "acquire where no lease was formatted: -EUCLEAN" || bad "unformatted: $R"
ask a1 acquire vol-9 1
rc_is $ENOENT && ok "acquire with another lease's name at its offset: -ENOENT" ||
	bad "wrong name: $R"

# ---- the holder's process dies: its daemon releases at once ----
kill -KILL "${PID[b1]}"; end_agent b1
retake a1 10 "$v2" 5000 && ok "B's holder killed: A acquires in $took ms (version $ver)" ||
	bad "A's acquire after B's holder was killed: $R"
v3=$ver
echo "figure: sanlock acquire after holder killed ms: $took"

# ---- the holder's daemon crashes: -EAGAIN until it is back, then at once ----
start_agent b2 B 2
kill_daemon A
# B sees host 1's lease stand still after two of its own renewals (2 s each)
ask b2 acquire-retry vol-1 1 10 $EAGAIN
rc_is $EAGAIN && ok "A's daemon killed: B's acquire answers -EAGAIN after $(ms_of) ms" ||
	bad "B's acquire after A's daemon was killed: $R"
ask a1 acquire vol-1 1
rc_is $ENOTCONN && ok "the process whose daemon died refuses leases: -ENOTCONN" ||
	bad "acquire in the process whose daemon died: $R"
quit_agent a1
start_daemon A
start_agent a1 A 1
ask a1 join
rc_is 0 && ok "A's daemon restarted: A rejoins in $(ms_of) ms" || bad "A's rejoin: $R"
retake b2 10 "$v3" 3000 &&
	ok "B takes L from the dead generation of host 1 in $took ms (version $ver)" ||
	bad "B's acquire after A rejoined: $R"
ask b2 release vol-1 1

# ---- figures: acquire of a free lease, planned hand-over A -> B ----
ask a1 bench ag-0 2 15
rc_is 0 && ok "15 acquire/release rounds" || bad "bench: $R"
echo "figure: sanlock acquire ms (median): $(val median)"
ask a1 threads 20 8
rc_is 0 && ok "8 threads at once: all get one lease (version $(val version)), then 8 own ones" ||
	bad "threads: $R"
hand=()
for _ in 1 2 3 4 5; do
	ask a1 acquire pool 3; rc_is 0 || { bad "hand-over: A acquire: $R"; break; }
	ask a1 release pool 3; rel=$(val ms); rc_is 0 || { bad "hand-over: A release: $R"; break; }
	ask b2 acquire pool 3; acq=$(val ms); rc_is 0 || { bad "hand-over: B acquire: $R"; break; }
	hand+=("$(awk -v a="$rel" -v b="$acq" 'BEGIN { printf "%.1f", a + b }')")
	ask b2 release pool 3
done
if [ ${#hand[@]} = 5 ]; then
	med=$(printf '%s\n' "${hand[@]}" | sort -n | sed -n 3p)
	ok "5 planned hand-overs (release on A, acquire on B)"
	echo "figure: sanlock planned hand-over ms: $med"
fi

# ---- fencing: a stopped holder is killed by its own daemon on request_force ----
start_agent a2 A 1
ask a1 acquire vol-1 1
ask a2 acquire vol-1 1
rc_is $EBUSY && [ "$(val holder)" = 1 ] &&
	ok "another process of the same blade holds L: -EBUSY, holder 1 (this host)" ||
	bad "acquire while another process of this host holds: $R"
ask a1 release vol-1 1
ask a2 acquire vol-1 1
v4=$(val version)
rc_is 0 || bad "a second process on A acquires L: $R"
kill -STOP "${PID[a2]}"
# (-EAGAIN until B has seen host 1 renew since its restart)
ask b2 acquire-retry vol-1 1 10 $EBUSY
rc_is $EBUSY && [ "$(val holder)" = 1 ] &&
	ok "the stopped holder still holds L: -EBUSY, holder 1" || bad "acquire vs the stopped holder: $R"
ask b2 force vol-1 1
rc_is 0 && ok "B's request_force returns 0" || bad "request_force: $R"
retake b2 15 "$v4" 10000 && ok "B acquires $took ms after request_force (version $ver > $v4)" ||
	bad "B's acquire after request_force: $R"
echo "figure: sanlock request_force to acquire ms: $took"
end_agent a2
[ $st = 137 ] && ok "the stopped holder was killed with SIGKILL by its daemon" ||
	bad "the stopped holder: exit status $st (not 137 = SIGKILL)"

# ---- leaving ----
ask b2 leave
rc_is $EBUSY && kill -0 "${PID[b2]}" && ok "leave while holding a lease: -EBUSY, holder alive" ||
	bad "leave while holding: $R"
ask b2 release vol-1 1
ask b2 leave
rc_is 0 && ok "B leaves after releasing ($(ms_of) ms)" || bad "B leave: $R"
ask a1 leave
rc_is 0 && ok "A leaves" || bad "A leave: $R"
ask a1 hosts
rc_is $ENOTCONN && ok "hosts() after leaving: -ENOTCONN" || bad "hosts after leave: $R"
ask a1 leave
rc_is 0 && ok "leaving again returns 0" || bad "leave again: $R"
for a in a1 b2; do
	quit_agent "$a"
	if [ $st != 0 ]; then
		bad "agent $a exited $st; its stderr:"; dump "$T/$a.err"
	fi
done
for d in A B; do
	if ! kill -0 "${DPID[$d]}" 2>/dev/null; then
		bad "daemon $d died during the test; its log:"; dump "$T/daemon$d.log"
	fi
done
[ $fail = 0 ] && echo "# all passed" || echo "# some checks FAILED"
exit $fail
