#!/bin/bash
# timeout: 600
# The libvirt backend uploads what a boot needs into a storage pool on the
# host (harness/machine/libvirt_pool.c), so a host that shares no folder
# with bootlab boots it. The proof is this test's own libvirtd
# (ci/libvirtd) with BOOTLAB_LIBVIRTD_HIDE: an empty tmpfs over /tmp, the
# home and cache folders, the source tree and the test's TMPDIR in its
# mount namespace, so it cannot open a file of bootlab's. Uploads are
# forced with BOOTLAB_LIBVIRT_UPLOAD=1 (a local URI would not upload).
# Checks: a boot without uploads fails there (the files are really
# hidden), the smoke scenario passes with them, the pool holds the kernel
# and archive as SHA256.kind volumes, a second boot sends only what
# changed (here nothing: the archive is byte-identical), a volume a crash
# left half written is replaced (and a deadline bounds the wait for it), a
# disk is cloned per boot and the clone deleted after it, and nothing is
# left running.
. "$(dirname "$0")/../lib.sh"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab
export BOOTLAB_LIBVIRTD_HIDE="/tmp:$HOME:$cache:$PWD:$T_TMP"
libvirtd_start || { done_testing; exit 1; }
URI=$LV_URI
pid=$(cat "$T_TMP/lv/libvirtd.pid")
domains() { virsh -c "$URI" list --all --name 2>/dev/null | grep -c '^bootlab-'; }
vols() { virsh -c "$URI" vol-list bootlab 2>/dev/null | awk 'NR > 2 && $1 { print $1 }' | sort; }
smoke() { "$BOOTLAB" run --arch x86_64 --backend libvirt --report-dir "$T_TMP/$1" scenarios/smoke.yaml 2>&1; }

in_ns() { nsenter -t "$pid" -m -- "$@"; }
all_true "the daemon sees neither the cache, the tree, TMPDIR nor /tmp, but its state" \
	"test -d '$cache/kernels' && ! nsenter -t $pid -m -- test -e '$cache/kernels'" \
	"! nsenter -t $pid -m -- test -e '$PWD/scenarios/smoke.yaml'" \
	"! nsenter -t $pid -m -- test -e '$T_TMP/libvirtd.err'" \
	"nsenter -t $pid -m -- test -S '$T_TMP/lv/sock/libvirt-sock'"

out=$(BOOTLAB_LIBVIRT_UPLOAD=0 smoke none); rc=$?
check "without uploads the smoke boot cannot start there (exit $rc)" test "$rc" -ne 0
expect_match "QEMU cannot open the kernel" "$out" "could not open kernel file"

