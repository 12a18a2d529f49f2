#!/bin/bash
# vlun-config on a plain directory tree standing in for configfs (--configfs-root):
# the planner's diff, idempotence, --prune, rollback, show and clear, and the CLI's
# errors and exit codes.  The real LIO proof is test/vm/scenarios/target-config.sh.
set -uo pipefail
VC=${1:?usage: test-vlun-config.sh PATH-TO-vlun-config}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-config-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p $T/cfs/target/core $T/etc $T/data
vc() { "$VC" --configfs-root $T/cfs/target --config-dir $T/etc "$@"; }
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
expect() { # expect DESCRIPTION EXIT-CODE CMD... : the exit code, output in $out
	local what=$1 want=$2; shift 2
	out=$("$@" 2>&1); local rc=$?
	[ $rc = $want ] && ok "$what (exit $rc)" || { bad "$what: exit $rc, wanted $want"; echo "$out"; }
}
has() { grep -q -- "$2" <<<"$out" && ok "$1" || { bad "$1: no '$2' in:"; echo "$out"; }; }
tree() { (cd $T/cfs && find . | sort; find . -type f | sort | xargs cat 2>/dev/null) | md5sum; }

sed "s|/var/lib/vlun|$T/data|g; s|member_size = 64G|member_size = 512M|" \
	$SRC/target-config/examples/vlun.conf >$T/vlun.conf
cp $SRC/target-config/examples/secrets.conf $T/ && chmod 600 $T/secrets.conf

# usage and validation
expect "no command" 2 vc
expect "unknown command" 2 vc frob
expect "apply without a file" 2 vc apply
expect "extra argument" 2 vc check $T/vlun.conf extra
expect "--prune outside apply" 2 vc --prune show
expect "unknown option" 2 vc --frob show
expect "--help" 0 vc --help
has "help names the commands" "apply FILE"
expect "check of the example" 0 vc check $T/vlun.conf
expect "check --json" 0 vc --json check $T/vlun.conf
has "check --json says valid" '"valid": *true'
chmod 644 $T/secrets.conf
expect "world-readable secrets refused" 3 vc check $T/vlun.conf
has "the error says what to do" "chmod 600"
chmod 600 $T/secrets.conf
printf '[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 1\nportals = 127.0.0.1\n[pool p]\nmembrs = /x\n' >$T/bad.conf
expect "invalid file: exit 3" 3 vc check $T/bad.conf
has "error names file:line and key" "bad.conf:9: \[pool p\] membrs: unknown key"
has "and the missing key" "missing required key 'members'"
expect "invalid file: --json lists errors" 3 vc --json check $T/bad.conf
[ "$(vc --json check $T/bad.conf 2>/dev/null | jq '.errors | length')" = 2 ] && ok "json has both errors" || bad "json errors: $out"
before=$(tree)
expect "apply of an invalid file" 3 vc apply --blade blade-a $T/bad.conf
[ "$(tree)" = "$before" ] && ok "an invalid file changes nothing" || bad "an invalid file changed the tree"
expect "unknown blade" 2 vc apply --blade nosuch $T/vlun.conf
has "the blades are named" "blade-a, blade-b"

