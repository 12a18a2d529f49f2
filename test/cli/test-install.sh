#!/bin/bash
# cmake --install into a staging directory: the handler lands where Debian's tcmu-runner
# loads handlers, the tools in bin, man pages, example configurations, and the systemd
# units, whose commands point at the installed tools.
set -uo pipefail
B=${1:?usage: test-install.sh BUILD-DIR}
D=$(mktemp -d "${VLUN_TEST_TMPDIR:-/var/tmp}/vlun-install.XXXXXX")
trap 'rm -rf "$D"' EXIT
fails=0
t() { local what=$1; shift; if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi; }
DESTDIR=$D cmake --install "$B" >/dev/null || { echo "FAIL cmake --install"; exit 1; }
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$B/CMakeCache.txt")
arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
t "handler in /usr/lib/$arch/tcmu-runner" test -f $D/usr/lib/$arch/tcmu-runner/handler_vlun.so
t "handler exports only handler_init" test "$(nm -D --defined-only $D/usr/lib/$arch/tcmu-runner/handler_vlun.so | awk '$2 ~ /[TD]/ {print $3}')" = handler_init
for tool in vlunctl vlun-config vlun-alua vlun-hostd; do t "$tool in $prefix/bin" test -x $D$prefix/bin/$tool; done
for m in vlunctl vlun-handler vlun-config vlun-alua vlun-hostd; do t "man page $m.8" test -f $D$prefix/share/man/man8/$m.8; done
t "example configuration" test -f $D$prefix/share/doc/vlun/examples/vlun.conf
t "example secrets are not world-readable" test "$(stat -c %a $D$prefix/share/doc/vlun/examples/secrets.conf)" = 600
u=$D/lib/systemd/system/vlun-config.service
t "vlun-config.service" test -f $u
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' $u)
t "the unit runs the installed vlun-config ($exe)" test -x "$D$exe"
t "the unit starts after tcmu-runner" grep -q "^After=tcmu-runner.service" $u
t "tcmu-runner drop-in sets VLUN_CONFIG_DIR" grep -q VLUN_CONFIG_DIR $D/lib/systemd/system/tcmu-runner.service.d/vlun.conf
t "sanlock drop-in runs the daemon with its watchdog" grep -q "sanlock daemon -w 1" $D/lib/systemd/system/sanlock.service.d/vlun.conf
command -v systemd-analyze >/dev/null && t "systemd-analyze verify accepts the unit" \
	bash -c "systemd-analyze verify --root=$D $u 2>&1 | grep -v -e 'tcmu-runner.service' -e 'Failed to' -e 'not found' | (! grep -qi error)"
t "the libvirt hook in /etc/libvirt/hooks/qemu.d" test -x $D/etc/libvirt/hooks/qemu.d/vlun
t "the OCF agent ocf:vlun:volume" test -x $D/usr/lib/ocf/resource.d/vlun/volume
h=$D/lib/systemd/system/vlun-hostd.service
t "vlun-hostd.service" test -f $h
hexe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' $h)
t "the agent's unit runs the installed vlun-hostd in the foreground ($hexe)" \
	bash -c "test -x '$D$hexe' && grep -q '^ExecStart=.*vlun-hostd --foreground' $h"
command -v systemd-analyze >/dev/null && t "systemd-analyze verify accepts vlun-hostd.service" \
	bash -c "systemd-analyze verify --root=$D $h 2>&1 | grep -v -e 'multipathd.service' -e 'Failed to' -e 'not found' | (! grep -qi error)"
echo "$fails failure(s)"
[ $fails = 0 ]
