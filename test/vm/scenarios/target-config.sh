# Scenario - declarative target configuration on real LIO: vlun-config applies a file
# with CHAP, two blades and ALUA groups; an allowed initiator logs in and does I/O, a
# wrong secret and an unlisted initiator are refused; applying again changes nothing;
# an edit (a volume added, an export pruned) changes only that, with the new volume
# created through the serving handler; targetcli sees the objects and a targetcli-made
# backstore shows up in `vlun-config show`; a failure midway rolls back; tcmu-runner
# restarts and a configfs wipe (what a reboot does) are recovered by re-applying.
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
TIQN=iqn.2026-11.org.vlun:tc
ME=iqn.2026-11.org.vlun:guest-initiator
D=/var/lib/vlun/tc; mkdir -p $D
cat >$D/secrets.conf <<S
[host hv1]
userid = hv1-user
password = hv1-secret-0123
mutual_userid = target-user
mutual_password = target-secret-0123
S
chmod 600 $D/secrets.conf
write_conf() { # write_conf EXTRA-SECTIONS...
	cat >$D/vlun.conf <<C
[vlun]
version = 1
secrets = secrets.conf
[target]
iqn = $TIQN
[blade a]
tpg = 1
portals = 127.0.0.1:${PORT:-3260}
[blade b]
tpg = 2
portals = 192.0.2.12
[pool tcpool]
members = $D/m0.img $D/m1.img
member_size = 256M
extent_size = 1M
[volume vm1]
pool = tcpool
size = ${VM1SIZE:-64M}
[volume vm2]
pool = tcpool
size = 32M
[host hv1]
iqn = $ME
chap = mutual
[export vm1]
volume = vm1
lun = 0
hosts = hv1
owner = a
C
	for s in "$@"; do printf '%s\n' "$s" >>$D/vlun.conf; done
}
EXPORT_VM2=$'[export vm2]\nvolume = vm2\nlun = 1\nhosts = hv1\nowner = b'
write_conf "$EXPORT_VM2"
check "check accepts the file" $VC check $D/vlun.conf
out=$($VC apply --blade a $D/vlun.conf 2>&1) || true; echo "$out"
check "first apply creates pool, volumes and the target" grep -q "change(s) applied" <<<"$out"
check "apply created the pool" $VLUNCTL -q pool status tcpool

login_chap() { # login_chap PASSWORD : CHAP login to the target, mutual
	iscsi_logout
	pgrep -x iscsid >/dev/null || { setsid iscsid -f >/var/log/iscsid.log 2>&1 & sleep 0.5; }
	iscsiadm -m discovery -t st -p 127.0.0.1 >/dev/null || return 1
	local n="iscsiadm -m node -T $TIQN -p 127.0.0.1 -o update -n"
	$n node.session.auth.authmethod -v CHAP && $n node.session.auth.username -v hv1-user &&
	$n node.session.auth.password -v "$1" && $n node.session.auth.username_in -v target-user &&
	$n node.session.auth.password_in -v target-secret-0123 || return 1
	timeout 60 iscsiadm -m node -T $TIQN -p 127.0.0.1 -l >/dev/null 2>&1
}
check "the listed initiator logs in with mutual CHAP" login_chap hv1-secret-0123
dev=$(lun_disk 0) || { fail "no disk for LUN 0"; exit 1; }
head -c 4M /dev/urandom >/tmp/pat
readback() { cmp -s /tmp/pat <(dd if=$1 bs=1M count=4 iflag=direct status=none); }
dd if=/tmp/pat of=$dev bs=1M oflag=direct status=none
check "write and read back through LUN 0" readback $dev
sg_sync $dev
check "LUN 0's serial is the volume's" grep -q "$(vol_serial tcpool/vm1)" <(sg_inq -p 0x80 $dev)
rtpg=$(sg_rtpg -d $dev 2>&1 || true); echo "$rtpg"
groups=$(tr '\n' ' ' <<<"$rtpg" | sed 's/target port group id/\n&/gi')
check "RTPG: blade a's group (id 1) active/optimized" grep -qiE "id *: *0x0*1 .*active/optimized" <<<"$groups"
check "RTPG: blade b's group (id 2) standby (a non-owner's state, docs/alua.md)" \
	grep -qiE "id *: *0x0*2 .*standby" <<<"$groups"
