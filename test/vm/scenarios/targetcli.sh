# Scenario 2 - an admin's targetcli session: create the backstore and the
# export as an admin would; a bad cfgstring gets a clear message and creates
# nothing; an initiator then reads and writes the LUN.
make_pool pool0 192M 2 --extent-size 1M
$VLUNCTL -q vol create pool0/vm1 128M
serial=$(vol_serial pool0/vm1)
tc() { targetcli "$@" 2>&1 || true; }
out=$(tc /backstores/user:vlun create name=bad1 size=1G cfgstring=nosuch/vm1); echo "$out"
check "unknown pool: clear message" grep -q "no pool 'nosuch'" <<<"$out"
out=$(tc /backstores/user:vlun create name=bad2 size=1G cfgstring=pool0/nosuch); echo "$out"
check "unknown volume: clear message" grep -q "has no volume 'nosuch'" <<<"$out"
out=$(tc /backstores/user:vlun create name=bad3 size=1G cfgstring=justaname); echo "$out"
check "malformed: clear message" grep -q "expected POOL/VOLUME" <<<"$out"
out=$(tc /backstores/user:vlun create name=bad4 size=1G "cfgstring=pool0/$(printf 'x%.0s' $(seq 80))"); echo "$out"
check "too long a name: clear message" grep -q "1-63 characters" <<<"$out"
check "nothing was created" test -z "$(ls $CFG/core/user_* 2>/dev/null | grep bad)"
out=$(tc /backstores/user:vlun help create); check "help shows the cfgstring format" grep -q "POOL/VOLUME" <<<"$out"
targetcli <<EOT
/backstores/user:vlun create name=vm1 size=128M cfgstring=pool0/vm1 wwn=$serial
/iscsi create $IQN
/iscsi/$IQN/tpg1/luns create /backstores/user:vlun/vm1
/iscsi/$IQN/tpg1 set attribute generate_node_acls=1 demo_mode_write_protect=0 authentication=0
EOT
out=$(tc ls /backstores/user:vlun); echo "$out"
check "targetcli lists the backstore" grep -q "vm1.*pool0/vm1" <<<"$out"
dev=$(iscsi_login) || { fail "iSCSI login"; exit 1; }
dd if=/dev/urandom of=/tmp/d bs=1M count=8 status=none
check "write through the LUN" dd if=/tmp/d of=$dev bs=1M oflag=direct status=none
check "read back" cmp -s /tmp/d <(dd if=$dev bs=1M count=8 iflag=direct status=none)
check "the LUN's serial is the volume's" grep -q "$serial" <(sg_inq -p 0x80 $dev)
# converting a pool that is being served to a shared pool is refused, and changes nothing
rc=0; out=$($VLUNCTL pool share pool0 2>&1) || rc=$?; echo "$out"
check "pool share of a served pool is refused (exit 4)" test $rc = 4
check "and the error says a running target holds it" grep -q "in use by another process (a running target" <<<"$out"
check "the pool is still a single-blade pool" sh -c "$VLUNCTL --json pool status pool0 | jq -e '.shared == false' >/dev/null"
check "the LUN still reads back" cmp -s /tmp/d <(dd if=$dev bs=1M count=8 iflag=direct status=none)
