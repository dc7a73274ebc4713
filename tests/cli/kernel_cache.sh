#!/bin/bash
# The kernel cache: a cached build returns at once, `kernel list` shows it,
# module resolution for the Debian cloud kernel, and built-in archive
# relinks (fast, different image, archive embedded, concurrent relinks
# serialised by the lock). Builds the x86_64 kernel first when `make
# kernels` has not (about 4 minutes on 2 cores).
# timeout: 1200
. "$(dirname "$0")/../lib.sh"

# 1. build (normally a cache hit), then a second call must be instant
img=$("$BOOTLAB" kernel build --arch x86_64 -q)
rc=$?
expect_eq "kernel build exits 0" "$rc" 0
check "image exists" test -s "$img"
t0=$(date +%s.%N)
img2=$("$BOOTLAB" kernel build --arch x86_64)
t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
echo "# cached build call took ${secs}s"
expect_eq "second build prints the same path" "$img2" "$img"
check "second build returns in under 2 s" test "$(echo "$secs < 2" | bc)" = 1
expect_eq "kernel path agrees" "$("$BOOTLAB" kernel path --arch x86_64)" "$img"
# ELF magic, 64-bit, e_machine 0x3e (x86-64): the PVH vmlinux, not a bzImage
expect_eq "x86_64 image is the ELF vmlinux (PVH)" \
	"$(od -An -tx1 -N 20 "$img" | tr -d ' \n' | sed 's/^\(........\)\(..\).*\(....\)$/\1 \2 \3/')" \
	"7f454c46 02 3e00"
dir=$(dirname "$img")
check "bzImage kept for q35" test -s "$dir/bzImage"
check "build log kept" test -s "$dir/build.log"
expect_eq "config has virtio_console built in" \
	"$("$BOOTLAB" kernel config --arch x86_64 VIRTIO_CONSOLE)" "VIRTIO_CONSOLE y"
expect_eq "config: CONFIG_INITRAMFS_SOURCE points into the cache" \
	"$(grep -c "^CONFIG_INITRAMFS_SOURCE=\"$dir/" "$dir/config")" 1

# 2. kernel list shows it
list=$("$BOOTLAB" kernel list)
expect_match "kernel list shows the image" "$list" "^x86_64 +built .* $img\$"

# 3. bad input
"$BOOTLAB" kernel build --arch sparc >/dev/null 2>"$T_TMP/err"
expect_eq "unknown arch is a usage error" "$?" 2
expect_match "unknown arch is named" "$(cat "$T_TMP/err")" "unknown arch 'sparc'"
"$BOOTLAB" kernel build --arch um --fragment kernels/x86_64.config >/dev/null 2>"$T_TMP/err"
expect_eq "another arch's fragment is refused (exit 1, no build)" "$?" 1
expect_match "the mix-up is named" "$(cat "$T_TMP/err")" "is for x86_64, not um"

# fragment bases: kernels/x86_64.config and x86_64-debug.config are each
# x86_64-core.config's text plus their own lines; the key covers the base's
# text. tests/boot/scenarios_kernel_reports.sh checks the built debug
# kernel (make check builds it beside the tests)
mkdir -p "$T_TMP/k"
cp kernels/x86_64-core.config kernels/x86_64.config "$T_TMP/k/"
expect_eq "the same texts elsewhere: the same key" \
	"$("$BOOTLAB" kernel path --arch x86_64 --fragment "$T_TMP/k/x86_64.config")" "$img"
echo "# a changed base" >>"$T_TMP/k/x86_64-core.config"
"$BOOTLAB" kernel path --arch x86_64 --fragment "$T_TMP/k/x86_64.config" >/dev/null 2>&1
expect_eq "a changed base changes the key: not cached" "$?" 1
frag_err() { # FILE-TEXT...: write k/t.config, print the error of a path lookup
	printf '%s\n' "$@" >"$T_TMP/k/t.config"
	local e
	e=$("$BOOTLAB" kernel path --arch x86_64 --fragment "$T_TMP/k/t.config" 2>&1 >/dev/null)
	echo "$e (exit $?)"
}
expect_match "a base with a / is refused" "$(frag_err '# base: ../x86_64.config')" \
	"t.config':1: base '\.\./x86_64.config' is not a file name of its folder.*exit 1"
expect_match "a missing base is named" "$(frag_err '# base: nope.config')" \
	"t.config':1: base: kernel fragment: cannot open '.*/k/nope.config'.*exit 1"
