#!/bin/bash
# A moved cache (docs/kernels.md, "A moved cache"): a kernel cache folder
# moved or copied elsewhere keeps its images, but its build trees name the
# old folder by absolute path, so they cannot relink. bootlab sees that and
# builds the entry again where it now is, once. The kernel here is a small
# stand-in source tree (a Makefile that "links" the archive into an ELF
# object with the assembler's .incbin, as usr/initramfs_data.S does), so
# that the cache's logic runs in seconds; tests/cli/kernel_cache.sh relinks
# real kernels.
. "$(dirname "$0")/../lib.sh"

src=$T_TMP/src
mkdir -p "$src/scripts/kconfig"
cat >"$src/Makefile" <<'MK'
# make -C src O=build ... TARGET, as bootlab calls a kernel tree
tinyconfig:
	mkdir -p $(O) && echo 'CONFIG_UML=y' >$(O)/.config
olddefconfig:
	@true
linux:
	a=$$(sed -n 's/^CONFIG_INITRAMFS_SOURCE="\(.*\)"$$/\1/p' $(O)/.config); \
	mkdir -p $(O)/usr $(O)/include/config && \
	printf '.section .init.ramfs,"a"\n.incbin "%s"\n' "$$a" >$(O)/usr/initramfs_data.S && \
	gcc -c -o $(O)/usr/initramfs_data.o $(O)/usr/initramfs_data.S && \
	cp $(O)/usr/initramfs_data.o $(O)/linux && \
	echo 6.1.0-standin >$(O)/include/config/kernel.release && \
	echo "standin build $$(date +%s%N)" >>$(O)/builds
MK
# merge_config.sh -m -O DIR CONFIG FRAGMENT
printf 'cat "$5" >>"$4"\n' >"$src/scripts/kconfig/merge_config.sh"
printf 'CONFIG_UML=y\n' >"$T_TMP/um.config"
mkarchive() { # NAME MARKER -> $T_TMP/NAME.cpio
	mkdir -p "$T_TMP/$1/etc"
	echo "$2" >"$T_TMP/$1/etc/marker"
	(cd "$T_TMP/$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$T_TMP/$1.cpio"
}
mkarchive a1 "moved-marker-one"
mkarchive a2 "moved-marker-two"
kb() { # CACHE ARGS...: bootlab kernel build of the stand-in in CACHE
	local c=$1
	shift
	XDG_CACHE_HOME=$c "$BOOTLAB" kernel build --arch um --source "$src" \
		--fragment "$T_TMP/um.config" "$@"
}

img=$(kb "$T_TMP/old" --builtin "$T_TMP/a1.cpio" 2>"$T_TMP/err")
expect_eq "the stand-in builds and relinks in the first cache" "$? $(grep -c moved-marker-one "$img")" "0 1"
entry=$(ls -d "$T_TMP"/old/bootlab/kernels/um-*[0-9a-f])
mv "$T_TMP/old" "$T_TMP/new"
entry=${entry/"$T_TMP/old"/"$T_TMP/new"}
check "the moved entry's tree names the old folder" \
	grep -q "^CONFIG_INITRAMFS_SOURCE=\"$T_TMP/old/" "$entry/config"

moved=$(kb "$T_TMP/new" --builtin "$T_TMP/a1.cpio" 2>"$T_TMP/err")
expect_eq "a relink cached before the move is found where it now is" \
	"$? $moved" "0 ${img/"$T_TMP/old"/"$T_TMP/new"}"
b2=$(kb "$T_TMP/new" --builtin "$T_TMP/a2.cpio" 2>"$T_TMP/err")
expect_eq "a new relink in the moved cache exits 0" "$?" 0
expect_match "it says the entry was built elsewhere and is built again" "$(cat "$T_TMP/err")" \
	"kernel um: cache entry '$entry' was built in '$T_TMP/old/bootlab/kernels/um-[0-9a-f]*' \(moved or copied\) and cannot relink there: building it again"
check "the relinked image has the new archive" grep -q moved-marker-two "$b2"
expect_eq "the rebuilt tree names the new folder" \
	"$(grep -c "^CONFIG_INITRAMFS_SOURCE=\"$entry/initramfs.cpio.bin\"$" "$entry/config")" 1
expect_eq "the tree was built once there, anew (no older build's marks)" \
	"$(wc -l <"$entry/build/builds")" 2
mkarchive a3 "moved-marker-three"
kb "$T_TMP/new" --builtin "$T_TMP/a3.cpio" >/dev/null 2>"$T_TMP/err"
expect_eq "the next relink does not build again" \
	"$? $(grep -c 'building it again' "$T_TMP/err") $(wc -l <"$entry/build/builds")" "0 0 3"
done_testing
