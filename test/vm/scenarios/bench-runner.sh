# Benchmark, not a test (not in CTest): what tcmu-runner costs per LUN and per I/O.
#   1. resident memory (VmRSS, PSS) of tcmu-runner with 0 and 100 open LUNs, vlun vs
#      tcmu-runner's own qcow handler side by side;
#   2. system calls per 4 KiB I/O in the runner (strace -c -f over a fixed number of
#      I/Os), vlun vs qcow, read and write at QD1.
#   test/vm/vm-run bench-runner [NLUNS]
n=${1:-100}
mkdir -p /run/handlers
ln -sf /usr/lib/x86_64-linux-gnu/tcmu-runner/handler_qcow.so /run/handlers/
ln -sf "$VLUN_BUILD/handler/tcmu/handler_vlun.so" /run/handlers/
restart_runner() {
	kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
	VLUN_HANDLER_PATH=/run/handlers vm_start_runner
}
restart_runner
mem() { # mem : "RSS-KiB PSS-KiB" of the runner
	echo "$(awk '/^VmRSS/{print $2}' /proc/$RUNNER_PID/status) $(awk '/^Pss:/{print $2}' /proc/$RUNNER_PID/smaps_rollup)"
}
make_pool p 2G 2 --extent-size 1M
read r0 p0 <<<"$(mem)"
figure "runner idle: RSS $r0 KiB, PSS $p0 KiB"
for i in $(seq $n); do $VLUNCTL -q vol create p/v$i 64M; done
for i in $(seq $n); do user_backstore v$i p/v$i $((64 << 20)) || { fail "backstore v$i"; exit 1; }; done
sleep 1
read r1 p1 <<<"$(mem)"
figure "runner with $n vlun LUNs: RSS $r1 KiB (+$(((r1 - r0) / n)) KiB/LUN), PSS $p1 KiB"
for i in $(seq $n); do rmdir $CFG/core/user_1/v$i; done
restart_runner
read r0 p0 <<<"$(mem)"
for i in $(seq $n); do
	pre=metadata; [ $i = 1 ] && pre=full   # q1 takes writes below; tmpfs has no ZERO_RANGE
	qemu-img create -q -f qcow2 -o preallocation=$pre /var/lib/vlun/q$i.qcow2 64M
	d=$CFG/core/user_2/q$i; mkdir -p $d
	echo -n "dev_config=qcow//var/lib/vlun/q$i.qcow2" >$d/control; echo -n "dev_size=$((64 << 20))" >$d/control
	echo -n 1 >$d/enable || { fail "qcow backstore q$i"; exit 1; }
	printf 'qcowmem%09d\n' $i >$d/wwn/vpd_unit_serial
done
sleep 1
read r2 p2 <<<"$(mem)"
figure "runner with $n qcow LUNs: RSS $r2 KiB (+$(((r2 - r0) / n)) KiB/LUN), PSS $p2 KiB"

# per-I/O cost in the runner: system calls (strace -c over a fixed number of I/Os), then
# without strace CPU time (utime+stime of all its threads) and context switches per I/O
user_backstore v1 p/v1 $((64 << 20)) || { fail "backstore v1"; exit 1; }
iscsi_export 0 user_1/v1; iscsi_export 1 user_2/q1
login() { dv=$(iscsi_login) && dv=$(lun_disk 0) && dq=$(lun_disk 1) || { fail "login"; exit 1; }; }
login
for d in $dv $dq; do fio --name=fill --filename=$d --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=write --bs=1M --output=/dev/null; done
sg_sync $dv
ios=${VLUN_BENCH_IOS:-3000}
ticks() { awk '{s += $14 + $15} END {print s}' /proc/$RUNNER_PID/task/*/stat; }
ctxsw() { cat /proc/$RUNNER_PID/task/*/status | awk '/ctxt_switches/{s += $2} END {print s}'; }
cost() { # cost LABEL DEV
	local rw total top t0 c0 t1 c1 iops
	for rw in randread randwrite; do
		fio1() { fio --name=s --filename=$1 --direct=1 --ioengine=libaio --iodepth=1 --rw=$rw \
			--bs=4k --number_ios=$ios --size=32M --output-format=json "${@:2}"; }
		strace -c -f -q -p $RUNNER_PID -o /tmp/st &
		spid=$!; sleep 1
		fio1 $2 >/dev/null
		kill -INT $spid; wait $spid || true   # strace exits 130 when interrupted
		total=$(awk '$NF=="total"{print $4}' /tmp/st)
		top=$(awk 'NR>2 && $1 ~ /^[0-9.]+$/ && $NF!="total"{print $(NF), $4}' /tmp/st |
			sort -k2 -nr | head -4 | awk -v n=$ios '{printf "%s %.1f ", $1, $2/n}')
		t0=$(ticks); c0=$(ctxsw)
		iops=$(fio1 $2 | jq '.jobs[0].read.iops + .jobs[0].write.iops | floor')
		t1=$(ticks); c1=$(ctxsw)
		figure "$(printf '%-13s 4k %-9s QD1: %5.2f syscalls/IO (%s) %6.1f us CPU/IO %5.2f ctxsw/IO %5d IOPS' \
			"$1" $rw $(awk "BEGIN{print $total/$ios}") "$top" \
			$(awk "BEGIN{print ($t1-$t0)*1e6/$(getconf CLK_TCK)/$ios}") \
			$(awk "BEGIN{print ($c1-$c0)/$ios}") $iops)"
	done
}
cost "vlun (4 thr)" $dv
cost "qcow" $dq
iscsi_logout
VLUN_NR_THREADS=0; export VLUN_NR_THREADS; restart_runner
login
cost "vlun (inline)" $dv
