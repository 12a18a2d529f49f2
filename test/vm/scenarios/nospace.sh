# Scenario 6 - out of space: an over-committed thin pool; writes past its
# capacity fail with SPACE ALLOCATION FAILED (27/07) at the initiator, the
# target stays up, and after space is freed writes succeed again.
make_pool p 40M 2 --extent-size 1M      # about 48 MiB of data extents in all
$VLUNCTL -q vol create p/a 64M
$VLUNCTL -q vol create p/b 64M
user_backstore a p/a $((64 << 20)); user_backstore b p/b $((64 << 20))
iscsi_export 0 user_1/a; iscsi_export 1 user_1/b
iscsi_login >/dev/null || { fail "iSCSI login"; exit 1; }
sleep 1
disks=$(iscsiadm -m session -P3 | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p')
da=/dev/$(echo $disks | cut -d' ' -f1); db=/dev/$(echo $disks | cut -d' ' -f2)
free=$($VLUNCTL --json pool status p | jq .free)
figure "pool free before: $free bytes"
dd if=/dev/urandom of=$da bs=1M count=$((free >> 20)) oflag=direct status=none
check "filling the pool through LUN a succeeded" test $? = 0
sg_sync $da
head -c 4096 /dev/urandom >/tmp/blk
out=$(sg_raw -s 4096 -i /tmp/blk $db 2a 00 00 00 00 00 00 00 08 00 2>&1 || true)
echo "$out" | tail -3
check "a write needing a new extent fails with SPACE ALLOCATION FAILED (27/07)" grep -qi "space allocation failed" <<<"$out"
err=$(dd if=/tmp/blk of=$db bs=4k count=1 seek=100 oflag=direct 2>&1 || true)
check "the kernel initiator reports no space" grep -qi "no space left" <<<"$err"
check "the target stays up: TEST UNIT READY on both LUNs" sg_turs $da
sg_turs $db && pass "LUN b ready"
check "LUN a still reads" dd if=$da of=/dev/null bs=1M count=4 iflag=direct status=none
blkdiscard -o 0 -l $((8 << 20)) $da
sg_sync $da
check "after freeing space a write to LUN b succeeds" dd if=/tmp/blk of=$db bs=4k count=1 oflag=direct status=none
check "and reads back" cmp -s /tmp/blk <(dd if=$db bs=4k count=1 iflag=direct status=none)
check "pool check is clean" $VLUNCTL pool check p
