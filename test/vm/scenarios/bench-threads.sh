# Benchmark, not a test (not in CTest): fio over iSCSI against user:vlun with
# VLUN_NR_THREADS = each argument (default 1 2 4 8) worker threads per LUN.
#   test/vm/vm-run bench-threads [N...]
make_pool p 768M 2 --extent-size 1M
$VLUNCTL -q vol create p/b 512M
user_backstore b p/b $((512 << 20))
iscsi_export 0 user_1/b
dev=$(iscsi_login) || { fail "iSCSI login"; exit 1; }
fio --name=fill --filename=$dev --direct=1 --ioengine=libaio --iodepth=8 --rw=write --bs=1M \
	--output=/dev/null                       # allocate every extent first
iops() { fio --name=b --filename=$dev --direct=1 --ioengine=libaio --iodepth=$2 --rw=$1 \
	--bs=4k --runtime=${VLUN_BENCH_SECONDS:-8} --time_based --output-format=json | jq "$3"; }
for n in ${@:-1 2 4 8}; do
	iscsi_logout
	kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
	VLUN_NR_THREADS=$n vm_start_runner
	dev=$(iscsi_login) || { fail "re-login"; exit 1; }
	r=$(iops randread 16 '.jobs[0].read.iops|floor'); w=$(iops randwrite 16 '.jobs[0].write.iops|floor')
	r1=$(iops randread 1 '.jobs[0].read.iops|floor')
	figure "nr_threads=$n: 4k randread QD16 $r IOPS, randwrite QD16 $w IOPS, randread QD1 $r1 IOPS"
done
