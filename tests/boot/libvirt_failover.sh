#!/bin/bash
# timeout: 600
# A libvirt host lost mid-run (harness/session/hosts.c, docs/libvirt.md "A
# host lost mid-run"): two private daemons (ci/libvirtd, each in its own
# namespace and state folder) serve one boot slot each, the first as a
# remote host (it cannot see bootlab's files; qemu+ssh through a real
# sshd, ci/libvirtd ssh) and the second as the local one; once a
# boot runs on the first, that daemon is stopped with every QEMU it
# started and its sshd. The
# boot it held is dropped and booted again on the second host, which
# takes every boot after it: the run passes as a run without the loss
# would, the moved boot names the host it left and why, and nothing is
# left running. The last host left is never lost: every boot of a run
# whose only host stops still has a result.
. "$(dirname "$0")/../lib.sh"

host0=$(libvirt_host_state)
lv() { BOOTLAB_LIBVIRTD_DIR="$T_TMP/lv$1" ci/libvirtd "${@:2}"; }
stop_all() { lv a stop >/dev/null 2>&1; lv b stop >/dev/null 2>&1; }
trap 'stop_all; rm -rf "$T_TMP"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# the first is a remote host: it sees none of bootlab's files and is
# reached over qemu+ssh through an OpenSSH server in its namespace
cache=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab
Aunix=$(BOOTLAB_LIBVIRTD_HIDE="/tmp:$HOME:$cache:$PWD:$T_TMP" lv a start 2>"$T_TMP/a.err") &&
	B=$(lv b start 2>"$T_TMP/b.err") && A=$(lv a ssh 2>> "$T_TMP/a.err")
expect_eq "two private libvirtds answer, the first over ssh" "$?" 0
[ -n "$A" ] && [ -n "$B" ] || { sed 's/^/#   /' "$T_TMP"/[ab].err; done_testing; exit 1; }
running() { virsh -c "$1" list --name 2>/dev/null | grep -c '^bootlab-'; }

# six boots of the smoke scenario, one slot on each host
"$BOOTLAB" run --connect "$A" --connect "$B" --repeat 6 --report-dir "$T_TMP/r" \
	tests/data/scenarios/smoke-one.yaml > "$T_TMP/out" 2> "$T_TMP/err" &
pid=$!
for _ in $(seq 1 600); do [ "$(running "$Aunix")" -ge 1 ] && break; sleep 0.05; done
expect_eq "a boot runs on the first host" "$(running "$Aunix")" 1
lv a stop
wait $pid; rc=$?
sed 's/^/# /' "$T_TMP/out"
grep 'is lost' "$T_TMP/err" | sed 's/^/# /'
expect_eq "the run passes as a run without the loss would (exit 0)" "$rc" 0
r=$(ls "$T_TMP"/r/2*/report.json)
expect_eq "six boots, every one passed" \
	"$(json_get "$r" '[.scenarios[0].repetitions[] | .outcome] | "\(length) \(unique)"')" '6 ["pass"]'
expect_match "the loss is named on stderr" "$(cat "$T_TMP/err")" \
	"bootlab: host '$(printf '%s' "$A" | sed 's/[][\.*^$?+(){}|]/\\&/g')' is lost \(.*\): its unfinished variants move to the other hosts"
reps='.scenarios[0].repetitions'
expect_eq "one boot moved, from the first host, to the second" \
	"$(json_get "$r" "[$reps[] | select(.moved_from) | \"\\(.moved_from.connect) \\(.connect)\"] | join(\",\")")" "$A $B"
expect_match "and why: the host took no connection" \
	"$(json_get "$r" "[$reps[] | select(.moved_from) | .moved_from.reason] | .[0]")" \
	"cannot connect to|took no connection"
expect_eq "every boot names the host it ran on" \
	"$(json_get "$r" "[$reps[] | .connect | select(. == \"$A\" or . == \"$B\")] | length")" 6
expect_eq "no domain left on the second host" "$(running "$B")" 0

# the last host left is never lost: stopped while it boots, its slot goes
# on and every boot of the run still has a result saying why it failed
"$BOOTLAB" run --connect "$B" --repeat 3 --report-dir "$T_TMP/s" \
	tests/data/scenarios/smoke-one.yaml > "$T_TMP/out2" 2> "$T_TMP/err2" &
pid=$!
for _ in $(seq 1 600); do [ "$(running "$B")" -ge 1 ] && break; sleep 0.05; done
lv b stop
wait $pid; rc=$?
check "a run whose only host is gone fails (exit $rc)" test "$rc" -ne 0
r=$(ls "$T_TMP"/s/2*/report.json)
expect_eq "all three boots have a result, none passed" \
	"$(json_get "$r" '[.scenarios[0].repetitions[] | .outcome] | "\(length) \(map(select(. == "pass")) | length)"')" "3 0"
expect_eq "nothing is called lost or moved" \
	"$(grep -c 'is lost' "$T_TMP/err2")/$(json_get "$r" '[.. | objects | select(has("moved_from"))] | length')" "0/0"
stop_all
no_emulator_left
expect_eq "the host's libvirt files are byte-identical" "$(libvirt_host_state)" "$host0"
done_testing
