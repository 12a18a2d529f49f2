#!/bin/bash
# vlun-config on a plain directory tree standing in for configfs (--configfs-root):
# the planner's diff, idempotence, --prune, rollback, show and clear, and the CLI's
# errors and exit codes; ALUA group states; as root with sanlock, a shared pool for real
# (a sanlock daemon of the test's own, a fake handler that logs the ALUA requests).  The
# real LIO proof is test/vm/scenarios/target-config.sh.
set -uo pipefail
VC=${1:?usage: test-vlun-config.sh PATH-TO-vlun-config}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-config-test.XXXXXX")
declare -A BG # background processes this test started (name -> pid), ended by pid
cleanup() {
	[ -n "${BG[sanlock]:-}" ] && SANLOCK_RUN_DIR=$SL timeout 10 sanlock client shutdown -f 1 >/dev/null 2>&1
	for n in "${!BG[@]}"; do
		for _ in $(seq 50); do kill -0 "${BG[$n]}" 2>/dev/null || break; [ $n = sanlock ] || kill "${BG[$n]}"; sleep 0.1; done
		kill -0 "${BG[$n]}" 2>/dev/null && kill -KILL $(pgrep -P "${BG[$n]}") "${BG[$n]}" 2>/dev/null
		wait "${BG[$n]}" 2>/dev/null
	done
	rm -rf "$T" ${SD:+"$SD"}
}
trap cleanup EXIT
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
# [export] vm: which VM the export belongs to (default its own name; unit/tconf checks the
# values); a bad name is an error at its line
sed '/^\[export vm[12]\]/a vm = guest-1' $T/vlun.conf >$T/vm.conf
expect "two exports of one vm" 0 vc check $T/vm.conf
sed '0,/^vm = guest-1$/ s//vm = guest 1/' $T/vm.conf >$T/badvm.conf
line=$(grep -n '^vm = guest 1$' $T/badvm.conf | cut -d: -f1)
expect "a bad vm name: exit 3" 3 vc check $T/badvm.conf
has "the error names file:line" "badvm.conf:$line: \[export vm1\] vm: 'guest 1' is not a valid name"
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
[ "$(cat $B/vm1-disk/alua/blade-a/alua_access_state)" = 0 ] && [ "$(cat $B/vm1-disk/alua/blade-b/alua_access_state)" = 2 ] &&
	[ "$(cat $B/vm1-disk/alua/blade-b/tg_pt_gp_id)" = 2 ] && [ "$(cat $B/vm1-disk/alua/blade-a/alua_access_type)" = 1 ] &&
	ok "ALUA groups: id = TPG tag, implicit, the owner active/optimized, the other standby" || bad "ALUA groups"
d=$(for g in $B/vm*-disk/alua/blade-*; do echo $(cat $g/nonop_delay_msecs) $(cat $g/trans_delay_msecs) $(cat $g/implicit_trans_secs); done | sort -u)
[ "$(ls -d $B/vm*-disk/alua/blade-* | wc -l)" = 4 ] && [ "$d" = "0 0 10" ] && ok "every group: nonop_delay_msecs 0, trans_delay_msecs 0, implicit_trans_secs 10" || bad "ALUA delays: $d"
[ "$(cat $I/tpgt_2/lun/lun_0/alua_tg_pt_gp)" = blade-b ] && ok "each TPG's LUN is in its blade's group" || bad "LUN group"
grep -q "^dev_config=vlun/pool0/vm1-disk,dev_size=42949672960,hw_max_sectors=2048,max_data_area_mb=64$" $B/vm1-disk/control && ok "backstore control string" || bad "control: $(cat $B/vm1-disk/control)"
[ -n "$(cat $B/vm1-disk/wwn/vpd_unit_serial)" ] && ok "vpd_unit_serial set" || bad "no serial"
[ "$(cat $I/tpgt_1/acls/iqn.1993-08.org.debian:01:hv1/auth/password_mutual)" = change-me-target-secret ] && ok "mutual CHAP written" || bad "CHAP"
expect "apply again" 0 vc apply --blade blade-a $T/vlun.conf
has "second apply changes nothing" "no changes"
[ "$(vc --json apply --dry-run --blade blade-a $T/vlun.conf 2>/dev/null | jq '.configfs_changes | length')" = 0 ] && ok "0 planned changes" || bad "planned: $out"
# a single-blade pool's ALUA states are the file's on every apply (nothing for the handler)
echo 2 >$B/vm1-disk/alua/blade-a/alua_access_state && echo 0 >$B/vm1-disk/alua/blade-b/alua_access_state
expect "apply over swapped ALUA states" 0 vc apply --blade blade-a $T/vlun.conf
[ "$(cat $B/vm1-disk/alua/blade-a/alua_access_state)$(cat $B/vm1-disk/alua/blade-b/alua_access_state)" = 02 ] &&
	[ "$(grep -c '^  ~ .*/alua_access_state = ' <<<"$out")" = 2 ] && ok "single-blade pool: the states are written back" ||
	{ bad "single-blade ALUA states"; echo "$out"; }
