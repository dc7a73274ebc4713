#!/bin/bash
# The compressed-segment cache (harness/archive/zcache.c): a second build of
# the same bytes is served from $XDG_CACHE_HOME/bootlab/archives and is
# byte-identical to a fresh compression; other codecs, levels or bytes are
# other entries; a damaged entry is a miss that gets repaired; small
# archives and BOOTLAB_NO_ZCACHE=1 bypass it; the folder is trimmed to 256.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"
export XDG_CACHE_HOME="$T_TMP/cache"
Z="$XDG_CACHE_HOME/bootlab/archives"
count() { find "$Z" -name '*.z' 2>/dev/null | wc -l; }

mkdir -p tree/bin
head -c 200000 /dev/urandom | base64 > tree/bin/big
build() { # OUT CODEC [env...]
	local out=$1 codec=$2
	shift 2
	env "$@" "$BOOTLAB" archive build tree --compress "$codec" --mtime 1600000000 \
		--root-uid squash --root-gid squash -o "$out"
}

build a1 gzip BOOTLAB_NO_ZCACHE=1
expect_eq "BOOTLAB_NO_ZCACHE=1 stores nothing" "$(count)" 0
build a2 gzip
expect_eq "first build: one entry" "$(count)" 1
e=$(find "$Z" -name '*.z')
expect_eq "entry: digest line, then the archive" "$(tail -c +66 "$e" | cmp - a1 && echo same)" same
expect_eq "entry: its first line is the bytes' sha256" "$(head -n 1 "$e")" "$(sha256sum < a1 | cut -c1-64)"
touch -d '2000-01-01' "$e"
build a3 gzip
expect_eq "second build: served from the cache, byte-identical" "$(cmp a1 a3 && echo same)" same
expect_eq "second build: no new entry" "$(count)" 1
check "a hit refreshes the entry's mtime" [ "$(stat -c %Y "$e")" -gt 946771200 ]
gzip -t a3
expect_eq "the cached archive is valid gzip" "$?" 0

build b1 gzip:9
build c1 zstd
expect_eq "another level and another codec: two more entries" "$(count)" 3
build b2 gzip:9 BOOTLAB_NO_ZCACHE=1
expect_eq "gzip:9 from the cache equals a fresh gzip:9" "$(cmp b1 b2 && echo same)" same

# a damaged entry: same length, one byte flipped after the digest line
printf 'X' | dd of="$e" bs=1 seek=200 conv=notrunc 2> /dev/null
build a4 gzip
expect_eq "damaged entry: a miss, the output is still right" "$(cmp a1 a4 && echo same)" same
expect_eq "damaged entry: replaced by a good one" "$(tail -c +66 "$e" | cmp - a1 && echo same)" same
: > "$e"
build a5 gzip
expect_eq "empty entry: a miss, the output is still right" "$(cmp a1 a5 && echo same)" same

# below 16 KB compressing is cheaper than a lookup
mkdir -p small && echo hi > small/x
"$BOOTLAB" archive build small --compress xz -o s1
expect_eq "a small archive is not cached" "$(count)" 3

# trimming: 260 entries in, the 256 newest stay
for i in $(seq 1 260); do
	printf '0%.0s' $(seq 64) > "$Z/fake$i.z"
	touch -d "2001-01-01 + $i minutes" "$Z/fake$i.z"
done
echo more >> tree/bin/big
build a6 gzip
expect_eq "after a store the folder holds 256 entries" "$(count)" 256
check "the oldest went first" test ! -e "$Z/fake1.z" -a -e "$Z/fake260.z"
check "the new entry stayed" [ -n "$(find "$Z" -newer a5 -name '*.z')" ]

# size bounds: 256 MB in all (sparse fakes count by their size), and no
# entry for a compressed segment over 32 MB
rm -f "$Z"/fake*.z
for i in 1 2 3; do truncate -s 100M "$Z/big$i.z"; touch -d "2002-01-01 + $i minutes" "$Z/big$i.z"; done
echo size >> tree/bin/big
build a9 gzip
check "over 256 MB: the oldest big fake went, the newer ones stayed" test ! -e "$Z/big1.z" -a -e "$Z/big3.z" -a -e "$Z/big2.z"
rm -f "$Z"/big*.z
n=$(count)
mkdir -p huge && head -c 34000000 /dev/urandom > huge/noise
"$BOOTLAB" archive build huge --compress lz4 -o h1
expect_eq "a 34 MB segment is built" "$?" 0
expect_eq "  but not kept" "$(count)" "$n"

# a cache that cannot be written costs nothing but the cache
echo again >> tree/bin/big
rm -rf "$XDG_CACHE_HOME/bootlab/archives"
mkdir -p "$XDG_CACHE_HOME/bootlab" && : > "$XDG_CACHE_HOME/bootlab/archives"
build a8 gzip
expect_eq "a file where the cache folder should be: build still succeeds" "$?" 0
gzip -t a8
expect_eq "  and its archive is valid" "$?" 0
done_testing
