# Helpers for scenarios running inside the test VM (sourced by guest-init).
CFG=/sys/kernel/config/target
export VLUN_CONFIG_DIR=/var/lib/vlun/etc
VLUNCTL=$VLUN_BUILD/tools/vlunctl/vlunctl
IQN=iqn.2026-11.org.vlun:test

log() { printf '[%(%T)T] %s\n' -1 "$*"; }
pass() { log "PASS: $*"; }
fail() { log "FAIL: $*"; touch $VLUN_OUT/failed; }
verdict() { echo "$1" >$VLUN_OUT/verdict; [ -n "${2:-}" ] && log "verdict $1: $2"; }
figure() { echo "$*" >>$VLUN_OUT/figures; log "figure: $*"; }
ms_now() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); } # wall-clock milliseconds
# nap [SECONDS]: a pause (default 50 ms) without a fork.  The waits poll; with a sleep
# (and a cut and an awk) per turn a waiting 1-vCPU blade spent its CPU on forks that the
# target beside it needed.
nap() {
	[ -n "${_NAP_FD:-}" ] || { mkfifo /tmp/.nap.$BASHPID && exec {_NAP_FD}<>/tmp/.nap.$BASHPID && rm -f /tmp/.nap.$BASHPID; }
	read -r -t "${1:-0.05}" -u $_NAP_FD _ || true
}
check() { # check DESCRIPTION CMD... : pass/fail on the command's status
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; return 1; fi
}

# fio_stop_check PID OUT LINES WHAT: stop a verifying fio (SIGINT), show OUT's last LINES,
# check "WHAT: no verification failure and no I/O error", figure its verify errors
fio_stop_check() {
	local frc=0 verrs ioerrs
	kill -INT $1 2>/dev/null || true; wait $1 || frc=$?
	tail -$3 $2
	verrs=$(grep -c -i "verify.*fail\|bad magic\|crc32c.*wanted" $2 || true)
	ioerrs=$( (grep -o 'err= *[0-9]*' $2 || true) | (grep -v 'err= *0' || true) | wc -l)
	check "$4: no verification failure and no I/O error (exit $frc)" test $verrs = 0 -a $ioerrs = 0
	figure "verify errors: $verrs"
}

vm_start_target() {
	modprobe -a configfs target_core_mod target_core_user target_core_file target_core_iblock \
		iscsi_target_mod tcm_loop iscsi_tcp sd_mod sg scsi_transport_iscsi libiscsi \
		dm_multipath dm_round_robin dm_service_time scsi_dh_alua 2>/dev/null
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	[ -d $CFG ] || { log "no LIO in this kernel"; return 1; }
	# LIO keeps persistent reservations under its dbroot and fails PR OUT REGISTER without
	# pr/ (vlun-config apply creates it; scenarios that build targets by hand need it too)
	mkdir -p "$(cat $CFG/dbroot)/pr" || return 1
	mkdir -p /run/dbus && dbus-daemon --system --fork || return 1
	vm_start_runner
}

. "$VLUN_SRC/tools/appliance/runner.sh"
vm_start_runner() {
	if runner_start "${VLUN_HANDLER_PATH:-$VLUN_BUILD/handler/tcmu}" /var/log; then
		log "tcmu-runner up (pid $RUNNER_PID)"
	else
		log "tcmu-runner did not start"; return 1
	fi
}

vm_collect_logs() {
	cp /var/log/tcmu-runner.log $VLUN_OUT/tcmu-runner.log 2>/dev/null
	dmesg >$VLUN_OUT/dmesg.log 2>/dev/null
}

# make_pool NAME SIZE-PER-MEMBER NMEMBERS [vlunctl options]
make_pool() {
	local name=$1 size=$2 n=$3; shift 3
	local m=()
	for i in $(seq 0 $((n - 1))); do
		truncate -s "$size" /var/lib/vlun/$name-m$i.img; m+=(/var/lib/vlun/$name-m$i.img)
	done
	$VLUNCTL -q pool create "$name" "${m[@]}" "$@"
}

vol_serial() { $VLUNCTL --json vol show "$1" | jq -r .serial; }

# user_backstore NAME POOL/VOL SIZE : a user:vlun backstore through configfs
vm_fast_path() { # vm_fast_path on|off: the handler's fast path, through its control socket
	python3 - "$1" <<'PY' || { fail "fast-path $1 on the control socket"; return 1; }
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ.get("VLUN_CTL_SOCKET", "/run/vlun/handler.sock"))
s.sendall(("fast-path %s\n" % sys.argv[1]).encode())
answer = s.makefile().readline()
sys.exit(0 if answer.startswith("0 ") else answer)
PY
}

user_backstore() { # user_backstore NAME POOL/VOLUME SIZE [CONTROL-OPTION...]
	local d=$CFG/core/user_1/$1 o
	mkdir -p $d || return 1
	echo -n "dev_config=vlun/$2" >$d/control || return 1
	echo -n "dev_size=$3" >$d/control || return 1
	for o in "${@:4}"; do echo -n "$o" >$d/control || return 1; done
	echo -n 1 >$d/enable || return 1
	echo "$(vol_serial "$2")" >$d/wwn/vpd_unit_serial
}

# fileio_backstore NAME FILE SIZE
fileio_backstore() {
	local d=$CFG/core/fileio_1/$1
	mkdir -p $d || return 1
	echo -n "fd_dev_name=$2,fd_dev_size=$3" >$d/control || return 1
	echo -n 1 >$d/enable
}

# iscsi_export LUN BACKSTORE-PATH(relative to core/) [IQN] : demo-mode target on 127.0.0.1
iscsi_export() {
	local lun=$1 bs=$2 iqn=${3:-$IQN}
	local t=$CFG/iscsi/$iqn/tpgt_1
	if [ ! -d $t ]; then
		mkdir -p $t/np/127.0.0.1:3260 || return 1
		echo 1 >$t/attrib/generate_node_acls
		echo 0 >$t/attrib/demo_mode_write_protect
		echo 0 >$t/attrib/authentication
		echo 1 >$t/attrib/cache_dynamic_acls
		echo 1 >$t/enable
	fi
	mkdir -p $t/lun/lun_$lun && ln -s $CFG/core/$bs $t/lun/lun_$lun/$(basename $bs)
}

iscsi_login() { # iscsi_login [IQN] : log in and print the new disk's /dev path
	local iqn=${1:-$IQN}
	pgrep -x iscsid >/dev/null || { setsid iscsid -f >/var/log/iscsid.log 2>&1 & sleep 0.5; }
	iscsiadm -m discovery -t st -p 127.0.0.1 >/dev/null || return 1
	iscsiadm -m node -T $iqn -p 127.0.0.1 -l >/dev/null || return 1
	for i in $(seq 100); do
		local disk; disk=$(iscsiadm -m session -P3 2>/dev/null | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p' | head -1)
		[ -n "$disk" ] && [ -b /dev/$disk ] && { echo /dev/$disk; return 0; }
		sleep 0.1
	done
	return 1
}
iscsi_logout() { iscsiadm -m node -u >/dev/null 2>&1 || true; }

# lun_disk LUN : the /dev path of the logged-in session's disk for LUN
lun_disk() {
	local d
	for i in $(seq 50); do
		d=$(ls /sys/bus/scsi/devices/*:*:*:$1/block/ 2>/dev/null | head -1)
		[ -n "$d" ] && [ -b /dev/$d ] && { echo /dev/$d; return 0; }
		sleep 0.1
	done
	return 1
}
