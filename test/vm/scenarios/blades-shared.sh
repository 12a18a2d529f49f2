# Two blades, one shared pool (test/vm/vm-run2), on real sanlock (with the watchdog),
# tcmu-runner, LIO and open-iscsi in each blade:
#   1. both blades apply one vlun.conf (a shared pool on the common disks, one ALUA
#      group per blade); blade a serves vm1 and blade b vm2 through its own initiator,
#      fio with crc32c verification on both at once, allocating (thin volumes);
#      `vlunctl pool check` clean from both; a volume created on b is exported on a;
#   2. hand-over: vm1 through both blades' portals, alternately: the first write through
#      the other blade makes it take the volume (implicit failover: the owner is asked
#      to let go through the pool's message slots), 10 hand-overs; every block written
#      before each hand-over reads back intact on the new owner.
#   vm-run2 blades-shared [ROUNDS]
ROUNDS=${1:-11}
export VLUN_NONOWNER_STATE=nonoptimized # writes through either blade take the volume (implicit failover)
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
TIQN=iqn.2026-11.org.vlun:blades
me=$VLUN_BLADE peer=$VLUN_PEER
export VLUN_HOST_ID=$VLUN_BLADE_ID  # tcmu-runner and vlunctl: this blade's sanlock host id
CONF=$VLUN_SHARED/vlun.conf

VOLS=($'[volume vm1]\npool = shp\nsize = 96M' $'[volume vm2]\npool = shp\nsize = 96M'
      $'[export vm1]\nvolume = vm1\nlun = 0\nowner = a' $'[export vm2]\nvolume = vm2\nlun = 1\nowner = b')
write_conf() { blade_conf $CONF $TIQN shp "${VOLS[@]}" "$@"; } # write_conf [EXTRA-SECTION]...

check "wdmd and sanlock (-w 1) started" blade_start_sanlock
check "LIO and tcmu-runner started" vm_start_target

# ---- 1. both blades apply one file; each serves its own volume ----
if [ $me = a ]; then
	write_conf
	t0=$(now)
	rc=0; out=$($VC apply --blade a $CONF 2>&1) || rc=$?; echo "$out"
	check "blade a: apply creates the shared pool, its volumes and the target" test $rc = 0
	figure "apply creating a shared pool s: $(since $t0)"
	peer_put created 1
else
	peer_get created 180 >/dev/null
	rc=0; out=$($VC apply --blade b $CONF 2>&1) || rc=$?; echo "$out"
	check "blade b: apply joins the pool and exports the same volumes" test $rc = 0
fi
check "pool shp is shared (format 2)" sh -c "$VLUNCTL --json pool status shp | jq -e '.shared == true and .sharing.format == 2' >/dev/null"
peer_put serial.$me "$(cat $CFG/core/user_*/vm1/wwn/vpd_unit_serial 2>/dev/null)"
barrier applied
check "vm1 has the same serial on both blades" test "$(peer_get serial.a)" = "$(peer_get serial.b)"

check "discovery and login on this blade's portal" blade_login $TIQN
lun_mine=$([ $me = a ] && echo 0 || echo 1)
dev=$(lun_disk $lun_mine); dev1=$(lun_disk 0)
log "this blade's volume: LUN $lun_mine = $dev; vm1 = $dev1"
t0=$(now)
rc=0
fio --name=shared-$me --filename=$dev --rw=write --bs=256k --size=80M --direct=1 \
	--ioengine=libaio --iodepth=8 --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--end_fsync=1 --output=/tmp/fio.out >/dev/null 2>&1 || rc=$?
tail -5 /tmp/fio.out
check "fio with crc32c verification through blade $me on its own volume (both blades at once)" test $rc = 0
figure "fio write+verify 80M through blade $me s: $(since $t0)"
barrier fio-done
check "vlunctl pool status shows both blades alive in the lockspace" sh -c \
	"$VLUNCTL --json pool status shp | jq -e '.sharing.blades_alive == [1, 2]' >/dev/null"
check "vlunctl pool check shp from blade $me is clean" $VLUNCTL pool check shp
peer_put check.$me done
n=$($VLUNCTL --json pool check shp 2>/dev/null | jq -r '.problems - .repaired') || true
figure "pool check errors (blade $me): ${n:-no answer}"
check "the volume this blade wrote is owned by it (owner and epoch on disk)" sh -c \
	"$VLUNCTL --json vol show shp/vm$((lun_mine + 1)) | jq -e '.owner_blade == $VLUN_BLADE_ID and .owner_epoch > 0' >/dev/null"
barrier checked

# a volume created on b is exported on a
if [ $me = b ]; then
	write_conf $'[volume vm3]\npool = shp\nsize = 32M' $'[export vm3]\nvolume = vm3\nlun = 2\nowner = b'
	check "blade b: apply creates vm3 (through its serving handler, under the pool lease)" $VC apply --blade b $CONF
	peer_put vm3 "$(cat $CFG/core/user_*/vm3/wwn/vpd_unit_serial)"
else
	want=$(peer_get vm3 120)
	check "blade a: apply exports vm3, created on blade b, with its serial" $VC apply --blade a $CONF
	check "vm3 on blade a has blade b's serial" test "$(cat $CFG/core/user_*/vm3/wwn/vpd_unit_serial)" = "$want"
fi
barrier vm3

# a served volume cannot be deleted from the other blade
if [ $me = b ]; then
	if $VLUNCTL vol delete shp/vm1 2>/tmp/del.err; then fail "vm1 (served) deleted from b"
	else pass "vm1, served by both blades (owned by a), cannot be deleted from blade b: $(cat /tmp/del.err)"; fi
fi
barrier no-delete

# ---- 2. hand-over of vm1, back and forth ----
# writer of round i: a for even i, b for odd.  A 1 MiB block per round at i MiB.
for i in $(seq 0 $((ROUNDS - 1))); do
	w=$([ $((i % 2)) = 0 ] && echo a || echo b)
	if [ $me = $w ]; then
		head -c 1M /dev/urandom >/tmp/blk.$i
		sum=$(sha256sum </tmp/blk.$i | cut -d' ' -f1)
		peer_put sum.$i $sum
		t0=$(date +%s%N)
		rc=0
		dd if=/tmp/blk.$i of=$dev1 bs=1M seek=$((16 + i)) count=1 oflag=direct conv=notrunc,fsync status=none || rc=$?
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ $rc = 0 ] || fail "round $i: write through blade $me failed"
		log "round $i: blade $me took vm1 and wrote block $i in $ms ms"
		# everything written before, by either blade, reads back here
		bad=0
		for k in $(seq 0 $i); do
			got=$(dd if=$dev1 bs=1M skip=$((16 + k)) count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)
			[ "$got" = "$(peer_get sum.$k 10)" ] || bad=$((bad + 1))
		done
		[ $bad = 0 ] && pass "round $i: blade $me reads all $((i + 1)) blocks intact after taking vm1" ||
			fail "round $i: $bad block(s) differ on blade $me"
		peer_put ms.$i $ms
	fi
	barrier round-$i 180
done
if [ $me = a ]; then
	all=0
	for i in $(seq 1 $((ROUNDS - 1))); do v=$(peer_get ms.$i); [ $v -gt $all ] && all=$v; done
	figure "hand-over ms (max): $all"
	figure "hand-overs: $((ROUNDS - 1))"
fi
barrier done
iscsiadm -m node -u >/dev/null 2>&1 || true