# apply, idempotence, dry run
expect "dry run" 0 vc apply --dry-run --blade blade-a $T/vlun.conf
has "dry run plans the pool" "+ pool pool0"
[ ! -e $T/etc/pools/pool0.conf ] && [ ! -e $T/cfs/target/iscsi ] && ok "dry run changes nothing" || bad "dry run changed things"
expect "apply" 0 vc apply --blade blade-a $T/vlun.conf
has "apply reports its changes" "change(s) applied"
[ -f $T/etc/pools/pool0.conf ] && ok "the pool was created" || bad "no pool definition"
I=$T/cfs/target/iscsi/iqn.2026-11.org.example:vlun
[ "$(cat $I/tpgt_1/enable)" = 1 ] && [ "$(cat $I/tpgt_2/enable)" = 0 ] && ok "only the local TPG is enabled" || bad "TPG enable"
[ -d $I/tpgt_1/np/192.0.2.11:3260 ] && [ ! -e $I/tpgt_2/np ] && ok "portals only on the local TPG" || bad "portals"
B=$T/cfs/target/core/user_100
[ "$(cat $B/vm1-disk/alua/blade-a/alua_access_state)" = 0 ] && [ "$(cat $B/vm1-disk/alua/blade-b/alua_access_state)" = 1 ] &&
	[ "$(cat $B/vm1-disk/alua/blade-b/tg_pt_gp_id)" = 2 ] && [ "$(cat $B/vm1-disk/alua/blade-a/alua_access_type)" = 1 ] &&
	ok "ALUA groups: id = TPG tag, implicit, the owner active/optimized" || bad "ALUA groups"
[ "$(cat $I/tpgt_2/lun/lun_0/alua_tg_pt_gp)" = blade-b ] && ok "each TPG's LUN is in its blade's group" || bad "LUN group"
grep -q "^dev_config=vlun/pool0/vm1-disk,dev_size=42949672960$" $B/vm1-disk/control && ok "backstore control string" || bad "control: $(cat $B/vm1-disk/control)"
[ -n "$(cat $B/vm1-disk/wwn/vpd_unit_serial)" ] && ok "vpd_unit_serial set" || bad "no serial"
[ "$(cat $I/tpgt_1/acls/iqn.1993-08.org.debian:01:hv1/auth/password_mutual)" = change-me-target-secret ] && ok "mutual CHAP written" || bad "CHAP"
expect "apply again" 0 vc apply --blade blade-a $T/vlun.conf
has "second apply changes nothing" "no changes"
[ "$(vc --json apply --dry-run --blade blade-a $T/vlun.conf 2>/dev/null | jq '.configfs_changes | length')" = 0 ] && ok "0 planned changes" || bad "planned: $out"
expect "show --json" 0 vc --json show
out=$(vc --json show 2>/dev/null)
[ "$(jq '.backstores | length' <<<"$out")" = 2 ] && ok "show lists both backstores" || bad "show: $out"
grep -q change-me <<<"$out" && bad "show leaks a secret" || ok "show masks secrets"

# a change of attribute (nopin) is a single SET; the owner swap flips ALUA states
sed -i 's/^nopin_timeout = 15/nopin_timeout = 20/; /^\[export vm1\]/,/^owner/ s/^owner = blade-a/owner = blade-b/' $T/vlun.conf
expect "apply an edit" 0 vc apply --blade blade-a $T/vlun.conf
[ "$(grep -c '^  ~ ' <<<"$out")" = 6 ] && ok "edit: 4 nopin values + 2 ALUA states changed" || { bad "edit changes"; echo "$out"; }
[ "$(cat $B/vm1-disk/alua/blade-b/alua_access_state)" = 0 ] && ok "owner moved to blade-b" || bad "owner"

# --prune: drop export vm2
python3 - $T/vlun.conf <<'PY'
import sys,re
p=sys.argv[1]; s=open(p).read()
s=re.sub(r"\[export vm2\][^\[]*", "", s); open(p,"w").write(s)
PY
expect "apply without --prune" 0 vc apply --blade blade-a $T/vlun.conf
[ -d $I/tpgt_1/lun/lun_1 ] && ok "without --prune the old export stays" || bad "export removed without --prune"
mkdir -p $T/cfs/target/core/user_7/handmade && echo "dev_config=vlun/pool0/other" >$T/cfs/target/core/user_7/handmade/control
expect "apply --prune" 0 vc apply --prune --blade blade-a $T/vlun.conf
[ ! -e $I/tpgt_1/lun/lun_1 ] && [ ! -e $B/vm2-disk ] && ok "--prune removed the export and its backstore" || bad "prune"
[ -d $I/tpgt_1/lun/lun_0 ] && ok "--prune kept the rest" || bad "prune removed too much"
grep -E '^  - ' <<<"$out" | grep -v -e vm2 -e lun_1 && bad "prune touched other objects" || ok "prune touched only vm2 objects"
out=$(vc --json show 2>/dev/null)
[ "$(jq -r '.backstores[] | select(.name=="handmade") | .managed' <<<"$out")" = no ] && ok "a hand-made backstore shows, unmanaged" || bad "handmade: $out"

