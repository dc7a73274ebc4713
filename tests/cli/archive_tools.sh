#!/bin/bash
# GNU cpio and bsdcpio list and extract what bootlab writes, for every codec,
# after the codec's own command-line tool decompressed it; bootlab reads
# what those tools write.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

mkdir -p tree/bin tree/etc/deep/er tree/empty
printf '#!/bin/sh\necho hi\n' > tree/bin/script; chmod 755 tree/bin/script
head -c 300000 /dev/urandom > tree/bin/random
seq 1 50000 > tree/etc/numbers
ln tree/etc/numbers tree/etc/deep/er/numbers-link
ln -s ../bin/script tree/etc/link
printf 'x' > tree/etc/deep/er/one
(cd tree && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) > want.names

decomp() { # codec file -> stdout
	case $1 in
	none) cat "$2" ;;
	gzip) gzip -dc "$2" ;;
	bzip2) bzip2 -dc "$2" ;;
	lzma) lzma -dc "$2" ;;
	xz) xz -dc "$2" ;;
	lzo) lzop -dc < "$2" ;;
	lz4) lz4 -dc < "$2" ;;
	zstd) zstd -qdc "$2" ;;
	esac
}

for c in none gzip bzip2 lzma xz lzo lz4 zstd; do
	"$BOOTLAB" archive build tree --compress $c --mtime 1600000000 --root-uid squash --root-gid squash -o a.$c
	expect_eq "$c: build" "$?" 0
	decomp $c a.$c > a.$c.cpio
	expect_eq "$c: '$c' tool decompresses it" "$?" 0
	names=$(cpio -it --quiet < a.$c.cpio | LC_ALL=C sort)
	expect_eq "$c: GNU cpio lists the tree" "$names" "$(cat want.names)"
	names=$(bsdcpio -it --quiet < a.$c.cpio 2>/dev/null | LC_ALL=C sort)
	expect_eq "$c: bsdcpio lists the tree" "$names" "$(cat want.names)"
	rm -rf x1 x2; mkdir x1 x2
	(cd x1 && cpio -idm --quiet --no-absolute-filenames < ../a.$c.cpio)
	check "$c: GNU cpio extracts the same tree" diff -r tree x1
	(cd x2 && bsdcpio -idm --quiet < ../a.$c.cpio 2>/dev/null)
	check "$c: bsdcpio extracts the same tree" diff -r tree x2
	check "$c: hard link kept (GNU cpio)" test x1/etc/numbers -ef x1/etc/deep/er/numbers-link
	expect_eq "$c: symlink kept" "$(readlink x1/etc/link)" "../bin/script"
	expect_eq "$c: mtime kept" "$(stat -c %Y x1/etc/numbers)" 1600000000
done
# the kernel's xz decoder needs CRC32
check "xz uses the CRC32 check" sh -c "xz -lvv a.xz | grep -q 'CRC32'"
check "lz4 is the legacy frame (02 21 4c 18)" sh -c "[ \"\$(head -c4 a.lz4 | od -An -tx1 | tr -d ' ')\" = 02214c18 ]"
check "lzo passes lzop -t" lzop -tq a.lzo

# bootlab reads what the tools write (GNU cpio newc, then each codec's CLI)
(cd tree && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > gnu.cpio
for c in gzip bzip2 lzma xz lzo lz4 zstd; do
	case $c in
	gzip) gzip -9n < gnu.cpio > g.$c ;;
	bzip2) bzip2 -9 < gnu.cpio > g.$c ;;
	lzma) lzma -9 < gnu.cpio > g.$c ;;
	xz) xz --check=crc32 < gnu.cpio > g.$c ;;
	lzo) lzop -9 < gnu.cpio > g.$c ;;
	lz4) lz4 -l -9 -q < gnu.cpio > g.$c ;;
	zstd) zstd -19 -q < gnu.cpio > g.$c ;;
	esac
	out=$("$BOOTLAB" archive list g.$c)
	expect_match "$c: bootlab lists the $c tool's output" "$out" "segment 0: offset 0, [0-9]+ bytes, $c, "
	got=$("$BOOTLAB" archive cat g.$c ./etc/numbers | md5sum)
	expect_eq "$c: bootlab cat gives the file" "$got" "$(md5sum < tree/etc/numbers)"
done
xz < gnu.cpio > crc64.xz
out=$("$BOOTLAB" archive list crc64.xz 2>&1)
expect_match "xz with CRC64 refused like the kernel" "$out" "not supported by this XZ decoder"
lz4 -q < gnu.cpio > frame.lz4
out=$("$BOOTLAB" archive list frame.lz4 2>&1)
expect_match "lz4 frame format refused like the kernel" "$out" "invalid magic at start of compressed archive"

# archives over 8 MiB: several streams cut at entry boundaries, compressed
# in parallel; every tool still reads them as one file
mkdir -p big/d
for i in 1 2 3 4 5 6; do { head -c 1000000 /dev/urandom; head -c 2000000 /dev/zero; } > big/d/f$i; done
(cd big && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) > big.names
for c in gzip bzip2 xz zstd; do
	"$BOOTLAB" archive build big --compress $c --mtime 1 -o big.$c
	segs=$("$BOOTLAB" archive list --json big.$c | jq '.segments | length')
	check "$c: 18 MB archive is several streams ($segs)" test "$segs" -ge 2
	expect_eq "$c: the tool reads all streams as one" "$(decomp $c big.$c | cpio -it --quiet | LC_ALL=C sort)" "$(cat big.names)"
	"$BOOTLAB" archive build big --compress $c --mtime 1 -o big2.$c
	check "$c: parallel output is reproducible" cmp big.$c big2.$c
done
BOOTLAB_GZIP=zlib "$BOOTLAB" archive build big --compress gzip --mtime 1 -o bigz.gz
check "zlib-only gzip output verifies" gzip -t bigz.gz
expect_eq "zlib-only gzip content" "$(gzip -dc bigz.gz | md5sum)" "$(gzip -dc big.gzip | md5sum)"
done_testing
