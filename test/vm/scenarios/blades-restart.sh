# Restart safety on two blades (test/vm/vm-run2 --reboot), on real sanlock (with the
# watchdog), tcmu-runner, LIO and open-iscsi: a blade that comes back serves exactly the
# volumes it owns, and none it does not.
#   1. late join: blade a creates the shared pool and writes vm1 and vm2 (owning both);
#      only then does blade b apply the same vlun.conf, while a writes vm1 (fio,
#      verified): a's writes never fail, b holds no volume lease afterwards, a both.
#   2. tcmu-runner restart: a's runner is killed (SIGKILL) and started again, as systemd
#      would: its volume leases go with the process, b takes none, and a reads back
#      everything it wrote, owning vm1 again (a newer epoch) from its first I/O.
#   3. blade reboot: b takes vm2 (writing through its own portal, flushed) and resets
#      (sysrq b: no sync, no shutdown).  On its second boot it starts sanlock and the
#      runner and applies the file again: it takes back vm2 (its last volume, nobody took
#      it since); a takes vm2 at its first write (b is asked and lets go) and reads what b
#      flushed.
#   vm-run2 --reboot blades-restart         (CTest: vm/blades-restart)
# The reset is a power cycle (vm-run2 --reboot starts a new qemu for b on the same disks
# and link): an in-place qemu reset under TCG was seen to hang in b's early boot.
export VLUN_NONOWNER_STATE=nonoptimized # writes through either blade take the volume (implicit failover)
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
TIQN=iqn.2026-11.org.vlun:restart
me=$VLUN_BLADE
export VLUN_HOST_ID=$VLUN_BLADE_ID
CONF=$VLUN_SHARED/vlun.conf
VOLS=($'[volume vm1]\npool = shp\nsize = 96M' $'[volume vm2]\npool = shp\nsize = 96M'
      $'[export vm1]\nvolume = vm1\nlun = 0\nowner = a' $'[export vm2]\nvolume = vm2\nlun = 1\nowner = b')

boots=$([ $me = b ] && echo 2 || echo 1)
[ "$VLUN_BOOT" -le $boots ] || { fail "blade $me booted $VLUN_BOOT times (expected $boots)"; exit 1; }

# held: how many volume leases this blade's processes hold (sanlock's own account)
held() { sanlock client status 2>/dev/null | grep -cE '^r [^:]+:vol-[0-9]+:' || true; }
epoch() { $VLUNCTL --json vol show shp/$1 | jq -r .owner_epoch; }
owner() { $VLUNCTL --json vol show shp/$1 | jq -r .owner_blade; }
owns_newer() { [ "$(owner $1)" = $VLUN_BLADE_ID ] && [ "$(epoch $1)" -gt $2 ]; } # VOL EPOCH
# put_block DEV MIB KEY: 1 MiB of random data at MiB offset MIB, flushed; its sum as KEY
put_block() {
	head -c 1M /dev/urandom >/tmp/blk
	dd if=/tmp/blk of=$1 bs=1M seek=$2 count=1 oflag=direct conv=notrunc,fsync status=none &&
		peer_put $3 "$(sha256sum </tmp/blk | cut -d' ' -f1)"
}
# same_block DEV MIB KEY: the block at MIB reads back as published under KEY
same_block() {
	test "$(dd if=$1 bs=1M skip=$2 count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)" = \
		"$(peer_get $3 10)"
}
# retry N CMD...: CMD until it succeeds, at most N times 0.5 s apart (a LUN whose
# runner just restarted answers BUSY or NOT READY for a moment)
retry() { local n=$1 i; shift; for i in $(seq $n); do "$@" 2>/dev/null && return 0; sleep 0.5; done; return 1; }
login() { blade_login $TIQN; }
apply() {
	local rc=0 out
	out=$($VC apply --blade $me $CONF 2>&1) || rc=$?
	echo "$out"
	return $rc
}

# ---- b's second boot (after its reset in 3) ----
if [ $me = b ] && [ "$VLUN_BOOT" = 2 ]; then
	t0=$(now)
	check "boot 2: wdmd and sanlock (-w 1) started" blade_start_sanlock
	check "boot 2: LIO and tcmu-runner started" vm_start_target
	check "boot 2: blade b applies vlun.conf again (the pool exists: joined, not created)" apply
	figure "reboot: boot to serving again s: $(since 0)"
	# the reset ended its leases; re-applying the file claims what it owned last and
	# nobody took since (alua-claim: vm2, whose record names it and every blade reports AO)
	check "boot 2: blade b holds only vm2, the volume it owned last (taken back at apply)" test "$(held)" = 1
	log "vm2's record names blade $(owner vm2) (epoch $(epoch vm2))"
	check "boot 2: both blades alive in the lockspace" retry 30 blades_alive shp
	$VLUNCTL pool status shp | grep -i blade || true
	peer_put b2-up "$(now)"
	peer_get a-took-vm2 240 >/dev/null
	check "boot 2: blade b holds no volume lease after a took vm2" test "$(held)" = 0
	check "boot 2: vlunctl pool check shp from blade b is clean" $VLUNCTL pool check shp
	peer_put b2-done 1
	exit 0
fi

