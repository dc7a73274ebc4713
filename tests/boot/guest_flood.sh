#!/bin/bash
# timeout: 600
# A guest flooding bootlab (tests/data/scenarios/guest-flood.yaml): 400000
# replies nobody asked for on the agent port (about 95 MB) and 9 MiB of
# console lines. bootlab's peak RSS (VmHWM, read while it runs) stays under
# the bound docs/protocol.md gives; the console log ends in the truncated
# marker; the report's `truncated` and the reason name the flood. Takes
# 1-3 minutes (the serial console is slow under TCG).
. "$(dirname "$0")/scenarios_lib.sh"
BOUND_KB=$((48 * 1024)) # docs/protocol.md, "What a guest can fake"

L_RUNS=1
"$BOOTLAB" run --report-dir "$T_TMP/r1" tests/data/scenarios/guest-flood.yaml >"$T_TMP/out" 2>&1 &
bp=$!
hwm=0
while kill -0 "$bp" 2>/dev/null; do
	h=$(awk '/^VmHWM:/ {print $2}' "/proc/$bp/status" 2>/dev/null)
	[ -n "$h" ] && hwm=$h
	sleep 0.2
done
wait "$bp"
RC=$?
sed 's/^/# /' "$T_TMP/out"
R=$(ls "$T_TMP"/r1/*/report.json 2>/dev/null | head -1)
[ -n "$R" ] || R=/dev/null
v=guest-flood

echo "# bootlab peak RSS: $hwm kB (bound $BOUND_KB kB)"
check "peak RSS measured" test "$hwm" -gt 0
# an ASan build (make check SAN=1) holds shadow memory and a quarantine of
# freed blocks: its RSS says nothing of bootlab's; the plain make check
# checks the bound
if ldd "$BOOTLAB" 2>/dev/null | grep -q libasan; then
	skip_unfixable "an ASan build's RSS counts ASan's own memory (SAN=1)" "peak RSS under $BOUND_KB kB"
else
	check "peak RSS under $BOUND_KB kB (was $hwm kB)" test "$hwm" -lt "$BOUND_KB"
fi
expect_eq "the boot still passes: it rebooted after the flood, as expected" "$(sv $v .outcome)" pass
expect_eq "every unasked reply dropped and counted" "$(sv $v .truncated.agent_lines)" 400000
check "console log bytes past the cap counted" test "$(sv $v .truncated.console_log_bytes)" -gt 0
# 9 MiB of lines after the last console wait, 4 MiB kept at most
check "console lines no wait read dropped and counted" test "$(sv $v .truncated.console_lines)" -gt 40000
expect_match "the reason names the flood" "$(sv $v .reason)" \
	'; bootlab dropped guest output: console log truncated \([0-9]+ bytes not kept\); [0-9]+ console lines dropped unread; 400000 agent lines answering no request dropped$'
expect_match "the report's console tail still has the boot's end" "$(sv $v '.console_tail | join("\n")')" \
	'flood: done'
log="$(dirname "$R")/$(sv $v .console_log)"
check "console log at most 8 MiB plus the markers" test "$(stat -c %s "$log")" -lt $((8 * 1024 * 1024 + 4096))
console_has $v '\[bootlab\] console log truncated: more than 8388608 bytes, the rest is not kept$'
expect_match "the log's last line says how much was not kept" "$(tail -n 1 "$log")" \
	"\\[bootlab\\] console log truncated: $(sv $v .truncated.console_log_bytes) bytes not kept\$"
no_emulator_left
done_testing
