#!/bin/bash
# bootlab archive lint: one real flawed archive per finding, severities,
# --json, exit 1 on errors only.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

printf '#!/bin/sh\necho hi\n' > script
printf 'data\n' > data
BASE='dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /bin 0755 0 0'
build() { # name [codec] < list
	cat > $1.list
	"$BOOTLAB" archive build $1.list --mtime 1 --compress ${2:-gzip} -o $1.img || echo "build $1 failed"
}
lint() { "$BOOTLAB" archive lint "$@" 2>/dev/null; }
codes() { "$BOOTLAB" archive lint --json "$@" 2>/dev/null | jq -r '.findings[] | "\(.severity) \(.code) \(.path)"'; }

# a clean static /init: busybox-static is a static ELF
BB=$(command -v busybox || echo /bin/busybox)
printf '%s\nfile /init %s 0755 0 0\n' "$BASE" "$BB" | build good
out=$(lint good.img); rc=$?
expect_eq "clean archive: exit 0" "$rc" 0
expect_eq "clean archive: no findings" "$out" ""

# no /init
printf '%s\nfile /bin/sh %s 0755 0 0\n' "$BASE" "$BB" | build noinit
out=$(lint noinit.img); rc=$?
expect_eq "no-init: exit 1" "$rc" 1
expect_match "no-init: error, says what the kernel does" "$out" "error: no-init: no /init: .*prepare_namespace.*VFS: Unable to mount root fs"

# /init not executable
printf '%s\nfile /init %s 0644 0 0\nfile /bin/sh %s 0755 0 0\n' "$BASE" "$BB" "$BB" | build noexec
out=$(lint noexec.img)
expect_match "init-not-executable: error -13 and the fallback found" "$out" "error: init-not-executable: /init: .*error -13.*present: /bin/sh"

# script /init whose interpreter is missing
printf '%s\nfile /init %s 0755 0 0\n' "$BASE" "$T_TMP/script" | build noint
out=$(lint noint.img)
expect_match "init-interpreter-missing" "$out" "error: init-interpreter-missing: /init: /init is a script for '/bin/sh', which is not in the archive"

