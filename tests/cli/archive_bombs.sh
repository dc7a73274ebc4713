#!/bin/bash
# Decompression bombs (docs/archive.md, "Decompression bombs"): a 300 MiB
# file of zeros packed into 10 KB (zstd) to 1.4 MB (gzip). list, cat and lint
# stream it with bounded memory (peak RSS measured by GNU time); extract,
# which must hold every entry, stops at the default limit (64 times the
# input, at least 256 MiB) with an error naming the segment, and
# --max-unpacked raises the limit.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

# a newc header for NAME, MODE, SIZE (namesize with the NUL, padded to 4)
hdr() {
	printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
		1 "$2" 0 0 1 0 "$3" 0 0 0 0 $((${#1} + 1)) 0
	printf '%s\0' "$1"
	head -c $(((4 - (110 + ${#1} + 1) % 4) % 4)) /dev/zero
}
# /init (a script) and /zero (SIZE zero bytes), as one uncompressed archive
bomb_cpio() {
	hdr init 0100755 23
	printf '#!/bin/sh\nexec /bin/sh\n\0' # 23 bytes, 1 of padding
	hdr zero 0100644 "$1"
	head -c "$1" /dev/zero
	hdr TRAILER!!! 0 0
}
SIZE=$((300 << 20))
bomb_cpio $SIZE | xz -0 -T1 --check=crc32 > bomb.xz
bomb_cpio $SIZE | zstd -q -1 > bomb.zst
bomb_cpio $SIZE | gzip -1 > bomb.gz

# peak RSS in KB of "$@" (stdout and stderr to rss.out)
rss() { /usr/bin/time -f %M -o rss.kb "$@" > rss.out 2>&1; echo $? > rss.rc; cat rss.kb | tail -1; }
LIMIT_KB=$((96 << 10)) # the 300 MiB file held whole would be 307200 KB
if [ ! -x /usr/bin/time ]; then
	skip "no /usr/bin/time (apt-get install time)" "peak RSS checks"
else
	for f in bomb.xz bomb.zst bomb.gz; do
		kb=$(rss "$BOOTLAB" archive list "$f")
		expect_eq "list $f exits 0" "$(cat rss.rc)" 0
		check "list $f streams: peak RSS ${kb} KB < $LIMIT_KB KB" [ "$kb" -lt $LIMIT_KB ]
		expect_match "list $f shows the file's size" "$(cat rss.out)" " $SIZE zero"
		kb=$(rss "$BOOTLAB" archive cat "$f" /init)
		check "cat $f /init streams: peak RSS ${kb} KB < $LIMIT_KB KB" [ "$kb" -lt $LIMIT_KB ]
		expect_eq "cat $f /init prints the script" "$(head -1 rss.out)" "#!/bin/sh"
		kb=$(rss "$BOOTLAB" archive lint "$f" --ram 512M)
		check "lint $f streams: peak RSS ${kb} KB < $LIMIT_KB KB" [ "$kb" -lt $LIMIT_KB ]
		expect_match "lint $f still sizes the archive (too-big from the headers)" \
			"$(cat rss.out)" "too-big: unpacks to $((SIZE + 23)) bytes, more than half"
	done
fi
"$BOOTLAB" archive cat bomb.zst /zero --max-unpacked 400M > zero.out
expect_eq "cat of the bomb itself holds it: with --max-unpacked 400M exit 0" "$?" 0
expect_eq "and writes all of it" "$(stat -c %s zero.out)" $SIZE
rm -f zero.out

# extract must hold every entry: the default limit stops it, naming the segment
for f in bomb.xz bomb.zst bomb.gz; do
	out=$("$BOOTLAB" archive extract "$f" -C "x-$f" 2>&1)
	expect_eq "extract $f exits 1" "$?" 1
	expect_match "extract $f: the error names the segment and the limit" "$out" \
		"'$f': segment 0 \\((xz|zstd|gzip) at offset 0\\): unpacks to more than 268435456 bytes \\(the default limit for a $(stat -c %s "$f")-byte input: 64 times its size, at least 256 MiB; --max-unpacked SIZE raises it\\)"
	check "extract $f wrote nothing" [ ! -e "x-$f" ]
done
"$BOOTLAB" archive extract bomb.zst -C big --max-unpacked 400M
expect_eq "--max-unpacked 400M lets extract finish" "$?" 0
expect_eq "the extracted file has its size" "$(stat -c %s big/zero)" $SIZE
rm -rf big

# streaming commands may unpack 16 times the limit, and hold at most the limit
out=$("$BOOTLAB" archive list bomb.zst --max-unpacked 16M 2>&1)
expect_eq "list over 16 times --max-unpacked exits 1" "$?" 1
expect_match "and says so" "$out" "unpacks to more than 268435456 bytes \\(16 times the limit asked for; --max-unpacked SIZE raises it\\)"
out=$("$BOOTLAB" archive cat bomb.zst /zero --max-unpacked 100M 2>&1)
expect_eq "cat holding more than --max-unpacked exits 1" "$?" 1
expect_match "and says what it holds" "$out" "segment 0 \\(zstd at offset 0\\): the entries read hold more than 104857600 bytes"
out=$("$BOOTLAB" archive list bomb.zst --max-unpacked x 2>&1)
expect_eq "a bad --max-unpacked is a usage error" "$?" 2
done_testing
