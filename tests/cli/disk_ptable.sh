#!/bin/bash
# Partition tables written by bootlab, read by util-linux: sfdisk -J gives
# the types, starts and sizes asked for; sfdisk -V finds no errors (GPT:
# protective MBR, both headers, CRC32s); filesystems inside partitions and
# on whole disks pass e2fsck -fn and debugfs reads a file back.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
for t in sfdisk e2fsck debugfs jq; do
	command -v $t >/dev/null || { skip "$t missing" "disk_ptable"; done_testing; exit; }
done
export XDG_CACHE_HOME=$T_TMP/cache
mkdir -p $T_TMP/tree/boot
echo "kernel-ish $$" > $T_TMP/tree/boot/vmlinuz
cat > $T_TMP/spec.json <<'EOJ'
{"disks": [
  {"name": "m", "size": "64M", "table": "mbr", "partitions": [
    {"size": "8M", "type": "ef", "bootable": true},
    {"size": "16M", "type": "82"},
    {"size": "rest", "type": "linux", "filesystem": {"type": "ext4", "tree": "tree", "label": "mroot"}}]},
  {"name": "g", "size": "64M", "table": "gpt", "partitions": [
    {"size": "1M", "type": "bios"},
    {"size": "16M", "type": "esp", "name": "EFI system"},
    {"size": "8M", "type": "raid"},
    {"size": "rest", "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "name": "root",
     "filesystem": {"type": "ext3", "tree": "tree"}}]},
  {"name": "w", "size": "16M", "filesystem": {"type": "ext2", "tree": "tree", "label": "whole"}}]}
EOJ
if ! "$BOOTLAB" disk build -o $T_TMP/w $T_TMP/spec.json > $T_TMP/sum.json 2> $T_TMP/err; then
	not_ok "build"; sed 's/^/#   /' $T_TMP/err; done_testing; exit
fi
ok "build"

j=$(sfdisk -J $T_TMP/w/m.img)
expect_eq "mbr: label dos" "$(jq -r .partitiontable.label <<<"$j")" dos
expect_eq "mbr: types" "$(jq -r '[.partitiontable.partitions[].type] | join(",")' <<<"$j")" "ef,82,83"
expect_eq "mbr: starts" "$(jq -r '[.partitiontable.partitions[].start] | join(",")' <<<"$j")" "2048,18432,51200"
expect_eq "mbr: sizes" "$(jq -r '[.partitiontable.partitions[].size] | join(",")' <<<"$j")" "16384,32768,79872"
expect_eq "mbr: bootable flag" "$(jq -r '.partitiontable.partitions[0].bootable' <<<"$j")" true
check "mbr: sfdisk -V clean" sfdisk -V -q $T_TMP/w/m.img

j=$(sfdisk -J $T_TMP/w/g.img)
expect_eq "gpt: label" "$(jq -r .partitiontable.label <<<"$j")" gpt
expect_eq "gpt: types" "$(jq -r '[.partitiontable.partitions[].type] | join(",")' <<<"$j")" \
	"21686148-6449-6E6F-744E-656564454649,C12A7328-F81F-11D2-BA4B-00A0C93EC93B,A19D880F-05FC-4D3B-A006-743F0F84911E,0FC63DAF-8483-4772-8E79-3D69D8477DE4"
expect_eq "gpt: names" "$(jq -r '.partitiontable.partitions | map(.name // "-") | join(",")' <<<"$j")" "-,EFI system,-,root"
expect_eq "gpt: sizes" "$(jq -r '[.partitiontable.partitions[].size] | join(",")' <<<"$j")" "2048,32768,16384,77791"
expect_eq "gpt: last lba" "$(jq -r .partitiontable.lastlba <<<"$j")" 131038
out=$(sfdisk -V $T_TMP/w/g.img 2>&1)
expect_match "gpt: sfdisk -V finds no errors" "$out" "No errors detected"
# the backup header is where the primary says, with the same disk GUID
expect_match "gpt: backup header at the last LBA" "$(dd if=$T_TMP/w/g.img bs=512 skip=131071 count=1 status=none | head -c 8)" "^EFI PART$"
# the CRCs are real: a damaged primary header is noticed and the backup
# (header and entries) takes over; with both damaged no GPT is left
cp $T_TMP/w/g.img $T_TMP/g2.img
printf 'X' | dd of=$T_TMP/g2.img bs=1 seek=$((512 + 40)) conv=notrunc status=none
out=$(sfdisk -d $T_TMP/g2.img 2>&1)
expect_match "gpt: damaged primary noticed, backup valid" "$out" "primary GPT table is corrupt, but the backup appears OK"
expect_match "gpt: backup has the partitions" "$out" "g2.img4 : start= +53248, size= +77791"
printf 'X' | dd of=$T_TMP/g2.img bs=1 seek=$(((131071 - 32) * 512 + 40)) conv=notrunc status=none
expect_match "gpt: damaged backup entries noticed" "$(sfdisk -d $T_TMP/g2.img 2>&1)" "label: dos"

# filesystems in partitions and on a whole disk
dd if=$T_TMP/w/m.img of=$T_TMP/p.img bs=512 skip=51200 count=79872 status=none
check "mbr p3: e2fsck -fn clean" e2fsck -fn $T_TMP/p.img
expect_eq "mbr p3: debugfs reads the file" "$(debugfs -R 'cat /boot/vmlinuz' $T_TMP/p.img 2>/dev/null)" "kernel-ish $$"
expect_eq "mbr p3: label" "$(e2label $T_TMP/p.img 2>/dev/null || dumpe2fs -h $T_TMP/p.img 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')" mroot
start=$(jq '.partitiontable.partitions[3].start' <<<"$j"); size=$(jq '.partitiontable.partitions[3].size' <<<"$j")
dd if=$T_TMP/w/g.img of=$T_TMP/p.img bs=512 skip=$start count=$size status=none
check "gpt p4: e2fsck -fn clean" e2fsck -fn $T_TMP/p.img
expect_match "gpt p4: ext3 (has_journal, no extents)" "$(dumpe2fs -h $T_TMP/p.img 2>/dev/null | grep features)" "has_journal"
check "whole disk: e2fsck -fn clean" e2fsck -fn $T_TMP/w/w.img
expect_eq "whole disk: debugfs reads the file" "$(debugfs -R 'cat /boot/vmlinuz' $T_TMP/w/w.img 2>/dev/null)" "kernel-ish $$"
done_testing
