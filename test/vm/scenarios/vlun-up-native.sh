# Scenario - tools/vlun-up in native mode: on a kernel with LIO it picks native mode by
# itself, runs its own tcmu-runner with the vlun handler, applies the default
# configuration, and serves it; the kernel initiator writes and reads; SIGTERM stops it
# cleanly (LUNs gone from configfs, runner stopped); a second start serves the same data.
kill $RUNNER_PID; while kill -0 $RUNNER_PID 2>/dev/null; do sleep 0.1; done
UPLOG=/tmp/vlun-up.log
. "$VLUN_SRC/test/up/up-lib.sh"
up() {
	"$VLUN_SRC/tools/vlun-up" --build "$VLUN_BUILD" --data-dir /var/lib/vlun/up >$UPLOG 2>&1 &
	UP=$!
	up_wait $UPLOG $UP 300 0.5
}
down() { kill -TERM $UP; local rc=0; wait $UP || rc=$?; cat $UPLOG | tail -3; [ $rc = 0 ] && grep -q "stopped cleanly" $UPLOG; }
check "vlun-up comes up" up
check "it chose native mode by itself" grep -q "mode: native (this kernel has LIO" $UPLOG
dev=$(iscsi_login iqn.2026-11.org.vlun:demo) || { fail "iSCSI login"; exit 1; }
head -c 2M /dev/urandom >/tmp/pat
dd if=/tmp/pat of=$dev bs=1M oflag=direct status=none
check "write and read back" cmp -s /tmp/pat <(dd if=$dev bs=1M count=2 iflag=direct status=none)
iscsi_logout
check "SIGTERM: clean stop, exit 0" down
check "the LUNs are gone from configfs" test ! -e $CFG/iscsi/iqn.2026-11.org.vlun:demo
check "its tcmu-runner stopped" bash -c "! pgrep -x tcmu-runner"
check "second start" up
dev=$(iscsi_login iqn.2026-11.org.vlun:demo) || { fail "iSCSI login after restart"; exit 1; }
check "the data survived" cmp -s /tmp/pat <(dd if=$dev bs=1M count=2 iflag=direct status=none)
iscsi_logout
check "second clean stop" down
