#!/bin/bash
# bootlab run --filter, --shard, --list, --keep, --repeat without booting:
# which variants a run takes, that shards split them stably and
# completely, that --keep keeps (only) the work folders of failed runs,
# and that bad values exit 2 with a message.
. "$(dirname "$0")/../lib.sh"
D=tests/data/scenarios
FILES="$D/steps-all.yaml $D/rescue-shell.yaml"

all=$("$BOOTLAB" run --list $FILES | sort)
expect_eq "--list prints the seven variants" "$(echo "$all" | wc -l)" 7
expect_match "--list includes a named variant" "$all" '^steps-all\[wrong-expect\]$'
"$BOOTLAB" run --list --report-dir "$T_TMP/l" $FILES > /dev/null
check "--list boots nothing and writes no report" test ! -e "$T_TMP/l"
out=$("$BOOTLAB" run --list --filter 'wrong' $FILES)
expect_eq "--filter keeps the matching variants" "$(echo "$out" | sort | tr '\n' ' ')" \
	"rescue-shell[wrong-answer] steps-all[wrong-expect] "
out=$("$BOOTLAB" run --list --filter '^steps-all$' $FILES)
expect_eq "--filter is a regex on the whole name" "$out" "steps-all"

# shards: a partition of the variants, the same whatever the file order
for n in 1 2 3 4 7; do
	union=""
	for i in $(seq 1 $n); do
		s=$("$BOOTLAB" run --list --shard $i/$n $FILES)
		s2=$("$BOOTLAB" run --list --shard $i/$n $D/rescue-shell.yaml $D/steps-all.yaml)
		[ "$(echo "$s" | sort)" = "$(echo "$s2" | sort)" ] || not_ok "shard $i/$n does not depend on file order"
		union="$union$s"$'\n'
	done
	u=$(echo "$union" | grep -v '^$' | sort)
	expect_eq "shards of $n: every variant exactly once" "$u" "$all"
done
s1=$("$BOOTLAB" run --list --shard 1/2 $FILES); s1b=$("$BOOTLAB" run --list --shard 1/2 $FILES)
expect_eq "the same shard twice is the same" "$s1" "$s1b"
check "shard 1/2 is neither empty nor everything" test "$(echo "$s1" | grep -c .)" -gt 0 -a "$(echo "$s1" | grep -c .)" -lt 7
fs=$("$BOOTLAB" run --list --filter 'steps-all' --shard 1/2 $FILES)
expect_eq "--filter and --shard together: a shard of the filtered set" \
	"$(echo "$fs" | grep -vc '^steps-all')" 0

# bad values
bad() { # NAME WANT-REGEX ARGS...
	local name="$1" want="$2"; shift 2
	local o; o=$("$BOOTLAB" run "$@" 2>&1); local r=$?
	expect_eq "$name: exit 2" "$r" 2
	expect_match "$name: message" "$o" "$want"
}
bad "--shard 0/3" "--shard takes I/N" --shard 0/3 --list $FILES
bad "--shard 4/3" "--shard takes I/N" --shard 4/3 --list $FILES
bad "--shard x" "--shard takes I/N" --shard x --list $FILES
bad "--filter bad regex" "bad regular expression" --filter '(' --list $FILES
bad "--filter matching nothing" "no scenario variant left" --filter nothing-matches --report-dir "$T_TMP/nr" $FILES
check "nothing written when no variant is left" test ! -e "$T_TMP/nr"
bad "--repeat 0" "--repeat takes a number" --repeat 0 --list $FILES
bad "--repeat x" "--repeat takes a number" --repeat x --list $FILES

# --keep: a run that fails while preparing keeps its work folder, named on
# stderr; without --keep nothing is left in TMPDIR
mkdir -p "$T_TMP/tmp1" "$T_TMP/tmp2"
TMPDIR="$T_TMP/tmp1" "$BOOTLAB" run --report-dir "$T_TMP/k1" $D/setup-error.yaml > "$T_TMP/k1.out" 2>&1
expect_eq "without --keep the work folder is removed" "$(ls "$T_TMP/tmp1" | wc -l)" 0
TMPDIR="$T_TMP/tmp2" "$BOOTLAB" run --keep --report-dir "$T_TMP/k2" $D/setup-error.yaml > "$T_TMP/k2.out" 2>&1
kept=$(sed -n "s/^bootlab: kept work folder of 'setup-error': //p" "$T_TMP/k2.out")
expect_match "--keep names the kept folder" "$kept" "^$T_TMP/tmp2/bootlab-run-"
check "--keep: the folder is there" test -d "$kept"
expect_eq "--keep: only that folder" "$(ls "$T_TMP/tmp2" | wc -l)" 1
TMPDIR="$T_TMP/tmp2" "$BOOTLAB" run --keep --repeat 2 --report-dir "$T_TMP/k3" $D/setup-error.yaml > "$T_TMP/k3.out" 2>&1
expect_eq "--keep --repeat 2: one folder per failed repetition" "$(grep -c 'kept work folder' "$T_TMP/k3.out")" 2
done_testing
