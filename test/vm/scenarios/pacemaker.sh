# Two blades, one shared pool (test/vm/vm-run2): a real two-node Pacemaker + corosync
# cluster over the guests' link drives ocf:vlun:volume (tools/ocf/volume), a promotable
# clone of guest1's volumes.  Blade a is also the hypervisor (both portals, stock
# dm-multipath, fio with crc32c verification on the map).  The promoted instance is
# moved with `crm_resource --move --promoted` to b and back: each time the volume's
# owner and both paths' ALUA answer follow, multipath sends the writes down the new
# owner's path, and nothing fails verification.  Then blade b, the owner after the last
# move, fails as a whole (every process stopped, sanlock and wdmd too): corosync loses
# it, Pacemaker promotes a, the agent's forced move waits out b's leases (its watchdog
# powers b off first), and the writes go on through a's path, still verified.  Fencing
# is sanlock's (the pool's leases), so the test cluster runs with stonith-enabled=false.
#   vm-run2 pacemaker [MOVES]    (MOVES odd: the last one leaves vm1 on b; default 1)
MOVES=${1:-1}
[ $((MOVES % 2)) = 1 ] || MOVES=$((MOVES + 1)) # b must own vm1 when it fails
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
VA="$VLUN_BUILD/tools/vlun-alua/vlun-alua"
TIQN=iqn.2026-12.org.vlun:pcmk
me=$VLUN_BLADE
export VLUN_HOST_ID=$VLUN_BLADE_ID
CONF=$VLUN_SHARED/vlun.conf
export VLUN_CONF=$CONF

hv_vm1_shared $TIQN pcp 64M || exit 1

# ---- corosync and pacemaker on both blades ----
mkdir -p /etc/corosync /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/log/pacemaker \
	/var/lib/corosync /run/resource-agents /usr/lib/ocf/resource.d/vlun
chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker
ln -sf "$VLUN_SRC/tools/ocf/volume" /usr/lib/ocf/resource.d/vlun/volume
cat >/etc/corosync/corosync.conf <<C
totem {
	version: 2
	cluster_name: vlun-test
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 5000
}
nodelist {
	node {
		ring0_addr: 169.254.0.1
		name: blade-a
		nodeid: 1
	}
	node {
		ring0_addr: 169.254.0.2
		name: blade-b
		nodeid: 2
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
logging {
	to_logfile: yes
	logfile: /var/log/corosync.log
	to_syslog: no
	to_stderr: no
	timestamp: on
}
C
corosync -f >/var/log/corosync.out 2>&1 &
COROSYNC=$!
for i in $(seq 100); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.2; done
check "corosync runs" corosync-cfgtool -s
PCMK_logfile=/var/log/pacemaker/pacemaker.log pacemakerd -f >/var/log/pacemakerd.out 2>&1 &
PCMKD=$!
barrier daemons 300
t0=$(ms_now)
up=0
for i in $(seq 600); do
	crm_mon -1 2>/dev/null | grep -q "Online: \[ blade-a blade-b \]" && { up=1; break; }
	sleep 0.5
done
check "both blades online in the cluster" test $up = 1
figure "$me: cluster up after the daemons started s: $(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
barrier cluster-up 300

if [ $me = b ]; then
	peer_get hang 1500 >/dev/null || true
	crm_mon -1 2>/dev/null | sed 's/^/  b crm_mon: /' | head -30 || true
	cp /var/log/pacemaker/pacemaker.log /var/log/corosync.log $VLUN_OUT/ 2>/dev/null || true
	vm_collect_logs
	# ---- blade b fails as a whole: its watchdog must power it off ----
	expect_fenced b
	log "blade b hangs now (every process stopped)"
	peer_put hanging "$(now)"
	sync
	for p in $(ps -eo pid=); do
		[ $p = 1 ] || [ $p = $$ ] || [ $p = $BASHPID ] || kill -STOP $p 2>/dev/null || true
	done
	sleep 600
	exit 0
fi

# ---- blade a: the cluster's configuration, the hypervisor, the moves ----
crm_attribute -t crm_config -n stonith-enabled -v false
crm_attribute -t crm_config -n cluster-recheck-interval -v 30s
crm_attribute -t rsc_defaults -n resource-stickiness -v 1
cibadmin -C -o resources -X "<clone id=\"guest1-vols-clone\">
  <meta_attributes id=\"guest1-vols-clone-meta\">
    <nvpair id=\"gvc-promotable\" name=\"promotable\" value=\"true\"/>
    <nvpair id=\"gvc-promoted-max\" name=\"promoted-max\" value=\"1\"/>
    <nvpair id=\"gvc-clone-max\" name=\"clone-max\" value=\"2\"/>
  </meta_attributes>
  <primitive id=\"guest1-vols\" class=\"ocf\" provider=\"vlun\" type=\"volume\">
    <instance_attributes id=\"guest1-vols-ia\">
      <nvpair id=\"gv-vm\" name=\"vm\" value=\"guest1\"/>
      <nvpair id=\"gv-config\" name=\"config\" value=\"$CONF\"/>
      <nvpair id=\"gv-alua\" name=\"vlun_alua\" value=\"$VA\"/>
      <nvpair id=\"gv-timeout\" name=\"move_timeout\" value=\"15\"/>
    </instance_attributes>
    <operations>
      <op id=\"gv-mon-p\" name=\"monitor\" interval=\"3s\" role=\"Promoted\" timeout=\"30s\"/>
      <op id=\"gv-mon-u\" name=\"monitor\" interval=\"4s\" role=\"Unpromoted\" timeout=\"30s\"/>
      <op id=\"gv-promote\" name=\"promote\" interval=\"0s\" timeout=\"200s\"/>
      <op id=\"gv-demote\" name=\"demote\" interval=\"0s\" timeout=\"30s\"/>
      <op id=\"gv-start\" name=\"start\" interval=\"0s\" timeout=\"30s\"/>
      <op id=\"gv-stop\" name=\"stop\" interval=\"0s\" timeout=\"30s\"/>
    </operations>
  </primitive>
</clone>"
check "the clone is in the CIB" cibadmin -Q -o resources --xpath "//clone[@id='guest1-vols-clone']"

owner() { "$VA" status vm1 --json 2>/dev/null | jq -r '.volumes[0].owner' 2>/dev/null; }
promoted_on() { crm_resource --resource guest1-vols-clone --locate 2>/dev/null | sed -n 's/.* is running on: \([^ ]*\) \(Promoted\|Master\).*/\1/p' | head -1; }
wait_promoted() { # wait_promoted NODE HOST-ID TIMEOUT: the promoted instance there and the volume owned there
	local i
	for i in $(seq $((${3} * 4))); do
		[ "$(promoted_on)" = "$1" ] && [ "$(owner)" = "$2" ] && return 0
		sleep 0.25
	done
	crm_mon -1 2>&1 | head -30
	return 1
}
t0=$(ms_now)
check "the promoted instance starts on blade-a, where vm1 is" wait_promoted blade-a 1 180
figure "first promotion s: $(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
crm_mon -1 | sed 's/^/  crm_mon: /' | head -20

hv_setup $TIQN
fio --name=pcmk --filename=$MP --rw=randwrite --bs=4k --size=32M --direct=1 \
	--ioengine=libaio --iodepth=4 --rate_iops=100 --time_based --runtime=900 --verify=crc32c \
	--verify_backlog=64 --verify_fatal=1 --output=/tmp/fio.out >/dev/null 2>&1 &
FIO=$!
sleep 3
kill -0 $FIO || fail "fio did not start"

to=blade-b host=2 newp=$pb
for n in $(seq 1 $MOVES); do
	w0=$(writes_of $newp)
	t0=$(ms_now)
	crm_resource --resource guest1-vols-clone --clear >/dev/null 2>&1 || true
	check "move $n: crm_resource --move --promoted to $to" \
		crm_resource --resource guest1-vols-clone --move --node $to --promoted
	ok=0
	wait_promoted $to $host 120 && ok=1
	t1=$(ms_now)
	check "move $n: Pacemaker promoted $to and vm1's owner is host $host" test $ok = 1
	mpms=-1
	for i in $(seq 3000); do
		[ "$(writes_of $newp)" != "$w0" ] && { mpms=$(( $(ms_now) - t0 )); break; }
		sleep 0.01
	done
	ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
	check "move $n: both paths name host $host AO (a: $ra, b: $rb)" test "$ra" = $host -a "$rb" = $host
	figure "move $n to $to: promoted and owned s: $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
	figure "move $n to $to: multipath on the new owner's path s: $(awk -v a=$mpms 'BEGIN { printf "%.1f", a / 1000 }')"
	check "move $n: writes reach $to's path" test $mpms -ge 0
	kill -0 $FIO 2>/dev/null || { fail "fio ended during move $n"; break; }
	if [ $to = blade-b ]; then to=blade-a host=1 newp=$pa; else to=blade-b host=2 newp=$pb; fi
done
crm_resource --resource guest1-vols-clone --clear >/dev/null 2>&1 || true
check "vlun-alua status: every blade agrees (exit 0)" "$VA" status vm1

# ---- blade b, the owner, fails as a whole ----
check "before the failure: promoted on blade-b, vm1 owned by host 2" wait_promoted blade-b 2 30
w0=$(writes_of $pa)
peer_put hang 1
peer_get hanging 120 >/dev/null
t0=$(ms_now)
ok=0
wait_promoted blade-a 1 300 && ok=1
t1=$(ms_now)
fenced_first=$([ -e "$VLUN_SHARED/b.ended" ] && echo yes || echo no)
check "blade b failed: Pacemaker promoted blade-a and vm1's owner is host 1" test $ok = 1
check "blade b's qemu had ended (watchdog) before a owned vm1" test $fenced_first = yes
figure "blade b failed: promoted and owned on a s: $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
mpms=-1
for i in $(seq 6000); do
	[ "$(writes_of $pa)" != "$w0" ] && { mpms=$(( $(ms_now) - t0 )); break; }
	sleep 0.01
done
check "blade b failed: writes reach a's path again" test $mpms -ge 0
figure "blade b failed: writes through a's path again s: $(awk -v a=$mpms 'BEGIN { printf "%.1f", a / 1000 }')"
how=$(blade_wait_ended b 120) || how=none
check "blade b was powered off by its watchdog (seen: $how)" test "$how" = watchdog
grep -h "owner did not let go\|taken\|not taken" /var/log/pacemaker/pacemaker.log /var/log/tcmu-runner*.log 2>/dev/null | tail -6 | sed 's/^/  /' || true
w1=$(writes_of $pa)
sleep 3
check "fio goes on writing through a's path" test "$(writes_of $pa)" != "$w1"
check "fio still runs" kill -0 $FIO

fio_stop_check $FIO /tmp/fio.out 15 "fio through every move and the failure"
fails=$(crm_mon -1 2>/dev/null | grep -c -i "failed\|error" || true)
crm_mon -1 | sed 's/^/  crm_mon: /' | head -30
check "crm_mon shows no failed action" test "$fails" = 0
check "crm_mon shows blade-b offline" sh -c "crm_mon -1 | grep -q 'OFFLINE: \[ blade-b \]'"
kill $MPD 2>/dev/null || true
multipath -F >/dev/null 2>&1 || true
iscsiadm -m node -u >/dev/null 2>&1 || true
cp /var/log/pacemaker/pacemaker.log /var/log/corosync.log /var/log/multipathd.log $VLUN_OUT/ 2>/dev/null || true
vm_collect_logs
kill $PCMKD $COROSYNC 2>/dev/null || true