# dynamically linked /init without its loader and libraries
DYN=$(type -P true)
INTERP=$(readelf -l "$DYN" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
printf '%s\nfile /init %s 0755 0 0\n' "$BASE" "$DYN" | build dyn
out=$(codes dyn.img)
expect_match "missing-elf-interpreter names $INTERP" "$out" "error missing-elf-interpreter /init"
expect_match "missing-library: libc" "$out" "error missing-library /init"
expect_match "message names libc.so.6" "$(lint dyn.img)" "needs 'libc.so.6'"
# ...and with them (copied from the host, found via ld.so.conf dirs) it is clean
LIBC=$(ldd "$DYN" | awk '/libc.so.6/ {print $3}')
{ printf '%s\n' "$BASE"
  for p in $(dirname "$INTERP") $(dirname "$LIBC"); do
	d=""; for part in $(echo "$p" | tr / ' '); do d="$d/$part"; echo "dir $d 0755 0 0"; done
  done | awk '!seen[$0]++'
  echo "file /init $DYN 0755 0 0"
  echo "file $INTERP $(readlink -f "$INTERP") 0755 0 0"
  echo "file $LIBC $(readlink -f "$LIBC") 0755 0 0"; } | build dynok
out=$(codes dynok.img)
expect_eq "dynamic /init with loader and libc: no findings" "$out" ""

# script /init whose interpreter is dynamic and lacks its libraries
printf '%s\nfile /init %s 0755 0 0\nfile /bin/sh %s 0755 0 0\n' "$BASE" "$T_TMP/script" "$(readlink -f /bin/sh)" | build dynsh
expect_match "script interpreter's libraries checked too" "$(lint dynsh.img)" "error: missing-library: /bin/sh: '/bin/sh' \(the interpreter of /init\) needs"

# libraries in the loader's order (systemd's libsystemd-core finds
# libsystemd-shared through the RUNPATH of the binary that needs both):
# libA needs libB and has no search path of its own; the programs below
# need libA (and libB) with a RUNPATH or an RPATH. Each is also run by the
# host's loader (built with the path under $T_TMP), which must agree.
mkdir -p elf opt/p
printf 'int b(void){return 0;}\n' > elf/b.c
printf 'int b(void); int a(void){return b();}\n' > elf/a.c
printf 'int a(void); int main(void){return a();}\n' > elf/main.c
gcc -shared -fPIC -o opt/p/libB.so elf/b.c -Wl,-soname,libB.so
gcc -shared -fPIC -o opt/p/libA.so elf/a.c -Lopt/p -lB -Wl,-soname,libA.so
prog() { # NAME DTAGS LIBS...: elf/NAME (search path /opt/p) and elf/NAME.host ($T_TMP/opt/p)
	local name=$1 tags=$2; shift 2
	gcc -o elf/$name.host elf/main.c -Lopt/p -Wl,-rpath-link,opt/p,--no-as-needed "$@" -Wl,$tags,-rpath,"$T_TMP/opt/p" &&
		gcc -o elf/$name elf/main.c -Lopt/p -Wl,-rpath-link,opt/p,--no-as-needed "$@" -Wl,$tags,-rpath,/opt/p
}
libimg() { # NAME: /init is elf/NAME, libA and libB in /opt/p, the host's loader and libc
	{ printf '%s\n' "$BASE"
	  for p in $(dirname "$INTERP") $(dirname "$LIBC") /opt/p; do
		d=""; for part in $(echo "$p" | tr / ' '); do d="$d/$part"; echo "dir $d 0755 0 0"; done
	  done | awk '!seen[$0]++'
	  echo "file /init $T_TMP/elf/$1 0755 0 0"
	  echo "file $INTERP $(readlink -f "$INTERP") 0755 0 0"
	  echo "file $LIBC $(readlink -f "$LIBC") 0755 0 0"
	  echo "file /opt/p/libA.so $T_TMP/opt/p/libA.so 0755 0 0"
	  echo "file /opt/p/libB.so $T_TMP/opt/p/libB.so 0755 0 0"; } | build $1
}
prog both --enable-new-dtags -lA -lB
prog one --enable-new-dtags -lA
prog oldrp --disable-new-dtags -lA
for n in both one oldrp; do libimg $n; done
check "host: a RUNPATH program runs when it needs the library's library too" elf/both.host
expect_eq "lint: that library's library, loaded first through the RUNPATH, is found" "$(codes both.img)" ""
elf/one.host 2>/dev/null
expect_eq "host: a RUNPATH is not inherited: the library's library is not found" "$?" 127
expect_match "lint: ...and lint says so, naming the library that needs it" "$(lint one.img)" \
	"error: missing-library: /opt/p/libA.so: library '/opt/p/libA.so' needs 'libB.so'"
check "host: an RPATH is inherited: the library's library is found" elf/oldrp.host
expect_eq "lint: ...and lint finds it through the program's RPATH" "$(codes oldrp.img)" ""

# parent after child: the 'find -depth' mistake, made with GNU cpio
mkdir -p tree/etc/deep; cp "$BB" tree/init; echo x > tree/etc/deep/f
(cd tree && find . -depth | cpio -o -H newc --quiet) > depth.cpio
out=$(lint depth.cpio); rc=$?
expect_eq "parent-after-child: exit 1" "$rc" 1
expect_match "parent-after-child: names the entry" "$out" "error: parent-after-child: /etc/deep/f: .*find -depth"
# a parent that never appears
printf '%s\nfile /init %s 0755 0 0\nfile /usr/lib/x %s 0644 0 0\n' "$BASE" "$BB" "$T_TMP/data" | build noparent none
expect_match "parent-missing" "$(lint noparent.img)" "error: parent-missing: /usr/lib/x: its parent folder is not in the archive"

# no /dev/console: a warning (the built-in archive usually has it), exit 0
printf 'file /init %s 0755 0 0\n' "$BB" | build nocons
out=$(lint nocons.img); rc=$?
expect_eq "no-dev-console alone: exit 0" "$rc" 0
expect_match "no-dev-console: warning with the kernel message" "$out" "warning: no-dev-console: no /dev/console: .*unable to open an initial console"
# /dev/console replaced by a folder in a later segment: an error
printf 'dir /dev 0755 0 0\ndir /dev/console 0755 0 0\n' | build consdir none
"$BOOTLAB" archive stack good.img consdir.img -o consdir-stacked.img
expect_match "/dev/console made a folder: error" "$(lint consdir-stacked.img)" "error: no-dev-console: /dev/console: .*not a character device"

# unpacked size over half of --ram
head -c 3000000 /dev/zero > big
printf '%s\nfile /init %s 0755 0 0\nfile /big %s 0644 0 0\n' "$BASE" "$BB" "$T_TMP/big" | build big xz
out=$(lint --ram 4M big.img); rc=$?
expect_eq "too-big: exit 1" "$rc" 1
expect_match "too-big: error" "$out" "error: too-big: unpacks to [0-9]+ bytes, more than half of 4194304"
expect_eq "with enough RAM: exit 0" "$(lint --ram 64M big.img >/dev/null; echo $?)" 0

# the same path in two stacked segments: informational, says which wins
printf 'dir /etc 0755 0 0\nfile /etc/motd %s 0644 0 0\n' "$T_TMP/data" | build seg2 zstd
"$BOOTLAB" archive stack good.img seg2.img seg2.img -o dup.img
out=$(lint dup.img); rc=$?
expect_eq "duplicate-path only: exit 0" "$rc" 0
expect_match "duplicate-path: info, later wins" "$out" "info: duplicate-path: /etc/motd: in segments 1, 2: segment 2's entry wins"

# the outcomes that are not "later wins" (docs/kernel-behaviour.md
# section 3): a non-empty folder replaced by a file, a device node
# re-declared with another rdev
printf 'dir /d 0755 0 0\nfile /d/inside %s 0644 0 0\nnod /n1 0600 0 0 c 1 3\n' "$T_TMP/data" | build ov1 none
printf 'file /d %s 0644 0 0\nnod /n1 0666 0 0 c 1 5\n' "$T_TMP/data" | build ov2 gzip
"$BOOTLAB" archive stack good.img ov1.img ov2.img -o ov.img
out=$(lint ov.img)
expect_match "non-empty folder stays" "$out" "warning: duplicate-path: /d: .*the folder stays and segment 2's entry is dropped"
expect_match "node keeps its first rdev" "$out" "warning: duplicate-path: /n1: .*keeps rdev 1:3 from segment 1 \(not 1:5\)"

# --kernel K: what the kernel's built-in archive provides is not missing.
# A distribution kernel's (CONFIG_INITRAMFS_SOURCE="", in a bzImage's
# compressed payload) is usr/default_cpio_list: /dev, /dev/console, /root.
VMLINUZ=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | head -n 1)
printf 'nod /dev/console 0600 0 0 c 5 1\nnod /root/x 0600 0 0 c 1 3\nfile /init %s 0755 0 0\n' "$BB" | build nodev
if [ -n "$VMLINUZ" ]; then
	out=$(lint --kernel "$VMLINUZ" nocons.img); rc=$?
	expect_eq "--kernel $VMLINUZ: its built-in /dev/console makes no-dev-console moot" "$rc:$out" "0:"
	expect_eq "--kernel $VMLINUZ: /dev and /root from the built-in archive are no missing parents" \
		"$(codes nodev.img | sort | tr '\n' ' ')/$(lint --kernel "$VMLINUZ" nodev.img; echo "exit $?")" \
		"info parent-missing /dev/console info parent-missing /root/x /exit 0"
