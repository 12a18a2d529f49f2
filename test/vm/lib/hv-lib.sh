# The hypervisor side for two-blade scenarios (sourced by guest-init2 after blade-lib.sh):
# blade a as the initiator of both blades' portals, with stock dm-multipath + multipathd
# and the multipath.conf of docs/hypervisor.md.
#   hv_setup IQN   udevd, iscsid, login to both portals, multipathd; sets pa, pb (LUN 0's
#                  sd device through blade a's and blade b's portal), mp (the map's
#                  name), MP (/dev/mapper/$mp), MPD (multipathd's pid); 1 if no map
#   rtpg_ao SD     the target port group (1 = blade a, 2 = blade b) a path reports AO
#   tpg_of BLADE   the group id of blade a or b
#   writes_of SD   the path's completed writes
#   hv_vm1_shared IQN POOL SIZE   sanlock, LIO and tcmu-runner on this blade, then one
#                  shared pool POOL with volume vm1 (SIZE, owner a, VM guest1) exported
#                  as LUN 0 of IQN by both blades (vlun-config apply; b after a)
hv_multipath_conf() {
	cat >/etc/multipath.conf <<'M'
defaults {
	user_friendly_names yes
	find_multipaths no
	polling_interval 5
}
blacklist {
	devnode "^vd"
}
devices {
	device {
		vendor "LIO-ORG"
		product ".*"
		hardware_handler "1 alua"
		path_grouping_policy group_by_prio
		prio alua
		failback immediate
		path_checker tur
		no_path_retry 60
	}
}
M
}

path_of() { # path_of PORTAL-IP: the sd device of LUN 0 through that portal
	local c s
	for c in /sys/class/iscsi_connection/connection*; do
		[ "$(cat $c/persistent_address 2>/dev/null)" = "$1" ] || continue
		s=$(basename "$(readlink -f $c/device/..)")
		ls /sys/class/iscsi_session/$s/device/target*/*:0:0:0/block/ 2>/dev/null | head -1
		return 0
	done
}

hv_setup() {
	local iqn=$1 ip i
	hv_multipath_conf
	# multipathd takes only paths udev has initialised: udevd first
	/lib/systemd/systemd-udevd --daemon >/var/log/udevd.log 2>&1 || true
	udevadm trigger --action=add --subsystem-match=block >/dev/null 2>&1 || true
	timeout 30 udevadm settle || true
	pgrep -x iscsid >/dev/null || { setsid iscsid -f >/var/log/iscsid.log 2>&1 & sleep 0.5; }
	for ip in 169.254.0.1 169.254.0.2; do
		iscsiadm -m discovery -t st -p $ip >/dev/null || true
		check "login to portal $ip" timeout 60 iscsiadm -m node -T $iqn -p $ip:3260 -l || return 1
	done
	for i in $(seq 100); do
		pa=$(path_of 169.254.0.1); pb=$(path_of 169.254.0.2)
		[ -n "$pa" ] && [ -n "$pb" ] && break
		sleep 0.1
	done
	timeout 30 udevadm settle || true
	log "paths: blade a $pa, blade b $pb"
	check "a disk through each blade" test -n "$pa" -a -n "$pb" || return 1
	multipathd -d -s -v2 >/var/log/multipathd.log 2>&1 &
	MPD=$!
	for i in $(seq 60); do
		mp=$(timeout 5 multipathd show maps raw format "%n %N" 2>/dev/null | awk '$2 == 2 {print $1; exit}') || true
		[ -n "$mp" ] && [ -b /dev/mapper/$mp ] && break
		sleep 0.5
	done
	timeout 10 multipathd show topology || true
	[ -b "/dev/mapper/$mp" ] || { grep -v "list maps" /var/log/multipathd.log | tail -40; ls -l /dev/mapper; dmsetup table || true; }
	check "multipathd built one map of both paths" test -b "/dev/mapper/$mp" || return 1
	MP=/dev/mapper/$mp
}

tpg_of() { case $1 in a) echo 1 ;; b) echo 2 ;; esac; }

rtpg_ao() {
	local l g=
	while read -r l; do
		case $l in
		"target port group id :"*) g=${l#target port group id : 0x}; g=$((16#${g%% *})) ;;
		*"access state : 0x00"*) echo $g; return 0 ;;
		esac
	done < <(timeout 10 sg_rtpg -d /dev/$1 2>/dev/null || true)
}

writes_of() { local a b c d w; read -r a b c d w _ </sys/block/$1/stat; echo $w; }

hv_vm1_shared() {
	local rc=0
	check "wdmd and sanlock (-w 1) started" blade_start_sanlock || return 1
	check "LIO and tcmu-runner started" vm_start_target || return 1
	if [ $VLUN_BLADE = a ]; then
		blade_conf $CONF $1 $2 "[volume vm1]
pool = $2
size = $3" $'[export vm1]\nvolume = vm1\nlun = 0\nowner = a\nvm = guest1'
		$VC apply --blade a $CONF >/tmp/apply.out 2>&1 || rc=$?
		check "blade a: apply creates the shared pool and exports vm1" test $rc = 0
		peer_put created 1
	else
		peer_get created 180 >/dev/null
		$VC apply --blade b $CONF >/tmp/apply.out 2>&1 || rc=$?
		check "blade b: apply joins the pool and exports vm1" test $rc = 0
	fi
	[ $rc = 0 ] || cat /tmp/apply.out
	return $rc
}
