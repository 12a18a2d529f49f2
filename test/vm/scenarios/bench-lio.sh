# Benchmark, not a test (not in CTest): fio over the kernel initiator (open-iscsi on
# loopback) in one guest, same kernel, same backing file system (the guest's tmpfs),
# against (a) LIO's kernel fileio backstore, (b) tcmu-runner's user:qcow on a
# preallocated qcow2, (c) user:vlun on a fresh thin volume, (d) user:vlun on a fully
# allocated one, and (e) the allocated one again with the handler's fast path off
# ("fast-path off" on its control socket, for that cell only: every READ/WRITE through
# tcmu-runner's worker queue), and (f) for the 1 MiB rows an allocated volume whose
# backstore takes 1 MiB commands (hw_max_sectors 2048 and a 64 MiB ring data area, what
# vlun-config writes; the disk's max_sectors_kb 1024) against tcmu's 64 KiB default.  Prints IOPS,
# MB/s and the ratios vlun/fileio, vlun/qcow and fast path on/off; then a thin volume's
# first writes (each one allocates an extent) against the same writes when allocated.
# Each cell is the median of ROUNDS runs (rounds interleave the backstores).
#   test/vm/vm-run bench-lio [SECONDS-PER-CELL [ROUNDS]]
secs=${1:-5}
rounds=${2:-1}
size=$((128 << 20))
# tcmu-runner loads Debian's qcow handler and ours from one directory
mkdir -p /run/handlers
ln -sf /usr/lib/x86_64-linux-gnu/tcmu-runner/handler_qcow.so /run/handlers/
ln -sf "$VLUN_BUILD/handler/tcmu/handler_vlun.so" /run/handlers/
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
VLUN_HANDLER_PATH=/run/handlers vm_start_runner
make_pool p 160M 2 --extent-size 1M
$VLUNCTL -q vol create p/fresh 128M
$VLUNCTL -q vol create p/full 128M
make_pool p1m 160M 2 --extent-size 1M
$VLUNCTL -q vol create p1m/full 128M
make_pool big 4G 2 --extent-size 1M             # sparse: first writes touch 4 KiB per extent
$VLUNCTL -q vol create big/first 12G
truncate -s $size /var/lib/vlun/fileio.img
qemu-img create -q -f qcow2 -o preallocation=full /var/lib/vlun/q.qcow2 $size
fileio_backstore fio0 /var/lib/vlun/fileio.img $size
d=$CFG/core/user_2/qcow0; mkdir -p $d
echo -n "dev_config=qcow//var/lib/vlun/q.qcow2" >$d/control; echo -n "dev_size=$size" >$d/control
echo -n 1 >$d/enable; echo "qcowbench0000001" >$d/wwn/vpd_unit_serial
user_backstore fresh p/fresh $size
user_backstore full p/full $size
user_backstore first big/first $((12 << 30))
user_backstore full1m p1m/full $size hw_max_sectors=2048 max_data_area_mb=64
iscsi_export 0 fileio_1/fio0; iscsi_export 1 user_2/qcow0
iscsi_export 2 user_1/fresh; iscsi_export 3 user_1/full; iscsi_export 4 user_1/first
iscsi_export 5 user_1/full1m
iscsi_login >/dev/null || { fail "iSCSI login"; exit 1; }
declare -A DEV
disks() { for l in 0 1 2 3 4 5; do DEV[$l]=$(lun_disk $l) || { fail "no disk for LUN $l"; exit 1; }; done; }
disks
# LUN 5 with 1 MiB commands; the others keep what the kernel chose (64 KiB: tcmu's default)
echo 1024 >/sys/block/${DEV[5]#/dev/}/queue/max_sectors_kb || { fail "max_sectors_kb 1024 on LUN 5"; exit 1; }
log "max_sectors_kb: LUN 3 $(cat /sys/block/${DEV[3]#/dev/}/queue/max_sectors_kb), LUN 5 $(cat /sys/block/${DEV[5]#/dev/}/queue/max_sectors_kb)"
# allocate the "full" volumes and fill the fileio file and the qcow2 image with data
for l in 0 1 3 5; do fio --name=fill --filename=${DEV[$l]} --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=write --bs=1M --output=/dev/null; done
sg_sync ${DEV[3]}
fio_run() { # fio_run LUN FIO-ARGS... -> "iops mbps"
	local lun=$1; shift
	fio --name=b --filename=${DEV[$lun]} --direct=1 --ioengine=libaio "$@" --output-format=json |
		jq -r '[.jobs[0].read.iops + .jobs[0].write.iops, (.jobs[0].read.bw + .jobs[0].write.bw) / 1024] | map(floor) | join(" ")'
}
run() { # run LUN RW BS QD [MIX] -> "iops mbps", time based
	local extra=; [ -n "${5:-}" ] && extra="--rwmixread=$5"
	fio_run $1 --rw=$2 --bs=$3 --iodepth=$4 $extra --runtime=$secs --time_based
}
ratio() { awk "BEGIN{printf \"%.2fx\", $1/($2?$2:1)}"; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
declare -A R M F
add() { # add ARRAY-KEY "iops mbps": one more round's figures
	local i m; read i m <<<"$2"; R[$1]+="$i "; M[$1]+="$m "
}
rows=("4k randread QD1:randread 4k 1" "4k randread QD16:randread 4k 16" "4k randwrite QD1:randwrite 4k 1"
      "4k randwrite QD16:randwrite 4k 16" "64k randrw 70/30 QD16:randrw 64k 16 70"
      "1M seq read QD8:read 1M 8" "1M seq write QD8:write 1M 8")
for round in $(seq $rounds); do
	for i in "${!rows[@]}"; do
		for l in 0 1 2 3; do add $i,$l "$(run $l ${rows[$i]#*:})"; done
		vm_fast_path off; add $i,4 "$(run 3 ${rows[$i]#*:})"; vm_fast_path on
		case ${rows[$i]} in *" 1M "*) add $i,5 "$(run 5 ${rows[$i]#*:})" ;; esac
	done
done
# first writes: a sequential run that skips to the next 1 MiB extent after each 4 KiB
# write (or writes whole 1 MiB extents), every write allocating, against the same pattern
# on the allocated volume; between rounds the thin volume is discarded (its extents
# become holes again) and flushed
frows=("4k first writes QD1:1 4k 1020k 2G" "4k first writes QD16:16 4k 1020k 4G" "1M first writes QD8:8 1M 0 160M")
for round in $(seq $rounds); do
	off=0
	for i in "${!frows[@]}"; do
		set -- ${frows[$i]#*:}
		add f$i,0 "$(fio_run 4 --rw=write:$3 --bs=$2 --iodepth=$1 --offset=$off --size=$4)"
		add f$i,1 "$(fio_run 3 --rw=write:$3 --bs=$2 --iodepth=$1 --runtime=$secs --time_based)"
		off=$((off + $(numfmt --from=iec $4)))
	done
	sg_sync ${DEV[4]}
	[ $round = 1 ] && alloc=$($VLUNCTL --json vol show big/first | jq .allocated)
	blkdiscard ${DEV[4]} && sg_sync ${DEV[4]} || { fail "discard of the first-write volume"; exit 1; }
done
med() { echo ${R[$1]} | median; }

out=$VLUN_OUT/bench-lio.txt
{
printf 'IOPS, median of %s round(s) of %s s per cell; fp off = fast path off for that cell\n' $rounds $secs
printf '%-22s %8s %8s %9s %8s %9s %10s %8s %8s %9s\n' row fileio qcow vlun-thin vlun "vlun-fpoff" \
	"vlun MB/s" "/fileio" "/qcow" "/fp off"
for i in "${!rows[@]}"; do
	fi=$(med $i,0); qi=$(med $i,1); ti=$(med $i,2); vi=$(med $i,3); si=$(med $i,4)
	vm=$(echo ${M[$i,3]} | median)
	printf '%-22s %8s %8s %9s %8s %9s %10s %8s %8s %9s\n' "${rows[$i]%%:*}" $fi $qi $ti $vi $si $vm \
		$(ratio $vi $fi) $(ratio $vi $qi) $(ratio $vi $si)
done
echo
printf '%-22s %12s %12s %8s\n' row "vlun 64 KiB" "vlun 1 MiB" "1M/64K"
for i in "${!rows[@]}"; do
	[ -n "${R[$i,5]:-}" ] || continue
	a=$(med $i,3); b=$(med $i,5)
	printf '%-22s %12s %12s %8s\n' "${rows[$i]%%:*}" $a $b $(ratio $b $a)
done
echo
printf '%-22s %12s %10s %8s\n' row "thin first" allocated "ratio"
for i in "${!frows[@]}"; do
	a=$(med f$i,0); b=$(med f$i,1)
	printf '%-22s %12s %10s %8s\n' "${frows[$i]%%:*}" $a $b $(ratio $a $b)
done
printf 'extents allocated by one round of first writes: %s MiB\n' $((alloc >> 20))
} | tee $out
figure "table in bench-lio.txt ($rounds x $secs s per cell)"
