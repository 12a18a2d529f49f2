#!/bin/bash
# The libvirt qemu hook (tools/libvirt/vlun-qemu-hook) run as libvirt runs it (arguments,
# the domain XML on stdin) against a stub vlun-alua that records its calls: which
# operations act, the VM name from the domain or its <vlun:vm> metadata, a domain that is
# not a vlun VM, bad names, and a failed move refusing the start.  On real blades:
# vm/alua-switch.
#   test-libvirt-hook.sh PATH-TO-vlun-qemu-hook
set -u
HOOK=${1:?usage: test-libvirt-hook.sh PATH-TO-vlun-qemu-hook}
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-hook-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# the stub: logs "ARGS" per call; its status answer and move exit come from files
cat >$T/vlun-alua <<'S'
#!/bin/sh
echo "$*" >>"$STUB_DIR/calls"
case " $* " in
*" status "*) cat "$STUB_DIR/status.out" 2>/dev/null; exit "$(cat "$STUB_DIR/status.rc" 2>/dev/null || echo 0)" ;;
*" move "*) echo "moving..."; exit "$(cat "$STUB_DIR/move.rc" 2>/dev/null || echo 0)" ;;
esac
exit 1
S
chmod +x $T/vlun-alua
export STUB_DIR=$T VLUN_ALUA=$T/vlun-alua VLUN_CONF=$T/vlun.conf
hook() { # hook EXPECTED-EXIT XML ARGS...: stderr in $ERR, calls in $CALLS
	local want=$1 xml=$2; shift 2
	: >$T/calls
	printf '%s' "$xml" | "$HOOK" "$@" 2>$T/err; local rc=$?
	ERR=$(cat $T/err); CALLS=$(cat $T/calls)
	[ $rc = "$want" ] && ok || { bad "hook $* -> exit $rc, expected $want: $ERR"; }
}
called() { grep -qxF -- "$1" <<<"$CALLS" && ok || { bad "no call '$1'; calls: $CALLS"; }; }
nocalls() { [ -z "$CALLS" ] && ok || bad "expected no vlun-alua call for $1; calls: $CALLS"; }
XML='<domain type="kvm"><name>web1</name><uuid>0b5a5c6e-4f4e-4e7e-9d7e-1f2a3b4c5d6e</uuid></domain>'
META='<domain type="kvm"><name>web1</name><metadata><vlun:vm xmlns:vlun="https://vlun.dev/xmlns/libvirt/1">guest7</vlun:vm></metadata></domain>'

echo 0 >$T/status.rc; echo '{"volumes":[]}' >$T/status.out; echo 0 >$T/move.rc
# prepare begin: status, then the move, with the default timeout
hook 0 "$XML" web1 prepare begin -
called "--json status --vm web1"; called "move --vm web1 --to here --timeout 30"
grep -q "domain web1 (VM web1): its volumes are on this blade" <<<"$ERR" && ok || bad "no success log: $ERR"
# the outcome also goes to VLUN_HOOK_LOG (libvirt drops a successful hook's output)
VLUN_HOOK_LOG=$T/hook.log hook 0 "$XML" web1 prepare begin -
grep -q "^[0-9-]* [0-9:]* vlun hook: domain web1 (VM web1): its volumes are on this blade" $T/hook.log 2>/dev/null && ok ||
	bad "no dated line in VLUN_HOOK_LOG: $(cat $T/hook.log 2>&1)"
echo 1 >$T/move.rc
VLUN_HOOK_LOG=$T/hook.log hook 1 "$XML" web1 prepare begin -
grep -q "vlun hook: domain web1 (VM web1): moving its volumes here failed" $T/hook.log && ok || bad "no failure line in VLUN_HOOK_LOG"
echo 0 >$T/move.rc
VLUN_HOOK_TIMEOUT=12 hook 0 "$XML" web1 prepare begin -
called "move --vm web1 --to here --timeout 12"
# the other operations act on nothing (also a migration's other steps, and the source side)
for op in "migrate begin" "start begin" "started begin" "stopped end" "release end" "reconnect begin" "attach begin"; do
	hook 0 "$XML" web1 $op -; nocalls "$op"
done
# the VM name from the metadata
hook 0 "$META" web1 prepare begin -
called "move --vm guest7 --to here --timeout 30"
# not a vlun VM: left alone
echo 3 >$T/status.rc; echo '{"error":"no export of VM '"'web1'"' in /etc/vlun/vlun.conf (VMs: vm1)","exit_code":3}' >$T/status.out
hook 0 "$XML" web1 prepare begin -
called "--json status --vm web1"; grep -q "^move" <<<"$CALLS" && bad "moved a VM that is not vlun's" || ok
# another not-found (a pool vlun.conf names is unknown): refuse, do not guess
echo '{"error":"no pool shp","exit_code":3}' >$T/status.out
hook 1 "$XML" web1 prepare begin -
grep -q "vlun-alua status failed (exit 3)" <<<"$ERR" && ok || bad "status failure not reported: $ERR"
# no handler on this node
echo 1 >$T/status.rc; echo '{"error":"cannot talk to the vlun handler","exit_code":1}' >$T/status.out
hook 1 "$XML" web1 prepare begin -
# status 6 (some blade disagrees) still moves; a failed move refuses the start
echo 6 >$T/status.rc; echo '{}' >$T/status.out
hook 0 "$XML" web1 prepare begin -; called "move --vm web1 --to here --timeout 30"
echo 0 >$T/status.rc; echo 4 >$T/move.rc
hook 1 "$XML" web1 prepare begin -
grep -q "moving its volumes here failed (vlun-alua exit 4" <<<"$ERR" && grep -q "refusing the start" <<<"$ERR" && ok || bad "failed move not reported: $ERR"
grep -q -- "--force" <<<"$CALLS" && bad "the hook used --force" || ok
echo 0 >$T/move.rc
# bad names and bad input
hook 1 '<domain><name>x</name><metadata><vlun:vm xmlns:vlun="https://vlun.dev/xmlns/libvirt/1">bad name;rm</vlun:vm></metadata></domain>' x prepare begin -
grep -q "is not a vlun VM name" <<<"$ERR" && ok || bad "a hostile VM name was not refused: $ERR"; nocalls "a bad name"
hook 1 "$XML" '-rf' prepare begin -; nocalls "a domain named -rf"
hook 1 '<domain><name>x</name><metadata><vlun:vm xmlns:vlun="https://vlun.dev/xmlns/libvirt/1"></vlun:vm></metadata></domain>' x prepare begin -
grep -q "metadata is empty" <<<"$ERR" && ok || bad "empty metadata not refused: $ERR"
hook 2 "" ; grep -q usage <<<"$ERR" && ok || bad "no usage: $ERR"
echo "$passes passed, $fails failed"
[ $fails = 0 ]
