# Two blades (test/vm/vm-run2), smoke test of the harness itself: both blades see the
# same pool disks; O_DIRECT writes on one are read on the other; the link-local
# link works both ways; wdmd + sanlock run with the watchdog; a lockspace with
# io_timeout 1 makes wdmd fail (Debian 12's 3.8.5), so both blades join one with
# io_timeout 2 on pool disk 0; then blade a hangs (sanlock and wdmd SIGSTOPped) and
# must be powered off by its i6300esb watchdog, while blade b sees host a go dead.
#   vm-run2 blades-smoke [nofence]      (nofence: stop after the lockspace checks)
MODE=${1:-fence}
LS=blades
D=($(blade_disks))
me=$VLUN_BLADE peer=$VLUN_PEER
log "blade $me: host_id $VLUN_BLADE_ID, peer $peer at $VLUN_PEER_IP, disks ${D[*]}"
figure "boot to guest-init2 s: $VLUN_BOOT_S"

# (a) the same disks, in the same order, on both blades
ids=$(for d in "${D[@]}"; do echo "$(cat /sys/block/${d#/dev/}/serial)=$(blockdev --getsize64 $d)"; done | xargs)
peer_put disks.$me "$ids"
check "$VLUN_NDISKS pool disks by serial" test ${#D[@]} = "$VLUN_NDISKS"
check "blade $peer sees the same pool disks by serial and size ($ids)" test "$(peer_get disks.$peer)" = "$ids"

# (b) O_DIRECT both ways: a writes a block of disk 1 (or high on disk 0), b reads it;
# then b writes another, a reads it.  A buffered read made before the write, with the
# device kept open (the last close drops a block device's page cache), shows what a
# stale page cache does (logged, not required).
DD=${D[1]:-${D[0]}}; base=$((${#D[@]} > 1 ? 0 : 64 << 20))
direct_round() { # direct_round WRITER BLOCK#
	local w=$1 blk=$(( (base >> 12) + $2 ))
	exec 7<$DD
	dd if=$DD bs=4096 skip=$blk count=1 status=none >/dev/null
	barrier direct-$2-ready
	if [ $me = $w ]; then
		head -c 4096 /dev/urandom >/tmp/blk
		dd if=/tmp/blk of=$DD bs=4096 seek=$blk count=1 oflag=direct conv=notrunc status=none
		peer_put direct-$2 "$(sha256sum </tmp/blk)"
		exec 7<&-
		barrier direct-$2-read
	else
		want=$(peer_get direct-$2)
		check "O_DIRECT block written on blade $w read with O_DIRECT on blade $me" \
			test "$(dd if=$DD bs=4096 skip=$blk count=1 iflag=direct status=none | sha256sum)" = "$want"
		if [ "$(dd if=$DD bs=4096 skip=$blk count=1 status=none | sha256sum)" = "$want" ]; then
			log "info: a buffered read also saw the new block"
		else
			log "info: a buffered read still returns the page-cached old block (why shared disks need O_DIRECT)"
		fi
		exec 7<&-
		barrier direct-$2-read
	fi
}
direct_round a 1
direct_round b 2

# (c) the link, both ways
check "ping $VLUN_PEER_IP over $VLUN_BLADE_IF" busybox ping -q -c 3 -W 5 $VLUN_PEER_IP
barrier pinged

# (d) wdmd + sanlock with the watchdog
t0=$(now)
check "wdmd and sanlock (-w 1) started" blade_start_sanlock || exit 1
figure "wdmd+sanlock start s: $(since $t0)"
check "wdmd holds /dev/watchdog open" sh -c "ls -l /proc/$WDMD_PID/fd | grep -q /dev/watchdog"
ps -o user=,group=,args= -p $WDMD_PID,$SANLOCK_PID
check "sanlock runs as root with the watchdog (-w 1)" sh -c "ps -o user=,args= -p $SANLOCK_PID | grep -q '^root .* -w 1 '"
WLOG=/var/log/wdmd.log
wdmd_trouble() { tail -n +$(($1 + 1)) $WLOG | grep -E "test warning|test failed|closed unclean"; }
# wdmd_healthy MARK: since log line MARK no client reached its expiry ("test failed") and
# the watchdog was re-armed after any warning (a renewal late by > 2 s at io 2 is a
# warning: wdmd closes the device until the next test passes); warnings become a figure
wdmd_healthy() {
	local w; w=$(wdmd_trouble $1 | grep -c "test warning")
	[ "$w" = 0 ] || figure "wdmd test warnings with io_timeout $IO: $w"
	! wdmd_trouble $1 | grep -q "test failed" &&
		{ [ "$w" = 0 ] || [ "$(tail -n +$(($1 + 1)) $WLOG | grep -E 'closed unclean|reopen' | tail -1 | grep -c reopen)" = 1 ]; }
}

# (d1) io_timeout 1 and the watchdog do not mix (Debian's 3.8.5): wdmd fails every test
# of a client expiring less than its 10 s test interval ahead, and sanlock's expiry is
# renewal + 8 * io.  Join a lockspace with io 1 until wdmd fails, leave it, see wdmd
# re-arm.  (The watchdog would fire ~60 s after the failure: the lockspace must go.)
IO1=io1:$VLUN_BLADE_ID:${D[0]}:$((1 << 20))
[ $me = a ] && sanlock direct init -s io1:0:${D[0]}:$((1 << 20)) -o 1 >/dev/null
barrier io1-written
mark=$(wc -l <$WLOG)
t0=$(now)
sanlock client add_lockspace -s $IO1 -o 1 >/dev/null
for i in $(seq 150); do wdmd_trouble $mark | grep -q sanlock_io1 && break; sleep 0.1; done
wdmd_trouble $mark | head -2
check "io_timeout 1: wdmd fails sanlock's test (expiry 8 s < wdmd's 10 s test interval)" \
	sh -c "tail -n +$((mark + 1)) $WLOG | grep -q 'test warning.*sanlock_io1'"
figure "io_timeout 1: wdmd fails its test after join s: $(since $t0)"
sanlock client rem_lockspace -s $IO1 || log "rem_lockspace io1: $(sanlock client gets | xargs)"
for i in $(seq 150); do tail -n +$((mark + 1)) $WLOG | grep -q reopen && break; sleep 0.1; done
check "wdmd re-armed the watchdog once the io_timeout 1 lockspace was left" \
	sh -c "tail -n +$((mark + 1)) $WLOG | grep -q reopen"
barrier io1-done

# (d2) one lockspace with io_timeout $VLUN_IO_TIMEOUT on pool disk 0, both blades
mark=$(wc -l <$WLOG)
IO=$VLUN_IO_TIMEOUT
if [ $me = a ]; then
	check "lockspace $LS written on ${D[0]} (io_timeout $IO)" sanlock direct init -s $LS:0:${D[0]}:0 -o $IO
fi
barrier ls-written
check "lockspace $LS on disk carries io_timeout $IO" sh -c "sanlock direct read_leader -s $LS:$VLUN_BLADE_ID:${D[0]}:0 | grep -qx 'io_timeout $IO'"
t0=$(now)
check "joined lockspace $LS as host $VLUN_BLADE_ID" sanlock client add_lockspace -s $LS:$VLUN_BLADE_ID:${D[0]}:0 -o $IO
figure "lockspace join (io_timeout $IO) s: $(since $t0)"
check "wdmd watches sanlock's lockspace connection" sh -c "wdmd --dump | grep -q 'name sanlock_$LS:'"
barrier joined
both_live() { [ "$(sanlock client gets -h 1 | grep -cE '^h [12] .* LIVE$')" = 2 ]; }
t0=$(now)
for i in $(seq 60); do both_live && break; sleep 0.5; done
check "sanlock on blade $me sees hosts 1 and 2 LIVE" both_live
log "both hosts live $(since $t0) s after joining"
sanlock client gets -h 1
sanlock client host_status -s $LS
barrier live
if [ "$MODE" = nofence ]; then
	sleep 12   # at least one wdmd test with the lockspace joined
	check "wdmd kept the watchdog armed with io_timeout $IO" wdmd_healthy $mark
	exit 0
fi

# (e) blade a hangs; its watchdog must power it off; b sees host a go dead
if [ $me = a ]; then
	check "wdmd kept the watchdog armed with io_timeout $IO" wdmd_healthy $mark
	expect_fenced
	peer_put hang "$(now)"
	log "hanging: SIGSTOP to wdmd ($WDMD_PID) and sanlock ($SANLOCK_PID)"
	sync
	kill -STOP $WDMD_PID $SANLOCK_PID
	sleep 150
	fail "blade a was not fenced by its watchdog within 150 s"
	exit 1
fi
peer_get hang >/dev/null
t0=$(now)
fenced= dead= how=
for i in $(seq 600); do
	if [ -z "$fenced" ] && [ -e $VLUN_SHARED/a.ended ]; then
		fenced=$(since $t0); how=$(cut -d' ' -f1 $VLUN_SHARED/a.ended)
		log "blade a ended ($how) after $fenced s"
	fi
	if [ -z "$dead" ] && sanlock client gets -h 1 | grep -qE '^h 1 .* DEAD$'; then
		dead=$(since $t0); log "host 1 (blade a) DEAD in lockspace after $dead s"
		sanlock client host_status -s $LS -D | head -12
	fi
	[ -n "$fenced" ] && [ -n "$dead" ] && break
	sleep 0.2
done
check "blade a was ended by its watchdog (host saw: ${how:-nothing})" test "$how" = watchdog
[ -n "$fenced" ] && figure "watchdog fenced blade after s: $fenced"
check "blade a fenced within 90 s of the hang" awk -v t="${fenced:-999}" 'BEGIN { exit !(t <= 90) }'
check "host 1 seen DEAD by blade b" test -n "$dead"
[ -n "$dead" ] && figure "host dead seen by peer after s: $dead"
check "the watchdog fenced blade a before blade b considered it dead" \
	awk -v f="${fenced:-999}" -v d="${dead:-0}" 'BEGIN { exit !(f < d) }'
sanlock client gets -h 1
check "blade b's wdmd kept the watchdog armed throughout (io_timeout $IO)" wdmd_healthy $mark
