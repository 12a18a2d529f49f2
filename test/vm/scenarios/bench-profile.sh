# Benchmark, not a test (not in CTest): where the guest's CPU time goes while fio runs
# over the kernel initiator against LIO fileio and against user:vlun (allocated), same
# guest, same tmpfs.  perf samples every CPU (cpu-clock, 499 Hz); the report gives the
# share per thread ("swapper" = idle) and the top kernel/user symbols.
#   test/vm/vm-run bench-profile [SECONDS] ["RW BS QD" ...]
# e.g. test/vm/vm-run bench-profile 6 "randread 4k 1" "randread 4k 16" "write 1M 8"
secs=${1:-6}; shift
[ $# -gt 0 ] || set -- "randread 4k 1" "randread 4k 16" "randwrite 4k 16" "write 1M 8"
command -v perf >/dev/null || { fail "perf is not installed (tools/install-deps.sh vm)"; exit 1; }
size=$((128 << 20))
make_pool p 160M 2 --extent-size 1M
$VLUNCTL -q vol create p/full 128M
truncate -s $size /var/lib/vlun/fileio.img
fileio_backstore fio0 /var/lib/vlun/fileio.img $size
user_backstore full p/full $size
iscsi_export 0 fileio_1/fio0; iscsi_export 1 user_1/full
iscsi_login >/dev/null || { fail "iSCSI login"; exit 1; }
declare -A DEV
for l in 0 1; do DEV[$l]=$(lun_disk $l) || { fail "no disk for LUN $l"; exit 1; }; done
for l in 0 1; do fio --name=fill --filename=${DEV[$l]} --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=write --bs=1M --output=/dev/null; done
echo 0 >/proc/sys/kernel/kptr_restrict; echo -1 >/proc/sys/kernel/perf_event_paranoid
out=$VLUN_OUT/bench-profile.txt
name=(fileio vlun)
for row in "$@"; do
	set -- $row
	for l in 0 1; do
		perf record -q -a -F 499 -e cpu-clock -o /tmp/perf.data -- fio --name=b \
			--filename=${DEV[$l]} --direct=1 --ioengine=libaio --rw=$1 --bs=$2 --iodepth=$3 \
			--runtime=$secs --time_based --output-format=json >/tmp/fio.json 2>/dev/null
		iops=$(jq '.jobs[0].read.iops + .jobs[0].write.iops | floor' /tmp/fio.json)
		{
		echo "== ${name[$l]}: $row: $iops IOPS"
		echo "-- CPU share per thread (swapper = idle)"
		perf report -i /tmp/perf.data --no-children --sort comm --stdio 2>/dev/null |
			grep -v '^#' | grep . | head -12
		echo "-- top symbols"
		perf report -i /tmp/perf.data --no-children --sort sym --stdio 2>/dev/null |
			grep -v '^#' | grep . | head -15
		} >>$out
	done
done
cat $out
figure "profiles in bench-profile.txt ($secs s per run)"
