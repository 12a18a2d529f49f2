# Two blades, one shared pool (test/vm/vm-run2): fencing of an owner that does not
# answer, on real sanlock with wdmd and the i6300esb watchdog.
#   1. a writer with sequence numbers through blade a; a's tcmu-runner is SIGSTOPped;
#      a write through blade b takes vm1 over (a does not let go when asked, so b has
#      a's sanlock kill it: FORCE); b overwrites the writer's range; a is SIGCONTed:
#      not one record of a may land after b's takeover (read back from the disks);
#   2. a whole-blade hang: a takes vm1 back, writes records and flushes, then every
#      process of a stops (sanlock and wdmd too); a's watchdog powers it off, b takes
#      over after the host-dead time, and every record a flushed is intact.
#   vm-run2 blades-fencing
export VLUN_NONOWNER_STATE=nonoptimized # writes through either blade take the volume (implicit failover)
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
TIQN=iqn.2026-11.org.vlun:fence
me=$VLUN_BLADE
export VLUN_HOST_ID=$VLUN_BLADE_ID
CONF=$VLUN_SHARED/vlun.conf
NREC=256 # 4 KiB records at blocks 1024.. of vm1 (4 MiB in)

blade_conf $CONF $TIQN fp $'[volume vm1]\npool = fp\nsize = 64M' \
	$'[export vm1]\nvolume = vm1\nlun = 0\nowner = a'

check "wdmd and sanlock (-w 1) started" blade_start_sanlock
check "LIO and tcmu-runner started" vm_start_target
if [ $me = a ]; then
	check "blade a: apply creates the shared pool" $VC apply --blade a $CONF
	peer_put created 1
else
	peer_get created 180 >/dev/null
	check "blade b: apply" $VC apply --blade b $CONF
fi
check "login to this blade's portal" blade_login $TIQN
dev=$(lun_disk 0)
barrier logged-in

# record k: 4 KiB of "<blade> <k>" lines
rec() { yes "$1 $2" | head -c 4096; }
rec_at() { dd if=$dev bs=4096 skip=$((1024 + $1)) count=1 iflag=direct status=none | head -n1 | cut -d' ' -f1; }

# ---- 1. SIGSTOPped tcmu-runner ----
if [ $me = a ]; then
	( for k in $(seq 0 $((NREC - 1))); do
		rec A $k | dd of=$dev bs=4096 seek=$((1024 + k)) count=1 oflag=direct conv=notrunc status=none || exit
	  done ) &
	WRITER=$!
	sleep 2
	kill -STOP $RUNNER_PID
	log "tcmu-runner (pid $RUNNER_PID) stopped, writer running"
	peer_put stopped 1
	peer_get taken 120 >/dev/null
	kill -CONT $RUNNER_PID 2>/dev/null || true
	sleep 5
	if kill -0 $RUNNER_PID 2>/dev/null; then fail "a's tcmu-runner survived the fencing"
	else pass "a's tcmu-runner was killed by its sanlock (FORCE from blade b)"; fi
	kill $WRITER 2>/dev/null || true
	peer_put resumed 1
else
	peer_get stopped 120 >/dev/null
	t0=$(now)
	# the first write makes b's runner call lock(): a is asked, does not answer, is fenced
	rc=0
	rec B 0 | dd of=$dev bs=4096 seek=1024 count=1 oflag=direct conv=notrunc status=none || rc=1
	figure "takeover of a stopped owner s: $(since $t0)"
	for k in $(seq 1 $((NREC - 1))); do rec B $k; done >/tmp/recs
	dd if=/tmp/recs of=$dev bs=4096 seek=1025 oflag=direct conv=notrunc status=none || rc=1
	check "blade b took vm1 from the stopped owner and overwrote the writer's range" test $rc = 0
	peer_put taken 1
	peer_get resumed 120 >/dev/null
	sleep 3
	late=0
	for k in $(seq 0 $((NREC - 1))); do [ "$(rec_at $k)" = B ] || late=$((late + 1)); done
	figure "late writes from the fenced owner: $late"
	check "no record of the fenced owner landed after the takeover" test $late = 0
fi
barrier part1

# ---- 2. a whole blade hangs ----
if [ $me = a ]; then
	vm_start_runner
	FLUSHED=-1
	for k in $(seq 0 $((NREC - 1))); do
		rec A2 $k | dd of=$dev bs=4096 seek=$((1024 + k)) count=1 oflag=direct conv=notrunc status=none || break
		if [ $((k % 32)) = 31 ]; then
			blockdev --flushbufs $dev && sg_sync $dev 2>/dev/null && FLUSHED=$k
		fi
	done
	check "blade a took vm1 back and wrote records" test $FLUSHED -ge 31
	peer_put flushed $FLUSHED
	expect_fenced a
	peer_put hang "$(now)"
	log "blade a hangs now (every process stopped; its watchdog must power it off)"
	sync
	for p in $(ps -eo pid=); do
		[ $p = 1 ] || [ $p = $$ ] || [ $p = $BASHPID ] || kill -STOP $p 2>/dev/null || true
	done
	sleep 600
else
	flushed=$(peer_get flushed 300)
	peer_get hang 60 >/dev/null
	t0=$(now)
	rc=0
	rec B2 0 | dd of=$dev bs=4096 seek=$((1024 + NREC)) count=1 oflag=direct conv=notrunc status=none || rc=$?
	took=$(since $t0)
	# the safety of the takeover: the hung blade was dead (its watchdog fired, seen by
	# the host) before the new owner wrote
	fenced_first=$([ -e "$VLUN_SHARED/a.ended" ] && echo yes || echo no)
	check "blade b took vm1 over from the hung blade" test $rc = 0
	check "blade a's qemu had ended before b's first write as owner" test $fenced_first = yes
	figure "takeover after blade loss s: $took"
	how=$(blade_wait_ended a 120) || how=none
	check "blade a was powered off by its watchdog (seen: $how)" test "$how" = watchdog
	bad=0
	for k in $(seq 0 $flushed); do [ "$(rec_at $k)" = A2 ] || bad=$((bad + 1)); done
	figure "records flushed by the hung owner lost: $bad"
	check "every record blade a flushed before it hung is intact ($((flushed + 1)))" test $bad = 0
	check "vlunctl pool check fp from blade b is clean" $VLUNCTL pool check fp
fi
