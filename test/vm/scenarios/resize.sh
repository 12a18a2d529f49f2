# Scenario 7 - resize through configfs: the volume grows and the initiator
# sees the capacity-changed unit attention and the new size.
make_pool p 256M 2 --extent-size 1M
$VLUNCTL -q vol create p/vm1 64M
$VLUNCTL -q vol create p/big 16M     # (volumes are created before the runner holds the pool)
$VLUNCTL -q vol create p/small 64M
user_backstore vm1 p/vm1 $((64 << 20))
iscsi_export 0 user_1/vm1
dev=$(iscsi_login) || { fail "iSCSI login"; exit 1; }
s0=$(blockdev --getsize64 $dev); figure "size before: $s0"
echo -n $((96 << 20)) >$CFG/core/user_1/vm1/attrib/dev_size
check "configfs reports the new size" grep -q "Size: $((96 << 20))" $CFG/core/user_1/vm1/info
check "the volume grew" test "$($VLUNCTL --json vol show p/vm1 | jq .size)" = $((96 << 20))
sg_turs -v $dev >/tmp/tur.txt 2>&1 || true; cat /tmp/tur.txt
check "the initiator gets CAPACITY DATA HAS CHANGED" grep -qi "capacity data has changed" /tmp/tur.txt
echo 1 >/sys/block/${dev#/dev/}/device/rescan
s1=$(blockdev --getsize64 $dev); figure "size after: $s1"
check "the initiator sees 96 MiB" test "$s1" = $((96 << 20))
check "the new space is writable" dd if=/dev/urandom of=$dev bs=1M seek=80 count=16 oflag=direct status=none
echo -n $((32 << 20)) >$CFG/core/user_1/vm1/attrib/dev_size 2>/dev/null || true
check "shrinking through configfs is refused" grep -q "Size: $((96 << 20))" $CFG/core/user_1/vm1/info

# the size rule: a LUN bigger than its volume grows it; a smaller one serves its first bytes
user_backstore big p/big $((32 << 20))
check "a LUN configured bigger grew its volume" test "$($VLUNCTL --json vol show p/big | jq .size)" = $((32 << 20))
user_backstore small p/small $((32 << 20))
iscsi_export 1 user_1/small
iscsiadm -m session -R >/dev/null; sleep 1
sdev=/dev/$(iscsiadm -m session -P3 | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p' | tail -1)
check "a LUN configured smaller serves that size" test "$(blockdev --getsize64 $sdev)" = $((32 << 20))
check "and its volume keeps its size" test "$($VLUNCTL --json vol show p/small | jq .size)" = $((64 << 20))
