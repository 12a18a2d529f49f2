#!/bin/bash
# The layering check passes on the tree, and fails on a copy with an upward include,
# an upward link and an include of the engine's private headers (so it can fail).
#   test-layering.sh SRC-DIR BUILD-DIR
set -uo pipefail
SRC=$1 BUILD=$2
CHECK="$SRC/test/layering/check-layering"
T=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-layering.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }

"$CHECK" "$SRC" "$BUILD/layering-targets.txt" && ok "the tree's includes and links point down" ||
	bad "the tree has upward dependencies (above)"

# a copy of the sources with violations injected
(cd "$SRC" && find common handler target-config tools test -name '*.[ch]' -print0 |
	cpio -0pdm --quiet "$T/src")
cp "$BUILD/layering-targets.txt" "$T/targets.txt"
printf '#include "tconf.h"\n' >>"$T/src/handler/engine/src/util.c"
printf '#include "internal.h"\n' >>"$T/src/target-config/lio.c"
printf 'vlun_engine\thandler/engine\tThreads::Threads vlun_tconf\n' >>"$T/targets.txt"
out=$("$CHECK" "$T/src" "$T/targets.txt"); rc=$?
echo "$out"
[ $rc = 1 ] && ok "violations exit 1" || bad "violations exit $rc, not 1"
grep -q 'handler/engine/src/util.c: includes target-config/tconf.h' <<<"$out" &&
	ok "an upward include is reported" || bad "the upward include was not reported"
grep -q "target-config/lio.c: includes the engine's private header" <<<"$out" &&
	ok "a private engine header is reported" || bad "the private header was not reported"
grep -q 'target vlun_engine (handler/engine/, layer 1) links vlun_tconf' <<<"$out" &&
	ok "an upward link is reported" || bad "the upward link was not reported"
"$CHECK" >/dev/null 2>&1; [ $? = 2 ] && ok "usage error exits 2" || bad "usage error"
exit $fail