grep -q alua-claim <<<"$out" && bad "requests to the handler for a single-blade pool" || ok "no handler requests for a single-blade pool"
[ "$(vc --json apply --blade blade-a $T/vlun.conf 2>/dev/null | jq '.handler_requests | length')" = 0 ] &&
	ok "json: no handler requests" || bad "json handler requests"
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
# its exports' ALUA goes to the handler after the changes: the configured owner claims
# (only listed by a dry run), every blade syncs once per shared pool
printf '[export sv1]\nvolume = sv1\nlun = 7\nhosts = hv1\n' | cat $T/hid3.conf - >$T/hid3x.conf
expect "dry run with a shared pool's export" 0 vc apply --dry-run --blade blade-a $T/hid3x.conf
has "lists the owner's claim" "^  > alua-claim spool sv1 (to the handler, after the changes)$"
has "and the sync" "^  > alua-sync spool (to the handler, after the changes)$"
[ "$(grep -c '^  > ' <<<"$out")" = 2 ] && ok "nothing for the single-blade pool" || bad "requests: $out"
[ "$(vc --json apply --dry-run --blade blade-b $T/hid3x.conf 2>/dev/null | jq -c .handler_requests)" = '[{"request":"alua-sync spool"}]' ] &&
	ok "json, another blade: only the sync" || bad "json requests as blade-b"
before=$(tree)
SANLOCK_RUN_DIR=$T/no-sanlock expect "creating a shared pool without sanlock" 1 vc apply --blade blade-a $T/hid3.conf
has "the failure says what to start" "start wdmd and sanlock"
[ ! -e $T/data/s0.img ] && [ ! -e $T/etc/pools/spool.conf ] && ok "the pool and its member file are gone" ||
	bad "the shared pool's leftovers stay"
[ "$(md5sum <$T/etc/blade.conf)" = "$bc" ] && [ "$(tree)" = "$before" ] && ok "blade.conf and configfs as before" ||
	bad "rollback of blade.conf or configfs"