cp kernels/um.config "$T_TMP/k/"
expect_match "a base for another arch is refused" "$(frag_err '# base: um.config')" \
	"base: kernel fragment '.*/k/um.config' is for um, not x86_64.*exit 1"
printf '# base: t.config\n' >"$T_TMP/k/u.config"
expect_match "a loop of bases is an error, not a hang" "$(frag_err '# base: u.config')" \
	"t.config':1: base: kernel fragment '[^']*/k/[tu].config': bases nest deeper than 4 \(a loop\?\) \(exit 1\)$"
"$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/nope.cpio" >/dev/null 2>"$T_TMP/err"
rc=$?
check "missing built-in archive fails" test "$rc" -ne 0 -a "$rc" -ne 3
expect_match "missing archive is named" "$(cat "$T_TMP/err")" "nope.cpio"

# a failing build: exit 3, the log's tail and its path
mkdir -p "$T_TMP/badsrc"
marker="bootlab-test-broken-tree-$RANDOM$RANDOM"
printf 'tinyconfig:\n\t@echo "%s"; exit 2\n' "$marker" > "$T_TMP/badsrc/Makefile"
"$BOOTLAB" kernel build --arch x86_64 --source "$T_TMP/badsrc" >"$T_TMP/out" 2>"$T_TMP/err"
expect_eq "failed build exits 3 (infrastructure)" "$?" 3
expect_eq "failed build prints no image path" "$(cat "$T_TMP/out")" ""
err=$(cat "$T_TMP/err")
expect_match "failure names the step" "$err" "'make \.\.\. tinyconfig' exited 2"
expect_match "failure shows the log's tail" "$err" "  \| $marker"
blog=$(printf '%s\n' "$err" | sed -n "s/.*last lines of '\(.*build.log\)'.*/\1/p" | head -n 1)
check "failure names the full log, which exists" test -s "$blog"
bdir=$(dirname "$blog"); bhash=${bdir##*-}
expect_match "the failed build is not listed" "$("$BOOTLAB" kernel list)" "^ARCH"
check "the failed build is not listed (no $bhash)" test "$("$BOOTLAB" kernel list | grep -c "$bhash")" = 0
expect_eq "kernel clean HASH removes it" "$("$BOOTLAB" kernel clean "$bhash")" "$bdir"
check "its folder is gone" test ! -e "$bdir"
"$BOOTLAB" kernel clean "$bhash" >/dev/null 2>"$T_TMP/err"
expect_eq "kernel clean of an unknown hash fails" "$?" 1
expect_match "the unknown hash is named" "$(cat "$T_TMP/err")" "no cached kernel with hash '$bhash'"

# 4. module resolution for the Debian cloud kernel (docs/kernels.md, "Modules")
cloud=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -n "$cloud" ]; then
	got=$("$BOOTLAB" kernel modules --kernel "$cloud" virtio_pci virtio_console | sed 's|.*/||' | tr '\n' ' ')
	expect_eq "cloud kernel: virtio_pci virtio_console load order" "$got" \
		"virtio_ring.ko virtio.ko virtio_pci_modern_dev.ko virtio_pci_legacy_dev.ko virtio_pci.ko virtio_console.ko "
	got=$("$BOOTLAB" kernel modules --kernel "$cloud" virtio_blk raid1 ext4 | sed 's|.*/||' | tr '\n' ' ')
	expect_eq "cloud kernel: built-in ext4 skipped, shared deps once" "$got" \
		"virtio_ring.ko virtio.ko virtio_blk.ko md-mod.ko raid1.ko "
	"$BOOTLAB" kernel modules --kernel "$cloud" no_such_module >/dev/null 2>"$T_TMP/err"
	check "unknown module fails" test $? -ne 0
	expect_match "unknown module is named" "$(cat "$T_TMP/err")" "module 'no_such_module' not found"
	expect_eq "cloud kernel config: virtio_console is a module" \
		"$("$BOOTLAB" kernel config --kernel "$cloud" CONFIG_VIRTIO_CONSOLE)" "CONFIG_VIRTIO_CONSOLE m"
else
	skip "no /boot/vmlinuz-*-cloud-amd64" "cloud kernel module order"
fi

