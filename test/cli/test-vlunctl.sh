#!/bin/bash
# vlunctl driven as a user would: every command, every error path, exit
# codes, --json, and that a failed command changes nothing.
set -u
VLUNCTL=${1:?usage: test-vlunctl.sh PATH-TO-VLUNCTL}
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlunctl-test.XXXXXX")
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
export VLUN_CONFIG_DIR=$T/etc
fails=0 passes=0

# run EXPECTED-EXIT CMD... ; output in $OUT (stdout+stderr)
run() {
	local want=$1; shift
	OUT=$("$VLUNCTL" "$@" 2>&1); local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL: vlunctl $* -> exit $rc, expected $want"; echo "$OUT" | sed 's/^/    /'
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
json() { # json FILTER EXPECTED : jq on the last output
	local got; got=$(jq -r "$1" <<<"$OUT" 2>&1)
	if [ "$got" != "$2" ]; then
		echo "FAIL: jq '$1' gave '$got', expected '$2' in: $OUT"; fails=$((fails + 1)); return 1
	fi
	passes=$((passes + 1))
}

for i in 0 1 2 3; do truncate -s 256M "$T/d$i"; done

# --- help, version, usage errors (exit 2) ---
run 0 --help && has "pool create NAME MEMBER" && has "Exit codes"
run 0 --version && has "on-disk formats 1-2"
run 2 && has "Usage"
run 2 frobnicate && has "unknown command 'frobnicate'"
run 2 pool && has "'pool' needs a command"
run 2 pool explode && has "unknown command 'pool explode'"
run 2 --bogus pool list && has "unknown option '--bogus'"
run 2 pool list --thick && has "--thick does not apply to 'pool list'"
run 2 pool create && has "needs more arguments"
run 2 pool list extra && has "unexpected 'extra'"
run 2 pool create p0 "$T/d0" --extent-size 3M && has "power of two"
run 2 pool create p0 "$T/d0" --extent-size lots && has "invalid extent size 'lots'"
run 2 pool create 'bad/name' "$T/d0" && has "invalid pool name"
run 2 pool create p0 "$T/d0" --max-volumes 0 && has "--max-volumes"
run 3 pool create p0 "$T/nonexistent" && has "$T/nonexistent"
[ ! -e "$T/etc/pools/p0.conf" ] || { echo "FAIL: failed create left a definition"; fails=$((fails+1)); }

# --- pools ---
run 0 pool list && has "No pools defined"
run 0 pool create p0 "$T/d0" "$T/d1" --extent-size 1M && has "Created pool p0: 2 member(s)"
[ -f "$T/etc/pools/p0.conf" ] && passes=$((passes+1)) || { echo "FAIL: no p0.conf"; fails=$((fails+1)); }
run 4 pool create p0 "$T/d2" && has "already defined"
run 4 pool create p1 "$T/d1" && has "already belongs to pool p0"
run 0 pool list && has "p0" && has "ok"
run 0 --json pool list && json '.[0].name' p0 && json '.[0].volumes' 0
run 0 pool status p0 && has "Capacity:" && has "mirror"
run 0 --json pool status p0 && json '.members | length' 2 && json '.members[1].metadata_mirror' true \
	&& json '.extent_size' 1048576
run 3 pool status nosuch && has "no pool 'nosuch' defined"
run 0 pool add-member p0 "$T/d2" && has "now 3 members"
run 4 pool add-member p0 "$T/d2" && has "already belongs"
run 0 --json pool status p0 && json '.members | length' 3

# --- volumes ---
run 0 vol create p0/vm1 1G && has "Volume:       p0/vm1" && has "Provisioning: thin" && has "naa.6001405"
run 0 --json vol create p0/vm2 100M --thick --layout striped && json .provisioning thick \
	&& json .allocated 104857600 && json .layout striped
run 4 vol create p0/vm1 1G && has "already exists"
run 2 vol create p0/vm3 10Q && has "invalid size '10Q'"
run 2 vol create p0/vm3 1000 && has "multiple of 4 KiB"
run 2 vol create vm3 1G && has "is not POOL/VOLUME"
run 2 vol create p0/vm3 1G --layout raid5 && has "use striped or concat"
run 3 vol create nosuch/vm3 1G && has "no pool 'nosuch'"
run 5 vol create p0/huge 10G --thick && has "free" && has "without --thick"
run 0 vol list && has "p0/vm1" && has "p0/vm2" && has "thick"
run 0 --json vol list p0 && json 'length' 2 && json '.[0].name' vm1
run 0 vol show p0/vm2 && has "Layout:       striped"
SERIAL=$(jq -r .serial <<<"$("$VLUNCTL" --json vol show p0/vm1)")
[ ${#SERIAL} = 32 ] && passes=$((passes+1)) || { echo "FAIL: serial '$SERIAL'"; fails=$((fails+1)); }
run 3 vol show p0/nosuch && has "no volume 'nosuch'"
run 0 vol resize p0/vm1 2G && has "now 2 GiB"
run 2 vol resize p0/vm1 1G && has "--force"
run 0 --json vol show p0/vm1 && json .size 2147483648
run 0 vol resize p0/vm1 1G --force
run 0 vol rename p0/vm1 web1 && has "Renamed"
run 3 vol show p0/vm1
run 0 --json vol show p0/web1 && json .serial "$SERIAL"
run 4 vol rename p0/web1 vm2 && has "already exists"

# --- locking: a pool in use elsewhere ---
exec 9<>"$T/d0"; flock -x 9
run 4 vol create p0/x 1G && has "in use by another process"
run 0 vol list p0 && has "p0/web1"   # read-only commands still work
exec 9>&-
run 0 vol create p0/x 4M && run 0 vol delete p0/x

# --- check, corruption, repair ---
run 0 pool check p0 && has "0 problem(s)"
run 0 --json pool check p0 && json .clean true
# flip a byte inside volume slot 0's current header on member 1 (volume table at 64 KiB)
python3 - "$T/d1" <<'PY' 2>/dev/null || printf '\x55' | dd of="$T/d1" bs=1 seek=$((65536 + 4096 + 300)) conv=notrunc status=none
import sys
f = open(sys.argv[1], 'r+b')
for off in (65536 + 300, 65536 + 4096 + 300):
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
run 6 pool check p0 && has "problem(s)" && has "--repair"
run 0 pool check p0 --repair && has "repaired"
run 0 pool check p0 && has "0 problem(s)"

# --- assembly after devices moved ---
mkdir "$T/moved"; mv "$T/d0" "$T/d1" "$T/d2" "$T/moved/"
run 7 pool status p0 && has "pool assemble"
run 0 pool scan "$T/moved" && has "pool p0" && has "complete"
run 7 pool assemble "$T/moved/d2" "$T/moved/d0" && has "missing member #1"
run 0 pool assemble "$T/moved/d2" "$T/moved/d0" "$T/moved/d1" && has "Assembled pool p0"
run 0 pool status p0 && has "$T/moved/d0"
run 0 --json vol show p0/web1 && json .serial "$SERIAL"
truncate -s 256M "$T/moved/d3"
run 2 pool create q "$T/moved/d3" "$T/moved/d3" && has "same device"
run 0 pool create q "$T/moved/d3"
run 7 pool assemble "$T/moved/d0" "$T/moved/d1" "$T/moved/d2" "$T/moved/d3" && has "another pool"

# --- delete and destroy ---
run 4 pool destroy p0 && has "still has 2 volume(s)" && has "--force"
run 0 vol delete p0/vm2 && has "Deleted"
run 3 vol delete p0/vm2
run 0 pool destroy p0 --force && has "Destroyed pool p0"
run 3 pool status p0
run 0 pool scan "$T/moved" && has "pool q"
[ ! -e "$T/etc/pools/p0.conf" ] && passes=$((passes+1)) || { echo "FAIL: p0.conf left"; fails=$((fails+1)); }
run 0 pool create p0 "$T/moved/d0"   # its members are free again

# --- pool share: usage errors, no sanlock daemon here: refused, nothing changed ---
run 0 --help && has "pool share NAME" && has "--host-id N"
run 2 pool share p0 --groups 0 && has "invalid --groups '0'"
run 2 pool share p0 --blades 2001 && has "invalid --blades"
run 2 pool share p0 --io-timeout x && has "invalid --io-timeout"
run 2 pool share p0 --thick && has "--thick does not apply to 'pool share'"
run 2 --host-id 0 pool status p0 && has "invalid --host-id"
run 3 pool share nosuch
SANLOCK_RUN_DIR=$T/no-sanlock run 1 pool share p0 && has "writing the leases"
run 0 --json pool status p0 && json .shared false
exec 9<>"$T/moved/d0"; flock -x 9     # a pool in use (as by a running target): refused
run 4 pool share p0 && has "in use by another process" && has "stop it"
exec 9>&-
run 0 --json pool status p0 && json .shared false
VLUN_HOST_ID=abc run 2 vol create p0/x 4M && has "VLUN_HOST_ID='abc'"

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
