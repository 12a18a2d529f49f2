# Scenario 1 - conformance: libiscsi's iscsi-test-cu against a user:vlun LUN
# and against LIO's kernel fileio backstore in the same guest, test by test.
# Every test fileio passes must pass on vlun too, except those listed with a
# reason in docs/conformance.md's exception table.
#   conformance.sh [TEST-FILTER]     (default ALL)
filter=${1:-ALL}
size=$((64 << 20))
make_pool p 192M 2 --extent-size 1M
$VLUNCTL -q vol create p/conf 64M
user_backstore conf p/conf $size
truncate -s $size /var/lib/vlun/fileio.img
fileio_backstore fio0 /var/lib/vlun/fileio.img $size
# a serial, as every real LUN has (without one three ExtendedCopy tests fail on fileio
# for want of a designator, nothing to do with fileio)
echo "vlun-conformance-fileio0" >$CFG/core/fileio_1/fio0/wwn/vpd_unit_serial
iscsi_export 0 user_1/conf
iscsi_export 1 fileio_1/fio0
run_suite() { # run_suite LUN OUT : CUnit XML results into OUT
	local rc=0 dir=/tmp/cu-$1
	mkdir -p $dir
	(cd $dir && timeout 1500 iscsi-test-cu -d -x -t "$filter" -i iqn.2026-11.org.vlun:cu1 \
		-I iqn.2026-11.org.vlun:cu2 iscsi://127.0.0.1/$IQN/$1 >$dir/stdout 2>&1 </dev/null) || rc=$?
	log "suite on LUN $1 exited $rc"
	cat $dir/*Results.xml >$2 2>/dev/null
}
t0=$(date +%s); run_suite 1 /tmp/fileio.txt; t1=$(date +%s); run_suite 0 /tmp/vlun.txt; t2=$(date +%s)
figure "iscsi-test-cu: fileio $((t1 - t0)) s, vlun $((t2 - t1)) s"
cp /tmp/fileio.txt $VLUN_OUT/fileio.xml; cp /tmp/vlun.txt $VLUN_OUT/vlun.xml
# LIO writes a state file at every PR OUT REGISTER; without its directory the kernel logs
# "filp_open(...) for APTPL metadata failed" and the command fails NOT READY
prfail=$(dmesg | grep -c "for APTPL metadata failed" || true)
figure "kernel log: PR state files LIO could not write: $prfail"
check "LIO wrote every persistent-reservation state file ($(cat $CFG/dbroot)/pr)" test "$prfail" = 0
# SUITE.TEST passed|FAILED from CUnit's XML
results() {
	awk '/<SUITE_NAME>/ { gsub(/.*<SUITE_NAME> *| *<\/SUITE_NAME>.*/, ""); suite = $0 }
	     /<CUNIT_RUN_TEST_SUCCESS>/ { st = "passed" }
	     /<CUNIT_RUN_TEST_FAILURE>/ { st = "FAILED" }
	     /<TEST_NAME>/ { gsub(/.*<TEST_NAME> *| *<\/TEST_NAME>.*/, ""); print "ALL." suite "." $0, st }' "$1" |
		sort | awk '{ if ($1 == last) { if ($2 == "FAILED") st[$1] = "FAILED" } else { order[++n] = $1; st[$1] = $2; last = $1 } }
			    END { for (i = 1; i <= n; i++) print order[i], st[order[i]] }'
}
results /tmp/fileio.txt >/tmp/f.res; results /tmp/vlun.txt >/tmp/v.res
join /tmp/f.res /tmp/v.res >/tmp/both.res
total=$(wc -l </tmp/both.res)
fpass=$(awk '$2=="passed"' /tmp/both.res | wc -l)
vpass=$(awk '$3=="passed"' /tmp/both.res | wc -l)
figure "tests: $total; passed on fileio: $fpass; passed on vlun: $vpass"
exceptions=$(sed -n 's/^| *`\{0,1\}\(ALL\.[A-Za-z0-9_.]*\)`\{0,1\} *|.*/\1/p' "$VLUN_SRC/docs/conformance.md")
bad=0
while read -r t f v; do
	[ "$f" = passed ] && [ "$v" != passed ] || continue
	if grep -qxF "$t" <<<"$exceptions"; then log "exception (documented): $t: fileio $f, vlun $v"; continue; fi
	# a timing-dependent test (the SPC-2 reservation tests race LIO's session teardown)
	# gets two more runs on its own; a real regression fails them too
	again=FAILED
	for try in 1 2; do
		filter=$t run_suite 0 /tmp/retry.txt
		[ "$(results /tmp/retry.txt | awk -v t="$t" '$1 == t {print $2}')" = passed ] && { again=passed; break; }
	done
	if [ $again = passed ]; then
		log "flaky: $t failed on vlun in the full run and passed on its own (try $try)"
		figure "flaky on vlun (passed on retry): $t"
		continue
	fi
	fail "$t: passes on fileio, $v on vlun (also on two retries)"; bad=$((bad + 1))
done </tmp/both.res
awk '{print $1, "fileio=" $2, "vlun=" $3}' /tmp/both.res >$VLUN_OUT/conformance.txt
[ "$total" -gt 0 ] || { fail "no test results parsed"; exit 1; }
[ $bad = 0 ] && pass "every test passing on fileio passes on vlun but the documented exceptions ($vpass/$total passed)"
