# shellcheck shell=bash disable=SC2154 # $gate, $K: set by the sourcing test
# Helpers for the root-stack boot tests (tests/boot/gate_root_stack*.sh):
# source it after lib.sh, with $gate (ci/initramfs-gate) and $K (the
# x86_64 kernel) set, or call stack_start, which sets them. stack_setup
# builds the busybox-stacks example and a root folder holding a nonce, so
# the run's stacks are new to the cache; stack_cleanup removes them from
# it at the end.

stack_dirs=()
stack_setup() { # TEST-NAME
	ci/examples/busybox-stacks/build.sh "$T_TMP/bbs.cpio.gz"
	check "busybox-stacks example initramfs built" test -s "$T_TMP/bbs.cpio.gz"
	mkdir -p "$T_TMP/stackroot/etc"
	echo "$1 $$ $(date +%s%N)" >"$T_TMP/stackroot/etc/nonce"
}
# stack_start TEST-NAME: $gate and $K (bootlab's x86_64 kernel, built
# when missing), then stack_setup
stack_start() {
	gate=ci/initramfs-gate
	K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
	check "the project's x86_64 kernel is built" test -f "$K"
	stack_setup "$1"
}
# stack_gate NAME STACK [ARGS...]: the gate of the busybox-stacks example
# (or of $STACK_INITRAMFS) on a 32 MiB root under STACK; its output in
# $out, status in $rc, the build log of the members in $log
stack_gate() {
	local name=$1 stack=$2; shift 2
	out=$($gate --kernel "$K" --initramfs "${STACK_INITRAMFS:-$T_TMP/bbs.cpio.gz}" "$@" --root "$T_TMP/stackroot" \
		--root-size 32M --root-stack "$stack" --report-dir "$T_TMP/$name" --timeout 120s 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	log=$(echo "$out" | sed -n 's/^bootlab gate: root stack .*(log: \(.*\))$/\1/p')
	[ -n "$log" ] && stack_dirs+=("$(dirname "$log")")
}
# hello2_root NAME: "device/fstype" of the root the stage-2 agent saw
hello2_root() { json_get "$T_TMP/$1/latest/report.json" '.scenarios[0].hello2.root | "\(.device)/\(.fstype)"'; }
console() { cat "$T_TMP/$1"/latest/*.console.log; }
# luks_gate NAME STACK VERSION: STACK (luks or luks1 on the one disk, ext4
# on top) unlocked by the passphrase typed at cryptsetup's prompt (it ends
# without a newline); host cryptsetup luksDump of the member (in $dump)
# reads LUKS VERSION with the UUID the gate printed; stage 2 on the crypt
# device
luks_gate() {
	local name=$1 stack=$2 v=$3 luuid
	stack_gate "$name" "$stack" --passphrase 'open sesame'
	expect_eq "$stack, passphrase: gate exits 0" "$rc" 0
	expect_match "$stack: root=/dev/mapper/bootlab-crypt added" "$out" 'adding root=/dev/mapper/bootlab-crypt$'
	expect_match "$stack: the prompt was answered" "$(console "$name")" 'Enter passphrase for /dev/vda: '
	luuid=$(echo "$out" | sed -n "s/^bootlab gate: LUKS$v header UUID \([^,]*\),.*/\1/p")
	dump=$(cryptsetup luksDump "$(dirname "$log")/m0.img" 2>&1)
	expect_eq "$stack: host cryptsetup luksDump: LUKS$v with the printed UUID" \
		"$(echo "$dump" | awk '/^Version:/ { v = $2 } /^UUID:/ { u = $2 } END { print v, u }')" "$v ${luuid:-none}"
	expect_eq "$stack: stage 2 on the crypt device, ext4" "$(hello2_root "$name")" mapper/bootlab-crypt/ext4
}
stack_cleanup() { for d in "${stack_dirs[@]}"; do rm -rf "$d"; done; }
