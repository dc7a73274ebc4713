#!/bin/bash
# timeout: 900
# md RAID1 images written by bootlab, assembled by a real kernel: the agent
# assembles 1.2 / 1.0 / 0.90 arrays (and a degraded one) and switch_roots
# into them (scenarios/raid-root.yaml); the kernel's own autodetect takes
# 0.90 members on MBR type-fd partitions and refuses a corrupt one
# (scenarios/raid-autodetect.yaml). And the negative: with both superblocks
# damaged there is no array to assemble.
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" scenarios/raid-root.yaml scenarios/raid-autodetect.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "raid scenarios: exit 0" "$rc" 0
for v in 'raid-root' 'raid-root\[debian-cloud\]' 'raid-root\[degraded\]' 'raid-root\[meta-1\.0\]' 'raid-root\[meta-0\.90\]' 'raid-autodetect'; do
	expect_match "$v passes" "$out" "^PASS +$v +pass"
done
j=$(ls -d "$T_TMP"/r/2*/ | head -1)report.json
n=$(json_get "$j" '.scenarios | length')
for i in $(seq 0 $((n - 1))); do
	name=$(json_get "$j" ".scenarios[$i].name")
	log=$(dirname "$j")/$(json_get "$j" ".scenarios[$i].console_log")
	case $name in
	*degraded*) want="active with 1 out of 2 mirrors" ;;
	raid-autodetect) want="active with 1 out of 2 mirrors" ;;
	*) want="active with 2 out of 2 mirrors" ;;
	esac
	expect_match "$name: kernel says '$want'" "$(cat "$log")" "md/raid1:md0: $want"
	no_match "$name: no md superblock complaints" 'invalid superblock checksum|bad version|data_size too small' "$log"
done

# negative: both members damaged -> assembling must fail (the test can fail)
cat > "$T_TMP/broken.yaml" <<'EOY'
name: raid-broken
arch: x86_64
backend: qemu
kernel: {build: x86_64}
timeout: 60s
archives:
  - name: main
    entries: [{agent: /init}, {dir: /dev}]
arrays:
  - {name: md0, level: 1, metadata: "1.2", filesystem: {type: ext4}}
disks:
  - {name: d0, size: 16M, raid: {array: md0, member: 0, corrupt: true}}
  - {name: d1, size: 16M, raid: {array: md0, member: 1, corrupt: true}}
steps:
  - hello: {stage: 1}
  - agent: {op: md_assemble, device: /dev/md0, members: [/dev/vda, /dev/vdb], metadata: "1.2"}
    error: true
  - agent: {op: poweroff}
  - outcome: pass
EOY
out=$("$BOOTLAB" run --report-dir "$T_TMP/r2" "$T_TMP/broken.yaml" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_match "damaged superblocks: assembly refused" "$out" "^PASS +raid-broken"
no_emulator_left
done_testing
