#!/bin/bash
# timeout: 600
# 'bootlab archive extract' leaves what the kernel leaves: two stacked
# archives exercising docs/kernel-behaviour.md section 3 (type changes, a
# non-empty folder that can not be replaced, a device node keeping its
# rdev, a file overwritten in place through a hard link, no hard links
# across archives, a dropped entry without parent, the earliest folder
# mtime) are booted; the agent stats every path and lists the folder, and
# the same is read from the extraction.
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"
if [ "$(id -u)" != 0 ]; then
	skip "extracting device nodes and owners needs root" "extract parity"; done_testing; exit
fi
printf 'AAAAAAAAAA' > a10; printf 'BB' > bb; printf 'x\n' > x
cat > a.list <<L
dir /t 0755 0 0
file /t/f1 $T_TMP/a10 0644 0 0 /t/f1link
dir /t/emptydir 0755 0 0
dir /t/fulldir 0755 0 0
file /t/fulldir/inner $T_TMP/x 0644 0 0
file /t/file2dir $T_TMP/x 0644 0 0
slink /t/link2dir somewhere 0777 0 0
file /t/file2link $T_TMP/x 0644 0 0
dir /t/fulldir2 0755 0 0
file /t/fulldir2/inner $T_TMP/x 0644 0 0
file /t/file2chr $T_TMP/x 0644 0 0
nod /t/n1 0600 0 0 c 1 3
dir /t/mt 0755 0 0
L
cat > b.list <<L
dir /t 0755 0 0
file /t/hlb $T_TMP/x 0640 0 0 /t/hlb2
file /t/f1 $T_TMP/bb 0600 7 0
file /t/emptydir $T_TMP/x 0644 0 0
file /t/fulldir $T_TMP/x 0644 0 0
dir /t/file2dir 0700 0 0
dir /t/link2dir 0711 0 0
slink /t/file2link elsewhere 0777 0 0
slink /t/fulldir2 elsewhere 0777 0 0
nod /t/file2chr 0620 0 0 c 1 5
nod /t/n1 0666 0 0 c 1 5
dir /t/mt 0700 0 0
file /t/missing/x $T_TMP/x 0644 0 0
L
touch -d @100 a10 bb x
"$BOOTLAB" archive build a.list --mtime 1000 -o a.cpio
"$BOOTLAB" archive build b.list --mtime 3000 --compress gzip -o b.cpio.gz
"$BOOTLAB" archive stack a.cpio b.cpio.gz -o ab.img
"$BOOTLAB" archive extract ab.img -C ex 2>extract.err
expect_eq "extract exits 0" "$?" 0

paths="f1 f1link hlb hlb2 emptydir fulldir fulldir/inner file2dir link2dir file2link fulldir2 fulldir2/inner file2chr n1 mt"
{
initrd_scenario extract-parity \
	"the kernel's view of two stacked archives, for comparison with bootlab archive extract" \
	90s ab "$T_TMP/ab.img"
echo "  - agent: {op: list, path: /t}"
for p in $paths; do echo "  - agent: {op: stat, path: /t/$p}"; done
echo "  - agent: {op: read, path: /t/f1link}"
echo "  - agent: {op: poweroff}"
echo "  - outcome: pass"
} > parity.yaml
out=$("$BOOTLAB" run --report-dir "$T_TMP/r" parity.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "boot passes" "$rc" 0
j=$(ls -d "$T_TMP"/r/2*/ | head -1)report.json
reply() { jq -c --arg n "$1" '.scenarios[0].steps[] | select(.name | endswith($n)) | .reply' "$j"; }

# the folder listing
kl=$(jq -r '.scenarios[0].steps[] | select(.name | endswith("agent list /t")) | .reply.entries[] | "\(.name) \(.type)"' "$j")
hl=$(cd ex/t && for n in $(ls -A | LC_ALL=C sort); do
	t=$(stat -c %F "$n"); case $t in "regular file"|"regular empty file") t=file;; directory) t=dir;; "symbolic link") t=symlink;; "character special file") t=chr;; esac
	echo "$n $t"; done)
expect_eq "same entries in /t (kernel vs extract)" "$hl" "$kl"
check "the entry without a parent was dropped by both" sh -c "test -n '$kl' && ! echo '$kl' | grep -q missing && test ! -e ex/t/missing"

# every path: type, permission bits, owner, size, link count, rdev, mtime
for p in $paths; do
	k=$(reply "agent stat /t/$p")
	f=ex/t/$p
	t=$(stat -c %F "$f"); case $t in "regular file"|"regular empty file") t=file;; directory) t=dir;; "symbolic link") t=symlink;; "character special file") t=chr;; esac
	mode=$(printf '%04o' 0$(stat -c %a "$f"))
	ours="$t $mode $(stat -c '%u %h' "$f")"
	theirs=$(echo "$k" | jq -r '"\(.type) \(.mode) \(.uid) \(.nlink)"')
	[ "$t" = file ] && { ours="$ours $(stat -c %s "$f")"; theirs="$theirs $(echo "$k" | jq -r .size)"; }
	[ "$t" = chr ] && { ours="$ours $(printf '%d:%d' 0x$(stat -c %t "$f") 0x$(stat -c %T "$f"))"; theirs="$theirs $(echo "$k" | jq -r .rdev)"; }
	[ "$t" = symlink ] && { ours="$ours $(readlink "$f")"; theirs="$theirs $(echo "$k" | jq -r .target)"; }
	[ "$t" != symlink ] && { ours="$ours $(stat -c %Y "$f")"; theirs="$theirs $(echo "$k" | jq -r .mtime)"; }
	expect_eq "/t/$p: kernel and extract agree" "$ours" "$theirs"
done
# and the values docs/kernel-behaviour.md section 3 records
expect_eq "kernel: non-empty folder stays" "$(reply "agent stat /t/fulldir" | jq -r .type)" dir
expect_eq "kernel: node keeps rdev 1:3" "$(reply "agent stat /t/n1" | jq -r .rdev)" "1:3"
expect_eq "kernel: earliest folder mtime wins" "$(reply "agent stat /t/mt" | jq -r .mtime)" 1000
expect_eq "kernel: no hard link across archives" "$(reply "agent stat /t/hlb" | jq -r .nlink)" 2
k=$(jq -r '.scenarios[0].steps[] | select(.name | endswith("agent read /t/f1link")) | .reply.data' "$j")
expect_eq "hard link from archive A reads archive B's data (kernel)" "$k" "BB"
expect_eq "hard link from archive A reads archive B's data (extract)" "$(cat ex/t/f1link)" "BB"
no_emulator_left
done_testing
