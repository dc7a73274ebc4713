#!/bin/bash
# Hard links on extraction (docs/archive.md, extract): a later name joins
# only the regular file (or node) this extraction made for its group's
# first name, so a first name since replaced by a fifo, a device node or a
# symlink is never linked to nor opened; 20000 linked names under a deadline.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

# pad N: zeros from a length N up to a multiple of 4
pad() { case $(($1 % 4)) in 1) printf '\0\0\0' ;; 2) printf '\0\0' ;; 3) printf '\0' ;; esac; }
# newc NAME MODE INO NLINK DATA [RDEVMAJOR RDEVMINOR]: one newc entry
newc() {
	local ns=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$3" "$(($2))" 0 0 "$4" 0 "${#5}" 0 0 "${6:-0}" "${7:-0}" "$ns" 0
	printf '%s\0' "$1"; pad $((110 + ns))
	printf '%s' "$5"; pad "${#5}"
}
trailer() { newc 'TRAILER!!!' 0 0 1 ''; }
# extract NAME: extract NAME.cpio into ex-NAME under a deadline; sets rc, out
extract() { out=$(timeout 20 "$BOOTLAB" archive extract "$1.cpio" -C "ex-$1" 2>&1); rc=$?; }
inode() { stat -c %i "$1" 2>/dev/null; }
# data FILE: the content of a regular file (never a fifo: that blocks)
data() { [ -f "$1" ] && [ ! -h "$1" ] && cat "$1"; }

# x (file, ino 5), x (fifo), y (file, ino 5), z (ino 5, no data)
{ newc x 0100644 5 3 first; newc x 010644 9 1 ''; newc y 0100644 5 3 second
  newc z 0100644 5 3 ''; trailer; } > fifo.cpio
extract fifo
expect_eq "first name became a fifo: no hang, exit 1" "$rc" 1
expect_match "the link is refused, naming the archive and the entry" "$out" \
	"fifo.cpio: .*'y': hard link to 'x' refused"
check "the fifo stays a fifo" test -p ex-fifo/x
check "y is a regular file of its own" test -f ex-fifo/y
expect_eq "y has its own data" "$(data ex-fifo/y)" second
expect_eq "a later name joins y instead" "$(inode ex-fifo/z)" "$(inode ex-fifo/y)"

# x (file, ino 5), x (symlink to a file outside), y (file, ino 5)
printf 'orig\n' > outside
{ newc x 0100644 5 2 first; newc x 0120777 9 1 "$T_TMP/outside"; newc y 0100644 5 2 evil
  trailer; } > slink.cpio
extract slink
expect_eq "first name became a symlink: exit 1" "$rc" 1
expect_match "the symlink link is refused" "$out" "'y': hard link to 'x' refused"
expect_eq "nothing written outside" "$(cat outside)" orig
check "y is a regular file, not a link to the symlink" test -f ex-slink/y -a ! -h ex-slink/y
expect_eq "y has its data" "$(data ex-slink/y)" evil

# x (file, ino 5), x (char 1:3), y (file, ino 5): mknod needs root
if [ "$(id -u)" = 0 ]; then
	{ newc x 0100644 5 2 first; newc x 020644 9 1 '' 1 3; newc y 0100644 5 2 evil
	  trailer; } > chr.cpio
	extract chr
	expect_eq "first name became a device node: exit 1" "$rc" 1
	expect_match "the device link is refused" "$out" "'y': hard link to 'x' refused"
	check "the node stays a node" test -c ex-chr/x
	check "y is a regular file, not the device" test -f ex-chr/y
else
	skip "mknod needs root" "first name became a device node"
fi

# ordinary groups: data on the last name (gen_init_cpio) or on the first
printf 'hello\n' > src
printf 'file /a %s 0644 0 0 /b /c\n' "$T_TMP/src" > last.list
"$BOOTLAB" archive build last.list -o last.cpio
extract last
expect_eq "gen_init_cpio links: exit 0" "$rc" 0
expect_eq "gen_init_cpio links: one inode" "$(stat -c %i ex-last/a ex-last/b ex-last/c | sort -u | wc -l)" 1
expect_eq "gen_init_cpio links: the data" "$(cat ex-last/a)" hello
{ newc a 0100644 7 2 data; newc b 0100644 7 2 ''; trailer; } > first.cpio
extract first
expect_eq "data on the first name: one inode" "$(inode ex-first/b)" "$(inode ex-first/a)"
expect_eq "data on the first name: the data" "$(cat ex-first/b)" data
{ newc a 0100644 7 2 one; newc a 0100644 7 2 two; trailer; } > again.cpio
extract again
expect_eq "a name repeated in its group keeps the later data" "$(data ex-again/a)" two
{ newc a 0100644 7 2 one; trailer; newc b 0100644 7 2 two; trailer; } > two.cpio
extract two
check "no hard link across a TRAILER!!!" test "$(inode ex-two/a)" != "$(inode ex-two/b)"
{ newc p 010644 11 2 ''; newc q 010644 11 2 ''; trailer; } > fifos.cpio
extract fifos
expect_eq "fifos of one inode are linked, as the kernel does" "$(inode ex-fifos/q)" "$(inode ex-fifos/p)"

# 20000 names in 10000 groups: the link table is indexed, not scanned
{ echo "dir /d 0755 0 0"; seq 1 10000 | awk -v s="$T_TMP/src" '{printf "file /d/f%d %s 0644 0 0 /d/g%d\n", $1, s, $1}'; } > many.list
"$BOOTLAB" archive build many.list -o many.cpio
extract many
expect_eq "20000 linked names extract in time" "$rc" 0
expect_eq "every one of them linked" "$(find ex-many -type f -links 2 | wc -l)" 20000
done_testing