check "LUN 1 (vm2, owned by blade b) is there" lun_disk 1
iscsi_logout
if login_chap wrong-secret-0123; then fail "wrong CHAP secret refused"; else pass "wrong CHAP secret refused"; fi
iscsi_logout
iscsiadm -k 0 >/dev/null 2>&1 || true; sleep 0.5
echo "InitiatorName=iqn.2026-11.org.vlun:stranger" >/etc/iscsi/initiatorname.iscsi
if login_chap hv1-secret-0123; then fail "unlisted initiator refused"; else pass "unlisted initiator refused"; fi
iscsi_logout; iscsiadm -m node -o delete >/dev/null 2>&1 || true
iscsiadm -k 0 >/dev/null 2>&1 || true; sleep 0.5
echo "InitiatorName=$ME" >/etc/iscsi/initiatorname.iscsi

out=$($VC apply --blade a $D/vlun.conf 2>&1) || true; echo "$out"
check "second apply changes nothing" grep -q "no changes" <<<"$out"
n=$($VC --json apply --blade a --dry-run $D/vlun.conf | jq '.configfs_changes | length')
check "dry run after apply plans 0 changes" test "$n" = 0

# edit: add vm3 as LUN 2, drop the vm2 export; without --prune only the addition happens
write_conf $'[volume vm3]\npool = tcpool\nsize = 16M' $'[export vm3]\nvolume = vm3\nlun = 2\nhosts = hv1'
out=$($VC apply --blade a $D/vlun.conf 2>&1) || true; echo "$out"
check "edit: the new volume is created through the serving handler" grep -q "volume tcpool/vm3" <<<"$out"
check "edit: LUN 2 added" grep -q "lun/lun_2" <<<"$out"
check "edit without --prune keeps the vm2 export" test -d $CFG/iscsi/$TIQN/tpgt_1/lun/lun_1
check "edit: nothing about vm1 changed" bash -c "! grep -q 'vm1' <<<\"\$0\"" "$out"
out=$($VC apply --blade a --prune $D/vlun.conf 2>&1) || true; echo "$out"
check "--prune removes the vm2 export" test ! -e $CFG/iscsi/$TIQN/tpgt_1/lun/lun_1
check "--prune removes vm2's backstore" test ! -e $CFG/core/user_100/vm2
check "--prune keeps the volume itself" $VLUNCTL -q vol show tcpool/vm2
check "--prune touched only vm2 objects" bash -c "! grep -E '^  - ' <<<\"\$0\" | grep -v -e vm2 -e lun_1" "$out"
check "the handler created vm3" $VLUNCTL -q vol show tcpool/vm3

# growing a served volume in the file: grown through the handler, the LUN follows online
VM1SIZE=80M
write_conf $'[volume vm3]\npool = tcpool\nsize = 16M' $'[export vm3]\nvolume = vm3\nlun = 2\nhosts = hv1'
out=$($VC apply --blade a $D/vlun.conf 2>&1) || true; echo "$out"
check "grow: the volume is 80 MiB" test "$($VLUNCTL --json vol show tcpool/vm1 | jq .size)" = $((80 << 20))
check "grow: the LUN is 80 MiB" test "$(cat $CFG/core/user_100/vm1/attrib/dev_size)" = $((80 << 20))

