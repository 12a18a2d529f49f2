#!/bin/bash
# Install the Debian 12 packages vlun needs.  Groups:
#   build  compiler, CMake, libraries           (for building)
#   test   what the test suite drives            (jq, python3, clang/libFuzzer)
#   run    serving a target (tcmu-runner, D-Bus, libiscsi tools)
#   vm     the VM test harness and real peers    (qemu, kernel, tcmu-runner, ...)
# Only missing packages are installed; nothing is fetched when all are present.
set -euo pipefail

declare -A GROUP=(
	[build]="build-essential cmake pkg-config libiniparser-dev libsanlock-dev libglib2.0-dev libnl-3-dev libjson-glib-dev multipath-tools"
	[run]="tcmu-runner dbus libiscsi-bin qemu-block-extra jq"
	[test]="jq python3 util-linux clang libclang-rt-14-dev valgrind sanlock resource-agents libxml2-utils"
	[vm]="libxml2-utils resource-agents pacemaker corosync pacemaker-cli-utils libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cpio kmod iproute2 procps sanlock tcmu-runner targetcli-fb dbus open-iscsi libiscsi-bin sg3-utils multipath-tools fio strace udev jq python3 qemu-block-extra nftables linux-perf"
)

[ $# -gt 0 ] || set -- build
want=()
for g in "$@"; do
	[ -n "${GROUP[$g]:-}" ] || { echo "install-deps: unknown group '$g' (build, run, test, vm)" >&2; exit 2; }
	for p in ${GROUP[$g]}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
	done
done
if [ ${#want[@]} -eq 0 ]; then
	echo "install-deps: everything for '$*' is installed"
	exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo): need ${want[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "install-deps: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
for try in 1 2 3; do
	if $SUDO apt-get update -q >/dev/null && \
	   $SUDO apt-get install -y -q --no-install-recommends "${want[@]}" >/tmp/vlun-apt.log 2>&1; then
		echo "install-deps: done"
		exit 0
	fi
	echo "install-deps: apt-get failed (try $try of 3), see /tmp/vlun-apt.log" >&2
	sleep 5
done
tail -20 /tmp/vlun-apt.log >&2
exit 1
