#!/bin/bash
# timeout: 180
# The agent's last-resort channel: no virtio port and no bootlab.dev, so
# after bootlab.wait ms it speaks framed lines ("@@BL1@@ <json>") on
# /dev/console, in raw mode, between kernel messages, and takes only framed
# input lines (noise and CR are ignored). Real QEMU, real kernel, the
# serial console on a pipe; the client is this script.
. "$(dirname "$0")/../lib.sh"
command -v qemu-system-x86_64 >/dev/null || { skip "no qemu-system-x86_64" "console channel"; done_testing; exit; }
make --no-print-directory -s agent ARCH=x86_64 >/dev/null 2>&1
K=$("$BOOTLAB" kernel path --arch x86_64 2>/dev/null) || K=
if [ -z "$K" ] || [ ! -f "$K" ]; then
	skip "x86_64 kernel not built (make kernels)" "console channel"; done_testing; exit
fi
mkdir -p "$T_TMP/r/dev"
cp build/agent/x86_64/init-agent "$T_TMP/r/init"
(cd "$T_TMP/r" && find . | cpio -o -H newc --quiet | gzip -1) > "$T_TMP/initrd.gz"

boot_counted qemu
coproc Q { exec timeout 90 qemu-system-x86_64 -M microvm,acpi=off -nodefaults -no-user-config \
	-display none -no-reboot -m 256 -serial stdio -kernel "$K" -initrd "$T_TMP/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet noapictimer reboot=t bootlab.wait=300" 2>&1; }
QPID=$Q_PID
exec 5<&"${Q[0]}" 6>&"${Q[1]}"
# next framed message, without the prefix; other lines go to $T_TMP/console
next() {
	local line
	while IFS= read -r -t 60 line <&5; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >> "$T_TMP/console"
		case $line in "@@BL1@@ "*) printf '%s' "${line#@@BL1@@ }"; return 0 ;; esac
	done
	return 1
}
send() { printf 'kernel-like noise\r\n@@BL1@@ %s\r\n' "$1" >&6; }

hello=$(next)
expect_eq "hello over the console" "$(jq -r .type <<<"$hello")" hello
expect_eq "channel is console" "$(jq -r .channel <<<"$hello")" console
expect_eq "pid 1" "$(jq -r .pid <<<"$hello")" 1
# right after the hello, unasked: the printk clock at a CLOCK_BOOTTIME instant
clock=$(next)
expect_eq "then the clock message (docs/protocol.md)" \
	"$(jq -c '[.type, .printk_ns > 0, .boottime_ns > 0]' <<<"$clock")" '["clock",true,true]'
send '{"id":1,"op":"write","path":"/x","data":"a\nb\u0001"}'
r=$(next); expect_eq "write reply" "$(jq -c '[.id,.ok,.size]' <<<"$r")" '[1,true,4]'
send '{"id":2,"op":"read","path":"/x","hex":true}'
r=$(next); expect_eq "raw console: bytes intact" "$(jq -r .hex <<<"$r")" 610a6201
send '{"id":3,"op":"stat","path":"/nope"}'
r=$(next); expect_eq "error reply" "$(jq -c '[.id,.ok,.error]' <<<"$r")" '[3,false,"ENOENT"]'
send 'not json'
r=$(next); expect_eq "malformed framed line: error, id null" "$(jq -c '[.id,.errno]' <<<"$r")" '[null,22]'
send '{"id":4,"op":"poweroff"}'
r=$(next); expect_eq "poweroff reply" "$(jq -c '[.id,.ok,.action]' <<<"$r")" '[4,true,"reboot"]'
while IFS= read -r -t 30 line <&5; do printf '%s\n' "${line%$'\r'}" >> "$T_TMP/console"; done
wait "$QPID"; rc=$?
expect_eq "QEMU exits 0 after the reboot (-no-reboot)" "$rc" 0
expect_match "kernel restarted" "$(cat "$T_TMP/console")" 'reboot: Restarting system'
done_testing
