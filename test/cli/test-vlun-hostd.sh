#!/bin/bash
# vlun-hostd on this machine (no SCSI devices needed): usage errors and exit codes, status
# when no agent runs, the agent's status socket (text and --json), a uevent forged by a
# process (counted untrusted, no job), a second agent refused on a live socket, a non-root
# client refused, and the socket removed on SIGTERM.  Its real work (switchgroup after an
# ALUA move) is proven in the VM scenario alua-switch.
#   test-vlun-hostd.sh PATH-TO-vlun-hostd
set -u
H=${1:?usage: test-vlun-hostd.sh PATH-TO-vlun-hostd}
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-hostd-test.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
S=$T/hostd.sock
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() { # run EXPECTED-EXIT ARGS...: output in $OUT, stdout alone in $STDOUT
	local want=$1; shift
	"$H" "$@" >$T/stdout 2>$T/stderr; local rc=$?
	STDOUT=$(cat $T/stdout); OUT=$(cat $T/stdout $T/stderr)
	[ "$rc" = "$want" ] && ok || { bad "vlun-hostd $* -> exit $rc, expected $want"; echo "$OUT" | sed 's/^/    /'; }
}
has() { grep -qF -- "$1" <<<"$OUT" && ok || { bad "output lacks '$1':"; echo "$OUT" | sed 's/^/    /'; }; }

# --- usage ---
run 0 --help; has "Usage: vlun-hostd"; has "Exit codes"
run 0 --version; has "vlun-hostd "
run 2 --bogus; has "unknown option '--bogus'"; has "(see 'vlun-hostd --help')"
run 2 frobnicate; has "unknown command 'frobnicate'"
run 2 status extra; has "takes no arguments"
run 2 status --foreground; has "--foreground does not apply to 'status'"
run 2 --json --socket $S; has "--json applies to 'status' only"
run 2 --vendor ""; has "need a value"
run 2 --vendor TOOLONGVENDOR; has "at most 8"
run 2 --socket; has "needs a value"
run 2 --socket "$T/$(printf 'x%.0s' $(seq 120))"; has "path too long"
# --- no agent ---
run 3 status --socket $S; has "does not answer on $S"; has "systemctl start vlun-hostd"
run 3 status --json --socket $S
jq -e '.exit_code == 3 and (.error | contains("does not answer"))' <<<"$STDOUT" >/dev/null && ok || bad "status --json without agent: $OUT"
# --- the agent ---
"$H" --foreground --verbose --socket $S >$T/log 2>&1 &
PID=$!
for i in $(seq 100); do [ -S $S ] && break; sleep 0.05; done
[ -S $S ] && ok || { bad "the agent made no socket"; cat $T/log; }
[ "$(stat -c %a $S 2>/dev/null)" = 600 ] && ok || bad "socket mode $(stat -c %a $S 2>/dev/null), expected 600"
run 0 status --socket $S; has "vlun-hostd up"; has "no map has had an ALUA change yet"
run 0 status --json --socket $S
jq -e '.uevents >= 0 and .untrusted == 0 and .maps == []' <<<"$STDOUT" >/dev/null && ok || bad "status --json: $OUT"
# a second agent must not take the live socket
run 1 --foreground --socket $S; has "another vlun-hostd answers on $S"
[ -S $S ] && kill -0 $PID && ok || bad "the first agent lost its socket"
# a forged ALUA change from a process: untrusted, no job, no map
python3 - <<'P' && ok || bad "could not send a uevent-group datagram"
import socket
dev = "/devices/platform/host7/session1/target7:0:0/7:0:0:0"
msg = ("change@%s\0ACTION=change\0DEVPATH=%s\0SUBSYSTEM=scsi\0DEVTYPE=scsi_device\0"
       "SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED\0SEQNUM=1\0" % (dev, dev)).encode()
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.bind((0, 0))
s.sendto(msg, (0, 1))
P
for i in $(seq 40); do
	OUT=$("$H" status --json --socket $S 2>/dev/null)
	[ "$(jq .untrusted <<<"$OUT" 2>/dev/null)" = 1 ] && break
	sleep 0.05
done
jq -e '.untrusted == 1 and .alua_events == 0 and .maps == []' <<<"$OUT" >/dev/null && ok ||
	bad "the forged uevent was not refused as untrusted: $OUT"
grep -q "uevent from port [1-9][0-9]* uid 0 ignored" $T/log && ok || { bad "no log of the forged uevent"; cat $T/log; }
# a request it does not know, and a non-root client
python3 - "$S" <<'P' >$T/unknown 2>&1 && ok || bad "unknown request"
import socket, sys, json
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"shutdown\n")
a = json.loads(s.recv(65536)); assert a["exit_code"] == 2, a
P
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 $T
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$H" status --socket $S 2>&1); rc=$?
	# the socket's mode refuses the connection; were it open, the agent would close it
	[ $rc = 1 ] && grep -q "only root may ask" <<<"$OUT" && ok || bad "a non-root client got exit $rc: $OUT"
	chmod 666 $S
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$H" status --socket $S 2>&1); rc=$?
	[ $rc = 1 ] && grep -q "only root may ask" <<<"$OUT" && ok || bad "a non-root client on an open socket: exit $rc: $OUT"
	chmod 600 $S
fi
# SIGTERM: it stops and removes its socket
kill -TERM $PID; wait $PID; rc=$?; PID=
[ $rc = 0 ] && ok || bad "the agent exited $rc on SIGTERM"
[ ! -e $S ] && ok || bad "the socket was left behind"
grep -q "vlun-hostd: stopping" $T/log && ok || bad "no stop in the log"
echo "$passes passed, $fails failed"
[ $fails = 0 ]
