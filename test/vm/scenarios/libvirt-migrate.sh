# Two blades, one shared pool (test/vm/vm-run2), both also hypervisors: open-iscsi to
# both portals, stock dm-multipath, and libvirt 9.0 with vlun's qemu hook installed as
# /etc/libvirt/hooks/qemu.d/vlun.  A real libvirt live migration of guest1 (a small
# qemu TCG domain whose disk is vm1's multipath map) from a to b: libvirt runs the hook
# on b before the domain resumes there, the hook moves vm1 to b, the migration completes,
# and what a wrote is what b reads.  Then a migration back whose hook fails (the
# destination's vlun-alua fails) is aborted by libvirt: the domain keeps running on b
# and vm1 stays there; with the hook mended the migration back succeeds.
# libvirtd listens on TCP without authentication on the guests' private link: a test
# setup only (docs/hypervisor.md says how to migrate between real hypervisors).
#   vm-run2 libvirt-migrate
VC="$VLUN_BUILD/tools/vlun-config/vlun-config"
VA="$VLUN_BUILD/tools/vlun-alua/vlun-alua"
TIQN=iqn.2026-12.org.vlun:virt
me=$VLUN_BLADE
export VLUN_HOST_ID=$VLUN_BLADE_ID
CONF=$VLUN_SHARED/vlun.conf
export VLUN_CONF=$CONF
ip=169.254.0.$VLUN_BLADE_ID
peerip=169.254.0.$((3 - VLUN_BLADE_ID))
V="virsh -q -c qemu:///system"
VB="virsh -q -c qemu+tcp://169.254.0.2/system"

hv_vm1_shared $TIQN lvp 64M || exit 1
barrier exported 300
# one blade at a time logs in: a's first I/O must not race b's
if [ $me = b ]; then peer_get hv-a 300 >/dev/null; fi
hv_setup $TIQN || fail "the hypervisor side did not come up"
peer_put hv-$me "$mp"

# ---- libvirt: the test's daemon configuration, the hook ----
mkdir -p /etc/libvirt/hooks/qemu.d /etc/vlun /var/lib/libvirt/qemu /var/cache/libvirt/qemu \
	/var/log/libvirt/qemu /run/libvirt
ln -sf "$VLUN_SRC/tools/libvirt/vlun-qemu-hook" /etc/libvirt/hooks/qemu.d/vlun
HOOKLOG=/var/log/vlun-hook.log
hook_conf() { printf 'VLUN_CONF=%s\nVLUN_ALUA=%s\nVLUN_HOOK_TIMEOUT=20\nVLUN_HOOK_LOG=%s\n' "$CONF" "$1" $HOOKLOG >/etc/vlun/libvirt-hook.conf; }
hook_conf "$VA"
cat >/tmp/libvirtd.conf <<L
listen_tls = 0
listen_tcp = 1
listen_addr = "$ip"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "2:file:/var/log/libvirt/libvirtd.log"
L
cat >/etc/libvirt/qemu.conf <<Q
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
migration_address = "$ip"
migration_host = "$ip"
Q
t0=$(ms_now)
libvirtd --listen -f /tmp/libvirtd.conf >/var/log/libvirtd.out 2>&1 &
LVD=$!
up=0
for i in $(seq 300); do $V version >/dev/null 2>&1 && { up=1; break; }; nap 0.2; done
check "libvirtd runs (listening on $ip:16509)" test $up = 1
# the first connection probes qemu's capabilities (slow under TCG): once, here
$V capabilities >/dev/null 2>&1 || true
figure "$me: libvirtd up and qemu probed s: $(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
barrier libvirt 600

hooked() { grep -c "domain guest1 (VM guest1): its volumes are on this blade" $HOOKLOG 2>/dev/null || true; }

if [ $me = b ]; then
	# the hook's line for the migration here
	peer_get migrated 600 >/dev/null && peer_put hooked-b "$(hooked)"
	peer_get done 1200 >/dev/null || true
	sed 's/^/  b hook log: /' $HOOKLOG 2>/dev/null || true
	kill $LVD 2>/dev/null || true
	kill $MPD 2>/dev/null || true
	cp /var/log/libvirt/libvirtd.log $VLUN_OUT/ 2>/dev/null || true
	vm_collect_logs
	barrier finished 300
	exit 0
fi

# ---- blade a: guest1 starts here, migrates to b, and back ----
mpb=$(peer_get hv-b 10)
check "both hypervisors see vm1 as the same map ($mp, $mpb)" test "$mp" = "$mpb"
cat >/tmp/guest1.xml <<X
<domain type='qemu'>
  <name>guest1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/mapper/$mp'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
