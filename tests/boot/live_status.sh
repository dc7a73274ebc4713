#!/bin/bash
# timeout: 300
# Live status: on a terminal (script(1) gives bootlab a pty) a block of
# "RUN  NAME  PHASE  ELAPSED" lines is redrawn in place while boots run,
# and each result is printed once as it comes; into a file the output is
# the plain one-line results. Then a real Ctrl-C typed into a tmux
# terminal stops a -j 2 run cleanly: the report is written and no
# emulator is left. No durations are asserted.
. "$(dirname "$0")/../lib.sh"

# on a terminal (one that can move the cursor: TERM=dumb, as CI runners
# and `env -i` shells often have, turns the status block off on purpose)
TERM=xterm script -qfec "'$BOOTLAB' run -j 2 --repeat 2 --report-dir '$T_TMP/t' tests/data/scenarios/smoke-linger.yaml" "$T_TMP/tty.log" \
	> /dev/null 2>&1 < /dev/null
rc=$(sed -n 's/.*COMMAND_EXIT_CODE="\([0-9]*\)".*/\1/p' "$T_TMP/tty.log")
expect_eq "run on a terminal exits 0" "$rc" 0
tty=$(tr -d '\r' < "$T_TMP/tty.log")
printf '%s\n' "$tty" | head -n 12 | cat -v | sed 's/^/# tty: /'
expect_match "status lines name the boot, its phase and elapsed time" "$tty" \
	'RUN +smoke #[12] +(prepare|spawn|first-console|run-init|agent-hello|end) +[0-9]+\.[0-9]s'
check "the block is redrawn in place (cursor up, erase down)" grep -q $'\e\\[[0-9]*A\r\e\\[J' "$T_TMP/tty.log"
phases=$(printf '%s\n' "$tty" | grep -oE 'RUN +smoke #1 +[a-z-]+' | awk '{print $4}' | sort -u | tr '\n' ' ')
echo "# phases seen in the status of smoke #1: $phases"
check "the phase advances while it runs (more than one phase shown)" test "$(echo $phases | wc -w)" -ge 2
expect_eq "each result printed once" "$(printf '%s\n' "$tty" | grep -cE 'PASS +smoke #[12] ')" 2
expect_match "summary line" "$tty" '1 of 1 passed \(2 boots\)'

# not a terminal: plain lines only
"$BOOTLAB" run -j 2 --repeat 2 --report-dir "$T_TMP/p" tests/data/scenarios/smoke-one.yaml > "$T_TMP/plain.log" 2>&1
expect_eq "into a file: no escape sequences" "$(grep -c $'\e' "$T_TMP/plain.log")" 0
expect_eq "into a file: no status lines" "$(grep -c '^RUN ' "$T_TMP/plain.log")" 0
expect_eq "into a file: one line per boot" "$(grep -cE '^PASS +smoke #[12] ' "$T_TMP/plain.log")" 2

# Ctrl-C typed on a terminal (SIGINT to the foreground process group)
if command -v tmux > /dev/null; then
	sock="$T_TMP/tmux.sock"
	tmux -S "$sock" new-session -d -x 120 -y 30 \
		"'$BOOTLAB' run -j 2 --report-dir '$T_TMP/c' tests/data/scenarios/slow-variants.yaml; echo \"exit=\$?\" > '$T_TMP/c.rc'; sleep 30"
	for _ in $(seq 1 600); do
		n=$(cat "$T_TMP"/c/*/*.console.log 2>/dev/null | grep -c 'Run /init as init process')
		[ "$n" -ge 2 ] && break
		sleep 0.1
	done
	screen=$(tmux -S "$sock" capture-pane -p)
	echo "$screen" | grep -v '^$' | sed 's/^/# screen: /'
	expect_match "tmux screen shows both running boots" "$screen" 'RUN +slow .*'$'\n''RUN +slow\[b\]'
	emus=$(pgrep -f -- "$T_TMP/bootlab-run" | tr '\n' ' ')
	tmux -S "$sock" send-keys C-c
	for _ in $(seq 1 300); do [ -s "$T_TMP/c.rc" ] && break; sleep 0.1; done
	expect_eq "bootlab exited 130 after Ctrl-C" "$(cat "$T_TMP/c.rc" 2>/dev/null)" "exit=130"
	screen=$(tmux -S "$sock" capture-pane -p)
	tmux -S "$sock" kill-server 2>/dev/null
	expect_match "the terminal shows the interrupted summary" "$screen" '0 of 2 passed \(interrupted\)'
	expect_eq "the status block is gone from the screen" "$(echo "$screen" | grep -c '^RUN ')" 0
	left=""
	for e in $emus; do kill -0 "$e" 2>/dev/null && left="$left $e"; done
	expect_eq "its emulators are gone" "$left" ""
	j=$(ls "$T_TMP"/c/*/report.json 2>/dev/null | head -1)
	expect_eq "report written, marked interrupted" "$(json_get "$j" .interrupted 2>/dev/null)" true
else
	skip "no tmux" "Ctrl-C on a terminal"
fi
no_emulator_left
done_testing
