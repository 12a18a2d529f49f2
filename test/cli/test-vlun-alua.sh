#!/bin/bash
# vlun-alua against a fake handler control socket (fake-ctl.py): usage errors, status
# (consistent, disagreeing, unreachable, transitioning), every result of a move and its
# exit code, the requests it sends (one per pool, --vm, --force, --timeout), name
# resolution through vlun.conf and through the answers, --json, garbled answers, and no
# handler at all.
#   test-vlun-alua.sh PATH-TO-vlun-alua
set -u
ALUA=${1:?usage: test-vlun-alua.sh PATH-TO-vlun-alua}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-alua-test.XXXXXX")
FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export VLUN_CTL_SOCKET=$T/ctl.sock
export VLUN_CONF=$T/vlun.conf
A=$T/answers LOG=$T/requests.log
mkdir -p "$A"
fails=0 passes=0 skips=0

# run EXPECTED-EXIT ARGS... : output in $OUT (stdout+stderr), stdout alone in $STDOUT
run() {
	local want=$1; shift
	: >"$LOG"
	"$ALUA" "$@" >"$T/stdout" 2>"$T/stderr"; local rc=$?
	STDOUT=$(cat "$T/stdout"); OUT=$(cat "$T/stdout" "$T/stderr")
	if [ "$rc" != "$want" ]; then
		echo "FAIL: vlun-alua $* -> exit $rc, expected $want"; echo "$OUT" | head -20 | sed 's/^/    /'
		fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
has() { # has TEXT : last output contains TEXT
	if ! grep -qF -- "$1" <<<"$OUT"; then
		echo "FAIL: output lacks '$1':"; echo "$OUT" | sed 's/^/    /'; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
lacks() {
	if grep -qF -- "$1" <<<"$OUT"; then
		echo "FAIL: output has '$1':"; echo "$OUT" | sed 's/^/    /'; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
sent() { # sent LINE : the last command sent exactly this request
	if ! grep -qxF -- "$1" "$LOG"; then
		echo "FAIL: request '$1' not sent; sent:"; sed 's/^/    /' "$LOG"; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
nsent() { # nsent N : the last command sent N requests
	local n; n=$(wc -l <"$LOG")
	if [ "$n" != "$1" ]; then
		echo "FAIL: $n request(s) sent, expected $1:"; sed 's/^/    /' "$LOG"; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
json_ok() { # stdout is one JSON document
	if ! python3 -m json.tool <<<"$STDOUT" >/dev/null 2>&1; then
		echo "FAIL: not JSON: $STDOUT"; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
json() { # json FILTER EXPECTED : jq on the last stdout
	local got; got=$(jq -r "$1" <<<"$STDOUT" 2>&1)
	if [ "$got" != "$2" ]; then
		echo "FAIL: jq '$1' gave '$got', expected '$2' in: $STDOUT"; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}
is() { # is WHAT CMD... : CMD succeeds
	local what=$1; shift
	if ! "$@"; then echo "FAIL: $what"; fails=$((fails + 1)); return 1; fi
	passes=$((passes + 1))
}
skip() { echo "SKIP: $*"; skips=$((skips + 1)); }
ans() { printf '%s\n' "$2" >"$A/$1"; } # ans FILE ANSWER-LINE
start_fake() {
	python3 "$HERE/fake-ctl.py" "$VLUN_CTL_SOCKET" "$A" "$LOG" &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -S "$VLUN_CTL_SOCKET" ] && return 0; sleep 0.05; done
	echo "FAIL: fake-ctl.py did not start"; exit 1
}
stop_fake() { kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=; }

# --- vlun.conf: two shared pools, VM vm1 with two disks in shared0 ---
write_conf() { # write_conf with-vm|without-vm
	local vm1= vm2=
	[ "$1" = with-vm ] && vm1='vm = vm1' vm2='vm = vm1'
	cat >"$VLUN_CONF" <<EOF
[vlun]
version = 1

[target]
iqn = iqn.2026-11.org.example:vlun
demo_mode = yes

[blade blade-a]
tpg = 1
portals = 192.0.2.11:3260
host_id = 1

[blade blade-b]
tpg = 2
portals = 192.0.2.12:3260
host_id = 2

[pool shared0]
members = /dev/disk/by-id/wwn-0x5000c500a1b2c3d4
shared = yes
max_blades = 8
max_volumes = 16

[pool shared1]
members = /dev/disk/by-id/wwn-0x5000c500a1b2c3d5
shared = yes

[volume vm1-disk]
pool = shared0
size = 10G

[volume vm1-data]
pool = shared0
size = 10G

[volume vm2-disk]
pool = shared1
size = 10G

[export vm1-boot]
volume = vm1-disk
lun = 0
owner = blade-a
$vm1

[export vm1-data]
volume = vm1-data
lun = 1
$vm2

[export vm2]
volume = vm2-disk
lun = 2
owner = blade-b
EOF
}
write_conf with-vm
HAVE_VM=1

# --- help, version, usage errors (exit 2), before any handler exists ---
run 0 --help && has "move (VOLUME... | --vm VM) --to BLADE" && is "--help fits 80 columns" [ "$(wc -L <"$T/stdout")" -le 80 ] && has "Exit codes" && has "--force" \
	&& has "8 some blade did not"
run 0 --version && has "vlun-alua"
run 2 && has "Usage"
run 2 frobnicate && has "unknown command 'frobnicate'"
run 2 --bogus status && has "unknown option '--bogus'"
run 2 status --to blade-b && has "--to does not apply to 'status'"
run 2 status --force && has "--force does not apply to 'status'"
run 2 move shared0/vm1-disk && has "move needs --to BLADE"
run 2 move --to blade-b && has "move needs VOLUME... or --vm VM"
run 2 move shared0/vm1-disk --to blade-b --timeout soon && has "invalid --timeout 'soon'"
run 2 move shared0/vm1-disk --to blade-b --timeout 0 && has "invalid --timeout '0'"
run 2 move shared0/vm1-disk --to blade-b --timeout 241 && has "invalid --timeout '241'"
run 2 move shared0/vm1-disk --to blade-b --timeout 0.05 && has "0.1 to 240"
run 2 move shared0/vm1-disk --to 0 && has "invalid --to '0'"
run 2 move shared0/vm1-disk --to 2001 && has "invalid --to '2001'"
run 2 move a/b/c --to 2 && has "'a/b/c' is not POOL/VOLUME"
run 2 move 'sh ared/x' --to 2 && has "is not POOL/VOLUME"
run 2 status vm1-disk --vm vm1 && has "not both"
run 2 status --timeout && has "needs a value"
is "usage errors send nothing" [ ! -s "$LOG" ]

# the vm = key of [export]: skip its cases while the parser does not know it
"$ALUA" status --vm vm1 >/dev/null 2>"$T/stderr" # no handler yet: only the parser's verdict
if grep -q "unknown key" "$T/stderr"; then
	skip "vlun.conf [export] vm = is not known to the parser yet: --vm cases skipped"
	HAVE_VM=0
	write_conf without-vm
fi
: >"$LOG"

# --- no handler listening (exit 1) ---
run 1 status shared0/vm1-disk && has "no vlun handler answers on $VLUN_CTL_SOCKET" && has "start tcmu-runner" \
	&& has "blade of pool shared0"
run 1 move shared0/vm1-disk --to 2 && has "start tcmu-runner"
run 1 --json move shared0/vm1-disk --to 2 && json_ok && json .exit_code 1 && json '.error | contains("tcmu-runner")' true
# a stale socket nobody listens on
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$VLUN_CTL_SOCKET"
run 1 status shared0/vm1-disk && has "no vlun handler answers" && has "start tcmu-runner"
rm -f "$VLUN_CTL_SOCKET"

start_fake

# --- answers of alua-status ---
BLADES_OK='blade name=blade-a host=1 alive=1 answering=1 age_ms=120 local=1;blade name=blade-b host=2 alive=1 answering=1 age_ms=80 local=0'
ans alua-status_shared0 "0 $BLADES_OK;vol name=vm1-disk slot=0 owner=1 epoch=7 states=1:1,2:1 moving=;vol name=vm1-data slot=1 owner=1 epoch=3 states=1:1,2:1 moving="
ans alua-status_shared1 "0 $BLADES_OK;vol name=vm2-disk slot=0 owner=2 epoch=4 states=1:2,2:2 moving="

# --- status: every blade agrees (exit 0) ---
run 0 status && has "shared0/vm1-disk: owner blade-a (host 1), epoch 7" && has "shared1/vm2-disk: owner blade-b (host 2), epoch 4" \
	&& has "blade-a (host 1)" && has "(this blade)" && has "Every answering blade agrees" && lacks " ! " && lacks " ? "
sent "alua-status shared0" && sent "alua-status shared1" && nsent 2
run 0 status shared0/vm1-disk && sent "alua-status shared0" && nsent 1 && lacks "vm1-data"
run 0 status vm1-boot && has "shared0/vm1-disk" && nsent 1          # an export name
run 0 status vm1-data vm1-disk && nsent 1                           # one request per pool
run 0 -q status && is "-q prints nothing: $OUT" [ -z "$OUT" ]
run 0 --json status && json_ok && json '.volumes | length' 3 && json '.blades | length' 4 \
	&& json '.volumes[0].owner' 1 && json '.volumes[0].owner_name' blade-a && json '.volumes[0].epoch' 7 \
	&& json '.volumes[0].states[1].blade' blade-b && json '.volumes[0].states[1].reports_ao' 1 \
	&& json '.volumes[0].states[1].agrees' true && json '.volumes[0].states[1].reachable' true \
	&& json '.volumes[0].states[1].moving' false && json .exit_code 0
if [ $HAVE_VM = 1 ]; then
	run 0 status --vm vm1 && has "shared0/vm1-disk" && has "shared0/vm1-data" && lacks "vm2-disk" && nsent 1
fi

# --- status: a blade disagrees (exit 6, !) ---
ans alua-status_shared0 "0 $BLADES_OK;vol name=vm1-disk slot=0 owner=1 epoch=7 states=1:1,2:2 moving=;vol name=vm1-data slot=1 owner=1 epoch=3 states=1:1,2:1 moving="
run 6 status shared0/vm1-disk && has "  ! blade-b (host 2)" && has "disagrees with the owner" && has "need attention"
run 6 --json status shared0/vm1-disk && json_ok && json '.volumes[0].states[1].agrees' false \
	&& json '.volumes[0].consistent' false && json .exit_code 6
run 0 status shared0/vm1-data # the other volume is fine

# --- status: a blade not answering (?), and one moving the volume (~) ---
ans alua-status_shared0 "0 blade name=blade-a host=1 alive=1 answering=1 age_ms=120 local=1;blade name=blade-b host=2 alive=1 answering=0 age_ms=5400;blade name=blade-c host=3 alive=0 answering=0 age_ms=70000;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1,3:- moving=;vol name=vm1-data owner=1 epoch=3 states=1:1,2:1,3:- moving="
run 6 status shared0/vm1-disk && has "  ? blade-b (host 2)" && has "unreachable" && has "blade-c (host 3)" \
	&& has "does not export it" && has "5.4 s ago"
run 6 --json status shared0/vm1-disk && json_ok && json '.volumes[0].states[1].reachable' false \
	&& json '.volumes[0].states[2].exports' false && json '.blades[2].name' blade-c
ans alua-status_shared0 "0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:0 moving=2;vol name=vm1-data owner=1 epoch=3 states=1:1,2:1 moving="
run 6 status shared0/vm1-disk && has "  ~ blade-b (host 2)" && has "transitioning"
run 6 --json status shared0/vm1-disk && json '.volumes[0].states[1].moving' true
# the handler as built (handler/tcmu/alua.c): no alive=, a blade without a name is "-",
# last_owner= besides owner=
ans alua-status_shared0 "0 blade name=blade-a host=1 answering=1 age_ms=0 local=1;blade name=- host=4 answering=1 age_ms=900 local=0;vol name=vm1-disk slot=0 owner=1 epoch=7 last_owner=1 states=1:1,4:1 moving=;vol name=vm1-data slot=1 owner=1 epoch=3 last_owner=1 states=1:1,4:- moving="
run 0 status shared0/vm1-disk && has "host 4" && lacks "ALIVE" && has "Every answering blade agrees"
run 0 --json status shared0/vm1-disk && json_ok && json '.blades[0] | has("alive")' false && json '.blades[1].name' ""
# unknown keys and record kinds of a newer handler are ignored
ans alua-status_shared0 "0 $BLADES_OK color=blue;gizmo a=b;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1 moving= future=yes;vol name=vm1-data owner=1 epoch=3 states=1:1,2:1 moving="
run 0 status shared0/vm1-disk

# --- status: not found (exit 3), no vlun.conf ---
run 3 status nosuch && has "no volume or export 'nosuch'" && has "vm1-disk"
run 3 status shared0/nosuch && has "no volume nosuch in pool shared0" && has "vm1-disk, vm1-data"
ans alua-status_shared9 "-2 no pool shared9 served here"
run 3 status shared9/x && has "no pool shared9 served here" && has "blade of pool shared9"
if [ $HAVE_VM = 1 ]; then
	run 3 status --vm vm9 && has "no export of VM 'vm9'" && has "VMs: vm1, vm2"
fi
VLUN_CONF=$T/none run 0 status shared0/vm1-disk && has "owner blade-a (host 1)" # names from the answers
VLUN_CONF=$T/none run 3 status vm1-disk && has "no vlun.conf" && has "POOL/VOLUME"
VLUN_CONF=$T/none run 3 status && has "no vlun.conf"
run 3 -c "$T/none" status shared0/vm1-disk && has "cannot read $T/none"
printf '[vlun]\nversion = 1\n[bogus]\n' >"$T/bad.conf"
run 2 -c "$T/bad.conf" status shared0/vm1-disk && has "is not a valid vlun.conf" && has "vlun-config check"

# --- status: garbled answers (exit 1) ---
for g in "0 hello world" "0 blade name=a host=1 alive=1" "0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:x" \
	"0 $BLADES_OK;vol name=../etc owner=1 epoch=7 states=" "0 blade name=a host=99999 alive=1 answering=1" \
	"0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 epoch=8 states=" "0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states= junk" \
	"zero $BLADES_OK"; do
	ans alua-status_shared0 "$g"
	run 1 status shared0/vm1-disk && has "garbled answer"
done
ans alua-status_shared0 "0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1 moving=;vol name=vm1-data owner=1 epoch=3 states=1:1,2:1 moving="

# --- move: moved (exit 0, phases) ---
MOVED='vol name=vm1-disk from=1 to=2 epoch=8 result=moved ask_ms=12 release_ms=35 acquire_ms=9 states_ms=40 total_ms=96 lagging='
ans alua-move_shared0 "0 $MOVED"
run 0 move shared0/vm1-disk --to blade-b && has "shared0/vm1-disk: blade blade-a (host 1) -> blade blade-b (host 2), epoch 8" \
	&& has "ask" && has "release" && has "acquire" && has "states" && has "total" && has "96 ms" \
	&& has "the old owner drained" && sent "alua-move shared0 2 30000 safe vm1-disk" && nsent 1
run 0 move vm1-boot --to 2 && sent "alua-move shared0 2 30000 safe vm1-disk"
run 0 move shared0/vm1-disk --to blade-b --force --timeout 5 && sent "alua-move shared0 2 5000 force vm1-disk"
run 0 move shared0/vm1-disk --to 2 --timeout 2.5 && sent "alua-move shared0 2 2500 safe vm1-disk"
# --to here: the blade whose handler answers (local=1 in its status: blade-a, host 1)
run 0 move shared0/vm1-disk --to here && sent "alua-move shared0 1 30000 safe vm1-disk"
ans alua-status_shared0 "0 ${BLADES_OK//local=1/local=0};vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1 moving="
run 3 move shared0/vm1-disk --to here && has "--to here: this node is not a blade of pool shared0" && nsent 1
ans alua-status_shared0 "0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1 moving=;vol name=vm1-data owner=1 epoch=3 states=1:1,2:1 moving="
run 0 -q move shared0/vm1-disk --to 2 && is "-q prints nothing: $OUT" [ -z "$OUT" ]
run 0 --json move shared0/vm1-disk --to blade-b && json_ok && json '.volumes[0].name' vm1-disk \
	&& json '.volumes[0].pool' shared0 && json '.volumes[0].from' 1 && json '.volumes[0].to' 2 \
	&& json '.volumes[0].epoch' 8 && json '.volumes[0].result' moved && json '.volumes[0].phases_ms.release' 35 \
	&& json '.volumes[0].phases_ms.total' 96 && json '.volumes[0].lagging | length' 0 && json .exit_code 0
# --vm: both of the VM's volumes of the pool in one request
if [ $HAVE_VM = 1 ]; then
	ans alua-move_shared0 "0 $MOVED;vol name=vm1-data from=1 to=2 epoch=4 result=moved total_ms=50 lagging="
	run 0 move --vm vm1 --to blade-b && sent "alua-move shared0 2 30000 safe vm1-disk vm1-data" && nsent 1 \
		&& has "shared0/vm1-data: blade blade-a (host 1) -> blade blade-b (host 2), epoch 4"
	run 3 move --vm vm9 --to blade-b && has "no export of VM 'vm9'" && nsent 0
else
	skip "move --vm vm1 (one request naming both volumes): needs [export] vm ="
fi
# volumes of two pools: one request per pool, one after the other
ans alua-move_shared1 "0 vol name=vm2-disk from=1 to=2 epoch=5 result=moved total_ms=20 lagging="
run 0 move vm1-disk vm2-disk vm1-disk --to 2 && nsent 2 && sent "alua-move shared0 2 30000 safe vm1-disk" \
	&& sent "alua-move shared1 2 30000 safe vm2-disk" \
	&& is "shared0 first" [ "$(head -1 "$LOG")" = "alua-move shared0 2 30000 safe vm1-disk" ]

# --- move: already there (exit 0) ---
ans alua-move_shared0 "0 vol name=vm1-disk from=2 to=2 epoch=8 result=already"
run 0 move shared0/vm1-disk --to blade-b && has "shared0/vm1-disk: already on blade blade-b (host 2), epoch 8"
run 0 --json move shared0/vm1-disk --to blade-b && json '.volumes[0].result' already && json .exit_code 0

# --- move: the owner did not let go (EBUSY, exit 4: retry with --force) ---
ans alua-move_shared0 "-16 vol name=vm1-disk from=1 to=2 epoch=7 result=failed err=-16 why=the blade with host id 1 did not let go within 30000 ms: retry with --force"
run 4 move shared0/vm1-disk --to blade-b && has "retry with --force" && has "did not let go"
ans alua-move_shared0 "-16 vol name=vm1-disk from=1 to=2 epoch=7 result=failed err=-16 why=busy"
run 4 move shared0/vm1-disk --to blade-b && has "retry with --force"
run 4 --json move shared0/vm1-disk --to blade-b && json_ok && json .exit_code 4 && json '.volumes[0].result' failed \
	&& json '.volumes[0].error' busy && json '.error | contains("--force")' true
ans alua-move_shared0 "-16 the owner is busy"
run 4 move shared0/vm1-disk --to blade-b && has "the owner is busy" && has "retry with --force"
run 4 --json move shared0/vm1-disk --to blade-b && json_ok && json .exit_code 4 && json '.error | contains("--force")' true

# --- move: some blade did not confirm in time (ETIMEDOUT, exit 8) ---
ans alua-move_shared0 "-110 vol name=vm1-disk from=1 to=2 epoch=8 result=moved ask_ms=12 release_ms=35 acquire_ms=9 states_ms=5000 total_ms=5056 lagging=3"
run 8 move shared0/vm1-disk --to blade-b --timeout 5 && has "did not confirm" && has "host 3" && has "safe" \
	&& has "epoch 8"
run 8 --json move shared0/vm1-disk --to blade-b && json_ok && json .exit_code 8 && json '.volumes[0].lagging[0]' 3

# --- move: the target blade is down (EHOSTDOWN, exit 9) ---
ans alua-move_shared0 "-112 vol name=vm1-disk from=1 to=2 epoch=7 result=failed err=-112 why=the blade with host id 2 is not in the lockspace of pool shared0"
run 9 move shared0/vm1-disk --to blade-b && has "is down or does not serve the pool" && has "not in the lockspace"
run 9 --json move shared0/vm1-disk --to blade-b && json_ok && json .exit_code 9

# --- the same, as the handler words them (handler/tcmu/alua.c, seen in test/unit/test-shared) ---
ans alua-move_shared0 "-16 vol name=vm1-disk from=1 to=2 epoch=8 result=failed err=-16 ask_ms=0 release_ms=193 acquire_ms=0 states_ms=0 total_ms=198 lagging= why=volume 'vm1-disk': the blade with host id 1 did not let go within 300 ms (retry with force)"
run 4 move shared0/vm1-disk --to 2 && has "did not let go within 300 ms: retry with --force" && lacks "(retry with force): retry"
run 4 move shared0/vm1-disk --to 2 --force && has "even with --force" && lacks "retry with --force ("
ans alua-move_shared0 "-110 vol name=vm1-disk from=1 to=2 epoch=8 result=moved err=-110 ask_ms=0 release_ms=302 acquire_ms=1 states_ms=0 total_ms=3607 lagging=1 why=moved, but blade(s) 1 did not report the new state in time"
run 8 move shared0/vm1-disk --to 2 --force && has "blade-a (host 1) did not confirm" && has "-> blade blade-b (host 2)"
ans alua-move_shared0 "-112 the blade with host id 2 does not answer (its status block has not changed for 5 s): is its tcmu-runner serving pool shared0?"
run 9 move shared0/vm1-disk --to 2 && has "its status block has not changed" && has "serving pool shared0? Start its tcmu-runner"
run 9 --json move shared0/vm1-disk --to 2 && json_ok && json .exit_code 9 && json 'has("volumes")' false
ans alua-status_shared7 "-95 pool shared7 has no ALUA state management here (a shared pool served with host id 1-15 has)"
run 1 status shared7/x && has "no ALUA state management"

# --- move: other failures (exit 1), not found (exit 3), garbled (exit 1) ---
ans alua-move_shared0 "-5 vol name=vm1-disk from=1 to=2 epoch=7 result=failed err=-5 why=an I/O error on the lease area"
run 1 move shared0/vm1-disk --to blade-b && has "an I/O error on the lease area"
ans alua-move_shared0 "-2 no volume nosuch in pool shared0"
run 3 move shared0/nosuch --to 2 && has "no volume nosuch in pool shared0"
run 3 --json move shared0/nosuch --to 2 && json_ok && json .exit_code 3
run 3 move nosuch --to 2 && has "no volume or export 'nosuch'" && nsent 0
run 3 move shared0/vm1-disk --to blade-z && has "no blade 'blade-z'" && has "blade-a (host 1)" && has "blade-b (host 2)"
# a blade without host_id (allowed when no pool of the file is shared)
printf '[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:vlun\n[blade blade-x]\ntpg = 9\nportals = 192.0.2.19:3260\n[pool local0]\nmembers = /var/lib/vlun/l.img\n' >"$T/local.conf"
run 3 -c "$T/local.conf" move shared0/vm1-disk --to blade-x && has "has no host_id" && nsent 0
ans alua-move_shared0 "0 vol name=vm1-disk from=1 to=2 result=moved"
run 1 move shared0/vm1-disk --to 2 && has "garbled answer" && has "re-running it is safe"
ans alua-move_shared0 "0 done"
run 1 move shared0/vm1-disk --to 2 && has "garbled answer"
ans alua-move_shared0 "0 vol name=vm1-data from=1 to=2 epoch=8 result=moved"
run 1 move shared0/vm1-disk --to 2 && has "nothing about volume vm1-disk"
ans alua-move_shared0 "@close"
run 1 move shared0/vm1-disk --to 2 && has "without an answer" && has "may or may not have happened"
ans alua-move_shared0 "-22 bad request"
run 2 move shared0/vm1-disk --to 2 && has "bad request"

# --- answers the handler cut short at 16383 bytes (CTL_MSG_MAX - 1) after the code: the last record is dropped ---
long="0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1 moving="
for i in $(seq 400); do long="$long;vol name=filler-volume-$i owner=1 epoch=7 states=1:1,2:1 moving="; done
ans alua-status_shared0 "${long:0:16385}"
run 0 status shared0/vm1-disk && has "owner blade-a (host 1), epoch 7"
run 1 status shared0/vm1-data && has "cut short"
ans alua-status_shared0 "${long:0:16385}"
run 1 status && has "cut short" && has "name them to see them"
ans alua-status_shared0 "0 $BLADES_OK;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1 moving=;vol name=vm1-data owner=1 epoch=3 states=1:1,2:1 moving="

# --- more than 30 volumes of one pool: 30 per request ---
many=() recs="0 "
for i in $(seq 31); do many+=("shared0/v$i"); recs="$recs${i:+;}vol name=v$i from=1 to=2 epoch=8 result=moved total_ms=9 lagging="; done
ans alua-move_shared0 "${recs/0 ;/0 }"
run 0 move "${many[@]}" --to 2 && nsent 2 && sent "alua-move shared0 2 30000 safe v31" \
	&& is "30 volumes in the first request" [ "$(head -1 "$LOG" | wc -w)" = 35 ]

# --- no vlun.conf: POOL/VOLUME and host ids work; blade names come from alua-status ---
ans alua-status_shared0 "0 $BLADES_OK;blade name=blade-c host=3 alive=1 answering=1 age_ms=10;vol name=vm1-disk owner=1 epoch=7 states=1:1,2:1,3:1 moving="
ans alua-move_shared0 "0 vol name=vm1-disk from=1 to=3 epoch=8 result=moved total_ms=40 lagging="
VLUN_CONF=$T/none run 0 move shared0/vm1-disk --to blade-c && sent "alua-status shared0" \
	&& sent "alua-move shared0 3 30000 safe vm1-disk" && has "blade blade-a (host 1) -> blade blade-c (host 3)"
VLUN_CONF=$T/none run 0 move shared0/vm1-disk --to 3 && nsent 1 && has "host 1 -> host 3"
VLUN_CONF=$T/none run 3 move shared0/vm1-disk --to blade-q && has "no blade 'blade-q'" && has "blade-c (host 3)"
# a blade name not in vlun.conf is looked up in the answers too
run 0 move shared0/vm1-disk --to blade-c && sent "alua-move shared0 3 30000 safe vm1-disk"

stop_fake
echo "$passes passed, $fails failed, $skips skipped"
[ "$fails" = 0 ]
