# Shell helpers for tests/cli and tests/boot: TAP output and assertions.
# Source it: . "$(dirname "$0")/../lib.sh"
T_N=0
T_FAILED=0
cd "$(dirname "$0")/../.." || exit 1
: "${BOOTLAB_HOME:=$PWD}"
export BOOTLAB_HOME
# BOOTLAB_BIN: another build of it (tests/run: the sanitizer tree's)
BOOTLAB="${BOOTLAB_BIN:-$BOOTLAB_HOME/bootlab}"
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
# bootlab's work folders (and so every emulator command line) live under
# T_TMP, so a test can tell its own emulators from anyone else's
export TMPDIR="$T_TMP"

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
# skip REASON NAME: one skipped point. Under CI=true tests/run counts it as
# a failure: a machine set up by ci/install-deps has every package, fetches
# and runs as root (docs/testing.md, "Skips")
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $2 # SKIP $1"; }
# skip_unfixable REASON NAME: a skip that no set-up can fix (the host has one
# CPU, no KVM, its core dumps outlast a grace period); allowed under CI
skip_unfixable() { T_N=$((T_N + 1)); echo "ok $T_N - $2 # SKIP unfixable: $1"; }
# check NAME COMMAND...: one test point from a command's exit status
check() { local n="$1"; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got '$2', want '$3'"; fi; }
# expect_match NAME STRING REGEX (extended regex)
expect_match() {
	if printf '%s' "$2" | grep -qE -- "$3"; then ok "$1"; else
		not_ok "$1"; echo "#   '$3' not found in:"; printf '%s\n' "$2" | tail -n 20 | sed 's/^/#   | /'; fi
}
# no_match NAME REGEX FILE: FILE exists and no line matches REGEX (extended).
# Not `! grep`, which passes when FILE is missing
no_match() {
	if [ ! -f "$3" ] || [ ! -r "$3" ]; then
		not_ok "$1"; echo "#   no file '$3' to search"
	elif grep -qE -- "$2" "$3"; then
		not_ok "$1"; grep -nE -- "$2" "$3" | head -n 5 | sed 's/^/#   | /'
	else ok "$1"; fi
}
# all_true NAME COMMAND...: folds several sub-assertions into one test
# point. Each COMMAND is one string run by bash; every one must succeed, the
# failing ones are listed
all_true() {
	local n=$1 c bad=()
	shift
	for c in "$@"; do bash -c "$c" >/dev/null 2>&1 || bad+=("$c"); done
	if [ ${#bad[@]} -eq 0 ]; then ok "$n"; else
		not_ok "$n"; printf '#   failed: %s\n' "${bad[@]}"; fi
}
# nothing_written NAME DIR...: no DIR holds anything (a DIR may be absent
# or empty). For a refused command, name every folder it writes into:
# its output and the stage or cache it builds in (disk images are built in
# the disk cache and copied out only when whole, so the output folder alone
# is a path that nothing writes on failure)
nothing_written() {
	local n=$1 found
	shift
	found=$(find "$@" -mindepth 1 2>/dev/null | head -n 5)
	if [ -z "$found" ]; then ok "$n"; else not_ok "$n"; printf '#   left: %s\n' $found; fi
}
# boot_counted BACKEND: a test that starts an emulator itself (not through
# bootlab) adds it to the suite's boot count (tests/run, BOOTLAB_BOOT_LOG)
boot_counted() { [ -z "${BOOTLAB_BOOT_LOG:-}" ] || echo "$1" >> "$BOOTLAB_BOOT_LOG"; }
# busybox_initrd OUT [BUSYBOX]: a gzip'd newc archive for busybox /init
# scripts: busybox-static (BUSYBOX, default the host's /bin/busybox) as
# /bin/busybox, the folders /dev /proc /sys /mnt/root, and /init, the
# script read from stdin
busybox_initrd() {
	local d="$T_TMP/busybox-tree"
	rm -rf "$d" && mkdir -p "$d/bin" "$d/dev" "$d/proc" "$d/sys" "$d/mnt/root"
	cp "${2:-/bin/busybox}" "$d/bin/busybox"
	cat >"$d/init"
	chmod 0755 "$d/init" "$d/bin/busybox"
	(cd "$d" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n -9 >"$1"
}
# debian_initramfs KVER OUT: Debian's initramfs-tools image for kernel
# KVER, as `mkinitramfs -d COPY` makes it from a copy of the host's
# /etc/initramfs-tools. mkinitramfs takes ~27 s and four tests need the
# same image, so it is kept in the cache (test-initramfs/KEY.img), KEY the
# hash of KVER, its modules.dep, the configuration folder's files and
# every installed package's version (the hooks come from packages): any
# change makes a new one. Returns mkinitramfs's status on a miss.
debian_initramfs() {
	local kver=$1 out=$2 key dir tmp
	key=$({
		echo "$kver"
		sha256sum "/lib/modules/$kver/modules.dep"
		(cd /etc/initramfs-tools && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
		dpkg-query -W -f '${Package} ${Version}\n'
	} 2>&1 | sha256sum | cut -c1-24)
	dir=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab/test-initramfs
	if [ ! -s "$dir/$key.img" ]; then
		mkdir -p "$dir" && rm -rf "$T_TMP/itconf" && cp -r /etc/initramfs-tools "$T_TMP/itconf" || return 1
		tmp=$dir/.$key.$$
		if ! mkinitramfs -d "$T_TMP/itconf" -o "$tmp" "$kver" >"$T_TMP/mkinitramfs.log" 2>&1; then
			rm -f "$tmp"
			return 1
		fi
		mv -f "$tmp" "$dir/$key.img"
	fi
	cp "$dir/$key.img" "$out"
}
# dracut_initramfs KVER OUT: a dracut image for kernel KVER, --no-hostonly,
# made by Debian's dracut-core run from its unpacked package (installing
# dracut would replace initramfs-tools as the host's generator): `apt-get
# download` into the cache, `dpkg-deb -x` into the test's folder, dracut
# with `dracutbasedir` pointing there and no configuration of the host's.
# The image (~40 s to make) is kept like debian_initramfs's, KEY also
# holding the package's version. Returns non-zero when a step fails, its
# output in $T_TMP/dracut.log.
dracut_initramfs() {
	local kver=$1 out=$2 ver key dir tmp deb u=$T_TMP/dracut-core
	ver=$(apt-cache policy dracut-core | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "no dracut-core in apt's lists" >"$T_TMP/dracut.log"; return 1; }
	key=$({
		echo "dracut-core $ver $kver"
		sha256sum "/lib/modules/$kver/modules.dep"
		dpkg-query -W -f '${Package} ${Version}\n'
	} 2>&1 | sha256sum | cut -c1-24)
	dir=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab/test-initramfs
	if [ ! -s "$dir/dracut-$key.img" ]; then
		mkdir -p "$dir/debs" "$u/conf.d" "$u/tmp" || return 1
		deb=$dir/debs/dracut-core_${ver//:/%3a}_amd64.deb
		if [ ! -s "$deb" ]; then
			(cd "$u" && apt-get download "dracut-core=$ver") >"$T_TMP/dracut.log" 2>&1 &&
				mv -f "$u"/dracut-core_*.deb "$deb" || return 1
		fi
		dpkg-deb -x "$deb" "$u/root" || return 1
		tmp=$dir/.dracut-$key.$$
		if ! dracutbasedir="$u/root/usr/lib/dracut" "$u/root/usr/bin/dracut" --no-hostonly \
			--kver "$kver" --conf /dev/null --confdir "$u/conf.d" --tmpdir "$u/tmp" \
			--gzip --force "$tmp" >>"$T_TMP/dracut.log" 2>&1; then
			rm -f "$tmp"
			return 1
		fi
		mv -f "$tmp" "$dir/dracut-$key.img"
	fi
	cp "$dir/dracut-$key.img" "$out"
}
# json_get FILE JQ-FILTER: one raw value
json_get() { jq -r "$2" "$1"; }
# no emulator started by this test is still running: a failure when one
# is, no test point when none is (like tests/run's check of the test's
# session, it is a condition every test meets, not a behaviour of its own)
no_emulator_left() {
	local left
	left=$(pgrep -af -- "$T_TMP" | grep -v pgrep)
	[ -z "$left" ] && return 0
	not_ok "no emulator left behind"; echo "$left" | sed 's/^/#   /'
}
# check_reports DIR: every report.json under DIR matches docs/report.schema.json
# and every junit.xml tests/data/junit.xsd: one test point for them all (none
# when DIR holds no report), each file that fails named
check_reports() {
	local f out nj=0 nx=0 bad=0
	while IFS= read -r f; do
		nj=$((nj + 1))
		out=$("$BOOTLAB_HOME/tests/tools/check-report" "$f" 2>&1) && continue
		bad=$((bad + 1)); echo "#   $f:"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
	done < <(find "$1" -name report.json -type f 2>/dev/null | sort)
	while IFS= read -r f; do
		nx=$((nx + 1))
		out=$(xmllint --noout --schema "$BOOTLAB_HOME/tests/data/junit.xsd" "$f" 2>&1) && continue
		bad=$((bad + 1)); echo "#   $f:"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
	done < <(find "$1" -name junit.xml -type f 2>/dev/null | sort)
	[ $((nj + nx)) -gt 0 ] || return 0
	if [ $bad -eq 0 ]; then ok "reports match their schemas ($nj report.json, $nx junit.xml)"; else
		not_ok "reports match their schemas ($bad of $((nj + nx)) files do not)"; fi
}
# check_console_logs DIR: no kernel line of the console logs under DIR
# looks like a kernel report (tests/tools/console-scan's regex: WARNING:,
# BUG:, Oops, Call Trace, INFO: task, rcu: ... stall, ...) without being in
# the body of a report the classifier found (docs/kernel-reports.md, "Every
# console log of the suite"): one test point for them all (none when DIR
# holds no log), each missed line shown
check_console_logs() {
	local out logs=()
	mapfile -t logs < <(find "$1" -name '*.console.log' -type f 2>/dev/null | sort)
	[ ${#logs[@]} -gt 0 ] || return 0
	if out=$("$BOOTLAB_HOME/tests/tools/console-scan" "$BOOTLAB" "${logs[@]}" 2>&1); then
		ok "console logs: every line that looks like a kernel report is in a classified one (${#logs[@]} logs)"
	else
		not_ok "console logs: lines that look like a kernel report but are in none"
		printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
	fi
}
# check_junit NAME FILE: FILE is well-formed XML that matches
# tests/data/junit.xsd (a JUnit file not named junit.xml, which
# check_reports does not find: gate --junit)
check_junit() {
	local out
	if out=$(xmllint --noout --schema "$BOOTLAB_HOME/tests/data/junit.xsd" "$2" 2>&1); then ok "$1"; else
		not_ok "$1"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'; fi
}
# agent_scenario NAME TIMEOUT > FILE: a scenario whose archive is only the
# agent, its steps read from stdin (after "steps:")
agent_scenario() {
	printf 'name: %s\ntimeout: %s\narchives:\n  - name: main\n    entries:\n      - agent: /init\nsteps:\n' "$1" "$2"
	cat
}

# initrd_scenario NAME DESCRIPTION TIMEOUT ARCHIVE RAW: the start of a
# scenario (to stdout) booting the x86_64 kernel under QEMU with the
# agent's archive, then RAW (a file) as it is as archive ARCHIVE, up to
# the stage 1 hello; the caller appends its further steps
initrd_scenario() {
	cat <<YAML
name: $1
description: $2
arch: x86_64
backend: qemu
kernel:
  build: x86_64
memory: 256M
timeout: $3
archives:
  - name: main
    codec: gzip
    entries:
      - agent: /init
      - dir: /dev
      - nod: /dev/console
        type: c
        major: 5
        minor: 1
  - name: $4
    raw: $5
steps:
  - hello:
      stage: 1
YAML
}
# fuzz_ready NAME: clang and its libFuzzer runtime are there; else one
# skip point NAME and false
fuzz_ready() {
	if ! command -v clang >/dev/null; then
		skip "clang not installed (ci/install-deps)" "$1"; return 1
	fi
	if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
		clang -x c -fsanitize=fuzzer -o "$T_TMP/probe" - 2>/dev/null; then
		skip "clang has no libFuzzer runtime (libclang-rt-14-dev)" "$1"; return 1
	fi
}
# fuzz_build TARGET: build/fuzz/TARGET (tests/fuzz/fuzz.mk), one test point
fuzz_build() {
	if make --no-print-directory -s -f tests/fuzz/fuzz.mk "build/fuzz/$1" >"$T_TMP/build.log" 2>&1; then
		ok "build $1"
	else
		not_ok "build $1"; sed 's/^/#   /' "$T_TMP/build.log"; return 1
	fi
}
# fuzz_run DIR TARGET SECONDS [LIBFUZZER-OPTION...]: build/fuzz/TARGET run
# in DIR (where any crash file lands) for SECONDS over a fresh corpus and
# the seeds in tests/fuzz/corpus/TARGET; one test point: no finding
fuzz_run() {
	local dir=$1 t=$2 secs=$3 top=$PWD rc runs
	shift 3
	mkdir -p "$T_TMP/corpus-$t"
	(cd "$dir" && "$top/build/fuzz/$t" -max_total_time="$secs" -max_len=70000 -timeout=10 "$@" \
		"$T_TMP/corpus-$t" "$top/tests/fuzz/corpus/$t") >"$T_TMP/fuzz.log" 2>&1
	rc=$?
	runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz.log" | awk '{print $2}')
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		ok "$t ${secs}s: $runs runs, no finding"
	else
		not_ok "$t exited $rc"; grep -A30 -m1 -E 'ERROR|SUMMARY|deadly' "$T_TMP/fuzz.log" | sed 's/^/#   /'
	fi
}
# libvirt_host_state: the host's libvirt setup as one line per path (its
# files' names, modes, owners, sizes, times and checksums), which a test's
# private daemon (ci/libvirtd) must leave byte-identical
libvirt_host_state() {
	local p
	for p in /etc/libvirt /etc/passwd /etc/group /etc/shadow /etc/gshadow \
		/var/lib/libvirt /var/cache/libvirt /var/log/libvirt /run/libvirt; do
		if [ -e "$p" ]; then
			echo "$p $( (find "$p" -printf '%p %y %m %U:%G %s %T@\n' | sort
				find "$p" -type f -exec sha256sum {} + | sort) | sha256sum)"
		else echo "$p absent"; fi
	done
	echo "cgroups: $(find /sys/fs/cgroup -maxdepth 3 -name 'machine*' 2>/dev/null | sort | tr '\n' ' ')"
}
# libvirtd_start: this test's own libvirtd (ci/libvirtd, state in
# T_TMP/lv), BOOTLAB_LIBVIRT_URI and LV_URI its URI, stopped at exit; one
# test point. libvirtd_stop stops it (at once, for a check after it).
libvirtd_start() {
	export BOOTLAB_LIBVIRTD_DIR="$T_TMP/lv"
	trap 'libvirtd_stop; rm -rf "$T_TMP"' EXIT
	# the daemon left its process group: a test ended by tests/run's
	# timeout (SIGTERM) must still stop it
	trap 'exit 143' TERM
	trap 'exit 130' INT
	if LV_URI=$(ci/libvirtd start 2>"$T_TMP/libvirtd.err"); then
		export BOOTLAB_LIBVIRT_URI="$LV_URI"
		ok "a private libvirtd answers"
	else
		not_ok "a private libvirtd answers"; sed 's/^/#   /' "$T_TMP/libvirtd.err"; return 1
	fi
}
libvirtd_stop() { [ -z "${BOOTLAB_LIBVIRTD_DIR:-}" ] || ci/libvirtd stop; }
# same_report_content GOT WANT: two report.json files of one scenario set
# on two backends hold the same variants (names without their backend),
# outcomes, phases, step results, panics and stage-2 hellos; five points
same_report_content() {
	local f norm='[.scenarios[] | .name |= sub(",?backend=[a-z]+"; "") | .name |= sub("\\[\\]"; "")'
	for f in '{name, outcome}' '{name, p: [.phases[].name]}' '{name, s: [.steps[] | .result]}' \
		'{name, r: .panic.reason, st: .panic.exit_status, sig: .panic.signal}' \
		'{name, h: (.hello | if . then {pid, stage, fds: [.fds[].open]} else null end)}'; do
		expect_eq "same report content: $f" "$(json_get "$1" "$norm | $f] | sort_by(.name) | tojson")" \
			"$(json_get "$2" "$norm | $f] | sort_by(.name) | tojson")"
	done
}
# done_testing: every report the test produced is checked, then the plan
done_testing() { check_reports "$T_TMP"; check_console_logs "$T_TMP"; echo "1..$T_N"; [ "$T_FAILED" -eq 0 ]; }