# A shared pool for real: a sanlock daemon of this test's own (its own run directory, no
# watchdog: -w 0, a test only) and a fake handler on $VLUN_CTL_SOCKET that logs the ALUA
# requests it gets.  Needs root and a file system with O_DIRECT (sanlock's disks).
fake_handler() { # SOCKET LOG ANSWER-FILE: "serves" -2, else the answer file's line or "0 ok"
	exec python3 -c '
import os, socket, sys
path, log, answer = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    req = c.makefile().readline().strip()
    if req.startswith("serves "):
        ans = "-2 not served here"  # so vlun-config changes the pool itself
    else:
        with open(log, "a") as f:
            f.write(req + "\n")
        ans = open(answer).read().strip() if os.path.exists(answer) else "0 ok"
    c.sendall((ans + "\n").encode())
    c.close()
' "$@"
}
states() { # VOLUME...: blade-a's and blade-b's alua_access_state of each
	for v in "$@"; do cat $SD/cfs/target/core/user_100/$v/alua/blade-{a,b}/alua_access_state; done | tr -d '\n'
}
shared_pool_section() {
	SD=$(mktemp -d /var/tmp/vlun-config-shared.XXXXXX) SL=$SD/sanlock
	mkdir -p $SL $SD/cfs/target/core $SD/etc
	if ! dd if=/dev/zero of=$SD/odirect bs=4096 count=1 oflag=direct 2>/dev/null; then
		echo "skip shared pool for real: no O_DIRECT in /var/tmp"
		return
	fi
	local capeff C=$SD/vlun.conf G=$SD/cfs/target/core/user_100 lun=10
	capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	(( (16#$capeff >> 24) & 1 )) || export SANLOCK_PRIVILEGED=0 # no CAP_SYS_RESOURCE (memlock)
	SANLOCK_RUN_DIR=$SL sanlock daemon -D -w 0 -l 0 -U root -G root -e "vlun-config-test-$$" -L -1 -S -1 \
		>$SD/sanlock.log 2>&1 &
	BG[sanlock]=$!
	for _ in $(seq 100); do SANLOCK_RUN_DIR=$SL sanlock client status >/dev/null 2>&1 && break; sleep 0.1; done
	SANLOCK_RUN_DIR=$SL sanlock client status >/dev/null 2>&1 ||
		{ bad "the test's sanlock daemon did not start:"; cat $SD/sanlock.log; return; }
	export SANLOCK_RUN_DIR=$SL VLUN_NO_WATCHDOG_OK=1 VLUN_CTL_SOCKET=$SD/handler.sock
	fake_handler $VLUN_CTL_SOCKET $SD/requests $SD/answer &
	BG[handler]=$!
	for _ in $(seq 50); do [ -S $VLUN_CTL_SOCKET ] && break; sleep 0.1; done
	vs() { "$VC" --configfs-root $SD/cfs/target --config-dir $SD/etc "$@"; }
	# the blades with host ids, a shared and a single-blade pool; sv3 and lv1 are VM db's
	sed '/^\[pool pool0\]/,$d; /^secrets/d; s/^demo_mode = no/demo_mode = yes/' $T/hid.conf >$C
	printf '[pool spool]\nmembers = %s/s0.img\nmember_size = 256M\nshared = yes\nlease_io_timeout = 1\n' $SD >>$C
	printf '[pool lpool]\nmembers = %s/l0.img\nmember_size = 256M\n' $SD >>$C
	for v in sv1:spool:blade-a sv2:spool:blade-b sv3:spool:blade-a lv1:lpool:blade-a; do
		IFS=: read -r n p o <<<"$v"
		printf '[volume %s]\npool = %s\nsize = 1G\n[export %s]\nvolume = %s\nlun = %d\nowner = %s\n' \
			$n $p $n $n $((++lun)) $o >>$C
	done
	sed -i '/^\[export sv3\]/a vm = db' $C && echo "vm = db" >>$C
	expect "apply creating a shared pool (the test's sanlock daemon)" 0 vs apply --blade blade-a $C
	[ "$(states sv1 sv2 sv3 lv1)" = 02200202 ] && ok "new groups: the configured owner 0, the other blade 2" ||
		bad "states: $(states sv1 sv2 sv3 lv1)"
	[ "$(cat $SD/requests)" = "alua-claim spool sv1
alua-claim spool sv3
alua-sync spool" ] && ok "the handler got the owner's claims and one sync; nothing for the single-blade pool" ||
		{ bad "requests:"; cat $SD/requests; }
	has "the answers are shown" "^  > alua-claim spool sv1: ok$"
	# the handler moved sv1 to blade-b; someone wrote lv1's states: apply again
	echo 2 >$G/sv1/alua/blade-a/alua_access_state && echo 0 >$G/sv1/alua/blade-b/alua_access_state
	echo 2 >$G/lv1/alua/blade-a/alua_access_state && echo 0 >$G/lv1/alua/blade-b/alua_access_state
	: >$SD/requests
	expect "apply again" 0 vs apply --blade blade-a $C
	[ "$(states sv1 lv1)" = 2002 ] && ok "the shared pool's states are left alone, the single-blade pool's written back" ||
		bad "states after a second apply: $(states sv1 lv1)"
	grep -q 'sv1/alua/.*alua_access_state' <<<"$out" && bad "a shared pool's state was planned" || ok "and not planned"
	[ "$(wc -l <$SD/requests)" = 3 ] && ok "the requests are sent on every apply" || bad "requests: $(cat $SD/requests)"
	: >$SD/requests
	expect "dry run as the other blade" 0 vs apply --dry-run --blade blade-b $C
	has "lists its claim" "^  > alua-claim spool sv2 (to the handler, after the changes)$"
	[ ! -s $SD/requests ] && ok "a dry run sends nothing" || bad "a dry run sent: $(cat $SD/requests)"
	[ "$(vs --json apply --blade blade-a $C 2>/dev/null | jq -c '[.handler_requests[] | .ok]')" = '[true,true,true]' ] &&
		ok "json: the requests and their answers" || bad "json requests"
	echo "-16 held by host 2" >$SD/answer
	expect "the handler refuses: still a success" 0 vs apply --blade blade-a $C
	has "with a warning" "vlun-config: warning: alua-claim spool sv1: held by host 2; the volume starts unowned"
	[ -z "$(vs -q apply --blade blade-a $C 2>/dev/null)" ] &&
		vs -q apply --blade blade-a $C 2>&1 | grep -q "warning: alua-sync spool: held by host 2" &&
		ok "--quiet: nothing on stdout, the warnings on stderr" || bad "--quiet output"
	[ "$(vs --json apply --blade blade-a $C 2>/dev/null | jq -r '.handler_requests[0] | "\(.ok) \(.answer)"')" = \
		"false held by host 2" ] && ok "json: the refusal" || bad "json refusal"
	kill ${BG[handler]} && wait ${BG[handler]} 2>/dev/null
	unset "BG[handler]"
	rm -f $VLUN_CTL_SOCKET
	expect "no handler: still a success" 0 vs apply --blade blade-a $C
	has "with a warning" "warning: alua-sync spool: no vlun handler answers on $VLUN_CTL_SOCKET"
	unset SANLOCK_RUN_DIR VLUN_NO_WATCHDOG_OK VLUN_CTL_SOCKET
}
if [ "$(id -u)" != 0 ] || ! command -v sanlock >/dev/null || ! command -v python3 >/dev/null; then
	echo "skip shared pool for real: needs root, sanlock and python3"
else
	shared_pool_section
fi

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
