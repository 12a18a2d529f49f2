# vlun-hostd on the real kernel and multipathd, in the cases the two-blade scenarios do
# not reach (test/vm/vm-run, one guest: it is target and hypervisor).  N LIO LUNs
# (fileio) behind two iSCSI portals (TPG 1 on port 3260, TPG 2 on 3261), each LUN in
# ALUA group 1 through portal 3260 and group 2 through 3261, one dm-multipath map per
# LUN (stock multipathd, the multipath.conf of docs/hypervisor.md), fio with crc32c
# verification on all but the last map throughout.  The ALUA states are set in LIO's
# configfs directly (what vlun's handler does on each blade at a move):
#   1. every LUN changes group at once (a burst): the events coalesce per map, every map
#      ends on the AO group, no job fails;
#   2. multipathd is stopped: the agent's jobs fail cleanly and it keeps running;
#      multipathd started again, the next burst is handled;
#   3. a map that disappears (multipathd del map) before its paths report the change:
#      the event is ignored, nothing else moves;
#   4. LUNs that are not the agent's vendor (--vendor): their ALUA events are ignored,
#      and another device's other unit attention (scsi_debug, capacity changed) is not
#      an ALUA event.
#   vm-run hostd [N]
N=${1:-8}
IQN=iqn.2026-12.org.vlun:hostd
HD="$VLUN_BUILD/tools/vlun-hostd/vlun-hostd"
. "$VLUN_SRC/test/vm/lib/hv-lib.sh"
CORE=$CFG/core/fileio_1

# ---- the target: N LUNs, two portals, two ALUA groups each ----
t1=$CFG/iscsi/$IQN/tpgt_1 t2=$CFG/iscsi/$IQN/tpgt_2
for t in $t1 $t2; do
	port=3260; [ $t = $t2 ] && port=3261
	mkdir -p $t/np/127.0.0.1:$port
	echo 1 >$t/attrib/generate_node_acls
	echo 0 >$t/attrib/demo_mode_write_protect
	echo 0 >$t/attrib/authentication
	echo 1 >$t/attrib/cache_dynamic_acls
done
setup_lun() {
	local i=$1 d=$CORE/hd$1 g
	truncate -s 16M /tmp/hd$i.img
	fileio_backstore hd$i /tmp/hd$i.img 16777216 || return 1
	echo "vlun-hostd-test-$i" >$d/wwn/vpd_unit_serial || return 1
	for g in 1 2; do
		mkdir $d/alua/g$g || return 1
		echo $g >$d/alua/g$g/tg_pt_gp_id
		echo 1 >$d/alua/g$g/alua_access_type
		echo 1 >$d/alua/g$g/alua_support_standby
	done
	echo 0 >$d/alua/g1/alua_access_state
	echo 2 >$d/alua/g2/alua_access_state
	mkdir $t1/lun/lun_$i $t2/lun/lun_$i || return 1
	ln -s $d $t1/lun/lun_$i/hd$i && ln -s $d $t2/lun/lun_$i/hd$i || return 1
	echo g1 >$t1/lun/lun_$i/alua_tg_pt_gp && echo g2 >$t2/lun/lun_$i/alua_tg_pt_gp
}
ok=1
for i in $(seq 0 $((N - 1))); do setup_lun $i || { ok=0; break; }; done
check "$N fileio LUNs, each in ALUA group 1 (port 3260, AO) and 2 (port 3261, standby)" test $ok = 1
echo 1 >$t1/enable; echo 1 >$t2/enable

# flip G [FIRST LAST]: every LUN's (or those LUNs') group G becomes AO, the other
# Standby (the old one first: no moment with two AO groups), as fast as the shell
# writes configfs
flip() {
	local i o=$((3 - $1))
	for i in $(seq ${2:-0} ${3:-$((N - 1))}); do
		echo 2 >$CORE/hd$i/alua/g$o/alua_access_state
		echo 0 >$CORE/hd$i/alua/g$1/alua_access_state
	done
}

