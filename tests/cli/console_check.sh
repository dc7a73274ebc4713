#!/bin/bash
# bootlab console check: the kernel report classifier over console logs
# (docs/kernel-reports.md): class, title, time and first lines printed,
# --json, exit 1 on a failing report and 0 when the policy allows it,
# logs without printk times and with a syslog prefix, a userspace
# imitation ignored, bad usage and unreadable files exit 2.
. "$(dirname "$0")/../lib.sh"
D=tests/data/kreports

out=$("$BOOTLAB" console check $D/warning-lkdtm.log 2>&1); rc=$?
expect_eq "a WARNING fails by default" "$rc" 1
expect_eq "class, title and time on the first line" "$(sed -n 1p <<<"$out")" \
	"$D/warning-lkdtm.log:2: warning: WARNING in lkdtm_WARNING [3.101890]"
expect_match "first body lines follow" "$out" "    WARNING: CPU: 0 PID: 57 at drivers/misc/lkdtm/bugs.c:95"

out=$("$BOOTLAB" console check --allow warning $D/warning-lkdtm.log 2>&1); rc=$?
expect_eq "--allow warning: exit 0" "$rc" 0
expect_match "an allowed report is still listed" "$out" "warning \(allowed\): WARNING in lkdtm_WARNING"

"$BOOTLAB" console check --json $D/misc.log $D/list-refcount.log > "$T_TMP/r.json"; rc=$?
expect_eq "--json exits 1 with failing reports" "$rc" 1
expect_eq "--json: every report of both files" "$(jq -r '[.[].class] | join(" ")' "$T_TMP/r.json")" \
	"module rcu-stall oom stack-protector list-corruption refcount"
expect_eq "--json: frames, body, file" \
	"$(jq -r '.[5] | "\(.frames[0]) \(.file) \(.body | rtrimstr("\n") | split("\n") | length)"' "$T_TMP/r.json")" \
	"lkdtm_REFCOUNT_DEC_NEGATIVE $D/list-refcount.log 9"

"$BOOTLAB" console check --json --allow all --fail-on init $D/truncated-nostamps.log > "$T_TMP/t.json"; rc=$?
expect_eq "--allow all --fail-on init: exit 0 without init messages" "$rc" 0
expect_eq "no printk times: still found, marked truncated" \
	"$(jq -r '.[0] | "\(.class) \(.truncated) \(.guest_s)"' "$T_TMP/t.json")" "bug true null"

# a CI log: syslog prefixes, the kernel's lines among a program's
printf '%s\n' "Dec 05 12:00:01 host kernel: [   10.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008" \
	"Dec 05 12:00:01 host kernel: [   10.000100] RIP: 0010:foo_open+0x10/0x40" \
	"Dec 05 12:00:01 host myprog[42]: doing things" \
	"Dec 05 12:00:01 host kernel: [   10.000200] ---[ end trace 0000000000000000 ]---" > "$T_TMP/syslog.log"
out=$("$BOOTLAB" console check "$T_TMP/syslog.log" 2>&1); rc=$?
expect_eq "syslog prefixes: found" "$(sed -n 1p <<<"$out")" \
	"$T_TMP/syslog.log:1: bug: BUG: kernel NULL pointer dereference in foo_open [10.000000]"

# what a guest's program can write to the console is not the kernel's
printf '%s\n' "[    1.000000] Run /init as init process" "Kernel panic - not syncing: fake" \
	"[    0.200000] WARNING: CPU: 0 PID: 1 at x.c:1 fake+0x1/0x2" > "$T_TMP/fake.log"
out=$("$BOOTLAB" console check "$T_TMP/fake.log" 2>&1); rc=$?
expect_eq "userspace imitations: no report, exit 0" "$rc:$out" "0:"

out=$("$BOOTLAB" console check --fail-on warnig x 2>&1); rc=$?
expect_eq "unknown class: exit 2" "$rc" 2
expect_match "unknown class named" "$out" "--fail-on: unknown kernel report class 'warnig'"
out=$("$BOOTLAB" console check "$T_TMP/nope.log" 2>&1); rc=$?
expect_eq "unreadable file: exit 2" "$rc" 2
expect_match "unreadable file named" "$out" "nope\.log"
out=$("$BOOTLAB" console check 2>&1); rc=$?
expect_eq "no file: exit 2" "$rc" 2
out=$("$BOOTLAB" console frob 2>&1); rc=$?
expect_eq "unknown subcommand: exit 2" "$rc" 2

done_testing
