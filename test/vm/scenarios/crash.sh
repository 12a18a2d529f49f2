# Scenario 4 - crash: kill -9 tcmu-runner in the middle of a write workload
# that issues SYNCHRONIZE CACHE every 16 writes; restart it; every write
# acknowledged before the last completed flush must read back intact and
# `vlunctl pool check` must be clean.  Repeated with different cut points.
#   crash.sh [ROUNDS]
rounds=${1:-4}
make_pool p 256M 2 --extent-size 1M
$VLUNCTL -q vol create p/vm1 128M
user_backstore vm1 p/vm1 $((128 << 20))
echo 5 >$CFG/core/user_1/vm1/attrib/cmd_time_out 2>/dev/null || true
iscsi_export 0 user_1/vm1
dev=$(iscsi_login) || { fail "iSCSI login"; exit 1; }
W=$VLUN_SRC/test/vm/tools/crashwriter.py
for r in $(seq $rounds); do
	logf=/tmp/crash-$r.log; : >$logf
	python3 $W write $dev 32768 $logf $r 16 2>/dev/null &
	wpid=$!
	# cut only once the workload runs (at least one flush done; a loaded machine is slow
	# to start it), then at a different point each round
	for i in $(seq 600); do grep -q '^F' $logf && break; sleep 0.1; done
	sleep "$((r % 3)).$((r * 37 % 10))"
	kill -9 $RUNNER_PID
	while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
	kill -9 $wpid 2>/dev/null || true
	n=$(grep -c ^W $logf || true); m=$(sed -n 's/^F //p' $logf | tail -1)
	log "round $r: runner killed after $n writes, last completed flush at write ${m:-none}"
	check "round $r: the workload ran before the cut" test "${m:-0}" -gt 0
	vm_start_runner || { fail "runner restart"; exit 1; }
	# the old session may be wedged on commands the dead runner held: start afresh
	wait $wpid 2>/dev/null || true
	iscsi_logout; sleep 0.5
	dev=$(iscsi_login) || { fail "re-login after restart"; exit 1; }
	check "round $r: every write before the last flush reads back" python3 $W verify $dev $logf
	check "round $r: pool check is clean" $VLUNCTL pool check p
done
figure "crash rounds: $rounds"