# rollback: a plain file where a directory must go makes the run fail midway
printf '[volume vm5]\npool = pool0\nsize = 1G\n[export vm5]\nvolume = vm5\nlun = 5\nhosts = hv1\n' >>$T/vlun.conf
mkdir -p $I/tpgt_1/lun && : >$I/tpgt_1/lun/lun_5
state=$(md5sum <$T/cfs/target.vlun-state); before=$(tree)
expect "apply that fails midway" 1 vc apply --blade blade-a $T/vlun.conf
has "the failure is named" "lun_5"
has "and the rollback reported" "rolled back"
[ "$(tree)" = "$before" ] && ok "the tree is as before" || bad "rollback left changes"
[ "$(md5sum <$T/cfs/target.vlun-state)" = "$state" ] && ok "the managed record is as before" || bad "state changed"
grep -q vm5 $T/etc/pools/pool0.conf && bad "volume left" || ok "pool definition untouched"
rm $I/tpgt_1/lun/lun_5

# shared pools: the blade's host id goes to blade.conf; an existing single-blade pool is
# never converted.  (No sanlock daemon here: creating a shared pool is only planned, and
# its failure without one checked; test/vm creates them for real.)
expect "apply settles vm5" 0 vc apply --blade blade-a $T/vlun.conf
sed '/^\[blade blade-a\]/a host_id = 1' $T/vlun.conf | sed '/^\[blade blade-b\]/a host_id = 2' >$T/hid.conf
before=$(tree)
expect "dry run with a host id" 0 vc apply --dry-run --blade blade-a $T/hid.conf
has "the plan writes blade.conf" "+ blade.conf: blade blade-a, host id 1$"
has "and nothing else" "1 change(s) planned"
[ ! -e $T/etc/blade.conf ] && ok "dry run writes no blade.conf" || bad "dry run wrote blade.conf"
expect "apply with a host id" 0 vc apply --blade blade-a $T/hid.conf
has "blade.conf is a change" "1 change(s) applied"
grep -qx "name = blade-a" $T/etc/blade.conf && grep -qx "host_id = 1" $T/etc/blade.conf &&
	ok "blade.conf names the blade and its host id" || { bad "blade.conf:"; cat $T/etc/blade.conf; }
[ "$(tree)" = "$before" ] && ok "configfs untouched by the host id" || bad "configfs changed"
expect "apply with a host id again" 0 vc apply --blade blade-a $T/hid.conf
has "second apply: no changes" "no changes"
[ "$(vc --json apply --dry-run --blade blade-a $T/hid.conf 2>/dev/null | jq .storage_changes)" = 0 ] &&
	ok "0 storage changes planned" || bad "storage changes planned"
