#!/bin/bash
# Reading stacked initrds the way the kernel walks them: mixed codecs,
# padding rules, errors naming segment and offset, safe extraction,
# re-emitting an existing archive.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

codecs="none gzip bzip2 lzma xz lzo lz4 zstd"
parts=()
for c in $codecs; do
	printf 'dir /d-%s 0755 0 0\nfile /d-%s/hello %s 0644 0 0\n' $c $c "$T_TMP/hello-$c" > l.$c
	printf 'hello from %s\n' $c > hello-$c
	"$BOOTLAB" archive build l.$c --compress $c --mtime 1 -o seg.$c
	parts+=(seg.$c)
done
# an uncompressed (microcode-style) segment first, then every codec
"$BOOTLAB" archive stack "${parts[@]}" -o all.img
expect_eq "stack exits 0" "$?" 0
json=$("$BOOTLAB" archive list --json all.img)
expect_eq "one segment per codec, in order" "$(echo "$json" | jq -r '[.segments[].codec] | join(" ")')" "$codecs"
expect_eq "every segment 4-aligned" "$(echo "$json" | jq '[.segments[].offset % 4] | add')" 0
for c in $codecs; do
	expect_eq "cat a file from the $c segment" "$("$BOOTLAB" archive cat all.img /d-$c/hello)" "hello from $c"
done
"$BOOTLAB" archive extract all.img -C out
expect_eq "extract exits 0" "$?" 0
expect_eq "extracted file from the last segment" "$(cat out/d-zstd/hello)" "hello from zstd"
expect_eq "extracted file count" "$(find out -type f | wc -l)" 8

# a later segment wins for the same path (docs/kernel-behaviour.md section 3)
printf 'file /d-none/hello %s 0600 0 0\n' "$T_TMP/hello-zstd" > over.list
"$BOOTLAB" archive build over.list --compress gzip -o over.gz
"$BOOTLAB" archive stack seg.none over.gz -o over.img
expect_eq "later segment wins in cat" "$("$BOOTLAB" archive cat over.img d-none/hello)" "hello from zstd"

# re-emitting an existing (stacked) archive entry by entry
"$BOOTLAB" archive build all.img --compress xz -o reemit.xz
expect_eq "re-emit exits 0" "$?" 0
expect_eq "re-emitted entries" "$("$BOOTLAB" archive list --json reemit.xz | jq '[.segments[].entries[]] | length')" 16
expect_eq "re-emitted content" "$("$BOOTLAB" archive cat reemit.xz d-lz4/hello)" "hello from lz4"

# padding rules: an uncompressed archive right after a gzip member whose
# length is not a multiple of 4 is rejected by the kernel
for m in 1 2 3 4 5 6 7 8; do # find a gzip member whose length is not 4-aligned
	"$BOOTLAB" archive build l.gzip --compress gzip --mtime $m -o odd.gz
	[ $(( $(stat -c %s odd.gz) % 4 )) -ne 0 ] && break
done
cat odd.gz seg.none > bad-align.img
out=$("$BOOTLAB" archive list bad-align.img 2>&1)
expect_eq "unaligned cpio after gzip fails" "$?" 1
expect_match "and is named by segment and offset" "$out" "segment 1 at offset $(stat -c %s odd.gz): invalid magic"
"$BOOTLAB" archive stack odd.gz seg.none -o good-align.img
check "stack pads it so it reads" sh -c "\"$BOOTLAB\" archive list good-align.img >/dev/null"
# cpio, 1 NUL, gzip: broken padding
{ cat seg.none; printf '\0'; cat seg.gzip; } > broken-pad.img
out=$("$BOOTLAB" archive list broken-pad.img 2>&1)
expect_match "cpio + NUL + gzip: broken padding" "$out" "broken padding at offset $(( $(stat -c %s seg.none) + 1 ))"

