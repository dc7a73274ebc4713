#!/bin/bash
# timeout: 400
# Stage-1 observation (docs/observe.md) with bootlab's x86_64 kernel on
# QEMU and a hand-written busybox-static /init that checks it is PID 1 and
# that nothing of the observer is mounted where it can see it:
# - `bootlab boot --observe`: its root mount fails and it exits 1; the
#   outcome names the script, its status, the mount command with its
#   status and time and the console line mount printed;
# - `bootlab gate --observe`: the same failure in the reason, the JUnit
#   message and report.json's events; the project's archive is the first
#   segment of the initrd, byte for byte;
# - `bootlab gate --observe` where the script succeeds: stage 2 as
#   without observation, and the timeline ends at the switch of root;
#   its mounts (proc, devtmpfs, a tmpfs it unmounts again, the root disk)
#   in order, the root disk's move to / at the switch, vda present at
#   start (virtio-blk is built in);
# - Debian's initramfs-tools image: its timeline, virtio_blk loaded and
#   vda appearing, and a missing root UUID explained at the timeout.
. "$(dirname "$0")/../lib.sh"

K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"

# the busybox initramfs with our /init
busybox_initrd "$T_TMP/init.cpio.gz" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
[ $$ = 1 ] || { echo "observe-test: not PID 1 but $$"; exit 3; }
mount -t proc none /proc
mount -t devtmpfs none /dev
if grep -q bootlab /proc/mounts; then echo "observe-test: the observer's mounts show"; exit 4; fi
mkdir -p /tmp
mount -t tmpfs -o size=1m scratch /tmp
umount /tmp
root=/dev/vda
for w in $(cat /proc/cmdline); do case "$w" in root=*) root=${w#root=} ;; esac; done
echo "observe-test: PID $$ mounting $root"
mount -o ro "$root" /mnt/root || exit 1
umount /proc
exec switch_root /mnt/root /sbin/init
EOF

# 1. bootlab boot --observe: no disk, the mount of /dev/vda fails
out=$("$BOOTLAB" boot --observe --kernel "$K" --initrd "$T_TMP/init.cpio.gz" --timeout 60s </dev/null 2>&1); rc=$?
echo "$out" | tail -n 4 | sed 's/^/# /'
expect_eq "boot --observe, failing mount: exit 1" "$rc" 1
expect_match "the script ran as PID 1" "$out" '^observe-test: PID 1 mounting /dev/vda'
expect_match "boot: the outcome names /init, its status, the mount, its status and the console line" "$out" \
	'^outcome: panic \(/init \(busybox sh\) exited 1: "mount -o ro /dev/vda /mnt/root" exited 255 at [0-9]+\.[0-9]{2} s; console: "mount: mounting /dev/vda on /mnt/root failed: No such file or directory"'
expect_match "boot: the kernel's panic follows" "$out" '; kernel panic: attempted to kill init, exit status 1\)$'

# 2. the same with bootlab gate --observe and root=/dev/vdz
out=$("$BOOTLAB" gate --observe --kernel "$K" --initramfs "$T_TMP/init.cpio.gz" --cmdline root=/dev/vdz \
	--report-dir "$T_TMP/r1" --junit "$T_TMP/fail.xml" 2>&1); rc=$?
expect_eq "gate --observe, failing mount: exit 1" "$rc" 1
expect_match "gate: the reason names the failing mount" "$out" \
	'^reason: /init \(busybox sh\) exited 1: "mount -o ro /dev/vdz /mnt/root" exited 255 at '
expect_match "gate: the last commands before it, with their statuses" "$out" \
	'; last commands: (("[^"]*"|a subshell of PID 1 \(pid [0-9]+, no exec\)) exited [0-9]+, )*"mount -o ro /dev/vdz /mnt/root" exited 255; kernel panic'
expect_match "JUnit: the failure message says it" "$(xmllint --xpath 'string(//testcase/failure/@message)' "$T_TMP/fail.xml")" \
	'^/init \(busybox sh\) exited 1: "mount -o ro /dev/vdz /mnt/root" exited 255'
j=$(ls "$T_TMP"/r1/*/report.json | head -1)
expect_eq "report: PID 1's exit is the last event, status 1" \
	"$(json_get "$j" '.scenarios[0].observed.events[-1] | "\(.event) \(.pid) \(.status)"')" "exit 1 1"
expect_eq "report: the mount's exec has PID 1 as parent" \
	"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event == "exec" and .argv[0] == "mount" and .argv[3] == "/dev/vdz")][0].ppid')" 1
expect_match "report: the kernel ran the observer, which ran /init" \
	"$(json_get "$j" '.scenarios[0].kernel.cmdline')" 'bootlab\.observe=/init rdinit=/\.bootlab/observer'
rd="$(dirname "$j")/$(json_get "$j" '.scenarios[0].initrd')"
check "the project's archive is the initrd's first segment, byte for byte" \
	cmp -n "$(stat -c %s "$T_TMP/init.cpio.gz")" "$T_TMP/init.cpio.gz" "$rd"

# 3. the script succeeds: stage 2 as unobserved, the timeline ends at the switch
out=$("$BOOTLAB" gate --observe --kernel "$K" --initramfs "$T_TMP/init.cpio.gz" --report-dir "$T_TMP/r2" 2>&1); rc=$?
[ $rc -eq 0 ] || echo "$out" | tail -n 30 | sed 's/^/# /'
expect_eq "gate --observe, working script: exit 0" "$rc" 0
j=$(ls "$T_TMP"/r2/*/report.json | head -1)
expect_eq "stage 2: the agent is PID 1 on vda" "$(json_get "$j" '.scenarios[0].hello2 | "\(.pid) \(.root.device)"')" "1 vda"
expect_eq "the timeline ends: PID 1 exec'd switch_root, the root disk moved to /, switched, exec'd /sbin/init" \
	"$(json_get "$j" '[.scenarios[0].observed.events[-4:][] | .event + ":" + ((.argv // []) | join(" ")) + (.from // "")] | join(",")')" \
	"exec:switch_root /mnt/root /sbin/init,move:/mnt/root,switch_root:,exec:/sbin/init"
expect_eq "the mount table at start: rootfs on /, flagged initial" \
	"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.initial and .event == "mount") | "\(.fstype) \(.target)"] | join(",")')" \
	"rootfs /"
expect_eq "the mounts, unmounts and the move, in order, with source and type" \
	"$(json_get "$j" '[.scenarios[0].observed.events[] | select((.event | test("mount|move")) and (.initial | not)) | "\(.event) \(.source) \(.fstype) \(.target)"] | join(",")')" \
	"mount none proc /proc,mount none devtmpfs /dev,mount scratch tmpfs /tmp,umount scratch tmpfs /tmp,mount /dev/vda ext4 /mnt/root,umount none proc /proc,move /dev/vda ext4 /"
expect_eq "the tmpfs mount comes after its mount command's exec, before that command's exit" \
	"$(json_get "$j" '.scenarios[0].observed.events as $e | ($e | map(.event == "mount" and .target == "/tmp") | index(true)) as $i | ([$e[:$i][] | select(.event == "exec")][-1]) as $x | "\($x.argv | join(" ")) \([$e[:$i][] | select(.event == "exit" and .pid == $x.pid)] | length)"')" \
	"mount -t tmpfs -o size=1m scratch /tmp 0"
expect_eq "vda is listed as present at start, a disk; no other block event" \
	"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event == "block") | "\(.action) \(.devname) \(.devtype) \(.initial)"] | join(",")')" \
	"add vda disk true"
expect_eq "no module loaded (bootlab's kernel has everything built in), nothing dropped" \
	"$(json_get "$j" '[([.scenarios[0].observed.events[] | select(.event == "module")] | length), .scenarios[0].observed.dropped] | join(" ")')" "0 0"
# 4. Debian's initramfs-tools image for the installed cloud kernel (its
# agent port modules come in the observer's segment): a switch to the
# root with udev, module loads and the root mount in the timeline; with a
# root UUID that does not exist, the timeout names the retried lookup.
# Its wait loop (scripts/local in the image) runs from ~7 s for 30 s
# (max(30, rootdelay), and rootdelay= also sleeps first), each round
# mdadm --assemble then blkid, both failing: the deadline of 30 s falls
# inside the loop, idle or loaded, and the last failure is one of the two
# (or, on a slow boot, the first degraded `mdadm --run` of the loop's
# last third, which has failed only once)
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -n "$ck" ] && command -v mkinitramfs >/dev/null; then
	mkinitramfs -o "$T_TMP/debian.img" "${ck#/boot/vmlinuz-}" >"$T_TMP/mkinitramfs.log" 2>&1
	out=$("$BOOTLAB" gate --observe --kernel "$ck" --initramfs "$T_TMP/debian.img" --report-dir "$T_TMP/r3" 2>&1); rc=$?
	[ $rc -eq 0 ] || echo "$out" | tail -n 30 | sed 's/^/# /'
	expect_eq "Debian initramfs observed: gate exits 0" "$rc" 0
	j=$(ls "$T_TMP"/r3/*/report.json | head -1)
	cmds=$(json_get "$j" '.scenarios[0].observed.events[] | select(.event == "exec") | .argv | join(" ")')
	expect_match "Debian: udevd started and settled" "$cmds" '^udevadm settle$'
	expect_match "Debian: modules loaded by modprobe" "$cmds" '^/sbin/modprobe '
	expect_match "Debian: the root mounted" "$cmds" '^mount -r -t ext4 /dev/vda /root$'
	expect_eq "Debian: run-init switched the root, then /sbin/init ran" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event | test("exec|switch_root"))][-3:] | map(.event + ":" + ((.argv // []) | join(" "))) | join(",")')" \
		"exec:run-init /root /sbin/init,switch_root:,exec:/sbin/init"
	ev=$(json_get "$j" '.scenarios[0].observed.events | to_entries[] | "\(.key) \(.value.event) \(.value.name // .value.devname // .value.argv[0] // "") \(.value.initial // false)"')
	expect_match "Debian: the kernel loaded virtio_blk (a module event)" "$ev" '^[0-9]+ module virtio_blk false$'
	expect_match "Debian: vda appeared in stage 1 (a block add, not present at start)" "$ev" '^[0-9]+ block vda false$'
	udevd=$(awk '$2 == "exec" && $3 ~ /udevd$/ { print $1; exit }' <<<"$ev")
	vda=$(awk '$2 == "block" && $3 == "vda" { print $1; exit }' <<<"$ev")
	mod=$(awk '$2 == "module" && $3 == "virtio_blk" { print $1; exit }' <<<"$ev")
	check "Debian: udevd started, then vda appeared, then virtio_blk's load was reported (after its init)" \
		test -n "$udevd" -a -n "$vda" -a -n "$mod" -a "${udevd:-0}" -lt "${vda:-0}" -a "${vda:-0}" -lt "${mod:-0}"
	expect_match "Debian: the root mounted on /root, then moved to /" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.source == "/dev/vda") | "\(.event) \(.fstype) \(.target)"] | join(",")')" \
		'^mount ext4 /root,.*move ext4 /$'
	out=$("$BOOTLAB" gate --observe --kernel "$ck" --initramfs "$T_TMP/debian.img" --report-dir "$T_TMP/r4" \
		--cmdline "root=UUID=00000000-1111-2222-3333-444444444444" --timeout 30s 2>&1); rc=$?
	grep '^reason: ' <<<"$out" | sed 's/^/# /'
	expect_eq "Debian, root UUID missing: gate exits 1" "$rc" 1
	expect_match "Debian, root UUID missing: the timeout names the retried lookup" "$out" \
		'^reason: boot deadline of 30000 ms reached; last phase: run-init; .*last failed: "(blkid -l -t UUID=00000000-1111-2222-3333-444444444444 -o device|mdadm -q --assemble --scan --(no-degraded|run))" exited [12] at [0-9.]+ s( \([0-9]+ times since [0-9.]+ s\))?(;|$)'
	expect_match "Debian, root UUID missing: the timeout names the block devices there (vda)" "$out" \
		'^reason: boot deadline .*; block devices: vda(;|$)'
else
	skip "no Debian cloud kernel or mkinitramfs" "Debian initramfs observed"
fi
no_emulator_left
done_testing
