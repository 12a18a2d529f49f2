# Helpers for two-blade scenarios (test/vm/vm-run2), sourced by guest-init2 after
# guest-lib.sh, whose helpers (log, pass, fail, check, figure, make_pool, ...) all work.
# Environment: VLUN_BLADE (a|b), VLUN_PEER, VLUN_BLADE_ID (1|2, e.g. a sanlock host_id),
# VLUN_BLADE_NAME (blade-a|blade-b: hostname, sanlock host name), VLUN_BLADE_IP and
# VLUN_PEER_IP (169.254.0.1 = a, .2 = b), VLUN_BLADE_IF (the link's interface),
# VLUN_OUT (this blade's report directory), VLUN_SHARED (directory common to both
# blades and the host), VLUN_NDISKS.
VLUN_BARRIER_TIMEOUT=${VLUN_BARRIER_TIMEOUT:-120}
# The smallest lockspace io_timeout that survives the watchdog with Debian 12's sanlock
# 3.8.5: wdmd tests every 10 s and fails a client whose expiry (renewal + 8 * io) is
# less than 10 s away, so with io_timeout 1 every test fails and a healthy blade is
# powered off ~60 s after joining (seen; blades-smoke shows it).  io 2: host dead 76 s.
export VLUN_IO_TIMEOUT=${VLUN_IO_TIMEOUT:-2}

# monotonic seconds (with ms) since boot, for measuring: t0=$(now); ...; echo "$(since $t0)"
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

blade_setup() {
	modprobe -a virtio_net virtio_blk 2>/dev/null
	ip link set lo up
	local i n
	VLUN_BLADE_IF=
	for i in $(seq 100); do
		for n in /sys/class/net/*; do
			[ "$(basename "$(readlink -f $n/device/driver 2>/dev/null)")" = virtio_net ] && VLUN_BLADE_IF=${n##*/}
		done
		[ -n "$VLUN_BLADE_IF" ] && break
		sleep 0.1
	done
	export VLUN_BLADE_IF
	[ -n "$VLUN_BLADE_IF" ] || { log "no virtio-net interface"; return 1; }
	ip addr add $VLUN_BLADE_IP/16 dev $VLUN_BLADE_IF && ip link set $VLUN_BLADE_IF up || return 1
	for i in $(seq 100); do
		[ "$(blade_disks | wc -l)" -ge "$VLUN_NDISKS" ] && break
		sleep 0.1
	done
	[ "$(blade_disks | wc -l)" = "$VLUN_NDISKS" ] || { log "pool disks: $(blade_disks | xargs), want $VLUN_NDISKS"; return 1; }
	log "$VLUN_BLADE_NAME: $VLUN_BLADE_IP on $VLUN_BLADE_IF, pool disks $(blade_disks | xargs)"
}

# blade_disks: the pool disks' device paths in serial order (pool0, pool1, ...), the
# same disks in the same order on both blades
blade_disks() {
	local d s
	for d in /sys/block/vd*; do
		[ -r $d/serial ] || continue
		s=$(cat $d/serial)
		case $s in pool[0-9]*) echo "${s#pool} /dev/${d##*/}" ;; esac
	done | sort -n | cut -d' ' -f2
}
blade_disk() { blade_disks | sed -n "$(($1 + 1))p"; }   # blade_disk N: pool disk N

_blade_key() { [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] || { fail "bad key or barrier name '$1'"; return 1; }; }

# peer_ended: true once the host saw the other blade's qemu end ($VLUN_SHARED/X.ended
# holds "watchdog|poweroff|timeout|exit RC SECONDS") or the other blade has a verdict
peer_ended() { [ -e "$VLUN_SHARED/$VLUN_PEER.ended" ] || [ -e "$VLUN_SHARED/../$VLUN_PEER/verdict" ]; }

