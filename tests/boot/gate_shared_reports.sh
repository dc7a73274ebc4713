#!/bin/bash
# timeout: 400
# Two gates writing to one report folder at once each get their own
# verdict: the passing one says so and its JUnit file has one passing
# testcase; the failing one prints its own panic and console tail and its
# JUnit file has the failure. First with the folder's `latest` naming a
# third, failed run all along (a copy of its folder, so no gate can move
# it): what a gate meets when another run ends between its own end and a
# look at `latest`. A gate that read its verdict back from latest/ took
# that run's every time; one that keeps its run in memory never looks.
# Then the two gates alone. Only the failing gate keeps a repro folder.
. "$(dirname "$0")/../lib.sh"

K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
ci/examples/busybox/build.sh "$T_TMP/bb.cpio.gz"
check "busybox example initramfs built" test -s "$T_TMP/bb.cpio.gz"

# two gates at once into REPORT_DIR, outputs into $T_TMP/TAG.{pass,fail}.*
two_gates() {
	"$BOOTLAB" gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$1" \
		--junit "$T_TMP/$2.pass.xml" > "$T_TMP/$2.pass.out" 2>&1 &
	local p1=$!
	"$BOOTLAB" gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$1" \
		--cmdline root=/dev/vdz --junit "$T_TMP/$2.fail.xml" > "$T_TMP/$2.fail.out" 2>&1 &
	local p2=$!
	wait $p1; echo $? > "$T_TMP/$2.pass.rc"
	wait $p2; echo $? > "$T_TMP/$2.fail.rc"
}

# TAG: each gate's exit status, printed verdict, JUnit file and run folder
own_verdicts() {
	local pass fail
	pass=$(cat "$T_TMP/$1.pass.out") fail=$(cat "$T_TMP/$1.fail.out")
	echo "$pass" | sed "s/^/# $1 pass: /"
	echo "$fail" | sed "s/^/# $1 fail: /"
	expect_eq "$1: the passing gate exits 0" "$(cat "$T_TMP/$1.pass.rc")" 0
	expect_match "$1: it says it passed" "$pass" '^bootlab gate: passed'
	expect_eq "$1: its JUnit: one testcase, no failure" \
		"$(xmllint --xpath 'count(//testcase[@name="initramfs-gate" and not(failure) and not(error)])' "$T_TMP/$1.pass.xml")" 1
	expect_eq "$1: the failing gate exits 1" "$(cat "$T_TMP/$1.fail.rc")" 1
	expect_match "$1: it prints its own outcome" "$fail" '^outcome: panic$'
	expect_match "$1: and its own decoded panic" "$fail" '^panic: attempted to kill init, exit status 1$'
	expect_match "$1: and its own console tail" "$fail" '^busybox initramfs: cannot mount /dev/vdz$'
	expect_eq "$1: its JUnit: the failure of its testcase" \
		"$(xmllint --xpath 'count(//testcase[@name="initramfs-gate"]/failure)' "$T_TMP/$1.fail.xml")" 1
	expect_eq "$1: no gate printed the third run" "$(cat "$T_TMP/$1".*.out | grep -c /dev/vdy)" 0
	local jp jf
	jp=$(sed -n 's/.*report: \(.*\)$/\1/p' "$T_TMP/$1.pass.out")
	jf=$(sed -n 's/.*report: \(.*\)$/\1/p' "$T_TMP/$1.fail.out")
	check "$1: two run folders" test -n "$jp" -a -n "$jf" -a "$jp" != "$jf"
	expect_eq "$1: the passing gate's report" "$(json_get "$jp" '.scenarios[0].outcome')" pass
	expect_eq "$1: the failing gate's report" "$(json_get "$jf" '.scenarios[0].outcome')" panic
	# a repro folder is kept for a failure only (docs/repro.md)
	expect_eq "$1: the passing gate keeps no repro folder (report.json's repro null, no repro.json)" \
		"$(json_get "$jp" '.scenarios[0].repro') $(find "$(dirname "$jp")" -name repro.json | wc -l)" "null 0"
	no_match "$1: ... and prints no 'boot it again'" '^boot it again' "$T_TMP/$1.pass.out"
	check "$1: the failing gate keeps its repro folder" \
		test -s "$(dirname "$jf")/$(json_get "$jf" '.scenarios[0].repro')/repro.json"
}

# 1. latest pinned on a third run: a gate that failed on root=/dev/vdy
"$BOOTLAB" gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/third" \
	--cmdline root=/dev/vdy > /dev/null 2>&1
R="$T_TMP/pinned"
mkdir -p "$R"
cp -r "$(readlink -f "$T_TMP/third/latest")" "$R/latest"
check "the third run's report is in place" test -s "$R/latest/junit.xml"
two_gates "$R" pinned
own_verdicts pinned
expect_match "pinned: latest still names the third run" \
	"$(json_get "$R/latest/report.json" '.scenarios[0].kernel.cmdline')" 'root=/dev/vdy'

# 2. the two gates alone: latest ends at one of their runs
R="$T_TMP/shared"
two_gates "$R" shared
own_verdicts shared
expect_match "shared: latest names one of the two runs" \
	"$(json_get "$R/latest/report.json" '.scenarios[0].outcome')" '^(pass|panic)$'
no_emulator_left
done_testing
