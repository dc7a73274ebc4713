#!/bin/bash
# timeout: 900
# The smoke scenario on every machine: qemu x86_64 (microvm, built kernel),
# UML (built), qemu aarch64 (virt, built Image), and Debian's kernels:
# cloud amd64 on q35, arm64 on virt, /usr/bin/linux. The distro rows need
# modules for the agent's port: bootlab adds them by itself and the agent
# reports loading each one. And a UML guest slow to go down after its
# halt line (tests/data/scenarios/uml-slow-halt.yaml).
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" scenarios/smoke.yaml scenarios/smoke-debian.yaml \
	tests/data/scenarios/uml-slow-halt.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "every row passes" "$rc" 0
j=$(ls -d "$T_TMP"/r/2*/ | head -1)/report.json
row() { jq -c --arg n "$1" ".scenarios[] | select(.name==\$n) | $2" "$j"; }
for n in 'smoke[arch=x86_64,backend=uml]' 'smoke[arch=aarch64,backend=qemu]' \
	smoke-debian 'smoke-debian[arm64]' 'smoke-debian[uml]'; do
	expect_eq "$n: pass" "$(row "$n" .outcome)" '"pass"'
	expect_eq "$n: agent hello as pid 1" "$(row "$n" .hello.pid)" 1
done
# machine lines
expect_match "x86_64 uml: con1=fd:3 is the agent's /dev/tty1" "$(row 'smoke[arch=x86_64,backend=uml]' .emulator.command)" 'con1=fd:3.*bootlab\.dev=/dev/tty1'
expect_match "uml: the agent's channel is the tty" "$(row 'smoke[arch=x86_64,backend=uml]' .hello.channel)" '/dev/tty1'
expect_eq "uml: powered off, exit 0" "$(row 'smoke[arch=x86_64,backend=uml]' .emulator.exit)" '"exited 0"'
# UML 2 s slow to go after its halt line: its own exit, not bootlab's SIGTERM
expect_eq "uml slow to halt: its own exit 0 after 2 s" \
	"$(row uml-slow-halt '[.outcome, .emulator.exit, .duration_s >= 2]')" '["pass","exited 0",true]'
expect_match "aarch64 built: virt, virtio-mmio port" "$(row 'smoke[arch=aarch64,backend=qemu]' .emulator.command)" 'qemu-system-aarch64 -M virt .*virtio-serial-device'
expect_eq "aarch64 built: reports aarch64" "$(row 'smoke[arch=aarch64,backend=qemu]' .hello.arch)" '"aarch64"'
expect_match "debian cloud: q35 with virtio-pci" "$(row smoke-debian .emulator.command)" '-M q35 .*virtio-serial-pci'
expect_match "debian arm64: virt with virtio-pci (no virtio_mmio built in)" "$(row 'smoke-debian[arm64]' .emulator.command)" '-M virt .*virtio-serial-pci'
expect_match "debian uml: /usr/bin/linux" "$(row 'smoke-debian[uml]' .emulator.command)" '^"/usr/bin/linux(\.uml)? '
# one guest clock: the hellos' CLOCK_BOOTTIME is put on the printk clock
# with the agent's "clock" message, so init runs before the agent says hello
for n in $(jq -r '.scenarios[] | select(.hello != null) | .name' "$j"); do
	expect_eq "$n: guest time runs forward (run-init <= agent-hello, printk clock)" \
		"$(row "$n" '[.phases[] | select(.name == "run-init" or .name == "agent-hello") | .guest_s]
			| length == 2 and .[0] != null and .[1] != null and .[0] <= .[1]')" true
done
# modules bootlab added for the port, loaded by the agent in dependency order
mods() { row "$1" '[.hello.modules[]? | select(.ok) | .path | split("/") | last] | join(" ")' | tr -d '"'; }
expect_eq "debian cloud: the 6 modules of docs/machines.md, in order" "$(mods smoke-debian)" \
	"virtio_ring.ko virtio.ko virtio_pci_modern_dev.ko virtio_pci_legacy_dev.ko virtio_pci.ko virtio_console.ko"
expect_eq "debian arm64: virtio_pci and virtio_console" "$(mods 'smoke-debian[arm64]')" \
	"virtio_pci_modern_dev.ko virtio_pci_legacy_dev.ko virtio_pci.ko virtio_console.ko"
expect_eq "built kernels: no modules" "$(mods 'smoke[arch=aarch64,backend=qemu]')" ""
expect_match "debian cloud: bootlab.modules= on the command line" "$(row smoke-debian .emulator.command)" 'bootlab\.modules=/lib/modules/bootlab/order'
no_emulator_left
done_testing