# truncated and corrupt members: errors name segment and offset, no crash
for c in gzip bzip2 lzma xz lzo lz4 zstd; do
	sz=$(stat -c %s seg.$c)
	{ cat seg.none; head -c $((sz - 20)) seg.$c; } > trunc.$c
	out=$("$BOOTLAB" archive list trunc.$c 2>&1)
	rc=$?
	expect_eq "$c truncated: exit 1" "$rc" 1
	expect_match "$c truncated: names segment 1 and its offset" "$out" "segment 1 \($c at offset 512\)|segment 1 .*offset 512"
done
printf '070707000000' > odc.img; head -c 200 /dev/zero >> odc.img
expect_match "odc magic: the kernel's message" "$("$BOOTLAB" archive list odc.img 2>&1)" "incorrect cpio method used: use -H newc option"
printf 'JUNKJUNK' > junk.img
expect_match "unknown magic" "$("$BOOTLAB" archive list junk.img 2>&1)" "segment 0 at offset 0: invalid magic at start of compressed archive"
head -c 300 seg.none > trunc.cpio
expect_match "truncated cpio" "$("$BOOTLAB" archive list trunc.cpio 2>&1)" "truncated archive"

# folder sources: --root-uid/--root-gid N map that host id to 0, others stay
if [ "$(id -u)" = 0 ]; then
	mkdir -p own/sub; echo a > own/mine; echo b > own/theirs
	chown -R 1234:4321 own; chown 777:888 own/theirs
	"$BOOTLAB" archive build own --root-uid 1234 --root-gid 4321 --mtime 1 -o own.cpio
	ids=$("$BOOTLAB" archive list --json own.cpio | jq -r '.segments[0].entries[] | "\(.name) \(.uid):\(.gid)"' | tr '\n' ' ')
	expect_eq "--root-uid/--root-gid map only that id" "$ids" "mine 0:0 sub 0:0 theirs 777:888 "
	"$BOOTLAB" archive build own --root-uid squash --root-gid squash --mtime 1 -o own2.cpio
	expect_eq "squash maps every id" "$("$BOOTLAB" archive list --json own2.cpio | jq -r '[.segments[0].entries[] | .uid + .gid] | add')" 0
fi
# an odc archive given as a source gets the kernel's message
(cd own && find . | cpio -o -H odc --quiet) > odc.cpio
expect_match "odc source: the kernel's message" "$("$BOOTLAB" archive build odc.cpio -o never.cpio 2>&1)" "incorrect cpio method used: use -H newc option"

# extraction never writes outside the target folder
mkdir -p evil/sub; printf 'x\n' > evil/f
printf 'x\n' > "$T_TMP/abs-escape"
printf '%s\n' "$T_TMP/abs-escape" | cpio -o -H newc --quiet > abs.cpio 2>/dev/null
rm -f "$T_TMP/abs-escape"
(cd evil/sub && printf '../f\n' | cpio -o -H newc --quiet) > dotdot.cpio
mkdir outside
printf 'slink lnk %s 0777 0 0\nfile lnk/evil %s 0644 0 0\n' "$T_TMP/outside" "$T_TMP/evil/f" > trick.list
"$BOOTLAB" archive build trick.list -o trick.cpio
for a in dotdot trick; do
	out=$("$BOOTLAB" archive extract $a.cpio -C ex-$a 2>&1)
	expect_eq "$a: extract exits 1" "$?" 1
	expect_match "$a: refused with a message" "$out" "refused"
done
check "nothing written through the symlink" test ! -e outside/evil
check "nothing written above the target" test ! -e ex-dotdot/../f
expect_match "GNU cpio stored an absolute name" "$(cpio -it < abs.cpio 2>/dev/null)" "^/"
out=$("$BOOTLAB" archive extract abs.cpio -C ex-abs 2>&1)
expect_match "absolute name refused" "$out" "absolute name refused"
check "nothing written at the absolute path" test ! -e "$T_TMP/abs-escape"
done_testing
