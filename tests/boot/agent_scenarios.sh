#!/bin/bash
# timeout: 900
# The agent on real kernels, through bootlab run, one scenario per file in
# tests/boot/agent/: hello fields; fds closed without a console; every
# switch_root refusal, then stage-2 hellos from a tmpfs new root and from
# an ext4 virtio disk (and the rootfs refusal from stage 2); a busybox
# /init switching into the agent; exit/kill panics; the UML tty channel;
# modules loaded before the port on Debian's cloud and arm64 kernels;
# bootlab.port= given on a plain line, not with a second virtio-serial.
. "$(dirname "$0")/../lib.sh"
for f in tests/boot/agent/*.yaml; do
	name=$(basename "$f" .yaml)
	out=$("$BOOTLAB" run --report-dir "$T_TMP/r-$name" "$f" 2>&1); rc=$?
	echo "$out" | sed 's/^/# /'
	expect_eq "$name: bootlab run exits 0" "$rc" 0
	expect_match "$name: PASS line" "$out" '^PASS +agent-'
done
j=$(ls "$T_TMP"/r-switch-tmpfs/*/report.json | head -1)
expect_eq "switch-tmpfs: the report's stage-2 step passed" \
	"$(json_get "$j" '[.scenarios[0].steps[] | select(.name | test("hello stage 2")) | .result] | join(",")')" pass
# bootlab names its own port on a plain line, and does not when the
# scenario's emulator arguments bring virtio-serial devices of their own
j=$(ls "$T_TMP"/r-hello/*/report.json | head -1)
expect_match "hello: bootlab.port names vport0p1 on the command line" \
	"$(json_get "$j" '.scenarios[0].kernel.cmdline')" '(^| )bootlab\.port=/dev/vport0p1( |$)'
expect_eq "hello: the agent took that port" "$(json_get "$j" '.scenarios[0].hello.channel')" \
	virtio:/dev/vport0p1
j=$(ls "$T_TMP"/r-serial-extra/*/report.json | head -1)
expect_eq "serial-extra: no bootlab.port= with a second virtio-serial device" \
	"$(json_get "$j" '.scenarios[0].kernel.cmdline | test("bootlab\\.port")')" false
no_emulator_left
done_testing
