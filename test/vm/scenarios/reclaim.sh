# Scenario 5 - thin reclaim: write data, discard ranges from the initiator
# (blkdiscard and sg_unmap), see the pool's allocated space drop, and the
# ranges read back as zeros.
make_pool p 256M 2 --extent-size 1M
$VLUNCTL -q vol create p/vm1 128M
user_backstore vm1 p/vm1 $((128 << 20))
iscsi_export 0 user_1/vm1
dev=$(iscsi_login) || { fail "iSCSI login"; exit 1; }
allocated() { $VLUNCTL --json vol show p/vm1 | jq .allocated; }
check "the initiator sees a thin LUN (discard supported)" test "$(cat /sys/block/${dev#/dev/}/queue/discard_max_bytes)" -gt 0
dd if=/dev/urandom of=/tmp/data bs=1M count=64 status=none
dd if=/tmp/data of=$dev bs=1M count=64 oflag=direct status=none
sync; sg_sync $dev   # SYNCHRONIZE CACHE: the map is committed
a0=$(allocated); figure "allocated after writing 64 MiB: $a0"
check "64 MiB allocated" test "$a0" -ge $((64 << 20))
t0=$(date +%s%N)
blkdiscard -o $((8 << 20)) -l $((32 << 20)) $dev
t1=$(date +%s%N)
sg_unmap --force --lba=$(((48 << 20) / 512)) --num=$(((8 << 20) / 512)) $dev
t2=$(date +%s%N)
sg_sync $dev
t3=$(date +%s%N)
figure "blkdiscard 32 MiB: $(((t1 - t0) / 1000000)) ms, sg_unmap 8 MiB: $(((t2 - t1) / 1000000)) ms, sync: $(((t3 - t2) / 1000000)) ms"
a1=$(allocated); figure "allocated after discarding 40 MiB: $a1"
check "allocation dropped by the 40 MiB discarded" test "$a1" -le $((a0 - (40 << 20)))
check "discarded ranges read zeros" cmp -s -n $((32 << 20)) <(dd if=$dev bs=1M skip=8 count=32 iflag=direct status=none) /dev/zero
check "sg_unmap range reads zeros" cmp -s -n $((8 << 20)) <(dd if=$dev bs=1M skip=48 count=8 iflag=direct status=none) /dev/zero
check "data outside the ranges is intact" cmp -s <(dd if=$dev bs=1M count=8 iflag=direct status=none) <(head -c $((8 << 20)) /tmp/data)
# partial-extent discard reads zeros too (512 KiB inside an extent)
blkdiscard -o $((56 << 20)) -l $((512 << 10)) $dev
check "partial-extent discard reads zeros" cmp -s -n $((512 << 10)) <(dd if=$dev bs=512K skip=112 count=1 iflag=direct status=none) /dev/zero
check "pool check is clean" $VLUNCTL pool check p
# GET LBA STATUS: the map's view, from the initiator (LBPME is advertised, so SBC needs it)
st() { sg_get_lba_status --lba=$(($1 / 512)) --maxlen=24 $dev 2>&1; }
out=$(st $((8 << 20))); echo "$out"
check "GET LBA STATUS: a discarded range is deallocated" grep -qi "deallocated" <<<"$out"
out=$(st 0); echo "$out"
check "GET LBA STATUS: written data is mapped" grep -qiE "mapped|allocated" <<<"$(grep -vi deallocated <<<"$out")"
out=$(sg_get_lba_status --lba=$(((128 << 20) / 512)) $dev 2>&1 || true); echo "$out"
check "GET LBA STATUS past the end: LBA out of range" grep -qi "out of range" <<<"$out"
