#!/bin/bash
# timeout: 300
# Disk image paths with a comma (here: a TMPDIR named with one, where each
# boot's work folder holds its disk images): QEMU gets the path with its commas
# doubled and boots from the disk; UML, whose ubdN=FILE[,COW] cannot escape
# a comma, stops before starting with an error naming the path.
. "$(dirname "$0")/../lib.sh"

KU=$("$BOOTLAB" kernel build --arch um -q) || KU=
KX=$("$BOOTLAB" kernel build --arch x86_64 -q) || KX=
check "the um and x86_64 kernels are built" test -f "$KU" -a -f "$KX"
C="$T_TMP/tmp,a,b"
mkdir -p "$C"
scen() { # BACKEND KERNEL
	cat <<YAML
name: comma-$1
backend: $1
arch: x86_64
kernel:
  image: $2
timeout: 60s
archives:
  - name: main
    entries:
      - agent: /init
      - dir: /mnt
disks:
  - name: d0
    size: 8M
    filesystem:
      type: ext4
      files:
        - {path: /marker, content: "from the disk\n"}
steps:
  - hello: {stage: 1}
  - agent: {op: mount, source: /dev/vda, target: /mnt, fstype: ext4}
  - agent: {op: read, path: /mnt/marker}
    expect: {data: "from the disk\n"}
YAML
}
scen qemu "$KX" > "$T_TMP/q.yaml"
out=$(TMPDIR=$C "$BOOTLAB" run --report-dir "$T_TMP/rq" "$T_TMP/q.yaml" 2>&1); rc=$?
expect_eq "qemu: a disk in a work folder with commas boots and reads (exit 0)" "$rc" 0
[ $rc -eq 0 ] || echo "$out" | tail -n 8 | sed 's/^/#   /'
scen uml "$KU" > "$T_TMP/u.yaml"
out=$(TMPDIR=$C "$BOOTLAB" run --report-dir "$T_TMP/ru" "$T_TMP/u.yaml" 2>&1); rc=$?
check "uml: refused (exit non-zero)" test "$rc" -ne 0
expect_match "uml: the error names the path and its ','" "$out" "disk image '$C/.*' has a ',' in its path"
no_emulator_left
done_testing