# targetcli sees vlun-config's objects; a hand-made backstore shows up in show
tl=$(targetcli ls 2>&1); echo "$tl"
check "targetcli lists the target" grep -q "$TIQN" <<<"$tl"
check "targetcli lists the backstore" grep -q "vm1" <<<"$tl"
$VLUNCTL -q vol create tcpool/handmade 16M
targetcli /backstores/user:vlun create name=handmade size=16M cfgstring=tcpool/handmade \
	wwn=$(vol_serial tcpool/handmade) >/dev/null
js=$($VC show --json); echo "$js" | jq -c '.backstores[] | {name, volume, managed}'
check "show lists the targetcli-made backstore, unmanaged" \
	test "$(jq -r '.backstores[] | select(.name=="handmade") | .managed' <<<"$js")" = no
check "show masks CHAP secrets" bash -c "! grep -q hv1-secret <<<\"\$0\"" "$js"

# a failure midway (a local portal whose port another program holds) rolls back this
# run's changes; LIO binds non-local addresses (freebind), so a busy port is the test
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",3261)); s.listen(); time.sleep(600)' &
holder=$!; sleep 1
before=$($VC show --json)
PORT=3260 write_conf $'[volume vm3]\npool = tcpool\nsize = 16M' $'[export vm3]\nvolume = vm3\nlun = 2\nhosts = hv1' \
	$'[volume vm4]\npool = tcpool\nsize = 16M' $'[export vm4]\nvolume = vm4\nlun = 3\nhosts = hv1'
sed -i 's/^portals = 127.0.0.1:3260/portals = 127.0.0.1:3260 127.0.0.1:3261/' $D/vlun.conf
rc=0; out=$($VC apply --blade a $D/vlun.conf 2>&1) || rc=$?; echo "$out"
kill $holder
check "apply with an unbindable portal fails (exit 1)" test $rc = 1
check "the failure names the portal" grep -q "127.0.0.1:3261" <<<"$out"
check "the failed apply rolled back configfs" test "$($VC show --json)" = "$before"
check "the failed apply rolled back the volume it created" bash -c "! $VLUNCTL -q vol show tcpool/vm4 2>/dev/null"

# tcmu-runner restarts: service comes back, re-apply has nothing to do
write_conf $'[volume vm3]\npool = tcpool\nsize = 16M' $'[export vm3]\nvolume = vm3\nlun = 2\nhosts = hv1'
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
vm_start_runner
check "after a tcmu-runner restart the login works" login_chap hv1-secret-0123
dev=$(lun_disk 0)
check "after a tcmu-runner restart the data is there" readback $dev
iscsi_logout
out=$($VC apply --blade a $D/vlun.conf 2>&1) || true; echo "$out"
check "re-apply after the restart changes nothing" grep -q "no changes" <<<"$out"

# a reboot loses configfs and /run: empty both (targetcli is not used while the runner is
# down: it would have dbus start a runner without our handler), restart the runner, apply
$VC -q clear; rm -f /run/vlun/target-config.state
check "the wipe left no vlun-config object" test ! -e $CFG/iscsi/$TIQN -a ! -e $CFG/core/user_100/vm1
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
vm_start_runner
out=$($VC apply --blade a $D/vlun.conf 2>&1) || true; echo "$out"
check "apply after a configfs wipe restores the target" grep -q "change(s) applied" <<<"$out"
check "after the wipe the login works" login_chap hv1-secret-0123
dev=$(lun_disk 0)
check "after the wipe the data is there" readback $dev
iscsi_logout

# clear removes what vlun-config manages, nothing else
targetcli /backstores/user:vlun create name=handmade2 size=16M cfgstring=tcpool/handmade \
	wwn=$(vol_serial tcpool/handmade) >/dev/null
out=$($VC clear 2>&1) || true; echo "$out"
check "clear removes the target" test ! -e $CFG/iscsi/$TIQN
check "clear removes vlun-config's backstores" test ! -e $CFG/core/user_100/vm1
check "clear keeps the targetcli-made backstore" bash -c "ls -d $CFG/core/user_*/handmade2"
