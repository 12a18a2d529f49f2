# Benchmark, not a test (not in CTest): a shared pool's data path (O_DIRECT, ownership
# checks; its fast path serves READ/WRITE of mapped extents on the LUN's command thread at
# low queue depth) against LIO's kernel iblock backstore on the same
# kind of device, same guest, same run: fio over the kernel initiator (open-iscsi on
# loopback).  Devices: loop devices over files of the guest's tmpfs (the pool's two
# members, iblock's one).  sanlock runs without a watchdog here: one node, no
# fencing measured.  Also the single-blade pool on the same loop devices' sizes, for
# the cost of sharing, and the shared pool again with the handler's fast path off (every
# READ/WRITE through the runner's workers), measured right after the shared cell.  Each
# cell is the median of ROUNDS interleaved runs.
#   test/vm/vm-run bench-shared [SECONDS-PER-CELL [ROUNDS]]
secs=${1:-5}
rounds=${2:-1}
size=$((128 << 20))
mkdir -p /run/sanlock /dev/shm
sanlock daemon -w 0 -U root -G root -e bench || { fail "sanlock did not start"; exit 1; }
for i in $(seq 50); do sanlock client status >/dev/null 2>&1 && break; sleep 0.1; done
export VLUN_HOST_ID=1 VLUN_NO_WATCHDOG_OK=1
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
vm_start_runner
modprobe loop 2>/dev/null
L=()
for n in s0 s1 plain0 plain1 ib; do
	truncate -s 256M /var/lib/vlun/$n.img
	L+=($(losetup -f --show /var/lib/vlun/$n.img)) || { fail "losetup"; exit 1; }
done
$VLUNCTL -q pool create sp ${L[0]} ${L[1]} --extent-size 1M &&
	$VLUNCTL -q pool share sp --max-volumes 4 --groups 4 --io-timeout 2 ||
	{ fail "shared pool"; exit 1; }
$VLUNCTL -q vol create sp/v 128M && $VLUNCTL -q pool create pp ${L[2]} ${L[3]} --extent-size 1M &&
	$VLUNCTL -q vol create pp/v 128M || { fail "volumes"; exit 1; }
d=$CFG/core/iblock_1/ib0; mkdir -p $d
echo -n "udev_path=${L[4]}" >$d/control && echo -n 1 >$d/enable || { fail "iblock"; exit 1; }
echo "iblockbench00001" >$d/wwn/vpd_unit_serial
user_backstore sv sp/v $size
user_backstore pv pp/v $size
iscsi_export 0 iblock_1/ib0; iscsi_export 1 user_1/sv; iscsi_export 2 user_1/pv
iscsi_login >/dev/null || { fail "iSCSI login"; exit 1; }
declare -A DEV
for l in 0 1 2; do DEV[$l]=$(lun_disk $l) || { fail "no disk for LUN $l"; exit 1; }; done
# allocate both volumes, fill the iblock device (the first writes take the shared volume)
for l in 0 1 2; do fio --name=fill --filename=${DEV[$l]} --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=write --bs=1M --size=$size --output=/dev/null; done
sg_sync ${DEV[1]}; sg_sync ${DEV[2]}
check "the shared pool's volume is owned here" sh -c "$VLUNCTL --json vol show sp/v | jq -e '.owner_blade == 1' >/dev/null"
# context switches of all of tcmu-runner's threads so far
csw() { cat /proc/$RUNNER_PID/task/*/status | awk '/ctxt_switches/ { n += $2 } END { print n }'; }
run() { # run LUN RW BS QD -> iops; the I/Os done and the runner's context switches per I/O
	local c0; c0=$(csw)
	fio --name=b --filename=${DEV[$1]} --direct=1 --ioengine=libaio --rw=$2 --bs=$3 --iodepth=$4 \
		--size=$size --runtime=$secs --time_based --output-format=json >/tmp/fio.json
	local ios; ios=$(jq -r '.jobs[0].read.total_ios + .jobs[0].write.total_ios' /tmp/fio.json)
	awk -v a=$c0 -v b=$(csw) -v n=$ios 'BEGIN { printf "%.2f", (b - a) / (n ? n : 1) }' >/tmp/csw
	jq -r '.jobs[0].read.iops + .jobs[0].write.iops | floor' /tmp/fio.json
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ratio() { awk "BEGIN{printf \"%.2fx\", $1/($2?$2:1)}"; }
rows=("4k randread QD1:randread 4k 1" "4k randread QD16:randread 4k 16" "4k randwrite QD1:randwrite 4k 1"
      "4k randwrite QD16:randwrite 4k 16" "1M seq read QD8:read 1M 8" "1M seq write QD8:write 1M 8")
declare -A R C
for round in $(seq $rounds); do
	for i in "${!rows[@]}"; do
		for l in 0 1 2; do
			R[$i,$l]+="$(run $l ${rows[$i]#*:}) "
			[ $l = 1 ] && C[$i,on]+="$(cat /tmp/csw) "
		done
		vm_fast_path off; R[$i,3]+="$(run 1 ${rows[$i]#*:}) "; C[$i,off]+="$(cat /tmp/csw) "
		vm_fast_path on
	done
done
out=$VLUN_OUT/bench-shared.txt
{
printf 'IOPS, median of %s round(s) of %s s per cell; members and iblock: loop devices on tmpfs\n' $rounds $secs
printf '%-20s %8s %12s %12s %12s %10s %10s %10s\n' row iblock "vlun shared" "shared fp off" \
	"vlun single" "/iblock" "fp on/off" "shared/single"
for i in "${!rows[@]}"; do
	a=$(echo ${R[$i,0]} | median); b=$(echo ${R[$i,1]} | median); c=$(echo ${R[$i,2]} | median)
	o=$(echo ${R[$i,3]} | median)
	printf '%-20s %8s %12s %12s %12s %10s %10s %10s\n' "${rows[$i]%%:*}" $a $b $o $c $(ratio $b $a) \
		$(ratio $b $o) $(ratio $b $c)
done
printf '\ntcmu-runner context switches per I/O on the shared LUN (median), fast path on / off\n'
for i in "${!rows[@]}"; do
	printf '%-20s %8s %8s\n' "${rows[$i]%%:*}" $(echo ${C[$i,on]} | median) $(echo ${C[$i,off]} | median)
done
} | tee $out
figure "table in bench-shared.txt ($rounds x $secs s per cell)"
iscsi_logout