elif [ "${CI:-}" = true ]; then
	not_ok "--kernel: no Debian kernel /boot/vmlinuz-*-amd64 to read a built-in archive from (required under CI=true)"
else
	skip "no Debian kernel /boot/vmlinuz-*-amd64 on this machine" "--kernel: a distribution kernel's built-in /dev/console"
fi
# a kernel whose built-in archive lacks them: the findings say so, and a
# missing parent is an error, not information
printf 'dir /root 0700 0 0\n' | build builtin-root none
{ printf '%-63s\n' 'not a kernel: 64 bytes, then a built-in archive'; cat builtin-root.img; } > fake-kernel
out=$(lint --kernel fake-kernel nocons.img nodev.img)
expect_match "--kernel: no /dev/console in the built-in archive either" "$out" \
	"nocons.img: warning: no-dev-console: no /dev/console: the kernel's built-in archive does not provide it either"
expect_eq "--kernel: /dev missing from both archives is an error, /root is not missing" \
	"$(codes --kernel fake-kernel nodev.img | tr '\n' ' ')" "error parent-missing /dev/console "
out=$("$BOOTLAB" archive lint --kernel data nocons.img 2>&1); rc=$?
expect_match "--kernel without a built-in archive: exit 1, says so" "$rc $out" \
	"^1 bootlab archive lint: --kernel: 'data': no uncompressed built-in initramfs found"

# init-no-exec: a shell /init must end by exec'ing what stays PID 1
initrd() { # name < /init script: /init with busybox as /bin/sh
	cat > $1.sh
	printf '%s\nfile /bin/sh %s 0755 0 0\nfile /bin/busybox %s 0755 0 0\nfile /init %s 0755 0 0\n' \
		"$BASE" "$BB" "$BB" "$T_TMP/$1.sh" | build $1
}
no_exec() { codes "$@" | grep -c 'warning init-no-exec /init'; }
flagged() { "$BOOTLAB" archive lint --json "$@" 2>/dev/null | jq -r '[.findings[] | select(.code == "init-no-exec") | .file] | join(" ")'; }
printf '#!/bin/sh\nmount -t proc proc /proc\nmount /dev/vda /newroot\nswitch_root /newroot /sbin/init\n' | initrd sr
out=$(lint sr.img); rc=$?
expect_match "init-no-exec: a warning (exit 0) naming the last command and the panic" "$rc $out" \
	"^0 sr.img: warning: init-no-exec: /init: /init is a shell script whose last command \('switch_root /newroot /sbin/init'\) is not 'exec \.\.\.'.*'Attempted to kill init!'"
