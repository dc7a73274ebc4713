#!/bin/bash
# timeout: 600
# The libvirt backend against this test's own libvirtd (ci/libvirtd: a
# private mount namespace and state folder, no systemd), with local files
# (the scenario library against the qemu backend's reports runs over ssh
# with uploads: libvirt_ssh.sh): smoke passes, a console burst just before
# the domain ends reaches the log whole, a remote-style URI works,
# several --connect hosts share the work, a bootlab killed with SIGKILL
# leaves no domain behind, a daemon stopped while a boot connects
# fails that boot on its deadline and not the next, and the host's libvirt
# files are byte-identical afterwards.
. "$(dirname "$0")/../lib.sh"

host0=$(libvirt_host_state)
out=$(BOOTLAB_LIBVIRTD_DIR=/etc/bootlab-lv ci/libvirtd start 2>&1); rc=$?
expect_eq "a state folder under /etc is refused" "$rc" 1
expect_match "the refusal names the folder" "$out" "'/etc/bootlab-lv' is under /etc"
libvirtd_start || { done_testing; exit 1; }
URI=$LV_URI
domains() { virsh -c "$URI" list --all --name 2>/dev/null | grep -c '^bootlab-'; }

# one smoke boot; the scenario library on libvirt, against the qemu
# backend's reports, runs over ssh: tests/boot/libvirt_ssh.sh
out=$("$BOOTLAB" run --arch x86_64 --backend libvirt --report-dir "$T_TMP/l" scenarios/smoke.yaml 2>&1); rc=$?
expect_eq "smoke passes on libvirt" "$rc" 0
l=$(ls "$T_TMP"/l/2*/report.json)
expect_match "the domain XML is in the report" "$(json_get "$l" '.scenarios[0].emulator.command')" "org.bootlab.agent"
expect_eq "local files are not uploaded" "$(json_get "$l" '.scenarios[0].emulator.uploaded_bytes')" null
expect_eq "no domain left after the run" "$(domains)" 0
# a burst of console lines, then a panic under panic=-1 that ends the
# domain at once: every line reaches the log, though the session's side of
# the bridge is full (a 4 KiB socket buffer here; a busy session on a
# loaded host) and the domain's end overtakes the console's last lines
# (docs/libvirt.md, "The console's last lines")
out=$(BOOTLAB_LIBVIRT_BRIDGE_BUF=4096 "$BOOTLAB" run -j 2 --backend libvirt --report-dir "$T_TMP/t" \
	tests/data/scenarios/console-tail.yaml 2>&1); rc=$?
expect_eq "a console burst through a full bridge: 3 boots pass" "$rc" 0
t=$(ls -d "$T_TMP"/t/2*)
expect_eq "each console log holds all 4000 lines and the panic after them" \
	"$(for v in console-tail 'console-tail[again]' 'console-tail[once-more]'; do
		f=$t/$(json_get "$t/report.json" ".scenarios[] | select(.name == \"$v\") | .console_log")
		echo "$(grep -o 'tail: line [0-9]*' "$f" | wc -l) $(grep -c 'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300' "$f")"
	done | sort | uniq -c | awk '{$1 = $1; print}')" "3 4000 1"
scen="tests/data/scenarios/smoke-one.yaml tests/data/scenarios/rdinit-missing.yaml"
out=$("$BOOTLAB" run --backend libvirt --connect "$URI" --report-dir "$T_TMP/u" $scen 2>&1); rc=$?
expect_eq "remote-style URI: exit 1 (rdinit-missing must not pass)" "$rc" 1
expect_match "remote-style URI: smoke passes" "$out" '^PASS +smoke'

# two hosts (the same daemon under two URIs), two slots on the first
URI2="qemu+unix:///system?socket=$T_TMP/lv/sock/./libvirt-sock"
out=$("$BOOTLAB" run --connect "$URI#2" --connect "$URI2" --report-dir "$T_TMP/m" \
	tests/data/scenarios/smoke-one.yaml tests/data/scenarios/long-wait.yaml tests/data/scenarios/rdinit-missing.yaml \
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

# a daemon that stops answering (SIGSTOP) while a boot connects: that boot
# fails on BOOTLAB_LIBVIRT_CONNECT_TIMEOUT; once the daemon goes on, the
# connection the abandoned start gets is closed by its own thread (its -v
# line says so), and the next boot, on the same slot, passes
# (docs/machines.md, "libvirt: a daemon that does not answer")
lvpid=$(cat "$BOOTLAB_LIBVIRTD_DIR/libvirtd.pid")
kill -STOP "$lvpid"
BOOTLAB_LIBVIRT_CONNECT_TIMEOUT=5 timeout -k 5 120 "$BOOTLAB" -v run -j 1 --backend libvirt \
	--report-dir "$T_TMP/s" tests/data/scenarios/rdinit-missing.yaml tests/data/scenarios/smoke-one.yaml \
	> "$T_TMP/s.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q '^FAIL *rdinit-missing' "$T_TMP/s.out" && break; sleep 0.1; done
kill -CONT "$lvpid"
wait $pid; rc=$?
grep -v '^bootlab: ' "$T_TMP/s.out" | sed 's/^/# /'
expect_eq "a stopped daemon: exit 3 (infrastructure)" "$rc" 3
expect_eq "the boot it held is an emulator-error naming the deadline" \
	"$(json_get "$(ls "$T_TMP"/s/2*/report.json)" '.scenarios[] | select(.name == "rdinit-missing") |
		.outcome + " " + (.reason | test("did not answer the connection within 5 s") | tostring)')" \
	"emulator-error true"
expect_match "the start given up on got its connection later and undid it" "$(cat "$T_TMP/s.out")" \
	"the start a boot gave up on at .* ended \\(connected after the deadline\\): undoing it"
expect_match "the next boot, after the daemon went on, passes" "$(cat "$T_TMP/s.out")" '^PASS +smoke'
for _ in $(seq 1 50); do [ "$(domains)" = 0 ] && break; sleep 0.1; done
expect_eq "no domain left after the stopped daemon" "$(domains)" 0
libvirtd_stop
no_emulator_left
expect_eq "the host's libvirt files are byte-identical" "$(libvirt_host_state)" "$host0"
done_testing
