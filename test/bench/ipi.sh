#!/bin/bash
# Instructions per 4 KiB I/O (user space), vlun engine (blocking calls, and the never-
# waiting ones of the handler's fast path; and on a shared pool's owned volume: O_DIRECT,
# the ownership check) vs raw pread/pwrite, counted by callgrind: the stable figure on
# noisy machines.  Only the I/O loop's thread is counted (--toggle-collect): a shared
# pool's background thread (change record, message slots) is not part of an I/O.
#   test/bench/ipi.sh [BUILD-DIR] [N]
set -euo pipefail
B=${1:-build}; N=${2:-20000}
BIN=$B/test/bench/bench-ipi
command -v valgrind >/dev/null || { echo "ipi: valgrind is not installed" >&2; exit 1; }
count() { # count MODE OP -> instructions per I/O
	local out; out=$(mktemp)
	valgrind --tool=callgrind --collect-atstart=no --toggle-collect='run_engine*' \
		--toggle-collect='run_raw*' --callgrind-out-file="$out" "$BIN" "$1" "$2" "$N" \
		>/dev/null 2>&1
	local ir; ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	rm -f "$out"
	[[ $ir =~ ^[0-9]+$ ]] && [ "$ir" -gt 0 ] || { echo "ipi: callgrind counted nothing for $1 $2" >&2; exit 1; }
	echo $((ir / N))
}
printf '%-12s %14s %14s %14s %14s %14s %14s\n' "4 KiB I/O" "vlun instr/IO" "fast path" \
	"shared pool" "raw instr/IO" "vlun - raw" "shared - vlun"
for op in read write; do
	e=$(count engine $op); t=$(count try $op); s=$(count shared $op); r=$(count raw $op)
	printf '%-12s %14s %14s %14s %14s %14s %14s\n' "$op" "$e" "$t" "$s" "$r" "$((e - r))" "$((s - e))"
done
