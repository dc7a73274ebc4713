#!/bin/bash
# timeout: 300
# x86 guests under TCG get the host's TSC rate as tsc_early_khz= (the rate
# measured once per host and cached beside the kvm answer): without it, a
# third of boots on a busy host failed the PIT calibration, marked the TSC
# unstable, calibrated the delay loop and ran on jiffies, ~80 ms slower.
# Four boots of smoke, with the guest's own calibration messages checked;
# KVM lines and a scenario's own tsc_early_khz= are left alone.
. "$(dirname "$0")/../lib.sh"
export XDG_CACHE_HOME_REAL="${XDG_CACHE_HOME:-$HOME/.cache}"
export BOOTLAB_ACCEL=tcg

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" --arch x86_64 --backend qemu --repeat 4 scenarios/smoke.yaml 2>&1)
expect_eq "four boots of smoke pass" "$?" 0
j=$(ls -d "$T_TMP"/r/2*/ | head -1)/report.json
khz=$(jq -r '.scenarios[0].kernel.cmdline' "$j" | grep -oE 'tsc_early_khz=[0-9]+' | cut -d= -f2)
check "the command line names the TSC rate" test -n "$khz"
check "a plausible rate: 100 MHz to 10 GHz ($khz kHz)" test "${khz:-0}" -gt 100000 -a "${khz:-0}" -lt 10000000
cache=$(ls "$XDG_CACHE_HOME_REAL"/bootlab/kvm/tsc-* 2>/dev/null | head -1)
check "cached per host" test -n "$cache"
expect_eq "the cache holds that rate" "$(head -n 1 "$cache")" "$khz"
logs=$(ls "$T_TMP"/r/2*/*.console.log)
expect_eq "four console logs" "$(echo "$logs" | wc -l)" 4
expect_eq "no boot marked the TSC unstable" "$(cat $logs | grep -c 'Marking TSC unstable')" 0
expect_eq "no boot calibrated the delay loop" "$(cat $logs | grep -c 'Calibrating delay loop\.\.\.')" 0
expect_eq "every boot ran on tsc-early" "$(cat $logs | grep -c 'Switched to clocksource tsc-early')" 4

# a scenario's own value wins
sed 's/^cmdline: "/cmdline: "tsc_early_khz=1234567 /' scenarios/smoke.yaml > "$T_TMP/own.yaml"
"$BOOTLAB" run --report-dir "$T_TMP/o" --arch x86_64 --backend qemu "$T_TMP/own.yaml" > /dev/null 2>&1
jo=$(ls -d "$T_TMP"/o/2*/ | head -1)/report.json
expect_eq "the scenario's tsc_early_khz= only" "$(jq -r '.scenarios[0].kernel.cmdline' "$jo" | grep -oE 'tsc_early_khz=[0-9]+' | tr '\n' ' ')" "tsc_early_khz=1234567 "
no_emulator_left
done_testing
