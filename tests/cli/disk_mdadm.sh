#!/bin/bash
# md RAID1 images written by bootlab, read back by the real tools: mdadm
# --examine on every member (0.90, 1.0, 1.2 on whole disks; 0.90 on MBR
# partitions of type fd, as CONFIG_MD_AUTODETECT wants), e2fsck and debugfs
# on the array's content cut out at the data offset; reproducible bytes;
# the cache is never changed by writes to the per-boot copies.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
for t in mdadm e2fsck debugfs sfdisk jq; do
	command -v $t >/dev/null || { skip "$t missing" "disk_mdadm"; done_testing; exit; }
done
export XDG_CACHE_HOME=$T_TMP/cache
mkdir -p $T_TMP/rootfs/etc
echo "raid content $$" > $T_TMP/rootfs/etc/motd
printf '\177ELF-not-really' > $T_TMP/agent

# spec META TABLE: two members, whole disks (TABLE=none) or MBR partition 2
spec() {
	local meta=$1 table=$2 d
	echo '{"disks": ['
	for d in 0 1; do
		[ $d = 1 ] && echo ,
		if [ "$table" = mbr ]; then
			echo "{\"name\": \"d$d\", \"size\": \"48M\", \"table\": \"mbr\", \"partitions\": [
			  {\"size\": \"4M\", \"type\": \"83\"},
			  {\"size\": \"rest\", \"type\": \"fd\", \"raid\": {\"array\": \"md0\", \"member\": $d}}]}"
		else
			echo "{\"name\": \"d$d\", \"size\": \"40M\", \"raid\": {\"array\": \"md0\", \"member\": $d}}"
		fi
	done
	echo "], \"arrays\": [{\"name\": \"md0\", \"level\": 1, \"metadata\": \"$meta\",
	  \"filesystem\": {\"type\": \"ext4\", \"tree\": \"rootfs\", \"label\": \"root\", \"agent\": \"/sbin/init\",
	  \"files\": [{\"path\": \"/etc/hostname\", \"content\": \"raidhost\\n\"}]}}]}"
}

for case in 0.90:none 1.0:none 1.2:none 0.90:mbr; do
	meta=${case%:*} table=${case#*:}
	n="$meta/$table"
	w=$T_TMP/w-$meta-$table
	spec $meta $table > $T_TMP/spec.json
	if ! "$BOOTLAB" disk build --agent $T_TMP/agent -o $w $T_TMP/spec.json > $T_TMP/sum.json 2> $T_TMP/err; then
		not_ok "$n: build"; sed 's/^/#   /' $T_TMP/err; continue
	fi
	ok "$n: build"
	uuid=$(json_get $T_TMP/sum.json '.arrays[0].uuid')
	kib=$(json_get $T_TMP/sum.json '.arrays[0].size_kib')
	doff=$(json_get $T_TMP/sum.json '.arrays[0].data_offset')
	want_ver=$meta; [ $meta = 0.90 ] && want_ver=0.90.00
	for d in 0 1; do
		img=$w/d$d.img
		if [ $table = mbr ]; then
			start=$(sfdisk -J $img | jq '.partitiontable.partitions[1].start')
			size=$(sfdisk -J $img | jq '.partitiontable.partitions[1].size')
			ptype=$(sfdisk -J $img | jq -r '.partitiontable.partitions[1].type')
			expect_eq "$n d$d: partition type fd" "$ptype" fd
			dd if=$img of=$T_TMP/member.img bs=512 skip=$start count=$size status=none
			img=$T_TMP/member.img
		fi
		ex=$(mdadm --examine $img 2>&1)
		expect_match "$n d$d: mdadm version" "$ex" "Version : $want_ver\$"
		expect_match "$n d$d: raid1" "$ex" "Raid Level : raid1"
		expect_match "$n d$d: 2 devices" "$ex" "Raid Devices : 2"
		expect_match "$n d$d: uuid $uuid" "$ex" "UUID : $uuid"
		expect_match "$n d$d: clean" "$ex" "State : clean"
		expect_match "$n d$d: checksum correct" "$ex" "Checksum : [0-9a-f]+ - correct"
		expect_match "$n d$d: array size $kib KiB" "$ex" "Array Size : $kib( KiB)? "
		if [ $meta = 0.90 ]; then
			expect_match "$n d$d: preferred minor 0" "$ex" "Preferred Minor : 0"
			expect_match "$n d$d: this disk $d active sync" "$ex" "this +$d +[0-9]+ +[0-9]+ +$d +active sync"
		else
			expect_match "$n d$d: role $d" "$ex" "Device Role : Active device $d"
			expect_match "$n d$d: array state AA" "$ex" "Array State : AA "
		fi
		# the array's content: at the data offset, array-size long
		dd if=$img of=$T_TMP/fs.img bs=512 skip=$doff count=$((kib * 2)) status=none
		check "$n d$d: e2fsck -fn clean" e2fsck -fn $T_TMP/fs.img
		got=$(debugfs -R 'cat /etc/motd' $T_TMP/fs.img 2>/dev/null)
		expect_eq "$n d$d: debugfs reads /etc/motd" "$got" "raid content $$"
		got=$(debugfs -R 'cat /etc/hostname' $T_TMP/fs.img 2>/dev/null)
		expect_eq "$n d$d: inline file" "$got" raidhost
		debugfs -R "dump /sbin/init $T_TMP/init.out" $T_TMP/fs.img 2>/dev/null
		check "$n d$d: agent placed as /sbin/init" cmp -s $T_TMP/init.out $T_TMP/agent
		mode=$(debugfs -R 'stat /sbin/init' $T_TMP/fs.img 2>/dev/null | grep -o 'Mode: *[0-7]*' | grep -o '[0-7]*$')
		expect_eq "$n d$d: /sbin/init mode" "$mode" 0755
	done
	# data must fit in front of the superblock for the end-of-device formats
	sbo=$(json_get $T_TMP/sum.json '.arrays[0].members[0].sb_offset')
	if [ $meta != 1.2 ]; then
		check "$n: data ends before the superblock" test $((kib * 2)) -le $sbo
	fi
done

# reproducible: a fresh cache gives the same bytes; UUIDs follow the content
spec 1.2 none > $T_TMP/spec.json
"$BOOTLAB" disk build --agent $T_TMP/agent -o $T_TMP/r1 $T_TMP/spec.json > $T_TMP/s1.json
XDG_CACHE_HOME=$T_TMP/cache2 "$BOOTLAB" disk build --agent $T_TMP/agent -o $T_TMP/r2 $T_TMP/spec.json > $T_TMP/s2.json
check "same input, fresh cache: identical d0" cmp -s $T_TMP/r1/d0.img $T_TMP/r2/d0.img
check "same input, fresh cache: identical d1" cmp -s $T_TMP/r1/d1.img $T_TMP/r2/d1.img
echo "changed $$" > $T_TMP/rootfs/etc/motd
"$BOOTLAB" disk build --agent $T_TMP/agent -o $T_TMP/r3 $T_TMP/spec.json > $T_TMP/s3.json
check "changed tree: different image" bash -c "! cmp -s $T_TMP/r1/d0.img $T_TMP/r3/d0.img"
check "changed tree: different cache entry" test "$(json_get $T_TMP/s1.json '.disks[0].cache')" != "$(json_get $T_TMP/s3.json '.disks[0].cache')"

# the cache is not changed by writes to the workdir copy
cache=$(json_get $T_TMP/s1.json '.disks[0].cache')
sum_before=$(sha256sum < $cache)
dd if=/dev/urandom of=$T_TMP/r1/d0.img bs=4096 count=4 conv=notrunc status=none
expect_eq "writing the boot copy leaves the cache alone" "$(sha256sum < $cache)" "$sum_before"
alloc=$(du -k $T_TMP/r2/d0.img | cut -f1)
check "workdir copy stays sparse ($alloc KiB allocated of 40960)" test $alloc -lt 20000

# a corrupt member: no md superblock any more; an absent one is flagged
cat > $T_TMP/deg.json <<'EOJ'
{"disks": [{"name": "a", "size": "32M", "raid": {"array": "md0", "member": 0}},
           {"name": "b", "size": "32M", "corrupt": true, "raid": {"array": "md0", "member": 1}},
           {"name": "c", "size": "32M", "absent": true, "raid": {"array": "md0", "member": 2}}],
 "arrays": [{"name": "md0", "metadata": "1.0"}]}
EOJ
"$BOOTLAB" disk build -o $T_TMP/deg $T_TMP/deg.json > $T_TMP/sd.json
ex=$(mdadm --examine $T_TMP/deg/a.img 2>&1)
expect_match "healthy member of 3" "$ex" "Raid Devices : 3"
ex=$(mdadm --examine $T_TMP/deg/b.img 2>&1)
expect_match "corrupt member has no superblock" "$ex" "No md superblock"
expect_eq "absent disk flagged" "$(json_get $T_TMP/sd.json '.disks[2].absent')" true
ex=$(mdadm --examine $T_TMP/deg/c.img 2>&1)
expect_match "absent member still written" "$ex" "Device Role : Active device 2"
done_testing