# ---- the hypervisor: both portals, one map per LUN ----
hv_multipath_conf
/lib/systemd/systemd-udevd --daemon >/var/log/udevd.log 2>&1 || true
pgrep -x iscsid >/dev/null || { setsid iscsid -f >/var/log/iscsid.log 2>&1 & sleep 0.5; }
iscsiadm -m discovery -t st -p 127.0.0.1:3260 >/dev/null || true
check "login to both portals" timeout 60 iscsiadm -m node -T $IQN -l
# the sd device of LUN $1 through port $2
path_at() {
	local c s
	for c in /sys/class/iscsi_connection/connection*; do
		[ "$(cat $c/persistent_port 2>/dev/null)" = "$2" ] || continue
		s=$(basename "$(readlink -f $c/device/..)")
		ls /sys/class/iscsi_session/$s/device/target*/*:0:0:$1/block/ 2>/dev/null | head -1
		return 0
	done
}
declare -a P1 P2 MAP
paths_found() {
	local i
	for i in $(seq 0 $((N - 1))); do
		P1[$i]=$(path_at $i 3260); P2[$i]=$(path_at $i 3261)
		[ -n "${P1[$i]}" ] && [ -n "${P2[$i]}" ] || return 1
	done
}
for i in $(seq 100); do paths_found && break; sleep 0.2; done
check "two paths to each of the $N LUNs" paths_found
timeout 30 udevadm settle || true
MPLOG=/var/log/multipathd.log
start_mpd() {
	multipathd -d -s -v2 >>$MPLOG 2>&1 &
	MPD=$!
	local i n
	for i in $(seq 120); do
		n=$(timeout 5 multipathd show maps raw format "%n %N" 2>/dev/null | awk '$2 == 2' | wc -l) || true
		[ "$n" = $N ] && return 0
		sleep 0.25
	done
	return 1
}
check "multipathd built $N maps of two paths" start_mpd
maps_found() {
	local i h
	for i in $(seq 0 $((N - 1))); do
		h=$(ls /sys/block/${P1[$i]}/holders/ 2>/dev/null | head -1)
		[ -n "$h" ] || return 1
		MAP[$i]=$(cat /sys/block/$h/dm/name)
	done
}
check "each LUN's map found" maps_found
log "maps: ${MAP[*]}"

# ---- the agent, and fio on maps 0..N-2 ----
start_hostd() { # start_hostd [OPTIONS]
	"$HD" --foreground --verbose "$@" >>/var/log/vlun-hostd.log 2>&1 &
	HDP=$!
	local i
	for i in $(seq 100); do "$HD" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
check "vlun-hostd runs" start_hostd
fargs=()
for i in $(seq 0 $((N - 2))); do fargs+=(--name=m$i --filename=/dev/mapper/${MAP[$i]}); done
fio --rw=randwrite --bs=4k --size=8M --direct=1 --ioengine=libaio --iodepth=2 --rate_iops=25 \
	--time_based --runtime=900 --verify=crc32c --verify_backlog=32 --verify_fatal=1 \
	"${fargs[@]}" --output=/tmp/fio.out >/dev/null 2>&1 &
FIO=$!
sleep 2
kill -0 $FIO || fail "fio did not start"

st() { "$HD" status --json 2>/dev/null; }
# stv EXPR...: one status, the values of the jq expressions, one per word
stv() { local e; e=$(IFS=,; echo "$*"); st | jq -r "[$e] | @tsv"; }
pg() { if [ $1 = 1 ]; then echo ${P1[$2]}; else echo ${P2[$2]}; fi; } # pg G LUN: its group-G path
# wait_writes G T: every fio'd map's writes go down its group-G path, within T s; sets
# MS (each map's time in ms, sorted).  No forks in the loop: they cost a TCG guest
# under I/O tens of milliseconds each.
wr() { local a b c d w; read -r a b c d w _ </sys/block/$1/stat; W=$w; }
wait_writes() {
	local -n pp=P$1
	local i w0=() at=() left=$(($2 * 100)) n t t0=${EPOCHREALTIME/./}
	for i in $(seq 0 $((N - 2))); do wr ${pp[$i]}; w0[$i]=$W; done
	while [ $left -gt 0 ]; do
		n=0
		for ((i = 0; i < N - 1; i++)); do
			if [ -z "${at[$i]}" ]; then
				wr ${pp[$i]}
				[ "$W" != "${w0[$i]}" ] && { t=${EPOCHREALTIME/./}; at[$i]=$(((t - t0) / 1000)); }
			fi
			[ -n "${at[$i]}" ] && n=$((n + 1))
		done
		[ $n = $((N - 1)) ] && { MS=$(printf '%s\n' "${at[@]}" | sort -n | tr '\n' ' '); return 0; }
		nap 0.01; left=$((left - 1))
	done
	return 1
}
# how many fio'd maps multipathd has on their group-G path (one look at every map)
on_group() {
	local g=$1 i n=0 act
	act=$(timeout 10 multipathd show maps json 2>/dev/null |
		jq -r '.maps[] | .name as $n | .path_groups[] | select(.dm_st == "active") | .paths[] | "\($n) \(.dev)"')
	for i in $(seq 0 $((N - 2))); do
		grep -qx "${MAP[$i]} $(pg $g $i)" <<<"$act" && n=$((n + 1))
	done
	echo $n
}
# the agent's busy maps have finished (status: no map busy), within 10 s
settled() {
	local i
	for i in $(seq 100); do
		st | jq -e '[.maps[] | select(.busy)] | length == 0' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ---- 1. a burst: every LUN changes group at once ----
e0=$(stv .alua_events)
flip 2
check "burst 1: fio's writes on every map go down the group-2 path" wait_writes 2 30
figure "burst of $N LUNs: each map on the new path ms (sorted): $MS"
check "burst 1: the agent settled" settled
S=$(st)
jq -c '.maps[] | {name, events, jobs, switches, failures, r: .last.result, ms: .last.took_ms}' <<<"$S" | sed 's/^/  /'
read -r ev jobs fails took allok < <(jq -r "[.alua_events - $e0, ([.maps[].jobs] | add),
	([.maps[].failures] | add), ([.maps[].last.took_ms] | max),
	([.maps[].last.result | test(\"^(switched|already)\")] | all)] | @tsv" <<<"$S")
figure "burst of $N LUNs: ALUA events $ev, jobs $jobs"
figure "burst of $N LUNs: slowest job ms after its map's first event: $took"
check "burst 1: an event from each LUN's map, $ev in all" test "$ev" -ge $((N - 1))
check "burst 1: coalesced: at most one job per event ($jobs jobs)" test "$jobs" -le "$ev"
check "burst 1: no job failed" test "$fails" = 0
check "burst 1: every map's last result is a switch or already there" test "$allok" = true
n=$(on_group 2)
check "burst 1: multipathd has every fio'd map on group 2 ($n of $((N - 1)))" test "$n" = $((N - 1))

# ---- 2. multipathd stops; the agent keeps running; multipathd comes back ----
kill $MPD; wait $MPD 2>/dev/null || true
f0=$(stv '([.maps[].failures] | add)')
flip 1
check "without multipathd: the kernel still moves the writes to group 1" wait_writes 1 60
figure "without multipathd: each map on the new path ms (sorted): $MS"
check "without multipathd: the agent settled" settled
read -r f1 why < <(stv '([.maps[].failures] | add)' '([.maps[].last.result | select(test("multipathd"))] | length)')
check "without multipathd: its jobs failed ($((f1 - f0)))" test "$f1" -gt "$f0"
check "without multipathd: the job results say why ($why maps)" test "$why" -gt 0
check "without multipathd: the agent still runs and answers" kill -0 $HDP
check "multipathd started again: $N maps" start_mpd
flip 2
check "multipathd back: the writes go down group 2" wait_writes 2 30
check "multipathd back: the agent settled" settled
f2=$(stv '([.maps[].failures] | add)')
check "multipathd back: no job failed ($((f2 - f1)))" test "$f2" = "$f1"
n=$(on_group 2)
check "multipathd back: every fio'd map on group 2 ($n of $((N - 1)))" test "$n" = $((N - 1))

# ---- 3. a map disappears before its paths report the change ----
last=$((N - 1)) lm=${MAP[$((N - 1))]}
check "the idle map $lm is removed (multipathd del map)" timeout 10 multipathd del map $lm
for i in $(seq 50); do [ -z "$(ls /sys/block/${P1[$last]}/holders/)" ] && break; sleep 0.1; done
check "its paths are no map's any more" test -z "$(ls /sys/block/${P1[$last]}/holders/)"
read -r i0 j0 < <(stv .ignored '([.maps[].jobs] | add)')
flip 1 $last $last
# the idle LUN's paths get the unit attention on their next command
sg_turs /dev/${P1[$last]} >/dev/null 2>&1 || true
sg_turs /dev/${P2[$last]} >/dev/null 2>&1 || true
sg_turs /dev/${P1[$last]} >/dev/null 2>&1 || true
for i in $(seq 50); do read -r i1 j1 < <(stv .ignored '([.maps[].jobs] | add)'); [ "$i1" -gt "$i0" ] && break; sleep 0.1; done
check "the gone map's paths: ALUA change ignored ($((i1 - i0)))" test "$i1" -gt "$i0"
check "the gone map's paths: no job started ($((j1 - j0)))" test "$j1" = "$j0"
grep "ignored (not a path" /var/log/vlun-hostd.log | tail -2 | sed 's/^/  /'

# ---- 4. not the agent's vendor ----
kill $HDP; wait $HDP 2>/dev/null || true
check "vlun-hostd --vendor NOTLIO runs" start_hostd --vendor NOTLIO
flip 1
check "another vendor: the kernel moves the writes to group 1" wait_writes 1 60
sleep 1
read -r ig nm < <(stv .ignored '(.maps | length)')
check "another vendor: every ALUA change ignored ($ig), no map watched ($nm)" test "$ig" -ge $((N - 1)) -a "$nm" = 0
grep "another vendor's LUN" /var/log/vlun-hostd.log | tail -1 | sed 's/^/  /'
modprobe scsi_debug dev_size_mb=8 2>/dev/null
sd=
for i in $(seq 50); do
	for h in /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*:*:*:*; do
		[ -d "$h/block" ] && sd=$(ls $h/block | head -1)
	done
	[ -n "$sd" ] && break; sleep 0.1
done
check "a scsi_debug disk ($sd)" test -n "$sd"
timeout 5 udevadm settle || true
a0=$(stv .alua_events)
udevadm monitor --kernel --property --subsystem-match=scsi >/tmp/uevents.txt 2>&1 &
UM=$!
sleep 0.5
echo 1 >/sys/bus/pseudo/drivers/scsi_debug/virtual_gb
sg_turs /dev/$sd >/dev/null 2>&1 || true
for i in $(seq 50); do grep -q "SDEV_UA=CAPACITY_DATA_HAS_CHANGED" /tmp/uevents.txt && break; sleep 0.1; done
sleep 0.5
kill $UM 2>/dev/null || true
a1=$(stv .alua_events)
check "scsi_debug's unit attention (capacity changed) came as a kernel uevent" \
	grep -q "SDEV_UA=CAPACITY_DATA_HAS_CHANGED" /tmp/uevents.txt
check "... and the agent did not take it for an ALUA change ($((a1 - a0)))" test "$a1" = "$a0"

# ---- the data ----
fio_stop_check $FIO /tmp/fio.out 8 "fio through all of it"
kill $HDP $MPD 2>/dev/null || true
cp /var/log/vlun-hostd.log $MPLOG $VLUN_OUT/ 2>/dev/null || true
multipath -F >/dev/null 2>&1 || true
iscsiadm -m node -u >/dev/null 2>&1 || true
vm_collect_logs
