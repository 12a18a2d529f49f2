#!/bin/bash
# The README's first command, run exactly as written, as a new user would: it must bring
# up a target (appliance mode on a kernel without LIO) that libiscsi reaches on
# 127.0.0.1:3260; data written survives SIGTERM and a second start; vlunctl works against
# the running target.  Also checks that the README's two commands are the ones the tests
# and .ci/run use.  Exit 77 (skip) only where qemu cannot run at all.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/up/up-lib.sh
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# no drift: the README's commands are the ones used here and by CI
# the first line of each code block in the README's "Two commands" section
cmds=$(awk '/^## /{sec = ($0 == "## Two commands")} sec && /^```/{inb = !inb; if (inb) {getline; print}}' README.md)
first=$(sed -n 1p <<<"$cmds"); second=$(sed -n 2p <<<"$cmds")
[ "$first" = "tools/vlun-up" ] && ok "README's first command is tools/vlun-up" || bad "README's first command is '$first'"
[ "$second" = "test/run-all" ] && ok "README's second command is test/run-all" || bad "README's second command is '$second'"
grep -qx 'exec test/run-all' .ci/run && ok ".ci/run runs the README's second command" || bad ".ci/run drifted"

# usage errors exit 2 before anything starts
for a in "--mode bogus" "--port 0" "--frob"; do
	tools/vlun-up $a >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] && ok "vlun-up $a: usage error (exit 2)" || bad "vlun-up $a: exit $rc"
done
tools/vlun-up --help | grep -q -- "--mode native|appliance" && ok "vlun-up --help" || bad "vlun-up --help"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu"; exit 77; }
[ -e /proc/self/fd ] || exit 77
DATA=/var/lib/vlun-demo
IQN=iqn.2026-11.org.vlun:demo
URL=iscsi://127.0.0.1:3260/$IQN
LOG=$(mktemp "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-up.XXXXXX")
# a user's own demo data is set aside for the test and put back afterwards
SAVED=
[ -e $DATA ] && { SAVED=$DATA.before-test.$$; mv $DATA $SAVED; }
UP=
finish() {
	[ -n "$UP" ] && kill -TERM $UP 2>/dev/null && wait $UP
	rm -f $LOG
	[ -n "$SAVED" ] && rm -rf $DATA && mv $SAVED $DATA
}
trap finish EXIT
start_up() { # the README's first command, exactly; wait until it says the target is up
	: >$LOG
	bash -c "$first" >$LOG 2>&1 &
	UP=$!
	up_wait $LOG $UP 900 1
}
stop_up() {
	kill -TERM $UP; wait $UP; local rc=$?; UP=
	grep -q "stopped cleanly" $LOG && [ $rc = 0 ]
}

t0=$(date +%s)
start_up && ok "tools/vlun-up brought the target up ($(($(date +%s) - t0)) s)" || { bad "tools/vlun-up did not come up"; exit 1; }
grep -q "mode: appliance" $LOG && ok "appliance mode chosen on this kernel, and why: $(grep -m1 'mode:' $LOG)" ||
	{ grep -q "mode: native" $LOG && ok "native mode chosen"; }
grep -q "iscsi-inq iscsi://127.0.0.1:3260/$IQN/0" $LOG && ok "it prints how to connect" || bad "no connection help"
out=$(iscsi-ls -s iscsi://127.0.0.1:3260 2>&1); echo "$out"
grep -q "$IQN" <<<"$out" && ok "iscsi-ls lists the target" || bad "iscsi-ls"
out=$(iscsi-inq $URL/0 2>&1); echo "$out" | head -5
grep -q "LIO-ORG" <<<"$out" && ok "iscsi-inq answers for LUN 0" || bad "iscsi-inq"
head -c 1M /dev/urandom >$LOG.pat
qemu-io -f raw -c "write -P 0x5a 4M 1M" $URL/0 >/dev/null 2>&1 && ok "libiscsi write (qemu-io) to LUN 0" || bad "qemu-io write"
qemu-io -f raw -c "read -P 0x5a 4M 1M" $URL/0 2>&1 | grep -q "read 1048576" && ok "libiscsi read back" || bad "qemu-io read"
qemu-io -f raw -c "write -P 0xc3 0 64k" $URL/1 >/dev/null 2>&1 && ok "write to LUN 1" || bad "LUN 1 write"
export VLUN_CONFIG_DIR=$DATA/etc
VLUNCTL=$SRC/build/tools/vlunctl/vlunctl
$VLUNCTL pool status demo >/dev/null && ok "vlunctl pool status against the running target" || bad "vlunctl status"
$VLUNCTL -q vol create demo/extra 1G && ok "vlunctl vol create while it serves (through the handler)" || bad "vol create while serving"
$VLUNCTL -q vol show demo/extra && ok "the new volume is there" || bad "new volume"
VCFG=$SRC/build/tools/vlun-config/vlun-config
$VCFG show 2>&1 | grep -q "$IQN" && ok "vlun-config show against the running target" || bad "vlun-config show"
[ "$($VCFG --json show 2>/dev/null | jq -r '.targets[0].iqn')" = "$IQN" ] && ok "vlun-config --json show" || bad "vlun-config --json show"
stop_up && ok "SIGTERM: clean stop, exit 0" || { bad "SIGTERM stop"; cat $LOG; }
$VLUNCTL -q pool check demo && ok "pool check after the stop: clean" || bad "pool check after stop"
start_up && ok "second start" || { bad "second start"; exit 1; }
qemu-io -f raw -c "read -P 0x5a 4M 1M" $URL/0 2>&1 | grep -q "read 1048576" && ok "the data survived the restart" || bad "data lost"
qemu-io -f raw -c "read -P 0xc3 0 64k" $URL/1 2>&1 | grep -q "read 65536" && ok "LUN 1's data survived" || bad "LUN 1 data"
$VLUNCTL -q vol show demo/extra && ok "the volume made while serving survived" || bad "extra volume lost"
stop_up && ok "second clean stop" || bad "second stop"
# an invalid --config is refused before anything starts
printf '[vlun]\nversion = 2\n' >/tmp/vlun-up-bad.$$.conf
out=$(tools/vlun-up --config /tmp/vlun-up-bad.$$.conf --data-dir /tmp/vlun-up-bad.$$ 2>&1); rc=$?
rm -rf /tmp/vlun-up-bad.$$ /tmp/vlun-up-bad.$$.conf
[ $rc = 1 ] && grep -q "version: 2 is not supported" <<<"$out" && grep -q "is invalid" <<<"$out" &&
	ok "an invalid --config is refused with the file's errors (exit 1)" || { bad "invalid --config: exit $rc"; echo "$out"; }

rm -f $LOG.pat
echo "$fails failure(s)"
[ $fails = 0 ]
