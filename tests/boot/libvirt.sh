#!/bin/bash
# timeout: 900
# The libvirt backend against a local libvirtd started without systemd
# (ci/libvirtd): scenarios pass with the same report content as on the
# qemu backend, a remote-style URI works, several --connect hosts share the
# work, and a bootlab killed with SIGKILL leaves no domain behind.
. "$(dirname "$0")/../lib.sh"

started=0
if ! ci/libvirtd status; then
	ci/libvirtd start >/dev/null || { not_ok "ci/libvirtd start"; done_testing; exit 1; }
	started=1
fi
trap 'rm -rf "$T_TMP"; [ $started = 1 ] && ci/libvirtd stop' EXIT
ok "libvirtd answers"
URI='qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock'
domains() { virsh -c qemu:///system list --all --name 2>/dev/null | grep -c '^bootlab-'; }

scen="scenarios/smoke.yaml tests/data/scenarios/rdinit-missing.yaml"
"$BOOTLAB" run -j 1 --report-dir "$T_TMP/q" $scen > "$T_TMP/q.out" 2>&1
out=$("$BOOTLAB" run --backend libvirt --connect "$URI" --report-dir "$T_TMP/l" $scen 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "libvirt run exits like the qemu one (1: rdinit-missing must not pass)" "$rc" 1
q=$(ls "$T_TMP"/q/2*/report.json); l=$(ls "$T_TMP"/l/2*/report.json)
for f in '[.scenarios[] | {name, outcome}] | sort_by(.name)' \
	 '[.scenarios[] | {name, p: [.phases[].name]}] | sort_by(.name)' \
	 '[.scenarios[] | {name, s: [.steps[] | .result]}] | sort_by(.name)' \
	 '[.scenarios[] | {name, r: .panic.reason}] | sort_by(.name)'; do
	expect_eq "same report content: $f" "$(json_get "$l" "$f | tojson")" "$(json_get "$q" "$f | tojson")"
done
expect_eq "smoke hello pid 1 through libvirt" "$(json_get "$l" '.scenarios[] | select(.name=="smoke") | .hello.pid')" 1
expect_match "the domain XML is in the report" "$(json_get "$l" '.scenarios[0].emulator.command')" "org.bootlab.agent"
expect_eq "no domain left after the run" "$(domains)" 0

# two hosts (the same daemon under two URIs), two slots on the first
out=$("$BOOTLAB" run --connect "$URI#2" --connect qemu:///system --report-dir "$T_TMP/m" \
	scenarios/smoke.yaml tests/data/scenarios/long-wait.yaml tests/data/scenarios/rdinit-missing.yaml \
	--filter 'smoke|rdinit' 2>&1); rc=$?
expect_eq "several --connect hosts: exit 1 (rdinit-missing)" "$rc" 1
expect_match "smoke passed across hosts" "$out" '^PASS +smoke'

# SIGKILL mid-boot: autodestroy removes the domain when the connection drops
"$BOOTLAB" run --backend libvirt --report-dir "$T_TMP/k" tests/data/scenarios/long-wait.yaml > "$T_TMP/k.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ "$(domains)" -ge 1 ] && break; sleep 0.1; done
expect_eq "the domain is running" "$(domains)" 1
sleep 2
kill -9 $pid; wait $pid 2>/dev/null
for _ in $(seq 1 100); do [ "$(domains)" = 0 ] && break; sleep 0.1; done
expect_eq "no domain left after SIGKILL" "$(domains)" 0
no_emulator_left
done_testing