X
head -c 4M /dev/urandom >/tmp/pat1
dd if=/tmp/pat1 of=$MP bs=1M count=4 oflag=direct conv=fsync status=none
check "guest1 starts on blade a (its hook: vm1 is here already)" $V create /tmp/guest1.xml
check "guest1 runs on a" sh -c "$V domstate guest1 | grep -qx running"
owner() { "$VA" status vm1 --json 2>/dev/null | jq -r '.volumes[0].owner' 2>/dev/null; }
check "vm1 is owned by blade a" test "$(owner)" = 1

# migrate N FROM TO: virsh migrate --live guest1 from blade FROM to blade TO (a or b);
# its output in /tmp/migN.out, exit status in $rc, seconds in $secs
migrate() {
	local from=169.254.0.$(tpg_of $2) to=169.254.0.$(tpg_of $3) t0
	t0=$(ms_now)
	rc=0; virsh -q -c qemu+tcp://$from/system migrate --live guest1 qemu+tcp://$to/system \
		>/tmp/mig$1.out 2>&1 || rc=$?
	secs=$(awk -v a=$t0 -v b=$(ms_now) 'BEGIN { printf "%.1f", (b - a) / 1000 }')
	cat /tmp/mig$1.out
}

# a -> b: the destination's hook moves vm1 before the domain resumes there
migrate 1 a b
check "virsh migrate --live guest1 to blade b (exit $rc)" test $rc = 0
figure "live migration a -> b (hook included) s: $secs"
peer_put migrated 1
check "libvirt ran the hook on b for the incoming guest1 (its log: $(peer_get hooked-b 60) line)" \
	test "$(peer_get hooked-b 60)" = 1
check "guest1 runs on b" sh -c "$VB domstate guest1 | grep -qx running"
check "guest1 is gone from a" sh -c "! $V domstate guest1 >/dev/null 2>&1"
check "vm1 is owned by blade b" test "$(owner)" = 2
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "both paths name blade b AO (a: $ra, b: $rb)" test "$ra" = 2 -a "$rb" = 2
check "what a wrote before reads back through the map after the move" \
	cmp -s /tmp/pat1 <(dd if=$MP bs=1M count=4 iflag=direct status=none)
head -c 4M /dev/urandom >/tmp/pat2
dd if=/tmp/pat2 of=$MP bs=1M count=4 seek=8 oflag=direct conv=fsync status=none

# b -> a with a failing hook on a: libvirt aborts, nothing moves
hook_conf /bin/false
migrate 2 b a
check "a migration back whose hook fails on a is refused (exit $rc)" test $rc != 0
check "libvirt says the hook refused it" grep -qi "hook" /tmp/mig2.out
check "guest1 still runs on b" sh -c "$VB domstate guest1 | grep -qx running"
check "guest1 is not on a" sh -c "! $V domstate guest1 >/dev/null 2>&1"
check "vm1 is still owned by blade b" test "$(owner)" = 2

# b -> a with the hook mended
hook_conf "$VA"
migrate 3 b a
check "virsh migrate --live guest1 back to blade a (exit $rc)" test $rc = 0
figure "live migration b -> a (hook included) s: $secs"
check "guest1 runs on a" sh -c "$V domstate guest1 | grep -qx running"
check "vm1 is owned by blade a" test "$(owner)" = 1
ra=$(rtpg_ao $pa); rb=$(rtpg_ao $pb)
check "both paths name blade a AO (a: $ra, b: $rb)" test "$ra" = 1 -a "$rb" = 1
check "what was written on both sides reads back" bash -c \
	"cmp -s /tmp/pat1 <(dd if=$MP bs=1M count=4 iflag=direct status=none) && cmp -s /tmp/pat2 <(dd if=$MP bs=1M count=4 skip=8 iflag=direct status=none)"
sed 's/^/  a hook log: /' $HOOKLOG || true
# a: the start (vm1 here already), the refused migration, the one back
check "a's hook log: guest1's start and the migration back ($(hooked) lines), the refusal" \
	sh -c "[ $(hooked) = 2 ] && grep -q 'vlun-alua status failed' $HOOKLOG"
$V destroy guest1 >/dev/null 2>&1 || true
check "vlun-alua status: every blade agrees (exit 0)" "$VA" status vm1
peer_put done 1
kill $LVD 2>/dev/null || true
kill $MPD 2>/dev/null || true
multipath -F >/dev/null 2>&1 || true
iscsiadm -m node -u >/dev/null 2>&1 || true
cp /var/log/libvirt/libvirtd.log $VLUN_OUT/ 2>/dev/null || true
vm_collect_logs
barrier finished 300