# _await FILE TIMEOUT WHAT: wait for FILE to appear; fails the scenario (returns 1) after
# TIMEOUT seconds ("WHAT within Ns") or as soon as the peer has ended
_await() {
	local file=$1 t=$2 what=$3 end=$((EPOCHSECONDS + $2))
	until [ -e "$file" ]; do
		if peer_ended; then fail "$what: blade $VLUN_PEER has ended"; return 1; fi
		if [ $EPOCHSECONDS -gt $end ]; then fail "$what: not there within ${t}s"; return 1; fi
		nap
	done
}

# barrier NAME [TIMEOUT]: wait until both blades reached NAME (a name may be reused:
# the Nth call on one blade meets the Nth on the other).  Fails the scenario (returns
# 1) after TIMEOUT seconds (VLUN_BARRIER_TIMEOUT, 120) or when the peer has ended.
declare -A _BARRIER_N
barrier() {
	local name=$1 t=${2:-$VLUN_BARRIER_TIMEOUT} n
	_blade_key "$name" || return 1
	n=$(( ${_BARRIER_N[$name]:-0} + 1 )); _BARRIER_N[$name]=$n
	: >"$VLUN_SHARED/barrier.$name.$n.$VLUN_BLADE"
	_await "$VLUN_SHARED/barrier.$name.$n.$VLUN_PEER" "$t" "barrier $name (blade $VLUN_PEER)"
}

# peer_put KEY VALUE: publish a small value (atomically: written aside, then renamed)
# peer_get KEY [TIMEOUT]: print it, waiting for it to appear (fails like barrier)
# peer_has KEY: true if published.  Both blades share one key space.
peer_put() {
	_blade_key "$1" || return 1
	printf '%s\n' "$2" >"$VLUN_SHARED/.kv.$1.$VLUN_BLADE" && mv -f "$VLUN_SHARED/.kv.$1.$VLUN_BLADE" "$VLUN_SHARED/kv.$1"
}
peer_has() { [ -e "$VLUN_SHARED/kv.$1" ]; }
peer_get() {
	local key=$1 t=${2:-$VLUN_BARRIER_TIMEOUT}
	_blade_key "$key" || return 1
	_await "$VLUN_SHARED/kv.$key" "$t" "peer_get $key" && cat "$VLUN_SHARED/kv.$key"
}

# expect_fenced [BLADE]: declare that BLADE (default: this one) will be ended by its
# watchdog.  The host then requires exactly that of it (qemu ended by the i6300esb
# watchdog) and no verdict.  Declare it before the blade hangs.
expect_fenced() { : >"$VLUN_SHARED/expect-fenced.${1:-$VLUN_BLADE}"; }

# blade_wait_ended BLADE [TIMEOUT]: wait until the host saw BLADE's qemu end; prints
# how (watchdog, poweroff, timeout, exit RC); returns 1 on timeout
blade_wait_ended() {
	local b=$1 t=${2:-$VLUN_BARRIER_TIMEOUT} end
	end=$((EPOCHSECONDS + t))
	until [ -e "$VLUN_SHARED/$b.ended" ]; do
		[ $EPOCHSECONDS -gt $end ] && return 1
		nap
	done
	cut -d' ' -f1 "$VLUN_SHARED/$b.ended"
}

# blade_login IQN: discovery and login on this blade's own portal (starting iscsid if
# needed); the LUNs' disks are then found with lun_disk
blade_login() {
	pgrep -x iscsid >/dev/null || { setsid iscsid -f >/var/log/iscsid.log 2>&1 & sleep 0.5; }
	iscsiadm -m discovery -t st -p "$VLUN_BLADE_IP" >/dev/null &&
		timeout 60 iscsiadm -m node -T "$1" -p "$VLUN_BLADE_IP" -l >/dev/null
}

# blades_alive POOL: sanlock sees both blades (host ids 1 and 2) alive in POOL's
# lockspace (it knows the others' state only after its first monitoring pass: retry)
blades_alive() { $VLUNCTL --json pool status "$1" | jq -e '.sharing.blades_alive == [1, 2]' >/dev/null; }

