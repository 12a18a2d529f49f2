# Benchmark, not a test (not in CTest): fio over the kernel initiator (open-iscsi on
# loopback) in one guest, same kernel, same backing file system (the guest's tmpfs),
# against (a) LIO's kernel fileio backstore, (b) tcmu-runner's user:qcow on a
# preallocated qcow2, (c) user:vlun on a fresh thin volume, (d) user:vlun on a fully
# allocated one.  Prints IOPS, MB/s and the ratios vlun/fileio and vlun/qcow.
#   test/vm/vm-run bench-lio [SECONDS-PER-ROW]
secs=${1:-5}
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
truncate -s $size /var/lib/vlun/fileio.img
qemu-img create -q -f qcow2 -o preallocation=full /var/lib/vlun/q.qcow2 $size
fileio_backstore fio0 /var/lib/vlun/fileio.img $size
d=$CFG/core/user_2/qcow0; mkdir -p $d
echo -n "dev_config=qcow//var/lib/vlun/q.qcow2" >$d/control; echo -n "dev_size=$size" >$d/control
echo -n 1 >$d/enable; echo "qcowbench0000001" >$d/wwn/vpd_unit_serial
user_backstore fresh p/fresh $size
user_backstore full p/full $size
iscsi_export 0 fileio_1/fio0; iscsi_export 1 user_2/qcow0
iscsi_export 2 user_1/fresh; iscsi_export 3 user_1/full
iscsi_login >/dev/null || { fail "iSCSI login"; exit 1; }
declare -A DEV
for l in 0 1 2 3; do DEV[$l]=$(lun_disk $l) || { fail "no disk for LUN $l"; exit 1; }; done
# allocate the "full" volume and fill the fileio file and the qcow2 image with data
for l in 0 1 3; do fio --name=fill --filename=${DEV[$l]} --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=write --bs=1M --output=/dev/null; done
sg_sync ${DEV[3]}
run() { # run LUN RW BS QD [MIX] -> "iops mbps"
	local extra=; [ -n "${5:-}" ] && extra="--rwmixread=$5"
	fio --name=b --filename=${DEV[$1]} --direct=1 --ioengine=libaio --rw=$2 --bs=$3 --iodepth=$4 \
		$extra --runtime=$secs --time_based --output-format=json |
		jq -r '[.jobs[0].read.iops + .jobs[0].write.iops, (.jobs[0].read.bw + .jobs[0].write.bw) / 1024] | map(floor) | join(" ")'
}
rows=("4k randread QD1:randread 4k 1" "4k randread QD16:randread 4k 16" "4k randwrite QD1:randwrite 4k 1"
      "4k randwrite QD16:randwrite 4k 16" "64k randrw 70/30 QD16:randrw 64k 16 70"
      "1M seq read QD8:read 1M 8" "1M seq write QD8:write 1M 8")
out=$VLUN_OUT/bench-lio.txt
printf '%-22s %9s %9s %9s %9s %12s %10s %8s %8s\n' row "fileio" "qcow" "vlun-thin" "vlun" \
	"(IOPS)" "vlun MB/s" "/fileio" "/qcow" | tee $out
for r in "${rows[@]}"; do
	name=${r%%:*}; set -- ${r#*:}
	read fi fm <<<"$(run 0 "$@")"; read qi qm <<<"$(run 1 "$@")"
	read ti tm <<<"$(run 2 "$@")"; read vi vm <<<"$(run 3 "$@")"
	printf '%-22s %9s %9s %9s %9s %12s %10s %8s %8s\n' "$name" $fi $qi $ti $vi "" $vm \
		"$(awk "BEGIN{printf \"%.2fx\", $vi/($fi?$fi:1)}")" "$(awk "BEGIN{printf \"%.2fx\", $vi/($qi?$qi:1)}")" | tee -a $out
done
figure "table in bench-lio.txt ($secs s per cell)"
