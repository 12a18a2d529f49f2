#!/bin/bash
# ocf:vlun:volume (tools/ocf/volume) against a fake handler control socket (fake-ctl.py):
# Debian's ocf-tester (resource-agents) runs its checks, then what ocf-tester does not
# check: monitor 8 after promote where this blade owns the volume, 0 where the instance
# is not promoted, 9 when another blade took it, 7 when stopped, 1 when the handler does
# not answer; promote's move request (and --force only when the owner does not let go);
# validate-all's refusals.  On real blades: vm/alua-switch.
#   test-ocf-volume.sh PATH-TO-agent PATH-TO-vlun-alua
set -u
AGENT=$(readlink -f "${1:?usage: test-ocf-volume.sh PATH-TO-agent PATH-TO-vlun-alua}")
ALUA=$(readlink -f "${2:?usage: test-ocf-volume.sh PATH-TO-agent PATH-TO-vlun-alua}")
HERE=$(cd "$(dirname "$0")" && pwd)
command -v ocf-tester >/dev/null || { echo "FAIL: ocf-tester is not installed (tools/install-deps.sh test: resource-agents)"; exit 1; }
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-ocf-test.XXXXXX")
chmod 755 "$T"
FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export VLUN_CTL_SOCKET=$T/ctl.sock HA_RSCTMP=$T/rsctmp OCF_ROOT=/usr/lib/ocf
A=$T/answers LOG=$T/requests.log
mkdir -p "$A"
python3 "$HERE/fake-ctl.py" "$VLUN_CTL_SOCKET" "$A" "$LOG" & FAKE_PID=$!
for i in $(seq 100); do [ -S "$VLUN_CTL_SOCKET" ] && break; sleep 0.05; done
chmod 666 "$VLUN_CTL_SOCKET"
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
BLADES='blade name=blade-a host=1 alive=1 answering=1 age_ms=120 local=1;blade name=blade-b host=2 alive=1 answering=1 age_ms=80 local=0'
owner() { echo "0 $BLADES;vol name=vm1-disk slot=0 owner=$1 epoch=7 last_owner=$1 states=1:$1,2:$1 moving=" >$A/alua-status_shared0; }
owner 1
echo '0 vol name=vm1-disk from=2 to=1 epoch=8 result=moved ask_ms=1 release_ms=2 acquire_ms=3 states_ms=4 total_ms=10 lagging=' >$A/alua-move_shared0
export OCF_RESOURCE_INSTANCE=vol1 OCF_RESKEY_volume=shared0/vm1-disk OCF_RESKEY_vlun_alua=$ALUA OCF_RESKEY_config=$T/no-vlun.conf
act() { # act EXPECTED-RC ACTION: output in $OUT
	local want=$1; shift
	: >"$LOG"
	OUT=$("$AGENT" "$@" 2>&1); local rc=$?
	[ $rc = "$want" ] && ok || { bad "$* -> $rc, expected $want"; echo "$OUT" | tail -5 | sed 's/^/    /'; }
}
sent() { grep -qF -- "$1" "$LOG" && ok || { bad "no request '$1': $(cat "$LOG")"; }; }

# --- ocf-tester ---
out=$(ocf-tester -n vol1 -o volume=shared0/vm1-disk -o vlun_alua="$ALUA" -o config="$T/no-vlun.conf" "$AGENT" 2>&1); rc=$?
echo "$out" | sed 's/^/  ocf-tester: /'
[ $rc = 0 ] && grep -q "passed all tests" <<<"$out" && ok || bad "ocf-tester failed (exit $rc)"
rm -rf "$HA_RSCTMP"

# --- the roles ---
act 7 monitor
act 0 start; sent "alua-status shared0"
act 0 monitor                 # started, owner here, not promoted: unpromoted
act 0 promote; sent "alua-move shared0 1 30000 safe vm1-disk"
act 8 monitor
act 0 promote                 # promoting the promoted: no move
grep -q alua-move "$LOG" && bad "a second promote moved again" || ok
owner 2                       # another blade took it: ownership broken
act 9 monitor; grep -q "another blade owns" <<<"$OUT" && ok || bad "no reason for 9: $OUT"
act 0 demote
act 0 monitor                 # unpromoted, wherever the volume is
owner 1
# promote where the owner does not let go: --force (force=true), not with force=false
echo '-16 vol name=vm1-disk from=2 to=1 epoch=7 result=failed err=-16 why=the_owner_did_not_let_go lagging=' >$A/alua-move_shared0_1_30000_safe_vm1-disk
owner 2
echo '0 vol name=vm1-disk from=2 to=1 epoch=9 result=moved total_ms=10 lagging=' >$A/alua-move_shared0_1_30000_force_vm1-disk
OCF_RESKEY_force=false act 1 promote; grep -q force "$LOG" && bad "force=false forced" || ok
act 0 promote; sent "alua-move shared0 1 30000 safe vm1-disk"; sent "alua-move shared0 1 30000 force vm1-disk"
owner 1
act 8 monitor
rm -f $A/alua-move_shared0_1_30000_safe_vm1-disk $A/alua-move_shared0_1_30000_force_vm1-disk
# a move that fails otherwise: promote fails, not promoted
act 0 demote
echo '-112 the blade with host id 1 does not answer' >$A/alua-move_shared0
owner 2
act 1 promote; act 0 monitor
# the handler gone: monitor of a started instance is an error; stop still succeeds
echo '@close' >$A/alua-status_shared0
act 1 monitor; grep -q "does not answer" <<<"$OUT" && ok || bad "no reason: $OUT"
act 0 stop; act 7 monitor; act 0 stop
act 1 start                   # cannot start without a handler
owner 1
# --- validate-all ---
act 0 validate-all
OCF_RESKEY_vm=guest1 act 6 validate-all
OCF_RESKEY_volume= act 6 validate-all
OCF_RESKEY_volume='x;rm -rf /' act 6 validate-all
OCF_RESKEY_move_timeout=0 act 6 validate-all
OCF_RESKEY_move_timeout=soon act 6 validate-all
OCF_RESKEY_vlun_alua=/nonexistent act 5 validate-all
OCF_RESKEY_vlun_alua=/nonexistent act 0 stop
# a probe where vlun-alua is missing: not running here (7), as probes of uninstalled software
OCF_RESKEY_vlun_alua=/nonexistent OCF_RESKEY_CRM_meta_interval=0 OCF_RESKEY_CRM_meta_op_target_rc=7 act 7 monitor
touch "$HA_RSCTMP/vlun-volume-vol1.started"; OCF_RESKEY_vlun_alua=/nonexistent OCF_RESKEY_CRM_meta_interval=10000 act 5 monitor; rm -f "$HA_RSCTMP/vlun-volume-vol1.started"
act 0 meta-data; xmllint --noout - <<<"$OUT" 2>/dev/null && ok || bad "meta-data is not XML"
echo "$passes passed, $fails failed"
[ $fails = 0 ]
