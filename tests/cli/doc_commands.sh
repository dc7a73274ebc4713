#!/bin/bash
# The README's command table names every command and subcommand bootlab's
# own --help lists, and docs/scenarios.md every shipped scenario file, so a
# new one cannot land undocumented.
. "$(dirname "$0")/../lib.sh"

table=$(sed -n '/^## Commands/,/^## /p' README.md)
cmds=$("$BOOTLAB" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | grep -v '^version$')
check "bootlab --help lists its commands" test -n "$cmds"
for c in $cmds; do
	row=$(grep -E "^\| \`bootlab $c[ \`]" <<<"$table")
	check "README's command table has bootlab $c" test -n "$row"
	# subcommands: the words after "bootlab CMD" in its usage lines
	for s in $("$BOOTLAB" "$c" --help 2>&1 | grep -oE "bootlab $c [a-z][a-z-]*" | awk '{print $3}' | sort -u); do
		expect_match "README's row for bootlab $c names '$s'" "$row" "(bootlab $c |\\\\\\|)$s([ \`]|\\\\\\|)"
	done
done
for f in scenarios/*.yaml; do
	check "docs/scenarios.md lists $(basename "$f")" grep -q "\`$(basename "$f")\`" docs/scenarios.md
done
done_testing
