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
# the same verification with the handler in inline mode (VLUN_NR_THREADS=0: commands run and
# complete on the LUN's command thread, no worker threads)
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
VLUN_NR_THREADS=0 vm_start_runner
dev=$(iscsi_login) || { fail "iSCSI login (inline mode)"; exit 1; }
check "inline mode: fio random write + crc32c verify" \
	fio --name=inline --filename=$dev --direct=1 --ioengine=libaio --iodepth=16 \
	    --rw=randwrite --bsrange=4k-128k --size=64M --offset=64M --verify=crc32c \
	    --verify_fatal=1 --do_verify=1 --randrepeat=0 --output=/tmp/fio2.txt
check "inline mode: SYNCHRONIZE CACHE" sg_sync $dev
check "inline mode: UNMAP" sg_unmap --force --lba=0 --num=2048 $dev
check "inline mode: unmapped blocks read as zeros" cmp -s <(head -c 1M /dev/zero) \
	<(dd if=$dev bs=1M count=1 iflag=direct status=none)
head -c 512 /dev/urandom >/tmp/a; head -c 512 /dev/urandom >/tmp/b
dd if=/tmp/a of=$dev bs=512 seek=100 count=1 oflag=direct status=none
cat /tmp/a /tmp/b >/tmp/ab
check "inline mode: COMPARE AND WRITE" sg_compare_and_write --in=/tmp/ab --lba=100 --num=1 --xferlen=1024 $dev
check "inline mode: CAW wrote" cmp -s /tmp/b <(dd if=$dev bs=512 skip=100 count=1 iflag=direct status=none)
out=$(sg_compare_and_write --in=/tmp/ab --lba=100 --num=1 --xferlen=1024 $dev 2>&1 || true)
check "inline mode: CAW miscompare reported" grep -qi miscompare <<<"$out"
iscsi_logout

# members on block devices (loop): once the page cache is dropped, reads miss it and the
# handler's command thread hands them to the worker threads (RWF_NOWAIT -> EAGAIN); the
# data read back that way must be exactly what was written through the inline path
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
vm_start_runner
modprobe loop 2>/dev/null
LO=()
for i in 0 1; do
	truncate -s 96M /var/lib/vlun/lo$i.img
	LO+=("$(losetup -f --show /var/lib/vlun/lo$i.img)") || { fail "no loop device"; exit 1; }
done
$VLUNCTL -q pool create q "${LO[@]}" --extent-size 1M && $VLUNCTL -q vol create q/b 128M &&
	user_backstore b q/b $((128 << 20)) && iscsi_export 1 user_1/b ||
	{ fail "pool on loop devices"; exit 1; }
iscsi_login >/dev/null || { fail "iSCSI login (loop members)"; exit 1; }
bdev=$(lun_disk 1) || { fail "no disk for LUN 1"; exit 1; }
head -c 64M /dev/urandom >/tmp/data; head -c 64M /dev/urandom >/tmp/data2
dd if=/tmp/data of=$bdev bs=1M oflag=direct status=none                 # allocates (workers)
dd if=/tmp/data2 of=$bdev bs=64k oflag=direct status=none               # mapped now (inline)
dd if=/tmp/data of=$bdev bs=1M seek=64 oflag=direct status=none         # allocates again
check "loop members: SYNCHRONIZE CACHE" sg_sync $bdev
before=$(awk '/^pgpgin /{print $2}' /proc/vmstat)
echo 3 >/proc/sys/vm/drop_caches
check "loop members: overwritten half read after the page cache was dropped" \
	cmp /tmp/data2 <(dd if=$bdev bs=256k count=256 iflag=direct status=none)
check "loop members: the reads went to the devices (page cache missed)" \
	test $(( $(awk '/^pgpgin /{print $2}' /proc/vmstat) - before )) -ge 65536
ctl() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect("/run/vlun/handler.sock"); s.sendall((sys.argv[1]+"\n").encode()); a=s.makefile().readline(); sys.exit(0 if a.startswith("0 ") else a)' "$1"; }
check "control socket: fast path off" ctl "fast-path off"
check "loop members: same data through the workers only" \
	cmp /tmp/data2 <(dd if=$bdev bs=16k count=4096 iflag=direct status=none)
check "control socket: fast path on" ctl "fast-path on"
if ctl "fast-path maybe" 2>/dev/null; then fail "control socket: a bad request was accepted"
else pass "control socket: a bad request is refused"; fi
check "loop members: other half intact" \
	cmp /tmp/data <(dd if=$bdev bs=1M count=64 skip=64 iflag=direct status=none)
iscsi_logout
