# Scenario 3 - data integrity: the kernel initiator (open-iscsi) logs in to a
# user:vlun LUN and fio writes random patterns over the whole LUN and reads
# them back with crc32c verification.
make_pool p 384M 2 --extent-size 1M
$VLUNCTL -q vol create p/vm1 256M
user_backstore vm1 p/vm1 $((256 << 20))
iscsi_export 0 user_1/vm1
dev=$(iscsi_login) || { fail "iSCSI login"; exit 1; }
pass "logged in: $dev ($(cat /sys/block/${dev#/dev/}/size) sectors)"
wwn=$($VLUNCTL --json vol show p/vm1 | jq -r .wwn)
sg_inq -p 0x83 $dev >/tmp/vpd83.txt 2>&1 || true
check "VPD 0x83 carries the volume's NAA designator ($wwn)" grep -qi "0x${wwn#naa.}" /tmp/vpd83.txt || cat /tmp/vpd83.txt
check "LUN serial is the volume's" test "$(sg_inq -p 0x80 $dev 2>/dev/null | sed -n 's/.*Unit serial number: *//p')" = "$(vol_serial p/vm1)"
check "fio random write + crc32c verify over the whole LUN" \
	fio --name=integrity --filename=$dev --direct=1 --ioengine=libaio --iodepth=8 \
	    --rw=randwrite --bs=4k,64k --bsrange=4k-64k --size=256M --verify=crc32c \
	    --verify_fatal=1 --do_verify=1 --randrepeat=0 --output=/tmp/fio.txt
grep -E "WRITE:|READ:|err=" /tmp/fio.txt
sg_sync $dev
alloc=$($VLUNCTL --json pool status p | jq .allocated)
figure "pool allocated bytes after full write: $alloc"
iscsi_logout