# blade_start_sanlock: the i6300esb watchdog driver, wdmd on /dev/watchdog, then
# sanlock with the watchdog on (-w 1) and this blade's stable host name; returns once
# both answer.  Debian's /etc/default files (sanlock -w 0, wdmd disabled) are not used.
# From here on a hang of wdmd or sanlock for 60 s powers the blade off (its qemu ends
# with a WATCHDOG event), and so does a lockspace with io_timeout 1 (see
# VLUN_IO_TIMEOUT).  Sets WDMD_PID, SANLOCK_PID; logs in /var/log (wdmd.log: wdmd -D).
blade_start_sanlock() {
	local i
	modprobe i6300esb || { log "no i6300esb driver"; return 1; }
	for i in $(seq 50); do [ -c /dev/watchdog ] && break; sleep 0.1; done
	[ -c /dev/watchdog ] || { log "no /dev/watchdog"; return 1; }
	mkdir -p /run/wdmd /run/sanlock
	wdmd -D >/var/log/wdmd.log 2>&1 &
	WDMD_PID=$!
	for i in $(seq 100); do
		wdmd --dump >/dev/null 2>&1 && break
		kill -0 $WDMD_PID 2>/dev/null || break
		sleep 0.1
	done
	wdmd --dump >/dev/null 2>&1 || { log "wdmd did not start"; cat /var/log/wdmd.log; return 1; }
	sanlock daemon -D -w 1 -U root -G root -e "$VLUN_BLADE_NAME" >/var/log/sanlock.out 2>&1 &
	SANLOCK_PID=$!
	for i in $(seq 100); do
		sanlock client status >/dev/null 2>&1 && break
		kill -0 $SANLOCK_PID 2>/dev/null || break
		sleep 0.1
	done
	sanlock client status >/dev/null 2>&1 || { log "sanlock did not start"; cat /var/log/sanlock.out; return 1; }
	log "wdmd (pid $WDMD_PID) and sanlock (pid $SANLOCK_PID, -w 1, host name $VLUN_BLADE_NAME) up"
}

blade_collect_logs() {
	local f
	for f in /var/log/wdmd.log /var/log/sanlock.out /var/log/sanlock.log; do
		[ -f $f ] && cp $f $VLUN_OUT/ 2>/dev/null
	done
	return 0
}

# VLUN_NONOWNER_STATE=nonoptimized: non-owners Active/Non-optimized, so that writes
# through any blade take a volume (tcmu-runner's implicit failover, what the #12
# scenarios prove); default standby (docs/alua.md).
# blade_conf FILE IQN POOL [SECTION]... : a vlun.conf for both blades - the target (demo
# mode), blades a and b (each its own portal, TPG and sanlock host id) and the shared
# pool POOL on the pool disks - then the given [volume]/[export] sections
blade_conf() {
	local file=$1 iqn=$2 pool=$3 d; shift 3
	d=($(blade_disks))
	local tmp=$file.tmp.$VLUN_BLADE # both blades may write it at once
	cat >$tmp <<C
[vlun]
version = 1
[target]
iqn = $iqn
demo_mode = yes
nonowner_state = ${VLUN_NONOWNER_STATE:-standby}
[blade a]
tpg = 1
portals = 169.254.0.1:3260
host = blade-a
host_id = 1
[blade b]
tpg = 2
portals = 169.254.0.2:3260
host = blade-b
host_id = 2
[pool $pool]
members = ${d[0]} ${d[1]}
extent_size = 1M
shared = yes
lease_io_timeout = $VLUN_IO_TIMEOUT
max_blades = 8
max_volumes = 8
C
	local sec
	for sec in "$@"; do printf '%s\n' "$sec" >>$tmp; done
	mv $tmp $file
}