export BOOTLAB_LIBVIRT_UPLOAD=1
out=$(smoke one); rc=$?
echo "$out" | tail -n 3 | sed 's/^/# /'
expect_eq "with uploads the smoke boot passes" "$rc" 0
r1=$(ls "$T_TMP"/one/2*/report.json)
xml=$(json_get "$r1" '.scenarios[0].emulator.command')
k=$(printf '%s\n' "$xml" | sed -n 's|.*<kernel>\(.*\)</kernel>.*|\1|p')
i=$(printf '%s\n' "$xml" | sed -n 's|.*<initrd>\(.*\)</initrd>.*|\1|p')
expect_match "the domain XML names the kernel volume" "$k" '^/var/lib/libvirt/bootlab/[0-9a-f]{64}\.kernel$'
expect_match "the domain XML names the initrd volume" "$i" '^/var/lib/libvirt/bootlab/[0-9a-f]{64}\.initrd$'
kimg=$(json_get "$r1" '.scenarios[0].kernel.image')
ksum=$(sha256sum "$kimg" | cut -d' ' -f1)
expect_eq "the kernel volume is named by the kernel's SHA-256" "${k##*/}" "$ksum.kernel"
isz=$(in_ns stat -c %s "$i")
ksz=$(stat -c %s "$kimg")
b1=$(json_get "$r1" '.scenarios[0].emulator.uploaded_bytes')
expect_eq "the first boot uploaded kernel and initrd ($b1 bytes)" "$b1" "$((ksz + isz))"
expect_match "the command names the upload" "$xml" "uploaded $b1 bytes to pool bootlab \(2 files sent, 0 reused"
expect_eq "the pool holds the two volumes and their markers" "$(vols | tr '\n' ' ')" \
	"$(printf '%s\n' "${i##*/}" "${i##*/}.ok" "${k##*/}" "${k##*/}.ok" | sort | tr '\n' ' ')"
expect_eq "the volumes on the host are the files' bytes" \
	"$(in_ns sha256sum "$k" | cut -d' ' -f1)" "$ksum"

out=$(smoke two); rc=$?
expect_eq "a second boot passes" "$rc" 0
r2=$(ls "$T_TMP"/two/2*/report.json)
b2=$(json_get "$r2" '.scenarios[0].emulator.uploaded_bytes')
echo "# bytes uploaded: first boot $b1, second boot $b2"
expect_eq "the second boot uploaded nothing (same kernel, same archive bytes)" "$b2" 0
expect_match "it reused both" "$(json_get "$r2" '.scenarios[0].emulator.command')" "0 files sent, 2 reused"

# a per-boot archive that differs: only it is sent
sed 's/hello from bootlab/hello again from bootlab/' scenarios/smoke.yaml > "$T_TMP/smoke2.yaml"
out=$("$BOOTLAB" run --arch x86_64 --backend libvirt --report-dir "$T_TMP/three" "$T_TMP/smoke2.yaml" 2>&1); rc=$?
r3=$(ls "$T_TMP"/three/2*/report.json)
b3=$(json_get "$r3" '.scenarios[0].emulator.uploaded_bytes')
i3=$(json_get "$r3" '.scenarios[0].emulator.command' | sed -n 's|.*<initrd>\(.*\)</initrd>.*|\1|p')
expect_eq "a changed archive: the boot passes" "$rc" 0
expect_eq "only its archive was sent ($b3 bytes)" "$b3" "$(in_ns stat -c %s "$i3")"

# a crash's leftover: the kernel's volume without its marker, wrong bytes.
# A boot waits for the marker (another bootlab may be uploading it): with
# a 3 s deadline it gives up in time, as an emulator error; without, it
# waits 20 s, deletes the leftover and uploads the kernel again
kname=${k##*/}
virsh -c "$URI" vol-delete --pool bootlab "$kname.ok" >/dev/null
virsh -c "$URI" vol-delete --pool bootlab "$kname" >/dev/null
virsh -c "$URI" vol-create-as bootlab "$kname" 1M >/dev/null
t0=$(date +%s%N)
out=$(BOOTLAB_LIBVIRT_UPLOAD_TIMEOUT=3s smoke late); rc=$?
dt=$((($(date +%s%N) - t0) / 1000000))
check "a boot whose upload misses its deadline fails (exit $rc)" test "$rc" -ne 0
expect_match "naming the deadline" "$out" "took more than 3 s \(abandoned\)"
check "in about the deadline ($dt ms)" test "$dt" -lt 15000
out=$(smoke again); rc=$?
expect_eq "the leftover is replaced and the boot passes" "$rc" 0
ra=$(ls "$T_TMP"/again/2*/report.json)
expect_eq "the kernel was uploaded again" "$(json_get "$ra" '.scenarios[0].emulator.uploaded_bytes')" "$ksz"
expect_eq "its volume holds the kernel's bytes" "$(in_ns sha256sum "$k" | cut -d' ' -f1)" "$ksum"

# disks: uploaded once, cloned for each boot, the clone deleted after it
disk_run() {
	"$BOOTLAB" run --backend libvirt --filter '^switch-root\[ext4\]$' --report-dir "$T_TMP/$1" \
		scenarios/switch-root.yaml 2>&1
}
out=$(disk_run d1); rc=$?
echo "$out" | tail -n 3 | sed 's/^/# /'
expect_eq "a scenario with a disk passes" "$rc" 0
rd=$(ls "$T_TMP"/d1/2*/report.json)
expect_match "its disk is a per-boot clone in the pool" \
	"$(json_get "$rd" '.scenarios[0].emulator.command')" \
	"source file='/var/lib/libvirt/bootlab/bootlab-[0-9a-f-]+\.vda'"
expect_eq "no clone left after the boot" "$(vols | grep -c '\.vd[a-z]$')" 0
expect_eq "the disk image stays in the pool, complete" "$(vols | grep -cE '^[0-9a-f]{64}\.disk(\.ok)?$')" 2
out=$(disk_run d2); rc=$?
rd2=$(ls "$T_TMP"/d2/2*/report.json)
expect_eq "a second disk boot passes" "$rc" 0
echo "# disk boot bytes uploaded: first $(json_get "$rd" '.scenarios[0].emulator.uploaded_bytes'), second $(json_get "$rd2" '.scenarios[0].emulator.uploaded_bytes')"
expect_eq "a second disk boot uploads nothing" "$(json_get "$rd2" '.scenarios[0].emulator.uploaded_bytes')" 0
expect_eq "no clone left after it" "$(vols | grep -c '\.vd[a-z]$')" 0

# the sweep (harness/machine/libvirt_evict.c), once per bootlab process
# before its first upload: a killed bootlab's clone (no domain, written 2
# hours ago) is deleted and a fresh one (a boot starting elsewhere) kept;
# a content volume unused for longer than BOOTLAB_LIBVIRT_POOL_MAX_AGE goes
# with its marker, as does a marker whose volume is gone; over
# BOOTLAB_LIBVIRT_POOL_MAX the volumes idle for a day go, least recently
# used first, and never the ones the boot needs. A volume's last use is its
# marker's mtime, which a boot that reuses it moves forward
pooldir=/var/lib/libvirt/bootlab
mkvol() { virsh -c "$URI" vol-create-as bootlab "$1" "$2" >/dev/null; }
aged() { in_ns touch -d "$1" "$pooldir/$2"; }
rep() { printf "$1%.0s" $(seq 64); }
dead=bootlab-999999-1-abcdef.vda fresh=bootlab-999998-1-abcdef.vda
stale=$(rep e).kernel idle=$(rep d).initrd orphan=$(rep c).disk.ok
mkvol $dead 1M && mkvol $fresh 1M && aged '2 hours ago' $dead
mkvol $stale 2M && mkvol $stale.ok 0 && aged '30 days ago' $stale && aged '30 days ago' $stale.ok
mkvol $idle 3M && mkvol $idle.ok 0 && aged '3 days ago' $idle && aged '3 days ago' $idle.ok
mkvol $orphan 0
aged '10 days ago' "${k##*/}.ok"
virsh -c "$URI" pool-refresh bootlab >/dev/null
out=$(BOOTLAB_LIBVIRT_POOL_MAX_AGE=7d smoke sweep1); rc=$?
expect_eq "a boot that sweeps the pool passes" "$rc" 0
rs=$(ls "$T_TMP"/sweep1/2*/report.json)
expect_match "its command says what the sweep did" "$(json_get "$rs" '.scenarios[0].emulator.command')" \
	"swept the pool: evicted 1 \([0-9]+ bytes\), leftover clones deleted: 1"
v=$(vols)
has() { printf '%s\n' "$v" | grep -qxF "$1"; }
hasnt() { ! has "$1"; }
check "the killed bootlab's clone is gone" hasnt $dead
check "a fresh clone without its domain is kept" has $fresh
check "the volume unused for 30 days is gone" hasnt $stale
check "and its marker before it" hasnt $stale.ok
check "a volume idle for 3 days (under the 7-day age) is kept" has "$idle"
check "a marker whose volume is gone is deleted" hasnt $orphan
check "the boot's own volumes are kept" has "${k##*/}"
kmt=$(in_ns stat -c %Y "$pooldir/${k##*/}.ok")
check "reusing the kernel's volume moved its marker's mtime to now ($(($(date +%s) - kmt)) s ago)" \
	test $(($(date +%s) - kmt)) -lt 120
out=$(BOOTLAB_LIBVIRT_POOL_MAX=1 smoke sweep2 2>&1); rc=$?
expect_eq "a boot over the size limit passes" "$rc" 0
v=$(vols)
check "over the size limit, the volume idle for 3 days is evicted" hasnt "$idle"
check "the disk image used minutes ago is not (it is not idle)" \
	test "$(printf '%s\n' "$v" | grep -cE '^[0-9a-f]{64}\.disk(\.ok)?$')" = 2
expect_match "the limit that cannot be met is named" "$out" \
	"over its limit of 1 \(BOOTLAB_LIBVIRT_POOL_MAX\): the rest was used in the last day"
check "the boot's own volumes are kept again" has "${k##*/}"
out=$(BOOTLAB_LIBVIRT_POOL_MAX_AGE=soon smoke badage 2>&1); rc=$?
check "a bad BOOTLAB_LIBVIRT_POOL_MAX_AGE fails the boot (exit $rc)" test "$rc" -ne 0
expect_match "naming the setting" "$out" "BOOTLAB_LIBVIRT_POOL_MAX_AGE: bad age 'soon'"
virsh -c "$URI" vol-delete --pool bootlab $fresh >/dev/null

expect_eq "no domain left" "$(domains)" 0
libvirtd_stop
expect_eq "the daemon has stopped" "$(kill -0 "$pid" 2>/dev/null && echo running)" ""
no_emulator_left
done_testing
