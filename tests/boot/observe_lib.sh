# Helpers for tests/boot/observe.sh (x86_64) and observe_arm.sh (aarch64)
# (sourced, not run: no exec bit): the hand-written busybox-static /init
# both boot observed (docs/observe.md) and the assertions on its three
# boots, the same on every architecture.
. "$(dirname "$0")/../lib.sh"

# obs_initrd OUT [BUSYBOX]: the busybox initramfs with the test's /init, a
# script that checks it is PID 1 and that nothing of the observer is
# mounted where it can see it, mounts proc, devtmpfs, a tmpfs it unmounts
# again and root= (default /dev/vda) read-only, exits 1 when that mount
# fails, else unmounts proc and switches to it
obs_initrd() {
	busybox_initrd "$1" "${2:-}" <<'EOF'
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
}

# obs_busybox_boots ARCH KERNEL INITRD: obs_initrd's archive booted
# observed on QEMU ARCH with KERNEL (bootlab's, every driver built in),
# reports under $T_TMP/ARCH-*:
# 1. `bootlab boot --observe` without a disk: its root mount fails and it
#    exits 1; the outcome names the script, its status, the mount command
#    with its status and time and the console line mount printed;
# 2. `bootlab gate --observe` with root=/dev/vdz: the same failure in the
#    reason, the JUnit message and report.json's events; the project's
#    archive is the first segment of the initrd, byte for byte;
# 3. `bootlab gate --observe` where the script succeeds: stage 2 as
#    without observation, and the timeline ends at the switch of root;
#    its mounts (proc, devtmpfs, a tmpfs it unmounts again, the root disk)
#    in order, the root disk's move to / at the switch, vda present at
#    start (virtio-blk is built in).
obs_busybox_boots() {
	local a=$1 k=$2 rd=$3 out rc j
	out=$("$BOOTLAB" boot --observe --arch "$a" --kernel "$k" --initrd "$rd" --timeout 60s </dev/null 2>&1); rc=$?
	echo "$out" | tail -n 4 | sed 's/^/# /'
	expect_eq "$a: boot --observe, failing mount: exit 1" "$rc" 1
	expect_match "$a: the script ran as PID 1" "$out" '^observe-test: PID 1 mounting /dev/vda'
	expect_match "$a: boot: the outcome names /init, its status, the mount, its status and the console line" "$out" \
		'^outcome: panic \(/init \(busybox sh\) exited 1: "mount -o ro /dev/vda /mnt/root" exited 255 at [0-9]+\.[0-9]{2} s; console: "mount: mounting /dev/vda on /mnt/root failed: No such file or directory"'
	expect_match "$a: boot: the kernel's panic follows" "$out" '; kernel panic: attempted to kill init, exit status 1\)$'

	out=$("$BOOTLAB" gate --observe --arch "$a" --kernel "$k" --initramfs "$rd" --cmdline root=/dev/vdz \
		--report-dir "$T_TMP/$a-fail" --junit "$T_TMP/$a-fail.xml" 2>&1); rc=$?
	expect_eq "$a: gate --observe, failing mount: exit 1" "$rc" 1
	expect_match "$a: gate: the reason names the failing mount" "$out" \
		'^reason: /init \(busybox sh\) exited 1: "mount -o ro /dev/vdz /mnt/root" exited 255 at '
	expect_match "$a: gate: the last commands before it, with their statuses" "$out" \
		'; last commands: (("[^"]*"|a subshell of PID 1 \(pid [0-9]+, no exec\)) exited [0-9]+, )*"mount -o ro /dev/vdz /mnt/root" exited 255; kernel panic'
	expect_match "$a: JUnit: the failure message says it" \
		"$(xmllint --xpath 'string(//testcase/failure/@message)' "$T_TMP/$a-fail.xml")" \
		'^/init \(busybox sh\) exited 1: "mount -o ro /dev/vdz /mnt/root" exited 255'
	j=$(ls "$T_TMP/$a-fail"/*/report.json | head -1)
	expect_eq "$a: report: PID 1's exit is the last event, status 1" \
		"$(json_get "$j" '.scenarios[0].observed.events[-1] | "\(.event) \(.pid) \(.status)"')" "exit 1 1"
	expect_eq "$a: report: the mount's exec has PID 1 as parent" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event == "exec" and .argv[0] == "mount" and .argv[3] == "/dev/vdz")][0].ppid')" 1
	expect_match "$a: report: the kernel ran the observer, which ran /init" \
		"$(json_get "$j" '.scenarios[0].kernel.cmdline')" 'bootlab\.observe=/init rdinit=/\.bootlab/observer'
	check "$a: the project's archive is the initrd's first segment, byte for byte" \
		cmp -n "$(stat -c %s "$rd")" "$rd" "$(dirname "$j")/$(json_get "$j" '.scenarios[0].initrd')"

	out=$("$BOOTLAB" gate --observe --arch "$a" --kernel "$k" --initramfs "$rd" --report-dir "$T_TMP/$a-pass" 2>&1); rc=$?
	[ $rc -eq 0 ] || echo "$out" | tail -n 30 | sed 's/^/# /'
	expect_eq "$a: gate --observe, working script: exit 0" "$rc" 0
	j=$(ls "$T_TMP/$a-pass"/*/report.json | head -1)
	expect_eq "$a: stage 2: the agent is PID 1 on vda" "$(json_get "$j" '.scenarios[0].hello2 | "\(.pid) \(.root.device)"')" "1 vda"
	expect_eq "$a: the execs with their argv, in order" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event == "exec") | .argv | join(" ")] | join(",")')" \
		"/bin/busybox sh /init,/bin/busybox --install -s /bin,mount -t proc none /proc,mount -t devtmpfs none /dev,grep -q bootlab /proc/mounts,mount -t tmpfs -o size=1m scratch /tmp,cat /proc/cmdline,mount -o ro /dev/vda /mnt/root,switch_root /mnt/root /sbin/init,/sbin/init"
	expect_eq "$a: the exit statuses of the exec'd programs: grep found nothing (1), the rest 0" \
		"$(json_get "$j" '.scenarios[0].observed.events as $e | [$e[] | select(.event == "exec" and .pid != 1) | .pid as $p | "\(.argv[0]):\([$e[] | select(.event == "exit" and .pid == $p)][0].status)"] | join(",")')" \
		"/bin/busybox:0,mount:0,mount:0,grep:1,mount:0,cat:0,mount:0"
	expect_eq "$a: the timeline ends: PID 1 exec'd switch_root, the root disk moved to /, switched, exec'd /sbin/init" \
		"$(json_get "$j" '[.scenarios[0].observed.events[-4:][] | .event + ":" + ((.argv // []) | join(" ")) + (.from // "")] | join(",")')" \
		"exec:switch_root /mnt/root /sbin/init,move:/mnt/root,switch_root:,exec:/sbin/init"
	expect_eq "$a: the mount table at start: rootfs on /, flagged initial" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.initial and .event == "mount") | "\(.fstype) \(.target)"] | join(",")')" \
		"rootfs /"
	expect_eq "$a: the mounts, unmounts and the move, in order, with source and type" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select((.event | test("mount|move")) and (.initial | not)) | "\(.event) \(.source) \(.fstype) \(.target)"] | join(",")')" \
		"mount none proc /proc,mount none devtmpfs /dev,mount scratch tmpfs /tmp,umount scratch tmpfs /tmp,mount /dev/vda ext4 /mnt/root,umount none proc /proc,move /dev/vda ext4 /"
	expect_eq "$a: the tmpfs mount comes after its mount command's exec, before that command's exit" \
		"$(json_get "$j" '.scenarios[0].observed.events as $e | ($e | map(.event == "mount" and .target == "/tmp") | index(true)) as $i | ([$e[:$i][] | select(.event == "exec")][-1]) as $x | "\($x.argv | join(" ")) \([$e[:$i][] | select(.event == "exit" and .pid == $x.pid)] | length)"')" \
		"mount -t tmpfs -o size=1m scratch /tmp 0"
	expect_eq "$a: vda is listed as present at start, a disk; no other block event" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event == "block") | "\(.action) \(.devname) \(.devtype) \(.initial)"] | join(",")')" \
		"add vda disk true"
	expect_eq "$a: no module loaded (bootlab's kernel has everything built in), nothing dropped" \
		"$(json_get "$j" '[([.scenarios[0].observed.events[] | select(.event == "module")] | length), .scenarios[0].observed.dropped] | join(" ")')" "0 0"
}
