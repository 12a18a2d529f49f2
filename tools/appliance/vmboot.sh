# Booting Debian's own kernel under qemu with the host's root as the guest's (read-only
# 9p + a tmpfs overlay): shared by the test harness (test/vm/vm-run) and the appliance
# mode of tools/vlun-up.  Source it; then:
#   vmboot_kernel            sets KVER and KERNEL (newest kernel that has its modules)
#   vmboot_initrd CACHE-DIR  sets INITRD (built once per kernel, cached)
# The initrd mounts the host root and execs the program named by vlun.init= on the
# kernel command line.
VMBOOT_LIB=${BASH_SOURCE[0]}

vmboot_kernel() {
	KVER=
	local k
	for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V); do
		[ -d "/lib/modules/$k/kernel" ] && KVER=$k
	done
	KERNEL=/boot/vmlinuz-$KVER
	[ -n "$KVER" ] && [ -r "$KERNEL" ]
}

vmboot_initrd() {
	local CACHE=$1
	INITRD=$CACHE/initrd-$KVER.cpio.gz
	[ -s "$INITRD" ] && [ "$INITRD" -nt "$VMBOOT_LIB" ] && return 0
	mkdir -p "$CACHE"
	local R; R=$(mktemp -d)
	mkdir -p "$R"/{bin,proc,sys,dev,host,rw,newroot,mods}
	cp /bin/busybox "$R/bin/busybox"
	local n=0
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
	done | awk '!seen[$0]++' | while read -r ko; do
		n=$((n + 1)); cp "$ko" "$R/mods/$(printf %02d $n)-$(basename "$ko")"
	done
	cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in /mods/*.ko; do insmod "$m" 2>/dev/null; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host || { echo "vm: no 9p root"; echo o >/proc/sysrq-trigger; }
mount -t tmpfs -o size=75% tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot
init=$(sed -n 's/.*vlun\.init=\([^ ]*\).*/\1/p' /proc/cmdline)
for d in proc sys dev; do mount --move /$d /newroot/$d; done
exec switch_root /newroot "$init"
INIT
	chmod +x "$R/init"
	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
	rm -rf "$R"
}
