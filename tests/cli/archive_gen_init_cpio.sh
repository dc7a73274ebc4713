#!/bin/bash
# bootlab archive build is byte-identical to the kernel's own usr/gen_init_cpio
# (compiled here from linux-source-6.1) for a list using every directive.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

TARBALL=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
if [ -z "$TARBALL" ]; then
	skip "no /usr/src/linux-source-6.1.tar.*" "gen_init_cpio comparison"
	done_testing; exit
fi
cd "$T_TMP"
tar xf "$TARBALL" linux-source-6.1/usr/gen_init_cpio.c
check "gen_init_cpio compiles" cc -O2 -o gen_init_cpio linux-source-6.1/usr/gen_init_cpio.c

mkdir src
printf 'hello\n' > src/hello
head -c 70001 /dev/urandom > src/blob          # not a multiple of 4
: > src/empty
printf 'abc' > src/linked
T=1700000000
touch -d @$((T - 1000)) src/hello src/blob src/empty src/linked
export BL_TEST_SRC="$T_TMP/src"
cat > list <<LIST
# every directive of usr/gen_init_cpio.c
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/sda 0660 0 6 b 8 0

dir /bin 0755 0 0
dir /root 0700 0 0
file /bin/hello $T_TMP/src/hello 0755 0 0
file /bin/blob \${BL_TEST_SRC}/blob 0644 1000 100
file /empty $T_TMP/src/empty 0600 0 0
file /bin/linked $T_TMP/src/linked 04755 0 0 /bin/link2 /root/link3
slink /bin/sh hello 0777 0 0
slink /abs /bin/hello 0777 0 0
pipe /fifo 0644 0 0
sock /sock 0600 0 0
dir run 01777 0 0
LIST
cp list list.clean

./gen_init_cpio -t $T list.clean > ref.cpio 2> gic.err
expect_eq "gen_init_cpio succeeded" "$?" 0
"$BOOTLAB" archive build list.clean --mtime $T -o ours.cpio
expect_eq "bootlab archive build succeeded" "$?" 0
check "byte-identical to gen_init_cpio" cmp ref.cpio ours.cpio
expect_eq "same size" "$(stat -c %s ours.cpio)" "$(stat -c %s ref.cpio)"

# SOURCE_DATE_EPOCH is the default --mtime
SOURCE_DATE_EPOCH=$T "$BOOTLAB" archive build list.clean -o sde.cpio
check "SOURCE_DATE_EPOCH gives the same bytes" cmp ref.cpio sde.cpio

# the kernel's default list (usr/default_cpio_list) too
printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\ndir /root 0700 0 0\n' > default.list
./gen_init_cpio -t 0 default.list > ref-default.cpio
"$BOOTLAB" archive build default.list --mtime 0 -o ours-default.cpio
check "default_cpio_list byte-identical" cmp ref-default.cpio ours-default.cpio
expect_eq "default list archive is 512 bytes" "$(stat -c %s ours-default.cpio)" 512

# reproducible: host mtimes newer than --mtime are clamped
touch src/*
"$BOOTLAB" archive build list.clean --mtime $T -o again.cpio
touch -d @$T src/*
./gen_init_cpio -t $T list.clean > ref-at-t.cpio
check "newer host mtimes clamped to --mtime" cmp ref-at-t.cpio again.cpio

# a bad line is an error naming file and line, nothing written
printf 'dir /a 0755 0 0\nbogus /x\n' > bad.list
out=$("$BOOTLAB" archive build bad.list -o bad.cpio 2>&1)
expect_eq "unknown directive exits 1" "$?" 1
expect_match "error names file:line" "$out" "list 'bad.list':2: unknown file type 'bogus'"
check "no output on error" test ! -e bad.cpio
printf 'file /x /nonexistent/file 0644 0 0\n' > missing.list
out=$("$BOOTLAB" archive build missing.list -o bad.cpio 2>&1)
expect_match "missing source file named" "$out" "missing.list':1: .*'/nonexistent/file'"
printf 'nod /dev/x 0600 0 0 c 5\n' > short.list
out=$("$BOOTLAB" archive build short.list -o bad.cpio 2>&1)
expect_match "short nod line" "$out" "short.list':1: unrecognized nod format"
done_testing
