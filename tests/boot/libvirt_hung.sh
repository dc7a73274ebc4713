#!/bin/bash
# timeout: 300
# A libvirtd that takes the connection and never answers (libvirtd 9.0
# deadlocked so, and the next boot hung in virConnectOpen until the test's
# timeout) is an infrastructure error within BOOTLAB_LIBVIRT_CONNECT_TIMEOUT:
# a fake daemon here accepts on a unix socket and never writes a byte.
# bootlab run exits 3 soon after the deadline with a message
# naming the URI, the seconds and the way out; the report says
# emulator-error and is whole; no process is left; a start that the daemon
# ends after bootlab gave up on it does not disturb the next boot.
# (tests/boot/libvirt.sh stops its real daemon with SIGSTOP: the start
# given up on gets its connection later and closes it; the next boot passes.)
. "$(dirname "$0")/../lib.sh"

SOCK=$T_TMP/hung/libvirt-sock
URI="qemu+unix:///system?socket=$SOCK"
mkdir -p "$T_TMP/hung"
# hung_daemon HOLD: accept every connection, count it in $T_TMP/hung/accepted,
# never answer; HOLD seconds after accepting one, close it (0: never)
hung_daemon() {
	python3 - "$SOCK" "$1" "$T_TMP/hung/accepted" <<'PY' &
import select, socket, sys, time
path, hold, count = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
held = []  # (socket, when accepted)
n = 0
while True:
    r, _, _ = select.select([s], [], [], 0.1)
    if r:
        c, _ = s.accept()
        held.append((c, time.monotonic()))
        n += 1
        with open(count, "w") as f:
            f.write(str(n))
    if hold > 0:
        now = time.monotonic()
        for c, t in [h for h in held if now - h[1] >= hold]:
            c.close()
        held = [h for h in held if now - h[1] < hold]
PY
	DAEMON=$!
	for _ in $(seq 1 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	return 1
}
stop_daemon() {
	[ -n "${DAEMON:-}" ] || return 0
	kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null
	DAEMON=; rm -f "$SOCK" "$T_TMP/hung/accepted"
}
trap 'stop_daemon; rm -rf "$T_TMP"' EXIT
ms() { echo $(($(date +%s%N) / 1000000)); }

export BOOTLAB_LIBVIRT_CONNECT_TIMEOUT=3
check "a fake daemon listens and never answers" hung_daemon 0

# bootlab run; the outer timeout only keeps a hang (the bug) from taking
# the test's whole deadline
t0=$(ms)
out=$(timeout -k 5 60 "$BOOTLAB" run --backend libvirt --connect "$URI" --report-dir "$T_TMP/r" \
	tests/data/scenarios/smoke-one.yaml 2>&1); rc=$?
dt=$(($(ms) - t0))
echo "$out" | sed 's/^/# /'
echo "# bootlab run ended after $dt ms"
expect_eq "run: a daemon that does not answer exits 3" "$rc" 3
check "run: it waited the deadline, 3 s, and ended within 5 s more ($dt ms)" \
	test "$dt" -ge 3000 -a "$dt" -lt 8000
expect_eq "the daemon accepted bootlab's connection" "$(cat "$T_TMP/hung/accepted" 2>/dev/null)" 1
# the URI as an extended regex (its '?', '+' and '.' literal)
re_uri=$(printf '%s' "$URI" | sed 's/[][\\.*^$?+(){}|]/\\&/g')
msg="the daemon at '$re_uri' did not answer the connection within 3 s \\(BOOTLAB_LIBVIRT_CONNECT_TIMEOUT\\)"
expect_match "run: the message names the URI, the seconds and the variable" "$out" "$msg"
expect_match "run: the message says how to restart it" "$out" "it is hung; restart it .*ci/libvirtd"
j=$(ls "$T_TMP"/r/2*/report.json 2>/dev/null)
expect_eq "the report's outcome is emulator-error (infrastructure)" \
	"$(json_get "$j" '.scenarios[0].outcome' 2>/dev/null)" emulator-error
expect_match "the report's reason is the message" "$(json_get "$j" '.scenarios[0].reason' 2>/dev/null)" "$msg"
check "report.json is whole (its summary counts the emulator-error)" \
	test "$(json_get "$j" '.summary."emulator-error"' 2>/dev/null)" = 1
expect_eq "nothing half-written beside it (no temporary or hidden file)" \
	"$(find "$T_TMP"/r -mindepth 1 \( -name '.*' -o -name '*.tmp*' -o -name '*~' \))" ""
expect_eq "no bootlab left after run" "$(pgrep -fc -- "$T_TMP/r")" 0

stop_daemon

# two boots, one slot: the daemon drops the first connection 1 s after
# bootlab gave up on it, while the second boot waits; the start thread
# left behind gets its error then and frees its own, and the second boot
# still fails on its own deadline, cleanly
check "a daemon that drops connections after 4 s listens" hung_daemon 4
t0=$(ms)
out=$(timeout -k 5 60 "$BOOTLAB" run -j 1 --backend libvirt --connect "$URI" --report-dir "$T_TMP/r2" \
	tests/data/scenarios/smoke-one.yaml tests/data/scenarios/rdinit-missing.yaml 2>&1); rc=$?
dt=$(($(ms) - t0))
echo "$out" | sed 's/^/# /'
expect_eq "two boots: exit 3" "$rc" 3
check "two boots: one deadline each ($dt ms)" test "$dt" -ge 6000 -a "$dt" -lt 12000
expect_eq "two boots: both emulator-error with the message" \
	"$(json_get "$(ls "$T_TMP"/r2/2*/report.json)" \
		"[.scenarios[] | .outcome + \" \" + (.reason | test(\"did not answer the connection within 3 s\") | tostring)] | join(\",\")")" \
	"emulator-error true,emulator-error true"
expect_eq "the daemon saw two connections" "$(cat "$T_TMP/hung/accepted" 2>/dev/null)" 2
stop_daemon

out=$(BOOTLAB_LIBVIRT_CONNECT_TIMEOUT=soon "$BOOTLAB" run --backend libvirt --connect "$URI" \
	--report-dir "$T_TMP/r3" tests/data/scenarios/smoke-one.yaml 2>&1); rc=$?
expect_match "a bad BOOTLAB_LIBVIRT_CONNECT_TIMEOUT is refused, named, before any connection" "$out" \
	"BOOTLAB_LIBVIRT_CONNECT_TIMEOUT: bad duration 'soon'"
no_emulator_left
done_testing
