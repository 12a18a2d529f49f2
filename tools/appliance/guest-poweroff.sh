# guest_poweroff: power the guest off from its PID 1 (sourced by the guests' init
# scripts: tools/appliance/appliance-init, test/vm/guest-init, guest-init2).
# PID 1 must outlive the power-off: should it exit, the kernel panics and, with panic=-1,
# resets instead.  So no external command runs after the sysrq (the 9p root may be gone
# by then: seen as "Attempted to kill init" under load), only a builtin read on a FIFO
# nobody writes to.
guest_poweroff() {
	sync
	mkfifo /dev/vlun-hold 2>/dev/null
	exec 9<>/dev/vlun-hold
	echo o >/proc/sysrq-trigger
	while :; do read -r -t 3600 -u 9 _; done
}