printf '#!/bin/sh\nmount -t proc proc /proc\nmount /dev/vda /newroot\n\n# done\n' | initrd mounted
expect_eq "init-no-exec: nothing after mounting" "$(flagged mounted.img)" mounted.img
printf '#!/bin/busybox sh\nexec >/dev/console 2>&1\nswitch_root /newroot /sbin/init\n' | initrd bbsh
expect_eq "init-no-exec: '#!/bin/busybox sh'; an exec of redirections only does not count" "$(flagged bbsh.img)" bbsh.img
printf '#!/bin/sh\n# nothing to do\n' | initrd empty
expect_match "init-no-exec: a script with no command" "$(lint empty.img)" "last command \(none\)"
printf '#!/bin/sh\nrescue_shell() {\n\techo "$@"\n\texec /bin/sh\n}\nmount /dev/vda /newroot || rescue_shell\nswitch_root /newroot /sbin/init\n' | initrd gentoo
expect_eq "init-no-exec: an exec inside a function is not the end of the script" "$(flagged gentoo.img)" gentoo.img
printf '#!/bin/sh\nmount /dev/vda /newroot\nexec switch_root /newroot /sbin/init\n\n  # the end\n\n' | initrd ok-sr
expect_eq "init-no-exec: exec switch_root, then blank lines and comments, passes" "$(flagged ok-sr.img sr.img)" sr.img
printf '#!/bin/sh -e\nexec switch_root \\\n\t/newroot \\\n\t/sbin/init' | initrd ok-cont
expect_eq "init-no-exec: exec continued over lines, no final newline, passes" "$(flagged ok-cont.img sr.img)" sr.img
printf '#!/bin/sh\nexec /sbin/init "$@"\necho "exec failed"\npanic "no init"\n' | initrd ok-fallback
expect_eq "init-no-exec: a top-level exec followed by the fallback for its failure passes" "$(flagged ok-fallback.img sr.img)" sr.img
printf '#!/bin/busybox awk -f\nBEGIN { print "hi" }\n' | initrd awk
expect_eq "init-no-exec: a script for another interpreter is not a shell script" "$(flagged awk.img sr.img)" sr.img
# a last line longer than the window read is judged by its first byte
{ printf '#!/bin/sh\nmount /dev/vda /newroot\n#'; head -c 70000 /dev/zero | tr '\0' x; } | initrd longcomment
expect_match "init-no-exec: a comment line longer than the window is still a comment" \
	"$(lint longcomment.img)" "last command \('mount /dev/vda /newroot'\)"
{ printf '#!/bin/sh\nmount /dev/vda /newroot\nrun '; head -c 70000 /dev/zero | tr '\0' '#'; } | initrd longcmd
expect_match "init-no-exec: a command line longer than the window is still a command" \
	"$(lint longcmd.img)" "last command \('run ###"
# hostile input: 4 MB of binary junk and no newline after the last mount
{ printf '#!/bin/sh\nmount /dev/vda /newroot\n'; head -c 4000000 /dev/urandom | tr -d '\n'; } | initrd junk
out=$(lint junk.img); rc=$?
expect_match "init-no-exec: binary junk without a newline, exit 0, shown escaped" "$rc $out" \
	"^0 junk.img: warning: init-no-exec: .*last command \('[ -~]{1,63}'\)"

# --json: every finding with severity, code, path, message
j=$("$BOOTLAB" archive lint --json noinit.img noexec.img 2>/dev/null)
expect_eq "--json counts errors" "$(echo "$j" | jq .errors)" 2
expect_eq "--json findings name their file" "$(echo "$j" | jq -r '[.findings[].file] | unique | join(" ")')" "noexec.img noinit.img"
expect_eq "--json severities" "$(echo "$j" | jq -r '[.findings[].severity] | unique | join(" ")')" "error"

# an archive the kernel can not unpack is an error finding, not a crash
head -c 100 good.img > trunc.img
out=$(lint trunc.img); rc=$?
expect_eq "unreadable: exit 1" "$rc" 1
expect_match "unreadable: names segment and offset" "$out" "error: unreadable: .*segment 0 \(gzip at offset 0\)"
done_testing