check "wdmd and sanlock (-w 1) started" blade_start_sanlock
check "LIO and tcmu-runner started" vm_start_target

# ---- 1. late join ----
if [ $me = a ]; then
	blade_conf $CONF $TIQN shp "${VOLS[@]}"
	check "blade a: apply creates the shared pool, vm1, vm2 and the target" apply
	check "blade a: login to its own portal" login
	dev1=$(lun_disk 0) dev2=$(lun_disk 1)
	check "blade a writes vm1 (taking it)" put_block $dev1 16 vm1.16
	check "blade a writes vm2 (taking it)" put_block $dev2 16 vm2.16
	check "blade a holds both volume leases" test "$(held)" = 2
	peer_put a-serving 1
	peer_get b-joining 180 >/dev/null
	rc=0
	fio --name=latejoin --filename=$dev1 --offset=32M --size=24M --rw=randwrite --bs=64k \
		--direct=1 --ioengine=libaio --iodepth=4 --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --end_fsync=1 --output=/tmp/fio.out >/dev/null 2>&1 || rc=$?
	log "fio on vm1 ended at $(now) s; b joined: $(peer_has b-joined && echo yes || echo not yet)"
	tail -3 /tmp/fio.out
	check "blade a's verified writes to vm1 while blade b joined never failed" test $rc = 0
	peer_get b-joined 180 >/dev/null
	check "blade a still holds both volume leases after b joined" test "$(held)" = 2
else
	peer_get a-serving 240 >/dev/null
	peer_put b-joining 1
	t0=$(now)
	check "blade b (late): apply joins the pool and exports its volumes" apply
	figure "late join: apply s: $(since $t0)"
	check "blade b holds no volume lease after joining (a owns vm1 and vm2)" test "$(held)" = 0
	check "vm1 and vm2 are recorded as owned by blade a" test "$(owner vm1) $(owner vm2)" = "1 1"
	peer_put b-joined "$(now)"
fi
barrier joined 240

# ---- 2. tcmu-runner restart on a ----
if [ $me = a ]; then
	e1=$(epoch vm1)
	cp /var/log/tcmu-runner.log $VLUN_OUT/tcmu-runner.before-restart.log 2>/dev/null || true
	t0=$(now)
	kill -9 $RUNNER_PID; wait $RUNNER_PID 2>/dev/null || true
	no_lease() { [ "$(held)" = 0 ]; }
	retry 20 no_lease || true
	check "the killed runner's volume leases are gone with it" test "$(held)" = 0
	check "tcmu-runner restarted" vm_start_runner
	check "after the restart blade a reads vm1 back intact" retry 60 same_block $dev1 16 vm1.16
	figure "runner restart: kill to first good read s: $(since $t0)"
	check "and vm2" retry 20 same_block $dev2 16 vm2.16
	check "blade a owns vm1 again, at a newer epoch ($e1 before)" owns_newer vm1 $e1
	check "blade a writes vm1 after the restart" put_block $dev1 17 vm1.17
	peer_put a-restarted 1
else
	peer_get a-restarted 180 >/dev/null
	check "blade b took no volume while a's runner was down" test "$(held)" = 0
fi
barrier restarted

# ---- 3. b takes vm2, flushes, resets; a takes vm2 once b is back ----
if [ $me = b ]; then
	check "blade b: login to its own portal" login
	bdev2=$(lun_disk 1)
	t0=$(now)
	check "blade b writes vm2 (taking it from a, which is asked to let go)" put_block $bdev2 24 vm2.24
	figure "hand-over of vm2 to b ms: $(awk -v a=$t0 -v b=$(now) 'BEGIN { printf "%d", (b - a) * 1000 }')"
	check "blade b holds vm2's lease" test "$(held)" = 1
	check "blade b reads a's block of vm2" same_block $bdev2 16 vm2.16
	peer_put b-resetting 1
	log "reset (sysrq b): no sync, no shutdown"
	echo b >/proc/sysrq-trigger
	sleep 60
	fail "blade b did not reset"
	exit 1
fi
peer_get b-resetting 120 >/dev/null
check "blade a holds vm1 only (b took vm2)" test "$(held)" = 1
peer_get b2-up 300 >/dev/null
t0=$(now)
check "blade a writes vm2 (taking it from b, which came back and took back its volume)" retry 60 put_block $dev2 40 vm2.40
figure "takeover of vm2 after b's reboot s: $(since $t0)"
check "blade a holds both volume leases" test "$(held)" = 2
check "blade a reads what b flushed before its reset" same_block $dev2 24 vm2.24
for k in vm1:16 vm1:17 vm2:16; do
	d=$([ ${k%%:*} = vm1 ] && echo $dev1 || echo $dev2)
	check "${k%%:*} block ${k#*:} MiB intact" same_block $d ${k#*:} ${k/:/.}
done
check "vlunctl pool check shp from blade a is clean" $VLUNCTL pool check shp
n=$($VLUNCTL --json pool check shp 2>/dev/null | jq -r '.problems - .repaired') || true
figure "pool check errors: ${n:-no answer}"
peer_put a-took-vm2 1
peer_get b2-done 120 >/dev/null
iscsiadm -m node -u >/dev/null 2>&1 || true