# 5. built-in relinks: unique archives so that each run really relinks
mkarchive() { # DIR MARKER -> DIR.cpio (uncompressed: the marker is visible in the image)
	mkdir -p "$1/etc"
	echo "$2" > "$1/etc/marker"
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$1.cpio"
}
m1="bootlab-marker-$$-$RANDOM-one"
mkarchive "$T_TMP/a1" "$m1"
t0=$(date +%s.%N)
b1=$("$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/a1.cpio" -q)
rc=$?
t1=$(date +%s.%N)
rsecs=$(echo "$t1 - $t0" | bc)
full=$(sed -n 's/^seconds=//p' "$dir/info")
echo "# built-in relink took ${rsecs}s (the full build took ${full}s)"
expect_eq "relink exits 0" "$rc" 0
check "relink image exists" test -s "$b1"
check "relink image differs from the base image" test "$(cmp -s "$b1" "$img"; echo $?)" = 1
check "base image unchanged (no marker)" test "$(grep -c "$m1" "$img")" = 0
check "archive embedded byte for byte" grep -q "$m1" "$b1"
check "relink well under a full build (< a third of it)" \
	test "$(echo "$rsecs * 3 < ${full:-240}" | bc)" = 1
t0=$(date +%s.%N)
b1again=$("$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/a1.cpio" -q)
t1=$(date +%s.%N)
expect_eq "same archive: same cached image" "$b1again" "$b1"
check "same archive: instant" test "$(echo "$t1 - $t0 < 2" | bc)" = 1
list=$("$BOOTLAB" kernel list)
expect_match "kernel list shows the relink as built+initramfs" "$list" "built\\+initramfs .* $b1\$"
# every row's columns start where the heading's do (FLAVOR was cut to 7)
cols=$(awk 'NR == 1 { h = index($0, "HASH"); v = index($0, "VERSION"); next }
	{ if (substr($0, h - 1, 1) != " " || substr($0, h, 1) == " " || substr($0, v - 1, 1) != " ") bad++ }
	END { print bad + 0 }' <<<"$list")
expect_eq "kernel list: the columns line up under their headings" "$cols" 0

# two relinks at once must not corrupt each other (the lock serialises them)
m2="bootlab-marker-$$-$RANDOM-two"; m3="bootlab-marker-$$-$RANDOM-three"
mkarchive "$T_TMP/a2" "$m2"
mkarchive "$T_TMP/a3" "$m3"
gzip -n -9 < "$T_TMP/a3.cpio" > "$T_TMP/a3.cpio.gz"
"$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/a2.cpio" -q > "$T_TMP/o2" 2>&1 &
p2=$!
"$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/a3.cpio.gz" -q > "$T_TMP/o3" 2>&1 &
p3=$!
wait $p2; r2=$?
wait $p3; r3=$?
b2=$(tail -n 1 "$T_TMP/o2"); b3=$(tail -n 1 "$T_TMP/o3")
expect_eq "concurrent relink 1 exits 0" "$r2" 0
expect_eq "concurrent relink 2 exits 0" "$r3" 0
check "relink 1 has its own archive" grep -q "$m2" "$b2"
check "relink 1 lacks the other's archive" test "$(grep -c "$m3" "$b2")" = 0
check "gzip archive embedded as given (gzip bytes, not the plain marker)" \
	test "$(grep -c "$m3" "$b3")" = 0
check "gzip archive bytes are in the image" \
	python3 -c "import sys; sys.exit(0 if open(sys.argv[1],'rb').read() in open(sys.argv[2],'rb').read() else 1)" \
	"$T_TMP/a3.cpio.gz" "$b3"

# bootlab killed with SIGKILL mid-relink: the orphaned sub-make keeps the
# lock, the next call waits for it and relinks correctly
m4="bootlab-marker-$$-$RANDOM-four"
mkarchive "$T_TMP/a4" "$m4"
"$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/a4.cpio" -q >/dev/null 2>&1 &
pk=$!
sleep 3
kill -9 $pk 2>/dev/null
wait $pk 2>/dev/null
b4=$("$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/a4.cpio" 2>"$T_TMP/err4")
expect_eq "after a SIGKILLed relink, the next call succeeds" "$?" 0
check "and its image has the archive" grep -q "$m4" "$b4"
expect_match "it waited for the orphaned make (lock inherited)" "$(cat "$T_TMP/err4")" \
	"waiting for another bootlab building kernel x86_64"

# leave the cache as it was: these archives are unique to this run
for b in "$b1" "$b2" "$b3" "$b4"; do
	case "$b" in */builtin/*) rm -rf "$(dirname "$b")" ;; esac
done
done_testing
