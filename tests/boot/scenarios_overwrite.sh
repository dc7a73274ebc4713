#!/bin/bash
# timeout: 600
# scenarios/overwrite-order.yaml: built-in, external 1, external 2; which
# version of each path wins (docs/kernel-behaviour.md sections 2 and 3,
# oracles 5-9), on qemu x86_64, qemu aarch64 and UML.
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/overwrite-order.yaml
names=()
for row in "${ROWS[@]}"; do names+=("overwrite-order[$row]"); done
all_pass 3 "${names[@]}"
for o in "${names[@]}"; do
	# facts read back from the replies, by step number (see the scenario)
	expect_eq "$o: external /marker beat the built-in one" "$(step "$o" 2 .data)" 'external'
	expect_eq "$o: built-in-only file survived" "$(step "$o" 3 .data)" kept
	expect_eq "$o: file over file: exactly BB" "$(step "$o" 5 .data)" BB
	expect_eq "$o: file over file: mode 0600 uid 7, hard link kept (same inode)" \
		"$(step "$o" 6 '"\(.mode) \(.uid) \(.nlink)"')" "0600 7 2"
	expect_eq "$o: earlier archive's hard link reads BB" "$(step "$o" 7 .data)" BB
	expect_eq "$o: non-empty dir survives a file" "$(step "$o" 9 .type)" dir
	expect_eq "$o: char dev 1:3 -> 1:5 keeps rdev 1:3" "$(step "$o" 16 '"\(.rdev) \(.mode)"')" "1:3 0666"
	expect_eq "$o: ext1 and ext2 hard-link pairs are separate inodes" \
		"$(sv "$o" '.steps[16].reply.ino != .steps[18].reply.ino')" true
	expect_eq "$o: dir mtime: earliest archive wins" "$(step "$o" 21 .mtime)" 1000
	console_has "$o" 'Unpacking initramfs\.\.\.'
done

# the disks' work copies are WORKDIR/NAME.img: a disk named "initrd" next to
# stacked archives must not take the stacked initrd's place
cat > "$T_TMP/clash.yaml" <<'EOF'
name: clash
archives:
  - name: main
    entries:
      - agent: /init
      - dir: /dev
      - {nod: /dev/console, type: c, major: 5, minor: 1}
  - name: second
    entries:
      - {file: /second, content: "from the second archive\n"}
disks:
  - {name: initrd, size: 4M, filesystem: ext4}
steps:
  - hello: {stage: 1}
  - agent: {op: read, path: /second}
    expect: {data: "from the second archive\n"}
  - agent: {op: poweroff}
  - outcome: pass
EOF
run_library "$T_TMP/clash.yaml"
expect_eq "a disk named 'initrd' leaves the stacked initrd alone" "$RC $(sv clash .outcome)" "0 pass"
no_emulator_left
done_testing
