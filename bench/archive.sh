#!/bin/bash
# Archive build speed and size, side by side in one run on the same tree
# (default: the Debian cloud kernel's /lib/modules/<version>; BENCH_TREE=DIR):
#   bootlab archive build --compress gzip
#   usr/gen_init_cpio LIST | gzip -9          (the kernel's own way)
#   find . | cpio -o -H newc | gzip           (the classic one-liner)
# and the zstd and xz rows. Goal: bootlab at least 2x faster than each gzip
# row at a size within 2% of theirs. Wall time depends on machine load;
# CPU time (user+sys) is printed too.
set -u
cd "$(dirname "$0")/.." || exit 1
BOOTLAB=$PWD/bootlab
TREE=${BENCH_TREE:-$(ls -d /lib/modules/*/ 2>/dev/null | head -n1)}
TREE=${TREE%/}
[ -d "$TREE" ] || { echo "bench/archive: no tree (set BENCH_TREE)"; exit 1; }
# real compression every time, not the compressed-segment cache
export BOOTLAB_NO_ZCACHE=1
W=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab/bench
mkdir -p "$CACHE"

# the kernel's gen_init_cpio, built once from linux-source-6.1
GIC=$CACHE/gen_init_cpio
TARBALL=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
if [ ! -x "$GIC" ] && [ -n "$TARBALL" ]; then
	(cd "$W" && tar xf "$TARBALL" linux-source-6.1/usr/gen_init_cpio.c &&
		cc -O2 -o "$GIC" linux-source-6.1/usr/gen_init_cpio.c)
fi
# a gen_init_cpio list for the tree, as usr/gen_initramfs.sh writes it
(cd "$TREE" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
	n=${p#.}
	if [ -L "$p" ]; then echo "slink $n $(readlink "$p") 0777 0 0"
	elif [ -d "$p" ]; then echo "dir $n $(stat -c %a "$p") 0 0"
	elif [ -f "$p" ]; then echo "file $n $TREE$n $(stat -c %a "$p") 0 0"
	fi
done) > "$W/list"

ROWS=()
# row NAME OUTFILE COMMAND: wall and cpu seconds, bytes
row() {
	local name=$1 out=$2; shift 2
	sync
	/usr/bin/time -f '%e %U %S' -o "$W/t" bash -c "$*" || { echo "$name: failed"; return; }
	read -r wall user sys < "$W/t"
	ROWS+=("$name"$'\t'"$wall"$'\t'"$(echo "$user + $sys" | bc)"$'\t'"$(stat -c %s "$out")")
}
row "bootlab archive build --compress gzip" "$W/b.gz" \
	"'$BOOTLAB' archive build '$TREE' --mtime 0 --root-uid squash --root-gid squash --compress gzip -o '$W/b.gz'"
[ -x "$GIC" ] && row "gen_init_cpio LIST | gzip -9" "$W/k.gz" "'$GIC' -t 0 '$W/list' | gzip -9 > '$W/k.gz'"
row "find . | cpio -o -H newc | gzip" "$W/c.gz" "cd '$TREE' && find . | cpio -o -H newc --quiet | gzip > '$W/c.gz'"
row "bootlab archive build --compress zstd" "$W/b.zst" \
	"'$BOOTLAB' archive build '$TREE' --mtime 0 --root-uid squash --root-gid squash --compress zstd -o '$W/b.zst'"
row "find . | cpio -o -H newc | zstd -19 -T0" "$W/c.zst" "cd '$TREE' && find . | cpio -o -H newc --quiet | zstd -q -19 -T0 > '$W/c.zst'"
row "bootlab archive build --compress xz" "$W/b.xz" \
	"'$BOOTLAB' archive build '$TREE' --mtime 0 --root-uid squash --root-gid squash --compress xz -o '$W/b.xz'"
row "find . | cpio -o -H newc | xz --check=crc32 -T0" "$W/c.xz" "cd '$TREE' && find . | cpio -o -H newc --quiet | xz -q --check=crc32 -T0 > '$W/c.xz'"

echo "tree: $TREE ($(du -sb "$TREE" | cut -f1) bytes, $(find "$TREE" | wc -l) entries), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-48s %8s %8s %12s\n' "command" "wall s" "cpu s" "bytes"
for r in "${ROWS[@]}"; do
	IFS=$'\t' read -r n w c b <<< "$r"
	printf '%-48s %8.2f %8.2f %12d\n' "$n" "$w" "$c" "$b"
done
# the goal, for the gzip rows
IFS=$'\t' read -r _ bw bc bb <<< "${ROWS[0]}"
for r in "${ROWS[@]:1:2}"; do
	IFS=$'\t' read -r n w c b <<< "$r"
	[[ "$n" == *gzip* ]] || continue
	speed=$(echo "scale=2; $w / $bw" | bc); cspeed=$(echo "scale=2; $c / $bc" | bc)
	size=$(echo "scale=2; 100 * ($bb - $b) / $b" | bc)
	verdict=MISS
	if [ "$(echo "$speed >= 2 && $size <= 2" | bc)" = 1 ]; then verdict=MET; fi
	printf 'goal vs %-38s %sx faster (cpu %sx), size %+.2f%%: %s\n' "'$n'" "$speed" "$cspeed" "$size" "$verdict"
done
