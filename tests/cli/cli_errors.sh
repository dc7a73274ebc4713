#!/bin/bash
# One error style for every command: "bootlab CMD: ...", an option without
# its value is named as such (not "unknown option"), "cannot read" says
# why, and a boot always has a deadline. No boots: each case fails before
# an emulator would start.
. "$(dirname "$0")/../lib.sh"

err() { "$BOOTLAB" "$@" 2>&1 >/dev/null | head -n 1; }

# an option given last, without its value
expect_eq "boot --kernel without a value" "$(err boot --kernel)" \
	"bootlab boot: option '--kernel' needs a value"
expect_eq "run --jobs without a value" "$(err run --jobs)" "bootlab run: option '--jobs' needs a value"
expect_eq "run -j without a value" "$(err run -j)" "bootlab run: option '-j' needs a value"
expect_eq "scenario check --arch without a value" "$(err scenario check --arch)" \
	"bootlab scenario check: option '--arch' needs a value"
expect_eq "disk build --output without a value" "$(err disk build --output)" \
	"bootlab disk build: option '--output' needs a value"
expect_eq "gate --kernel without a value" "$(err gate --kernel)" \
	"bootlab gate: option '--kernel' needs a value"
expect_eq "archive build -o without a value" "$(err archive build -o)" \
	"bootlab archive build: option '-o' needs a value"
# unknown options, long and short
expect_eq "boot: unknown long option" "$(err boot --kernal x86_64)" "bootlab boot: unknown option '--kernal'"
expect_eq "run: unknown short option" "$(err run -x s.yaml)" "bootlab run: unknown option '-x'"
"$BOOTLAB" boot --kernal x86_64 >/dev/null 2>&1
expect_eq "bad usage exits 2" "$?" 2

# "cannot read" names the reason
touch "$T_TMP/secret" && chmod 000 "$T_TMP/secret"
if [ "$(id -u)" = 0 ]; then unreadable="$T_TMP/nope"; why='No such file or directory'; else
	unreadable="$T_TMP/secret"; why='Permission denied'; fi
expect_eq "boot: an unreadable initrd is named with the reason" \
	"$(err boot --kernel x86_64 --initrd "$unreadable")" \
	"bootlab boot: cannot read initrd '$unreadable': $why"
expect_eq "boot: an unreadable kernel too" "$(err boot --kernel "$T_TMP/nope")" \
	"bootlab boot: cannot read kernel '$T_TMP/nope': No such file or directory"

# a boot always has a deadline; sizes and durations read as scenarios write them
expect_eq "boot --timeout 0 is refused" "$(err boot --kernel x86_64 --timeout 0)" \
	"bootlab boot: --timeout: duration '0' must be at least 1ms (every boot has a deadline)"
expect_eq "boot --timeout over 24h is refused" "$(err boot --kernel x86_64 --timeout 25h)" \
	"bootlab boot: --timeout: duration '25h' is too long (at most 24h) (every boot has a deadline)"
expect_eq "boot --memory out of range" "$(err boot --kernel x86_64 --memory 4M)" \
	"bootlab boot: --memory: memory '4M' is out of range (16M to 64G)"

# --fail-on and --allow: an unknown class is named with the option, the
# valid ones listed, exit 2, before anything is loaded or booted
classes='(one of: warning, bug, oops, gpf, kasan, ubsan, kfence, lockdep, rcu-stall, soft-lockup, hard-lockup, hung-task, oom, scheduling-while-atomic, sleep-in-atomic, list-corruption, refcount, stack-protector, stack-overflow, panic, module, init; or all, default, none)'
"$BOOTLAB" run --report-dir "$T_TMP/r" --fail-on warning,bogus tests/data/scenarios/smoke-one.yaml >/dev/null 2>&1
expect_eq "run --fail-on unknown class: exit 2" "$?" 2
expect_eq "run --fail-on unknown class: named with the option, valid classes listed" \
	"$(err run --fail-on warning,bogus tests/data/scenarios/smoke-one.yaml)" \
	"bootlab run: --fail-on: unknown kernel report class 'bogus' $classes"
expect_eq "run --allow unknown class" "$(err run --allow kasn tests/data/scenarios/smoke-one.yaml)" \
	"bootlab run: --allow: unknown kernel report class 'kasn' $classes"
"$BOOTLAB" gate --kernel nope --initramfs nope --allow Warning >/dev/null 2>&1
expect_eq "gate --allow unknown class: exit 2" "$?" 2
expect_eq "gate --fail-on unknown class" "$(err gate --fail-on oops,lockup --kernel nope --initramfs nope)" \
	"bootlab gate: --fail-on: unknown kernel report class 'lockup' $classes"
expect_eq "gate --fail-on without a value" "$(err gate --kernel nope --initramfs nope --fail-on)" \
	"bootlab gate: option '--fail-on' needs a value"
check "nothing booted, no report written" test ! -e "$T_TMP/r"

# every usage error of a command starts with "bootlab CMD: "
for c in "boot --bogus" "run --bogus" "gate --bogus" "compare --bogus" "kernel --bogus" \
	"archive list --bogus" "scenario check --bogus" "disk build --bogus"; do
	set -- $c
	want="bootlab $1"
	[ "$1" = archive ] || [ "$1" = scenario ] || [ "$1" = disk ] && want="bootlab $1 $2"
	[ "$1" = kernel ] && want="bootlab kernel"
	expect_match "'$c': the error starts with '$want: '" "$(err $c)" "^$want: "
done
done_testing
