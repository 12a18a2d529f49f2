# Two blades, one shared pool (test/vm/vm-run2): the active path follows the volume.
# Blade a is also the hypervisor: open-iscsi logged in to both blades' portals, stock
# dm-multipath + multipathd with ALUA (the multipath.conf of docs/alua.md), fio with
# crc32c verification on the multipath device, while `vlun-alua move` flips vm1
# a -> b -> a ... MOVES times, the tool alternating between the blades (two moves on a,
# two on b: asked on the source, the target, ...).  After every move sg_rtpg through
# both paths must agree and name the new owner Active/Optimized; per move the I/O pause
# (longest gap between completions), the tool's phases and the time until multipath
# sends I/O down the new owner's path are printed.  Then: a move with the tool killed
# midway and re-run; a move whose old owner does not answer (its tcmu-runner stopped),
# taken with --force, and that runner restarted comes back with the right states.
#   vm-run2 alua-switch [MOVES [NONOWNER-STATE]]   (standby, the default, or nonoptimized)
MOVES=${1:-12}
export VLUN_NONOWNER_STATE=${2:-standby}
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
VA="$VLUN_BUILD/tools/vlun-alua/vlun-alua"
TIQN=iqn.2026-11.org.vlun:alua
me=$VLUN_BLADE
export VLUN_HOST_ID=$VLUN_BLADE_ID
CONF=$VLUN_SHARED/vlun.conf
export VLUN_CONF=$CONF
msv() { local t=${EPOCHREALTIME/./}; MS=$((t / 1000)); } # msv: milliseconds into $MS, no fork

hv_vm1_shared $TIQN shp 128M || exit 1
barrier applied

# the Pacemaker agent as Pacemaker runs it (one instance per blade, guest1's volumes)
ocf_env() {
	OCF_ROOT=/usr/lib/ocf HA_RSCTMP=/tmp/ocf OCF_RESOURCE_INSTANCE=guest1-vols OCF_RESKEY_vm=guest1 \
		OCF_RESKEY_config=$CONF OCF_RESKEY_vlun_alua=$VA OCF_RESKEY_move_timeout=15 "$@"
}

# the tool on blade b runs moves when blade a asks (kv move.N = TARGET), answering
# with its JSON; blade a is the hypervisor and drives everything
run_move() { # run_move N TARGET [--force...]: the tool here; JSON in /tmp/move.N.json
	local n=$1 to=$2; shift 2
	local rc=0
	$VA move vm1 --to $to --timeout 10 --json "$@" >/tmp/move.$n.json 2>/tmp/move.$n.err || rc=$?
	echo $rc >/tmp/move.$n.rc
}
if [ $me = b ]; then
	n=0
	while :; do
		n=$((n + 1))
		req=$(peer_get req.$n 900) || break
		[ "$req" = done ] && break
		set -- $req
		case $1 in
		move) run_move $n $2 ;;
		force) run_move $n $2 --force ;;
		apply) rc=0; $VC apply --blade b $CONF >/tmp/apply.out 2>&1 || rc=$?; echo $rc >/tmp/move.$n.rc; echo '{}' >/tmp/move.$n.json ;;
		status) rc=0; $VA status vm1 --json >/tmp/move.$n.json 2>/tmp/move.$n.err || rc=$?; echo $rc >/tmp/move.$n.rc ;;
		hook) rc=0; printf '%s' '<domain type="kvm"><name>web7</name><metadata><vlun:vm xmlns:vlun="https://vlun.dev/xmlns/libvirt/1">guest1</vlun:vm></metadata></domain>' |
			VLUN_ALUA=$VA "$VLUN_SRC/tools/libvirt/vlun-qemu-hook" web7 prepare begin - >/tmp/hook.out 2>&1 || rc=$?
			echo $rc >/tmp/move.$n.rc; echo '{}' >/tmp/move.$n.json ;;
		ocf) rc=0; ocf_env "$VLUN_SRC/tools/ocf/volume" $2 >/tmp/ocf.out 2>&1 || rc=$?
			echo $rc >/tmp/move.$n.rc; echo '{}' >/tmp/move.$n.json ;;
		stop-runner) kill -STOP $(pgrep -x tcmu-runner); echo 0 >/tmp/move.$n.rc; echo '{}' >/tmp/move.$n.json ;;
		start-runner) pkill -9 -x tcmu-runner || true; sleep 0.5; rc=0; vm_start_runner || rc=$?; echo $rc >/tmp/move.$n.rc; echo '{}' >/tmp/move.$n.json ;;
		esac
		peer_put res.$n "$(cat /tmp/move.$n.rc) $(tr -d '\n' </tmp/move.$n.json)"
	done
	barrier finished 900
	vm_collect_logs
	exit 0