expect "dry run as the other blade" 0 vc apply --dry-run --blade blade-b $T/hid.conf
has "blade.conf would change" "~ blade.conf: blade blade-b, host id 2 (was: blade blade-a, host id 1)"
bc=$(md5sum <$T/etc/blade.conf)
# rollback: the host id changes, then configfs fails midway (lun_6 is a file)
sed 's/^host_id = 1$/host_id = 3/' $T/hid.conf >$T/hid3.conf
printf '[volume vm6]\npool = pool0\nsize = 1G\n[export vm6]\nvolume = vm6\nlun = 6\nhosts = hv1\n' >>$T/hid3.conf
: >$I/tpgt_1/lun/lun_6
before=$(tree)
expect "apply with a new host id that fails midway" 1 vc apply --blade blade-a $T/hid3.conf
has "the run is rolled back" "rolled back"
[ "$(md5sum <$T/etc/blade.conf)" = "$bc" ] && ok "blade.conf is as before" || { bad "blade.conf changed:"; cat $T/etc/blade.conf; }
[ "$(tree)" = "$before" ] && ok "and configfs too" || bad "rollback left changes"
rm $I/tpgt_1/lun/lun_6
before=$(tree)
# the file marks the existing single-blade pool0 shared: refused, nothing changes
sed '/^\[pool pool0\]/a shared = yes' $T/hid3.conf >$T/share.conf
line=$(grep -n '^shared = yes' $T/share.conf | cut -d: -f1)
p0=$(md5sum <$T/etc/pools/pool0.conf)
expect "marking an existing pool shared" 3 vc apply --blade blade-a $T/share.conf
has "the error names the file and line" "share.conf:$line: \[pool pool0\] shared: pool pool0 exists as a single-blade pool"
has "and the command that converts it" "run 'vlunctl pool share pool0'"
[ "$(tree)" = "$before" ] && [ "$(md5sum <$T/etc/blade.conf)" = "$bc" ] &&
	[ "$(md5sum <$T/etc/pools/pool0.conf)" = "$p0" ] && ok "and nothing changed" || bad "something changed"
expect "check does not look at the pools" 0 vc check $T/share.conf
sed '/^host_id = 2$/d' $T/share.conf >$T/nohid.conf
expect "a shared pool, a blade without host_id" 3 vc check $T/nohid.conf
has "the blade is named" "\[blade blade-b\]: missing host_id: pool pool0 is shared"
# a new shared pool: planned; without sanlock its creation fails, says so, rolls back
sed -i '/^\[volume vm6\]/,$d' $T/hid3.conf
printf '[pool spool]\nmembers = %s/data/s0.img\nmember_size = 512M\nshared = yes\nmax_volumes = 4\nmax_blades = 8\n[volume sv1]\npool = spool\nsize = 1G\n' \
	"$T" >>$T/hid3.conf
expect "dry run with a new shared pool" 0 vc apply --dry-run --blade blade-a $T/hid3.conf
has "the shared pool is planned" "+ pool spool (1 member(s), shared: 4 volume slots, host ids 1-8, lease I/O timeout 10 s)"
has "with its volume" "+ volume spool/sv1"
has "and the new host id" "~ blade.conf: blade blade-a, host id 3 (was: blade blade-a, host id 1)"
before=$(tree)
SANLOCK_RUN_DIR=$T/no-sanlock expect "creating a shared pool without sanlock" 1 vc apply --blade blade-a $T/hid3.conf
has "the failure says what to start" "start wdmd and sanlock"
[ ! -e $T/data/s0.img ] && [ ! -e $T/etc/pools/spool.conf ] && ok "the pool and its member file are gone" ||
	bad "the shared pool's leftovers stay"
[ "$(md5sum <$T/etc/blade.conf)" = "$bc" ] && [ "$(tree)" = "$before" ] && ok "blade.conf and configfs as before" ||
	bad "rollback of blade.conf or configfs"

# clear removes only what vlun-config manages
expect "clear --dry-run" 0 vc clear --dry-run
[ -d $I ] && ok "clear --dry-run removes nothing" || bad "dry-run clear removed"
expect "clear" 0 vc clear
[ ! -e $I ] && [ ! -e $B/vm1-disk ] && ok "clear removed target and backstores" || bad "clear left objects"
[ -d $T/cfs/target/core/user_7/handmade ] && ok "clear kept the hand-made backstore" || bad "clear removed a foreign object"
expect "clear again" 0 vc clear
has "nothing left to clear" "nothing to remove"
echo "$fails failure(s)"
[ $fails = 0 ]