fi

# ---- blade a: the hypervisor ----
breq=0
on_b() { # on_b REQUEST...: run it on blade b; "RC JSON" in $bres (not in a subshell: breq counts)
	breq=$((breq + 1))
	peer_put req.$breq "$*"
	bres=$(peer_get res.$breq 120) || bres="1 {}"
}
move_on() { # move_on BLADE N TARGET [force]: rc in $mrc, JSON in $mjson
	local who=$1 n=$2 to=$3 kind=${4:-move} out
	if [ $who = a ]; then
		run_move $n $to $([ $kind = force ] && echo --force)
		mrc=$(cat /tmp/move.$n.rc); mjson=$(cat /tmp/move.$n.json)
		[ $mrc = 0 ] || cat /tmp/move.$n.err
	else
		on_b $kind $to; mrc=${bres%% *}; mjson=${bres#* }
	fi
}

hv_setup $TIQN

for c in "--help" "status vm1" "-c /dev/null --help"; do
	log "time of vlun-alua $c (idle): $( { time $VA $c >/dev/null 2>&1; } 2>&1 | tr '\n' ' ')"
done
log "fio on $MP with verification while moving"
FIO_LOG=/tmp/fio
fio --name=alua --filename=$MP --rw=randwrite --bs=4k --size=64M --direct=1 \
	--ioengine=libaio --iodepth=4 --rate_iops=100 --time_based --runtime=900 --verify=crc32c \
	--verify_backlog=64 --verify_fatal=1 --write_lat_log=$FIO_LOG --log_unix_epoch=1 \
	--output=/tmp/fio.out >/dev/null 2>&1 &
FIO=$!
sleep 3 # fio's files and first I/O
kill -0 $FIO || fail "fio did not start"

# the second half of the moves with the hypervisor agent (vlun-hostd) running
HOSTD="$VLUN_BUILD/tools/vlun-hostd/vlun-hostd"
HSOCK=/run/vlun-hostd.sock
agent=0
start_hostd() {
	"$HOSTD" --foreground --verbose --socket $HSOCK >/var/log/vlun-hostd.log 2>&1 &
	HOSTD_PID=$!
	for i in $(seq 100); do [ -S $HSOCK ] && break; sleep 0.05; done
	check "vlun-hostd started (status answers)" "$HOSTD" status --socket $HSOCK
}
owner=a mismatches=0 moves=0
: >/tmp/moves
for n in $(seq 1 $MOVES); do
	if [ $n = $((MOVES / 2 + 1)) ]; then start_hostd; agent=1; fi
	to=$([ $owner = a ] && echo b || echo a)
	who=$([ $(( (n - 1) / 2 % 2 )) = 0 ] && echo a || echo b)
	newp=$([ $to = a ] && echo $pa || echo $pb)
	read -r x1 x2 x3 x4 w0 _ </sys/block/$newp/stat
	echo "vlun-test: move $n to $to" >/dev/kmsg
	msv; t0=$MS
	move_on $who $n $to
	msv; t1=$MS
	echo "vlun-test: move $n returned" >/dev/kmsg
	# the time until multipath sends I/O down the new owner's path
	mpms=-1
	while msv; [ $((MS - t1)) -lt 30000 ]; do
		read -r x1 x2 x3 x4 w _ </sys/block/$newp/stat
		[ "$w" != "$w0" ] && { mpms=$((MS - t1)); break; }
		sleep 0.01
	done
	msv; t2=$MS
	ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
	msv; t3=$MS
	[ "$ra" = "$(tpg_of $to)" ] && [ "$rb" = "$(tpg_of $to)" ] || mismatches=$((mismatches + 1))
	phases=$(jq -r '.volumes[0] | "\(.result) ask \(.phases_ms.ask) release \(.phases_ms.release) acquire \(.phases_ms.acquire) states \(.phases_ms.states) total \(.phases_ms.total)"' <<<"$mjson" 2>/dev/null) || true
	log "move $n: $owner -> $to (tool on $who): exit $mrc, $phases; tool $((t1 - t0)) ms; multipath on the new path after $mpms ms; RTPG AO group via a: $ra, via b: $rb ($((t3 - t2)) ms)"
	[ $mrc = 0 ] || fail "move $n: vlun-alua exit $mrc: $mjson"
	# the kernel failed the old owner's path on its first I/O there (Standby: NOT READY);
	# multipathd reinstates it (a ghost path) on its next check of it, within
	# polling_interval; until then a move back would find no usable path and queue
	msv; t4=$MS
	while msv; [ $((MS - t4)) -lt 30000 ] && dmsetup status $mp | grep -q " F "; do sleep 0.05; done
	msv; back=$((MS - t4))
	log "move $n: the old owner's path usable again after $back ms"
	echo "$n $t0 $t1 $mpms $back $agent" >>/tmp/moves
	owner=$to moves=$((moves + 1))
	kill -0 $FIO 2>/dev/null || { fail "fio ended during move $n"; break; }
done

# a move interrupted: the tool killed midway, then run again
to=$([ $owner = a ] && echo b || echo a)
$VA move vm1 --to $to --timeout 10 >/tmp/int.out 2>&1 &
tp=$!
sleep 0.05
kill -9 $tp 2>/dev/null || true; wait $tp 2>/dev/null || true
log "tool killed midway: $(cat /tmp/int.out)"
rc=0; $VA move vm1 --to $to --timeout 10 || rc=$?
check "re-running the interrupted move ends it (exit 0)" test $rc = 0
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "after the interrupted move both paths name blade $to AO" test "$ra" = "$(tpg_of $to)" -a "$rb" = "$(tpg_of $to)"
owner=$to
sleep 2
fio_stop_check $FIO /tmp/fio.out 25 fio
figure "moves: $moves"
figure "rtpg mismatches: $mismatches"

# the pause per move: the longest gap between completions from the move's start to
# its end plus the time multipath took, and the median multipath time
python3 - /tmp/moves ${FIO_LOG}_lat.1.log >/tmp/pause.out <<'P'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
moves = [r[:4] for r in rows]
backs = sorted(r[4] for r in rows)
def median(v):
    v = sorted(x for x in v if x >= 0)
    return v[len(v) // 2] / 1000.0 if v else -1
print(f"without agent {median(r[3] for r in rows if not r[5]):.3f}")
print(f"with agent {median(r[3] for r in rows if r[5]):.3f}")
t = sorted(int(l.split(',')[0]) for l in open(sys.argv[2]) if l.strip())
worst = 0.0
for n, t0, t1, mp in moves:
    end = t1 + max(mp, 0) + 1000
    w = [x for x in t if t0 - 1000 <= x <= end]
    gap = max((b - a for a, b in zip(w, w[1:])), default=end - t0) / 1000.0
    worst = max(worst, gap)
    print(f"move {n}: pause {gap:.3f} s, multipath on the new path {mp/1000.0:.3f} s")
mps = sorted(mp for _, _, _, mp in moves if mp >= 0)
med = mps[len(mps) // 2] / 1000.0 if mps else -1
print(f"max {worst:.3f}")
print(f"median {med:.3f}")
print(f"reinstated {backs[len(backs) // 2] / 1000.0 if backs else -1:.3f}")
P
cat /tmp/pause.out
maxp=$(awk '/^max/ {print $2}' /tmp/pause.out); med=$(awk '/^median/ {print $2}' /tmp/pause.out)
figure "max pause s: $maxp"
figure "multipath on new path s (median): $med"
figure "old path usable again s (median): $(awk '/^reinstated/ {print $2}' /tmp/pause.out)"
figure "multipath on new path s (median, without agent): $(awk '/^without agent/ {print $3}' /tmp/pause.out)"
figure "multipath on new path s (median, with vlun-hostd): $(awk '/^with agent/ {print $3}' /tmp/pause.out)"

# the agent saw the moves' ALUA changes and handled each without a failure
"$HOSTD" status --socket $HSOCK || true
hj=$("$HOSTD" status --json --socket $HSOCK 2>/dev/null) || hj='{}'
log "vlun-hostd status: $hj"
cp /var/log/vlun-hostd.log $VLUN_OUT/ 2>/dev/null || true
check "vlun-hostd saw ALUA changes on $mp and ran jobs for them" \
	jq -e --arg m "$mp" '.maps[] | select(.name == $m) | .events > 0 and .jobs > 0' <<<"$hj"
check "vlun-hostd: no job failed" jq -e '[.maps[].failures] | add == 0' <<<"$hj"
figure "vlun-hostd: switches it made: $(jq '[.maps[].switches] | add' <<<"$hj")"
# a forged ALUA event from a process (not the kernel) for a real path changes nothing
hctl=$(basename "$(readlink -f /sys/block/$pa/device)")
jobs0=$(jq '[.maps[].jobs] | add' <<<"$hj"); untr0=$(jq .untrusted <<<"$hj")
python3 - "$hctl" <<'F' || true
import socket, sys
dev = "/devices/platform/host0/session1/target0:0:0/" + sys.argv[1]
msg = ("change@%s\0ACTION=change\0DEVPATH=%s\0SUBSYSTEM=scsi\0DEVTYPE=scsi_device\0"
       "SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED\0SEQNUM=1\0" % (dev, dev)).encode()
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.bind((0, 0))
s.sendto(msg, (0, 1))
F
sleep 0.3
hj=$("$HOSTD" status --json --socket $HSOCK 2>/dev/null) || hj='{}'
check "a forged uevent (from a process, for path $hctl) is counted untrusted and runs no job" \
	test "$(jq .untrusted <<<"$hj")" -gt "$untr0" -a "$(jq '[.maps[].jobs] | add' <<<"$hj")" = "$jobs0"
check "every planned move paused I/O less than 2 s" awk -v p="$maxp" 'BEGIN { exit !(p != "" && p < 2) }'

# ---- a move whose old owner does not answer: --force ----
# (no I/O meanwhile: the stopped runner's path would hold commands until SCSI timeouts)
head -c 4M /dev/urandom >/tmp/pat
dd if=/tmp/pat of=$MP bs=1M count=4 oflag=direct conv=fsync status=none
if [ $owner = a ]; then
	# the owner must be b for this (the tool runs on a): move it there first
	rc=0; $VA move vm1 --to b --timeout 10 || rc=$?
	check "move to b before stopping it" test $rc = 0
fi
on_b stop-runner
t0=$(ms_now)
rc=0; $VA move vm1 --to a --timeout 5 >/tmp/safe.out 2>&1 || rc=$?
cat /tmp/safe.out
check "a safe move from a blade whose runner is stopped is refused (exit 4)" test $rc = 4
rc=0; $VA move vm1 --to a --timeout 15 --force || rc=$?
figure "forced move from a stopped owner s: $(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
check "the forced move takes vm1 to a (exit 0, or 8: the stopped blade cannot confirm)" test $rc = 0 -o $rc = 8
on_b start-runner
check "blade b's tcmu-runner restarted" test "${bres%% *}" = 0
ok=0
for i in $(seq 100); do
	[ "$(rtpg_ao $pb)" = 1 ] && [ "$(rtpg_ao $pa)" = 1 ] && { ok=1; break; }
	sleep 0.1
done
check "blade b, restarted, reports a AO like blade a" test $ok = 1
check "data written before the forced move reads back through multipath" \
	cmp -s /tmp/pat <(dd if=$MP bs=1M count=4 iflag=direct status=none)
rc=0; $VA status vm1 || rc=$?
check "vlun-alua status: every blade agrees (exit 0)" test $rc = 0

# --vm: the VM's exports move together; then vlun-config apply on both blades keeps the
# volume where it is now (b), not where the file says it starts (owner = a)
rc=0; $VA move --vm guest1 --to b --timeout 15 || rc=$?
check "vlun-alua move --vm guest1 --to b (exit 0)" test $rc = 0
rc=0; $VC apply --blade a $CONF >/tmp/apply.out 2>&1 || rc=$?
check "blade a: re-applying the file succeeds" test $rc = 0
on_b apply
check "blade b: re-applying the file succeeds" test "${bres%% *}" = 0
sleep 0.5
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "after re-applying on both blades vm1 stays on blade b (both paths: b AO)" test "$ra" = 2 -a "$rb" = 2
check "vlun-alua status names blade b the owner" sh -c "$VA status vm1 --json | jq -e '.volumes[0].owner == 2' >/dev/null"

# the libvirt hook, run as libvirt runs it: guest1 starts (or arrives) on blade a; a
# domain that is not a vlun VM changes nothing; then a domain whose metadata names guest1
# starts on blade b
HOOK="$VLUN_SRC/tools/libvirt/vlun-qemu-hook"
rc=0; printf '<domain type="kvm"><name>guest1</name></domain>' | VLUN_ALUA=$VA "$HOOK" guest1 prepare begin - || rc=$?
check "libvirt hook: guest1 prepare begin on blade a (exit 0)" test $rc = 0
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "after the hook on a both paths name blade a AO" test "$ra" = 1 -a "$rb" = 1
rc=0; printf '<domain type="kvm"><name>other</name></domain>' | VLUN_ALUA=$VA "$HOOK" other prepare begin - || rc=$?
check "libvirt hook: a domain that is not a vlun VM is left alone (exit 0)" test $rc = 0
check "... and vm1 stays on blade a" sh -c "$VA status vm1 --json | jq -e '.volumes[0].owner == 1' >/dev/null"
t0=$(ms_now)
on_b hook
check "libvirt hook on blade b: a domain whose <vlun:vm> metadata names guest1 (exit 0)" test "${bres%% *}" = 0
figure "libvirt hook: prepare begin to the move's end on the other blade s: $(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "after the hook on b both paths name blade b AO" test "$ra" = 2 -a "$rb" = 2

# ocf:vlun:volume on both blades: the promoted instance is where the volumes are
AG="$VLUN_SRC/tools/ocf/volume"
ocf_rc() { local rc=0; ocf_env "$AG" "$1" >/tmp/ocf.out 2>&1 || rc=$?; echo $rc; }
on_b ocf start; check "ocf: start on b (0)" test "${bres%% *}" = 0
check "ocf: start on a (0)" test "$(ocf_rc start)" = 0
check "ocf: monitor on a, started, not promoted (0)" test "$(ocf_rc monitor)" = 0
t0=$(ms_now)
check "ocf: promote on a (0)" test "$(ocf_rc promote)" = 0
figure "ocf: promote (the move to a) s: $(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
check "ocf: monitor on a after promote (8)" test "$(ocf_rc monitor)" = 8
on_b ocf monitor; check "ocf: monitor on b, not promoted (0)" test "${bres%% *}" = 0
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "after promote on a both paths name blade a AO" test "$ra" = 1 -a "$rb" = 1
# Pacemaker moves the promoted role: demote a, promote b
check "ocf: demote on a (0)" test "$(ocf_rc demote)" = 0
on_b ocf promote; check "ocf: promote on b (0)" test "${bres%% *}" = 0
on_b ocf monitor; check "ocf: monitor on b after promote (8)" test "${bres%% *}" = 8
check "ocf: monitor on a, demoted (0)" test "$(ocf_rc monitor)" = 0
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "after promote on b both paths name blade b AO" test "$ra" = 2 -a "$rb" = 2
# a promoted instance whose volumes another blade took: failed promoted (9)
check "ocf: promote on a again (0)" test "$(ocf_rc promote)" = 0
on_b ocf monitor; check "ocf: monitor on b, still marked promoted, volumes on a (9)" test "${bres%% *}" = 9
on_b ocf stop; check "ocf: stop on b (0)" test "${bres%% *}" = 0
on_b ocf monitor; check "ocf: monitor on b, stopped (7)" test "${bres%% *}" = 7
peer_put req.$((breq + 1)) done
barrier finished 900
kill $MPD ${HOSTD_PID:-} 2>/dev/null || true
cp /var/log/vlun-hostd.log $VLUN_OUT/ 2>/dev/null || true
multipath -F >/dev/null 2>&1 || true  # a map still in use: nothing to clean up in a guest that powers off
iscsiadm -m node -u >/dev/null 2>&1 || true
vm_collect_logs
cp /var/log/multipathd.log $VLUN_OUT/ 2>/dev/null || true
